import type { LlmCall } from "../../src/core/types.ts";
import { LiveCallError } from "./errors.ts";
import { passThrough, type PassThroughRequest, type PassThroughResponse } from "./pass-through.ts";
import { COMPLETIONS_PATH, completionBody, withStreamingUsage } from "./request-body.ts";
import { settle, withTokens, type StreamResult } from "./result.ts";
import { observeResponse, type TokenCallbacks } from "./stream-observer.ts";
import { promptTokenIds, type TokenPromptOptions } from "./token-prompt.ts";
import { DEFAULT_RETRY, DEFAULT_TIMEOUTS, InstancePool, openRequest, type HttpTimeouts, type RetryPolicy } from "./transport.ts";

export interface CompletionClientOptions {
  /** The clock every time in a result is read from (e.g. model time = wall × speedup). */
  now_s: () => number;
  /** Requests in flight per instance (each on its own pooled connection); more wait in FIFO
   *  order inside the client (default 256, vLLM's default max_num_seqs). */
  max_in_flight_per_instance?: number;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryPolicy>;
  /** Sent as "Authorization: Bearer …" (vLLM --api-key). */
  api_key?: string;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

/** One streaming request: a JSON body for an OpenAI-style endpoint. */
export interface StreamRequest extends TokenCallbacks {
  /** Default "/v1/completions"; "/v1/chat/completions" works the same way. */
  path?: string;
  /** `stream: true` and `stream_options.include_usage: true` are added. */
  body: Record<string, unknown>;
  signal?: AbortSignal;
  /** Per-request overrides of the client's timeouts. */
  timeouts?: Partial<HttpTimeouts>;
  /** Prompt length, used as usage.prompt_tokens when the server reports no usage (a token-id
   *  prompt's length is taken from the body when this is omitted). */
  prompt_tokens?: number;
}

/** How complete() sends an LlmCall. */
export interface CallRequestOptions extends TokenCallbacks {
  /** The served model name (from /v1/models). */
  model: string;
  /** vLLM priority, e.g. the dispatch action's enginePriority; omitted = not sent. */
  priority?: number;
  signal?: AbortSignal;
  timeouts?: Partial<HttpTimeouts>;
  tokens?: TokenPromptOptions;
  /** Further body fields (temperature, seed, …). */
  extra_body?: Record<string, unknown>;
}

/** Streams completions from vLLM instances (or anything OpenAI-compatible) and times them. */
export class CompletionClient {
  private readonly instances = new Map<string, InstancePool>();
  private readonly now_s: () => number;
  private readonly maxInFlight: number;
  private readonly timeouts: HttpTimeouts;
  private readonly retry: RetryPolicy;
  private readonly headers: Record<string, string>;

  constructor(options: CompletionClientOptions) {
    this.now_s = options.now_s;
    this.maxInFlight = options.max_in_flight_per_instance ?? 256;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    if (!(Number.isInteger(this.retry.max_attempts) && this.retry.max_attempts >= 1)) {
      throw new Error(`retry.max_attempts must be an integer ≥ 1, got ${this.retry.max_attempts}`);
    }
    this.headers = {
      "content-type": "application/json",
      accept: "text/event-stream, application/json",
      ...(options.api_key !== undefined ? { authorization: `Bearer ${options.api_key}` } : {}),
      ...options.headers,
    };
  }

  /** Registers an instance by id and base URL ("http://host:port", a trailing "/v1" is dropped). */
  addInstance(id: string, baseUrl: string, options: { max_in_flight?: number } = {}): void {
    if (this.instances.has(id)) throw new Error(`instance ${id} is already registered`);
    this.instances.set(id, new InstancePool(id, baseUrl, options.max_in_flight ?? this.maxInFlight, this.timeouts.connect_timeout_s));
  }

  hasInstance(id: string): boolean {
    return this.instances.has(id);
  }

  /** Requests sent and not finished, and requests waiting for a connection slot. */
  load(id: string): { in_flight: number; queued: number } {
    const inst = this.instance(id);
    return { in_flight: inst.slots.inFlight, queued: inst.slots.queued };
  }

  /** Forgets an instance, closing its connections (in-flight requests are destroyed). */
  async removeInstance(id: string): Promise<void> {
    const inst = this.instances.get(id);
    if (inst === undefined) return;
    this.instances.delete(id);
    await inst.destroy();
  }

  /** Sends `call` as a token-id prompt (docs/live-http.md) with max_tokens = output_tokens and
   *  ignore_eos, streaming; resolves when the stream ends. */
  async complete(instanceId: string, call: LlmCall, options: CallRequestOptions): Promise<StreamResult> {
    const prompt = promptTokenIds(call, options.tokens);
    return this.stream(instanceId, {
      path: COMPLETIONS_PATH,
      body: completionBody({
        model: options.model,
        prompt,
        max_tokens: call.output_tokens,
        ...(options.priority !== undefined ? { priority: options.priority } : {}),
        ...(options.extra_body !== undefined ? { extra: options.extra_body } : {}),
      }),
      prompt_tokens: prompt.length,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {}),
      ...(options.onFirstToken !== undefined ? { onFirstToken: options.onFirstToken } : {}),
      ...(options.onTokens !== undefined ? { onTokens: options.onTokens } : {}),
    });
  }

  /** Streams one request to its end. Rejects with LiveCallError — or, if a callback throws, with
   *  what it threw (the request is cancelled first). */
  async stream(instanceId: string, request: StreamRequest): Promise<StreamResult> {
    const inst = this.instance(instanceId);
    const started_s = this.now_s();
    const body = withStreamingUsage(request.body);
    const path = request.path ?? COMPLETIONS_PATH;
    const res = await openRequest(inst, {
      method: "POST",
      path,
      headers: this.headers,
      body: JSON.stringify(body),
      ...(request.signal !== undefined ? { signal: request.signal } : {}),
      timeouts: { ...this.timeouts, ...request.timeouts },
      retry: this.retry,
      passErrorStatus: false,
      now_s: this.now_s,
    });
    const contentType = res.headers["content-type"];
    const observer = observeResponse(contentType, request);
    if (observer.format !== "sse") {
      res.cancel();
      throw new LiveCallError({
        kind: "protocol",
        reason: `expected an event stream from ${instanceId} ${path}, got content-type "${contentType ?? ""}"`,
        retryable: true,
        status: res.status,
        attempts: res.attempts,
      });
    }
    try {
      for await (const chunk of res.body) {
        observer.push(chunk, this.now_s());
        if (observer.failure !== undefined) break;
      }
    } catch (error) {
      res.cancel();
      // After [DONE] the call is complete: a connection that then hangs or breaks does not matter.
      if (!(error instanceof LiveCallError)) throw error;
      if (!observer.done) throw withTokens(error, observer.tokensStreamed);
    }
    const end_s = this.now_s();
    const observation = observer.end(end_s);
    const finish_s = observation.done_s ?? end_s;
    const promptSent = request.prompt_tokens ?? (Array.isArray(body.prompt) ? body.prompt.length : undefined);
    const settled = settle(
      observation,
      observer.failure,
      {
        started_s,
        sent_s: res.sent_s,
        headers_s: res.headers_s,
        finish_s,
        attempts: res.attempts,
        status: res.status,
        prompt_tokens_sent: promptSent,
      },
      request,
    );
    if (settled instanceof LiveCallError) throw settled;
    return settled;
  }

  /** Forwards a caller's request unchanged and hands back the instance's response to stream on
   *  (see PassThroughResponse). Connect errors and retry statuses are retried like stream()'s. */
  passThrough(instanceId: string, request: PassThroughRequest): Promise<PassThroughResponse> {
    return passThrough(this.instance(instanceId), request, {
      now_s: this.now_s,
      headers: this.headers,
      timeouts: this.timeouts,
      retry: this.retry,
    });
  }

  /** Closes every pool; waits for in-flight requests unless `force` (then destroys them). */
  async close(force = false): Promise<void> {
    const pools = [...this.instances.values()];
    this.instances.clear();
    await Promise.all(pools.map((p) => (force ? p.destroy() : p.close())));
  }

  private instance(id: string): InstancePool {
    const inst = this.instances.get(id);
    if (inst === undefined) throw new Error(`unknown instance ${id} (register it with addInstance)`);
    return inst;
  }
}
