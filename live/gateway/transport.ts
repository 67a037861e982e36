import { Pool } from "undici";
import type { CallUsage, LlmCall } from "../../src/core/types.ts";
import { parseBaseUrl, toCallUsage, type LiveCallError } from "../client/index.ts";
import type { LiveClock } from "../host/clock.ts";
import { CallFailure, type CallProgress, type CallTransport } from "../host/transport.ts";
import type { ClientExchange, Occupancy } from "./exchange.ts";
import type { ModelRoutes } from "./models.ts";
import { UpstreamAttempt, type AttemptOutcome } from "./upstream.ts";

export interface GatewayTransportOptions {
  clock: LiveClock;
  routes: ModelRoutes;
  /** Base URL of each instance. */
  urls: ReadonlyMap<string, string>;
  /** Open client requests by call id. */
  exchanges: ReadonlyMap<string, ClientExchange>;
  occupancy: Occupancy;
  /** Connections (requests in flight) per instance; more wait for one inside the gateway. */
  max_in_flight_per_instance: number;
  /** Wall seconds an instance may stay silent (before its response headers, between chunks). */
  upstream_timeout_s: number;
  api_key?: string;
  /** An instance refused connections (after a quick retry): take it out of dispatch. */
  onDown: (instanceId: string, reason: string) => void;
  /** A call goes back to the controller for another instance. */
  onRedispatch: (instanceId: string, reason: string) => void;
}

/** Statuses that mean the instance refused the request itself: the call is rejected (the client
 *  gets the instance's answer as it is), as HttpTransport and the simulated engine reject. */
const REJECTING_STATUSES: Record<number, string> = { 400: "bad_request", 404: "unknown_model", 413: "request_too_large", 422: "bad_request", 429: "queue_full" };

/** Attempts per dispatch on the same instance when no response started (a connection reset on a
 *  reused socket deserves one more try; a dead instance is left to the controller). */
const ATTEMPTS = 2;
const RETRY_DELAY_MS = 50;

interface Upstream {
  pool: Pool;
  prefix: string;
  /** prefix + a client's path, made once per path (the gateway forwards two). */
  paths: Map<string, string>;
}

/** The gateway's CallTransport: a dispatched call is its client's request, forwarded as the client
 *  wrote it (model, priority and usage fields adjusted; exchange.ts) to the chosen instance, with
 *  the instance's status, headers and bytes streamed back as they arrive and first token, tokens
 *  and usage reported to the controller on the way (upstream.ts).
 *
 *  Failures: before any byte reached the client, a connect failure, a 5xx or a broken stream is
 *  retryable — the controller sends the call to another instance (the client sees nothing); once
 *  the answer is under way the call fails and the client gets an SSE error event (or a cut
 *  connection for JSON). A 4xx from the instance is the request's fault: forwarded, call rejected. */
export class GatewayTransport implements CallTransport {
  private readonly upstreams = new Map<string, Upstream>();
  private readonly headers: Record<string, string>;
  private readonly timeout_ms: number;
  /** The clock, as the attempts read it (one function for all of them). */
  private readonly now_s: () => number;

  constructor(private readonly options: GatewayTransportOptions) {
    this.headers = {
      "content-type": "application/json",
      accept: "text/event-stream, application/json",
      ...(options.api_key !== undefined ? { authorization: `Bearer ${options.api_key}` } : {}),
    };
    this.timeout_ms = options.upstream_timeout_s * 1000;
    const clock = options.clock;
    this.now_s = () => clock.now_s();
    for (const [id, url] of options.urls) {
      const { origin, prefix } = parseBaseUrl(url);
      const pool = new Pool(origin, { connections: options.max_in_flight_per_instance, pipelining: 1, connect: { timeout: 2000 } });
      this.upstreams.set(id, { pool, prefix, paths: new Map() });
    }
  }

  /** Requests waiting for a connection to one of these instances. */
  waitingForConnection(instances: readonly { id: string }[]): number {
    let n = 0;
    for (const { id } of instances) n += this.upstreams.get(id)!.pool.stats.queued;
    return n;
  }

  /** Requests at an instance: sent, and waiting for a connection. */
  load(instanceId: string): { in_flight: number; queued: number } {
    const stats = this.upstreams.get(instanceId)!.pool.stats;
    return { in_flight: stats.running, queued: stats.queued };
  }

  async send(instanceId: string, call: LlmCall, enginePriority: number | undefined, progress: CallProgress, signal: AbortSignal): Promise<CallUsage> {
    const ex = this.options.exchanges.get(call.id);
    if (ex === undefined) throw new CallFailure("gateway_lost_request: no client request for this call", false);
    this.options.occupancy.move(ex, "sent");
    if (ex.cancelled !== undefined) throw new CallFailure(ex.cancelled, false);
    // The host aborts calls only when it closes, after the gateway has drained or cancelled them.
    if (signal.aborted) throw new CallFailure("host_closed", false);
    const instance = this.options.routes.instance(instanceId);
    const upstream = this.upstreams.get(instanceId)!;
    const body = ex.upstreamBody(instance.served_model, enginePriority, instance.priority_scheduling);
    const now_s = this.now_s;
    let path = upstream.paths.get(ex.path);
    if (path === undefined) {
      path = upstream.prefix + ex.path;
      upstream.paths.set(ex.path, path);
    }
    for (let attempt = 1; ; attempt++) {
      ex.attempts++;
      const a = new UpstreamAttempt(now_s, instanceId, ex, progress, attempt);
      ex.upstream = a;
      const outcome: AttemptOutcome = await a.run(upstream.pool, path, this.headers, body, this.timeout_ms);
      ex.upstream = undefined;
      if (outcome.kind === "ok") {
        const result = outcome.result;
        // A JSON answer carries every token at once: its first token is its end.
        if (result.first_token_s === null && result.usage.output_tokens > 0) progress.firstToken(now_s());
        ex.end();
        return toCallUsage(result.usage);
      }
      if (outcome.kind === "refused") {
        const code = REJECTING_STATUSES[outcome.status] ?? `http_${outcome.status}`;
        throw new CallFailure(`${code}: HTTP ${outcome.status} from ${instanceId}: ${outcome.message}`, false, true);
      }
      const error = outcome.error;
      if (error.kind === "connect" && attempt < ATTEMPTS && ex.cancelled === undefined) {
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
        if (ex.cancelled === undefined) continue;
      }
      throw this.failure(ex, instanceId, error);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((u) => u.pool.destroy()));
  }

  private failure(ex: ClientExchange, instanceId: string, error: LiveCallError): CallFailure {
    if (ex.cancelled !== undefined) return new CallFailure(ex.cancelled, false);
    const reason = `upstream_${error.kind}: ${error.reason}${error.reason.includes(instanceId) ? "" : ` (instance ${instanceId})`}`;
    if (error.kind === "connect") this.options.onDown(instanceId, error.reason);
    if (error.retryable && !ex.headWritten) {
      this.options.occupancy.move(ex, "queued");
      this.options.onRedispatch(instanceId, reason);
      return new CallFailure(reason, true);
    }
    // The answer was under way: what the instance sent went through; the client learns of the end.
    return new CallFailure(reason, false);
  }
}
