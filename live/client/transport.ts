import { Pool } from "undici";
import type { IncomingHttpHeaders } from "undici/types/header.js";
import { clip, errorMessage } from "./stream-observer.ts";
import { LiveCallError, describeError, isConnectError, statusRetryable } from "./errors.ts";

/** Timeouts of one request, in wall-clock seconds (they guard I/O, whatever the model clock). 0 = off. */
export interface HttpTimeouts {
  /** Establishing the TCP connection (default 5). */
  connect_timeout_s: number;
  /** From sending the request to its response headers (default 60). */
  headers_timeout_s: number;
  /** Longest wait for the next body chunk — including the first, which waits for queueing and
   *  prefill on a busy server (default 300). */
  idle_timeout_s: number;
  /** The whole request from sending it to the end of its body (default 0 = off). */
  total_timeout_s: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = {
  connect_timeout_s: 5,
  headers_timeout_s: 60,
  idle_timeout_s: 300,
  total_timeout_s: 0,
};

/** Retries on the same instance, before response headers only (so before any token). */
export interface RetryPolicy {
  /** Attempts in all, the first included (default 4; 1 = never retry). */
  max_attempts: number;
  /** Wait before the first retry (default 0.1 s), multiplied by `multiplier` (default 2) each
   *  time, at most `max_backoff_s` (default 2 s). A Retry-After header (seconds) is honoured up
   *  to `max_backoff_s`. */
  initial_backoff_s: number;
  multiplier: number;
  max_backoff_s: number;
  /** HTTP statuses retried like connect errors (default 502, 503, 504). */
  retry_statuses: readonly number[];
}

export const DEFAULT_RETRY: RetryPolicy = {
  max_attempts: 4,
  initial_backoff_s: 0.1,
  multiplier: 2,
  max_backoff_s: 2,
  retry_statuses: [502, 503, 504],
};

/** "http://host:port[/prefix][/v1][/]" → origin and path prefix (a trailing "/v1" is dropped:
 *  tandem's paths carry their own). */
export function parseBaseUrl(baseUrl: string): { origin: string; prefix: string } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`instance base URL "${baseUrl}" is not a URL (expected e.g. http://127.0.0.1:8000)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`instance base URL "${baseUrl}": expected http:// or https://`);
  }
  let prefix = url.pathname.replace(/\/+$/, "");
  if (prefix.endsWith("/v1")) prefix = prefix.slice(0, -3);
  return { origin: url.origin, prefix };
}

/** A counting semaphore with a FIFO queue; waiting can be cancelled. */
export class Slots {
  private used = 0;
  private readonly waiters: { grant: () => void; cancel: (e: unknown) => void }[] = [];

  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new Error(`concurrency limit must be an integer ≥ 1, got ${limit}`);
  }

  get inFlight(): number {
    return this.used;
  }

  get queued(): number {
    return this.waiters.length;
  }

  acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.used < this.limit) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        cancel: reject,
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined)
      next.grant(); // the slot passes on
    else this.used--;
  }
}

/** One instance's connection pool and concurrency bound. */
export class InstancePool {
  readonly origin: string;
  readonly prefix: string;
  readonly pool: Pool;
  readonly slots: Slots;

  constructor(
    readonly id: string,
    readonly baseUrl: string,
    maxInFlight: number,
    connectTimeout_s: number,
  ) {
    const { origin, prefix } = parseBaseUrl(baseUrl);
    this.origin = origin;
    this.prefix = prefix;
    this.slots = new Slots(maxInFlight);
    this.pool = new Pool(origin, {
      connections: maxInFlight,
      pipelining: 1,
      headersTimeout: 0, // timeouts are ours (clear reasons, per-request values)
      bodyTimeout: 0,
      connect: { timeout: Math.max(1, Math.round(connectTimeout_s * 1000)) },
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

type AbortCause = { kind: "aborted" } | { kind: "headers_timeout" | "idle_timeout" | "total_timeout"; after_s: number };

const CAUSE = Symbol("tandem.abortCause");

export interface OpenRequest {
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  timeouts: HttpTimeouts;
  retry: RetryPolicy;
  /** Hand back non-2xx responses (after retries) instead of failing: the pass-through forwards them. */
  passErrorStatus: boolean;
  now_s: () => number;
}

/** A response whose headers arrived. Iterate `body` once; it enforces the idle and total timeouts,
 *  maps failures to LiveCallError and frees the connection slot when done, failed or abandoned. */
export interface OpenResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: AsyncIterable<Uint8Array>;
  attempts: number;
  /** When the successful attempt was sent and when its headers arrived (injected clock). */
  sent_s: number;
  headers_s: number;
  /** Stops the request (closing its connection) and frees the slot; idempotent. */
  cancel(): void;
}

/** Sends a request to an instance: waits for a slot, retries connect errors and retry statuses with
 *  backoff while no response has started, applies the timeouts. Rejects only with LiveCallError. */
export async function openRequest(inst: InstancePool, req: OpenRequest): Promise<OpenResponse> {
  const ac = new AbortController();
  const user = req.signal;
  const abortWith = (cause: AbortCause): void => {
    if (ac.signal.aborted) return;
    const reason = new Error(cause.kind);
    (reason as unknown as Record<symbol, AbortCause>)[CAUSE] = cause;
    ac.abort(reason);
  };
  const onUserAbort = (): void => abortWith({ kind: "aborted" });
  if (user !== undefined) {
    if (user.aborted) {
      throw new LiveCallError({ kind: "aborted", reason: "cancelled by the caller", retryable: false, attempts: 0 });
    }
    user.addEventListener("abort", onUserAbort, { once: true });
  }
  let totalTimer: NodeJS.Timeout | undefined;
  let headersTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let held = false;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(totalTimer);
    clearTimeout(headersTimer);
    clearTimeout(idleTimer);
    user?.removeEventListener("abort", onUserAbort);
    if (held) {
      held = false;
      inst.slots.release();
    }
  };
  // Whatever aborts the request also frees its slot, even if nobody ever reads the body.
  ac.signal.addEventListener("abort", finish, { once: true });
  const t = req.timeouts;
  const causeOf = (): AbortCause | undefined => (ac.signal.aborted ? (ac.signal.reason as Record<symbol, AbortCause>)[CAUSE] : undefined);
  const fromAbort = (cause: AbortCause, attempts: number): LiveCallError => {
    if (cause.kind === "aborted") {
      return new LiveCallError({ kind: "aborted", reason: "cancelled by the caller", retryable: false, attempts });
    }
    const what = cause.kind === "headers_timeout" ? "no response headers" : cause.kind === "idle_timeout" ? "no data" : "request not finished";
    return new LiveCallError({
      kind: cause.kind,
      reason: `${cause.kind.replace("_", " ")}: ${what} within ${cause.after_s} s (${inst.id} ${req.path})`,
      retryable: true,
      attempts,
    });
  };

  try {
    await inst.slots.acquire(ac.signal);
  } catch {
    finish();
    throw fromAbort(causeOf() ?? { kind: "aborted" }, 0);
  }
  if (finished) {
    // aborted in the instant between the grant and this continuation
    inst.slots.release();
    throw fromAbort(causeOf() ?? { kind: "aborted" }, 0);
  }
  held = true;
  if (t.total_timeout_s > 0) {
    totalTimer = setTimeout(() => abortWith({ kind: "total_timeout", after_s: t.total_timeout_s }), t.total_timeout_s * 1000);
  }

  let attempt = 0;
  let backoff_s = req.retry.initial_backoff_s;
  for (;;) {
    attempt++;
    const sent_s = req.now_s();
    if (t.headers_timeout_s > 0) {
      headersTimer = setTimeout(() => abortWith({ kind: "headers_timeout", after_s: t.headers_timeout_s }), t.headers_timeout_s * 1000);
    }
    let failure: LiveCallError;
    let retryAfter_s: number | undefined;
    try {
      const res = await inst.pool.request({
        method: req.method,
        path: inst.prefix + req.path,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        signal: ac.signal,
      });
      clearTimeout(headersTimer);
      const headers_s = req.now_s();
      const status = res.statusCode;
      const retryStatus = req.retry.retry_statuses.includes(status);
      const ok = status >= 200 && status < 300;
      if (ok || (req.passErrorStatus && !(retryStatus && attempt < req.retry.max_attempts))) {
        return {
          status,
          headers: res.headers,
          body: guardedBody(res.body, attempt),
          attempts: attempt,
          sent_s,
          headers_s,
          cancel: () => {
            abortWith({ kind: "aborted" });
            res.body.destroy();
            finish();
          },
        };
      }
      if (t.idle_timeout_s > 0) {
        idleTimer = setTimeout(() => abortWith({ kind: "idle_timeout", after_s: t.idle_timeout_s }), t.idle_timeout_s * 1000);
      }
      const text = await readErrorBody(res.body);
      clearTimeout(idleTimer);
      const cause = causeOf();
      if (cause !== undefined) {
        finish();
        throw fromAbort(cause, attempt);
      }
      failure = new LiveCallError({
        kind: "http",
        reason: `HTTP ${status} from ${inst.id} ${req.path}${text !== "" ? `: ${text}` : ""}`,
        retryable: statusRetryable(status),
        status,
        attempts: attempt,
      });
      if (!retryStatus) {
        finish();
        throw failure;
      }
      retryAfter_s = parseRetryAfter(res.headers["retry-after"]);
    } catch (error) {
      clearTimeout(headersTimer);
      if (error instanceof LiveCallError) {
        finish();
        throw error;
      }
      const cause = causeOf();
      if (cause !== undefined) {
        finish();
        throw fromAbort(cause, attempt);
      }
      failure = new LiveCallError({
        kind: "connect",
        reason: `cannot reach ${inst.id} (${inst.origin}${inst.prefix}${req.path}): ${describeError(error)}`,
        retryable: true,
        attempts: attempt,
      });
      if (!isConnectError(error)) {
        finish();
        throw failure;
      }
    }
    if (attempt >= req.retry.max_attempts) {
      finish();
      throw new LiveCallError({
        kind: failure.kind,
        reason: `${failure.reason} (after ${attempt} attempt${attempt === 1 ? "" : "s"})`,
        retryable: failure.retryable,
        ...(failure.status !== undefined ? { status: failure.status } : {}),
        attempts: attempt,
      });
    }
    const wait_s = Math.min(req.retry.max_backoff_s, retryAfter_s ?? backoff_s);
    backoff_s = Math.min(req.retry.max_backoff_s, backoff_s * req.retry.multiplier);
    try {
      await sleep(wait_s * 1000, ac.signal);
    } catch {
      finish();
      throw fromAbort(causeOf() ?? { kind: "aborted" }, attempt);
    }
  }

  async function* guardedBody(body: AsyncIterable<Uint8Array> & { destroy(): unknown }, attempts: number): AsyncGenerator<Uint8Array> {
    const arm = (): void => {
      if (t.idle_timeout_s > 0) {
        idleTimer = setTimeout(() => abortWith({ kind: "idle_timeout", after_s: t.idle_timeout_s }), t.idle_timeout_s * 1000);
      }
    };
    let complete = false;
    try {
      arm();
      for await (const chunk of body) {
        clearTimeout(idleTimer);
        yield chunk;
        arm();
      }
      clearTimeout(idleTimer);
      complete = true;
    } catch (error) {
      const cause = causeOf();
      if (cause !== undefined) throw fromAbort(cause, attempts);
      throw new LiveCallError({
        kind: "stream",
        reason: `connection to ${inst.id} broke mid-response: ${describeError(error)}`,
        retryable: true, // the caller lowers it once tokens were delivered
        attempts,
      });
    } finally {
      if (!complete) body.destroy();
      finish();
    }
  }
}

async function readErrorBody(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      if (size < 16384) parts.push(Buffer.from(chunk));
      size += chunk.length;
    }
  } catch {
    // the status is what matters
  }
  const text = Buffer.concat(parts).toString("utf8");
  if (text.trim() === "") return "";
  try {
    return errorMessage(JSON.parse(text));
  } catch {
    return clip(text);
  }
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(v)) return undefined;
  return Number(v);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
