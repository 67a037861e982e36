import type { IncomingHttpHeaders } from "undici/types/header.js";
import { LiveCallError, statusRetryable } from "./errors.ts";
import { settle, withTokens, type CallOutcome } from "./result.ts";
import { observeResponse, type TokenCallbacks } from "./stream-observer.ts";
import { openRequest, type HttpTimeouts, type InstancePool, type RetryPolicy } from "./transport.ts";

/** A request forwarded as it is (the gateway's path to an instance). */
export interface PassThroughRequest extends TokenCallbacks {
  /** E.g. "/v1/chat/completions". */
  path: string;
  method?: "GET" | "POST";
  /** JSON body: a string is sent byte for byte, an object is serialised. Nothing is added (ask for
   *  `stream_options.include_usage` yourself to get usage on a stream). */
  body?: string | Record<string, unknown>;
  /** Extra request headers (content-type and the client's authorization are set already). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeouts?: Partial<HttpTimeouts>;
}

/** The instance's answer, to stream on. `body` yields the instance's bytes unchanged; iterating it
 *  feeds the same StreamObserver the client's own calls use (first token, chunk times, usage), so
 *  `outcome` settles once `body` was read to its end, failed, or was cancelled. Read `body` (or call
 *  `cancel`): the connection slot is held until then. */
export interface PassThroughResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: AsyncIterable<Uint8Array>;
  attempts: number;
  sent_s: number;
  headers_s: number;
  /** Never rejects. A non-2xx status (after retries) ends as { ok: false } with that status. */
  outcome: Promise<CallOutcome>;
  cancel(): void;
}

export interface PassThroughContext {
  now_s: () => number;
  headers: Record<string, string>;
  timeouts: HttpTimeouts;
  retry: RetryPolicy;
}

/** Rejects (LiveCallError) only when no response started: connect failure after the retries,
 *  headers timeout, cancellation. */
export async function passThrough(inst: InstancePool, request: PassThroughRequest, ctx: PassThroughContext): Promise<PassThroughResponse> {
  const started_s = ctx.now_s();
  const body = request.body === undefined || typeof request.body === "string" ? request.body : JSON.stringify(request.body);
  const res = await openRequest(inst, {
    method: request.method ?? "POST",
    path: request.path,
    headers: { ...ctx.headers, ...request.headers },
    ...(body !== undefined ? { body } : {}),
    ...(request.signal !== undefined ? { signal: request.signal } : {}),
    timeouts: { ...ctx.timeouts, ...request.timeouts },
    retry: ctx.retry,
    passErrorStatus: true,
    now_s: ctx.now_s,
  });
  const ok = res.status >= 200 && res.status < 300;
  const observer = observeResponse(res.headers["content-type"], request);
  let settleOutcome!: (o: CallOutcome) => void;
  const outcome = new Promise<CallOutcome>((resolve) => (settleOutcome = resolve));
  let iterated = false;

  async function* forward(): AsyncGenerator<Uint8Array> {
    if (iterated) throw new Error("pass-through body can be read once");
    iterated = true;
    let ended = false;
    try {
      for await (const chunk of res.body) {
        if (ok) observer.push(chunk, ctx.now_s());
        yield chunk;
      }
      ended = true;
    } catch (error) {
      const failure =
        error instanceof LiveCallError
          ? withTokens(error, observer.tokensStreamed)
          : new LiveCallError({
              kind: "stream",
              reason: `pass-through observer failed: ${error instanceof Error ? error.message : String(error)}`,
              retryable: false,
              tokens_streamed: observer.tokensStreamed,
            });
      settleOutcome({ ok: false, error: failure });
      throw error;
    } finally {
      if (!ended) {
        res.cancel();
        settleOutcome({
          ok: false,
          error: new LiveCallError({
            kind: "aborted",
            reason: "pass-through body abandoned before its end",
            retryable: false,
            tokens_streamed: observer.tokensStreamed,
            attempts: res.attempts,
          }),
        });
      }
    }
    const end_s = ctx.now_s();
    if (!ok) {
      settleOutcome({
        ok: false,
        error: new LiveCallError({
          kind: "http",
          reason: `HTTP ${res.status} from ${inst.id} ${request.path}`,
          retryable: statusRetryable(res.status),
          status: res.status,
          attempts: res.attempts,
        }),
      });
      return;
    }
    const obs = observer.end(end_s);
    const finish_s = obs.done_s ?? end_s;
    const settled = settle(
      obs,
      observer.failure,
      {
        started_s,
        sent_s: res.sent_s,
        headers_s: res.headers_s,
        finish_s,
        attempts: res.attempts,
        status: res.status,
        prompt_tokens_sent: undefined,
      },
      request,
    );
    settleOutcome(settled instanceof LiveCallError ? { ok: false, error: settled } : { ok: true, result: settled });
  }

  return {
    status: res.status,
    headers: res.headers,
    body: { [Symbol.asyncIterator]: () => forward() },
    attempts: res.attempts,
    sent_s: res.sent_s,
    headers_s: res.headers_s,
    outcome,
    cancel: () => {
      res.cancel();
      settleOutcome({
        ok: false,
        error: new LiveCallError({
          kind: "aborted",
          reason: "pass-through cancelled",
          retryable: false,
          tokens_streamed: observer.tokensStreamed,
          attempts: res.attempts,
        }),
      });
    },
  };
}
