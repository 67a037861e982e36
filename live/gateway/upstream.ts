import type { Dispatcher, Pool } from "undici";
import { LiveCallError, describeError, errorCode } from "../client/errors.ts";
import { settle, type StreamResult } from "../client/result.ts";
import { StreamObserver, clip, errorMessage, type TokenCallbacks } from "../client/stream-observer.ts";
import type { CallProgress } from "../host/transport.ts";
import type { ClientExchange } from "./exchange.ts";
import { UsageChunkFilter } from "./usage-filter.ts";

/** How one attempt at an instance ended. `refused`: the instance answered 4xx (already forwarded
 *  to the client as it was). `error.kind === "connect"`: no response started (worth one retry). */
export type AttemptOutcome = { kind: "ok"; result: StreamResult } | { kind: "refused"; status: number; message: string } | { kind: "error"; error: LiveCallError };

const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** One attempt to forward a client's request to an instance: the response's status, headers and
 *  bytes go to the client as they arrive (the head with the first bytes, so that a failure before
 *  them stays invisible), observed on the way by the client's StreamObserver (first token, tokens,
 *  usage), with backpressure (the next chunk is read once the client took the last).
 *
 *  Lean on purpose: the attempt is its own abort signal — undici takes an EventEmitter-like object
 *  (`on`/`once`/`removeListener`, `aborted`, `reason`) as well as an AbortSignal, and with a real
 *  AbortSignal per request the proxy's garbage collections got several times longer, which shows
 *  in the p99. Aborting closes the connection to the instance, which makes vLLM drop the request. */
export class UpstreamAttempt implements TokenCallbacks {
  private body: { destroy(error?: Error): unknown } | undefined;
  private observer: StreamObserver | undefined;
  private stopped: { kind: "aborted"; reason: string } | undefined;
  private readonly started_s: number;
  private listener: (() => void) | undefined;
  // The signal side, as undici reads it.
  aborted = false;
  reason: Error | undefined;

  constructor(
    private readonly now_s: () => number,
    readonly instanceId: string,
    private readonly ex: ClientExchange,
    private readonly progress: CallProgress,
    private readonly attempts: number,
  ) {
    this.started_s = now_s();
  }

  /** Stops the attempt (the client left, shutdown); idempotent. */
  abort(reason: string): void {
    if (this.stopped !== undefined) return;
    this.stopped = { kind: "aborted", reason };
    this.aborted = true;
    this.reason = new Error(reason);
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
    this.body?.destroy(this.reason);
  }

  on(_event: "abort", listener: () => void): this {
    this.listener = listener;
    return this;
  }

  once(event: "abort", listener: () => void): this {
    return this.on(event, listener);
  }

  removeListener(): this {
    this.listener = undefined;
    return this;
  }

  // TokenCallbacks: the observer reports tokens here, the controller hears of them.
  onFirstToken(at_s: number): void {
    this.progress.firstToken(at_s);
  }

  onTokens(at_s: number, count: number): void {
    this.progress.tokens(at_s, count);
  }

  async run(pool: Pool, path: string, headers: Record<string, string>, body: string, timeout_ms: number): Promise<AttemptOutcome> {
    let res: Dispatcher.ResponseData;
    try {
      res = await pool.request({ path, method: "POST", headers, body, headersTimeout: timeout_ms, bodyTimeout: timeout_ms, signal: this as unknown as AbortSignal });
    } catch (error) {
      return this.failed(error, false);
    }
    const headers_s = this.now_s();
    this.body = res.body;
    if (this.stopped !== undefined) {
      res.body.destroy();
      return this.failed(new Error(this.stopped.reason), false);
    }
    const status = res.statusCode;
    const ex = this.ex;
    try {
      if (status >= 500) {
        // Read to its end, keeping the connection; the call goes elsewhere.
        for await (const _ of res.body);
        return { kind: "error", error: new LiveCallError({ kind: "http", reason: `HTTP ${status} from ${this.instanceId}`, retryable: true, status, attempts: this.attempts }) };
      }
      if (status < 200 || status >= 300) {
        ex.instance = this.instanceId;
        ex.writeHead(status, res.headers, true);
        let message = "";
        for await (const chunk of res.body) {
          if (message.length < 300) message += (chunk as Buffer).toString("utf8");
          if (!ex.writeChunk(chunk)) await ex.drained();
        }
        ex.end();
        return { kind: "refused", status, message: refusalText(message) };
      }
      const type = res.headers["content-type"];
      const observer = (this.observer = new StreamObserver(Array.isArray(type) ? type[0] : type, this));
      const filter = ex.request.stream && !ex.request.include_usage ? new UsageChunkFilter() : undefined;
      for await (const chunk of res.body) {
        if (ex.finished) {
          res.body.destroy();
          return this.failed(new Error("client_disconnected"), true);
        }
        observer.push(chunk as Buffer, this.now_s());
        if (!ex.headWritten) {
          ex.instance = this.instanceId;
          ex.writeHead(status, res.headers, filter === undefined);
        }
        const out = filter === undefined ? (chunk as Buffer) : filter.push(chunk as Buffer);
        if (out.length > 0 && !ex.writeChunk(out)) await ex.drained();
      }
      const tail = filter?.end();
      if (tail) ex.writeChunk(tail);
      const end_s = this.now_s();
      const obs = observer.end(end_s);
      const settled = settle(
        obs,
        observer.failure,
        { started_s: this.started_s, sent_s: this.started_s, headers_s, finish_s: obs.done_s ?? end_s, attempts: this.attempts, status, prompt_tokens_sent: undefined },
        this,
      );
      return settled instanceof LiveCallError ? { kind: "error", error: settled } : { kind: "ok", result: settled };
    } catch (error) {
      return this.failed(error, true);
    }
  }

  private failed(error: unknown, responded: boolean): AttemptOutcome {
    const tokens = this.observer?.tokensStreamed ?? 0;
    const attempts = this.attempts;
    if (this.stopped !== undefined) {
      return { kind: "error", error: new LiveCallError({ kind: "aborted", reason: this.stopped.reason, retryable: false, tokens_streamed: tokens, attempts }) };
    }
    const code = errorCode(error);
    if (code !== undefined && TIMEOUT_CODES.has(code)) {
      const what = code === "UND_ERR_HEADERS_TIMEOUT" ? "no response headers" : "no data";
      return { kind: "error", error: new LiveCallError({ kind: "idle_timeout", reason: `${what} from ${this.instanceId} in time`, retryable: true, tokens_streamed: tokens, attempts }) };
    }
    if (!responded) {
      return { kind: "error", error: new LiveCallError({ kind: "connect", reason: `no response from ${this.instanceId}: ${describeError(error)}`, retryable: true, attempts }) };
    }
    return {
      kind: "error",
      error: new LiveCallError({
        kind: "stream",
        reason: `connection to ${this.instanceId} broke mid-response: ${describeError(error)}${tokens > 0 ? ` (after ${tokens} tokens)` : ""}`,
        retryable: true,
        tokens_streamed: tokens,
        attempts,
      }),
    };
  }
}

function refusalText(body: string): string {
  try {
    return errorMessage(JSON.parse(body));
  } catch {
    return clip(body, 200);
  }
}
