/** Why a live call (or an instance request) failed. `kind` is for code, `reason` for people. */
export type LiveCallErrorKind =
  /** Could not connect, or the connection dropped before response headers (refused, reset). */
  | "connect"
  /** The server answered with an HTTP error status. */
  | "http"
  /** No response headers within the headers timeout. */
  | "headers_timeout"
  /** No body bytes within the idle timeout (between chunks, or before the first one). */
  | "idle_timeout"
  /** The whole request took longer than the total timeout. */
  | "total_timeout"
  /** The connection broke, or the stream ended early, after the response started. */
  | "stream"
  /** The server sent something that is not the expected protocol (bad SSE payload, wrong type). */
  | "protocol"
  /** The server reported an error inside the stream (`data: {"error": …}`). */
  | "server"
  /** The caller's AbortSignal fired. */
  | "aborted";

export interface LiveCallErrorInit {
  kind: LiveCallErrorKind;
  reason: string;
  retryable: boolean;
  status?: number;
  tokens_streamed?: number;
  attempts?: number;
}

/** The one error type a live call ends with. `retryable` is true only when no token streamed to
 *  the caller (so the controller may dispatch the call again, possibly elsewhere) and the failure
 *  is not the request's own fault (4xx other than 408/429) nor a cancellation. */
export class LiveCallError extends Error {
  readonly kind: LiveCallErrorKind;
  readonly reason: string;
  readonly retryable: boolean;
  readonly status?: number;
  /** Tokens delivered before the failure (0 for every retryable failure). */
  readonly tokens_streamed: number;
  /** HTTP attempts made (connect retries included). */
  readonly attempts: number;

  constructor(init: LiveCallErrorInit) {
    super(init.reason);
    this.name = "LiveCallError";
    this.kind = init.kind;
    this.reason = init.reason;
    this.tokens_streamed = init.tokens_streamed ?? 0;
    // Never retryable once a token reached the caller: the call's timing has already begun.
    this.retryable = init.retryable && this.tokens_streamed === 0;
    if (init.status !== undefined) this.status = init.status;
    this.attempts = init.attempts ?? 1;
  }
}

/** Node/undici error codes that mean "the request never reached a server that answered". */
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CLOSED",
]);

/** The error code of a Node/undici error, looking through `cause` and AggregateError. */
export function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e !== null && typeof e === "object"; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      e = inner[0];
      continue;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A network error before response headers is a connect failure (worth a retry). */
export function isConnectError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && CONNECT_CODES.has(code);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = errorCode(error);
    return code !== undefined && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
  }
  return String(error);
}

/** Retryability of an HTTP error status: the server's fault or overload, never the request's. */
export function statusRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
