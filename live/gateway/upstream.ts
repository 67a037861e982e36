import type { Dispatcher, Pool } from "undici";
import type { IncomingHttpHeaders } from "undici/types/header.js";
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

/** What the attempt does with the response's body, decided by its status: `waiting` for the
 *  headers; `discard` a 5xx (read to its end, keeping the connection; the call goes elsewhere);
 *  forward a `refusal` (another non-2xx) to the client as it is; observe and forward an `answer`. */
type Mode = "waiting" | "discard" | "refusal" | "answer";

/** One attempt to forward a client's request to an instance: the response's status, headers and
 *  bytes go to the client as they arrive (the head with the first bytes, so that a failure before
 *  them stays invisible), observed on the way by a StreamObserver (first token, tokens, usage),
 *  with backpressure (the instance's socket is paused while the client's is full). A JSON answer
 *  is held until it is whole and valid; a stream that turns out broken is cut where it broke.
 *
 *  Lean on purpose: it is an undici dispatch handler, so a response costs no Readable stream, no
 *  async iterator (a promise per chunk) and no AbortSignal — each of these showed in the gateway's
 *  CPU profile and in its garbage collections (hence its p99). Aborting (`abort`) closes the
 *  connection to the instance, which makes vLLM drop the request. */
export class UpstreamAttempt implements TokenCallbacks, Dispatcher.DispatchHandler {
  private observer: StreamObserver | undefined;
  private filter: UsageChunkFilter | undefined;
  private stopped: string | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private resolve: ((outcome: AttemptOutcome) => void) | undefined;
  private mode: Mode = "waiting";
  private status = 0;
  private headers: IncomingHttpHeaders | undefined;
  private headers_s = 0;
  private refusal = "";
  /** A JSON answer's bytes, until it is complete. */
  private readonly held: Buffer[] = [];
  private readonly started_s: number;

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
    this.stopped = reason;
    this.controller?.abort(new Error(reason));
  }

  // TokenCallbacks: the observer reports tokens here, the controller hears of them.
  onFirstToken(at_s: number): void {
    this.progress.firstToken(at_s);
  }

  onTokens(at_s: number, count: number): void {
    this.progress.tokens(at_s, count);
  }

  /** Sends the request; resolves (never rejects) once the attempt is over. */
  run(pool: Pool, path: string, headers: Record<string, string>, body: string | Buffer, timeout_ms: number): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      try {
        pool.dispatch({ path, method: "POST", headers, body, headersTimeout: timeout_ms, bodyTimeout: timeout_ms }, this);
      } catch (error) {
        this.failed(error);
      }
    });
  }

  // Dispatch handler: undici calls these in order (start, response start, data…, end or error).
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.stopped !== undefined) controller.abort(new Error(this.stopped));
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return; // 1xx: the real head follows
    this.status = status;
    this.headers_s = this.now_s();
    if (this.stopped !== undefined) {
      controller.abort(new Error(this.stopped));
      return;
    }
    const ex = this.ex;
    if (status >= 500) {
      this.mode = "discard";
      return;
    }
    if (status >= 300) {
      this.mode = "refusal";
      ex.instance = this.instanceId;
      ex.writeHead(status, headers, true);
      return;
    }
    this.mode = "answer";
    this.headers = headers;
    const type = headers["content-type"];
    this.observer = new StreamObserver(Array.isArray(type) ? type[0] : type, this);
    if (ex.request.stream && !ex.request.include_usage) this.filter = new UsageChunkFilter();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const ex = this.ex;
    if (this.mode === "discard") return;
    if (this.mode === "refusal") {
      if (this.refusal.length < 300) this.refusal += chunk.toString("utf8");
      this.write(controller, chunk);
      return;
    }
    if (ex.finished) {
      controller.abort(new Error("client_disconnected"));
      return;
    }
    const observer = this.observer!;
    observer.push(chunk, this.now_s());
    if (observer.failure !== undefined) {
      // A broken stream (an event that is not JSON, a server error event): nothing more of it goes
      // to the client — not even a [DONE] after it — which learns of the failure from the gateway.
      controller.abort(new Error(observer.failure.reason));
      return;
    }
    if (observer.format === "json") {
      // A JSON answer is of use only whole: held until it proved complete and valid, so that a
      // broken one can still go to another instance (or end in a clean 502), never half-sent.
      this.held.push(chunk);
      return;
    }
    if (!ex.headWritten) {
      ex.instance = this.instanceId;
      ex.writeHead(this.status, this.headers!, this.filter === undefined);
    }
    const out = this.filter === undefined ? chunk : this.filter.push(chunk);
    if (out.length > 0) this.write(controller, out);
  }

  onResponseEnd(): void {
    const ex = this.ex;
    if (this.mode === "discard") {
      this.settle({
        kind: "error",
        error: new LiveCallError({ kind: "http", reason: `HTTP ${this.status} from ${this.instanceId}`, retryable: true, status: this.status, attempts: this.attempts }),
      });
      return;
    }
    if (this.mode === "refusal") {
      ex.end();
      this.settle({ kind: "refused", status: this.status, message: refusalText(this.refusal) });
      return;
    }
    const tail = this.filter?.end();
    if (tail !== undefined && tail.length > 0) ex.writeChunk(tail);
    const end_s = this.now_s();
    const observer = this.observer!;
    const obs = observer.end(end_s);
    const settled = settle(
      obs,
      observer.failure,
      {
        started_s: this.started_s,
        sent_s: this.started_s,
        headers_s: this.headers_s,
        finish_s: obs.done_s ?? end_s,
        attempts: this.attempts,
        status: this.status,
        prompt_tokens_sent: undefined,
      },
      this,
    );
    if (settled instanceof LiveCallError) {
      this.settle({ kind: "error", error: settled });
      return;
    }
    if (this.held.length > 0 && !ex.finished) {
      ex.instance = this.instanceId;
      ex.endWith(this.status, this.headers!, this.held);
    }
    this.settle({ kind: "ok", result: settled });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.failed(error);
  }

  /** Writes to the client; while its socket is full, the instance's is paused. */
  private write(controller: Dispatcher.DispatchController, bytes: Uint8Array | string): void {
    if (this.ex.writeChunk(bytes)) return;
    controller.pause();
    this.ex.drained().then(() => controller.resume());
  }

  private settle(outcome: AttemptOutcome): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.(outcome);
  }

  private failed(error: unknown): void {
    const tokens = this.observer?.tokensStreamed ?? 0;
    const attempts = this.attempts;
    if (this.stopped !== undefined) {
      this.settle({ kind: "error", error: new LiveCallError({ kind: "aborted", reason: this.stopped, retryable: false, tokens_streamed: tokens, attempts }) });
      return;
    }
    const broken = this.observer?.failure;
    if (broken !== undefined) {
      this.settle({ kind: "error", error: broken });
      return;
    }
    if (this.mode === "answer" && this.ex.finished) {
      this.settle({ kind: "error", error: new LiveCallError({ kind: "aborted", reason: "client_disconnected", retryable: false, tokens_streamed: tokens, attempts }) });
      return;
    }
    const code = errorCode(error);
    if (code !== undefined && TIMEOUT_CODES.has(code)) {
      const what = code === "UND_ERR_HEADERS_TIMEOUT" ? "no response headers" : "no data";
      this.settle({
        kind: "error",
        error: new LiveCallError({ kind: "idle_timeout", reason: `${what} from ${this.instanceId} in time`, retryable: true, tokens_streamed: tokens, attempts }),
      });
      return;
    }
    if (this.status === 0) {
      this.settle({ kind: "error", error: new LiveCallError({ kind: "connect", reason: `no response from ${this.instanceId}: ${describeError(error)}`, retryable: true, attempts }) });
      return;
    }
    this.settle({
      kind: "error",
      error: new LiveCallError({
        kind: "stream",
        reason: `connection to ${this.instanceId} broke mid-response: ${describeError(error)}${tokens > 0 ? ` (after ${tokens} tokens)` : ""}`,
        retryable: true,
        tokens_streamed: tokens,
        attempts,
      }),
    });
  }
}

function refusalText(body: string): string {
  try {
    return errorMessage(JSON.parse(body));
  } catch {
    return clip(body, 200);
  }
}
