import type { CallUsage, InstanceSnapshot, LlmCall } from "../../src/core/types.ts";
import { CompletionClient, LiveCallError, toCallUsage, type HttpTimeouts, type RetryPolicy } from "../client/index.ts";
import { InstanceHandle, InstanceRequestError } from "../instances/index.ts";
import { defaultMaxNumSeqs, priorityDecision, type VllmGeneration } from "../instances/vllm-generation.ts";
import { InputError } from "../../src/core/errors.ts";
import { measureApiLatency, type ApiLatency } from "./api-latency.ts";
import type { LiveClock } from "./clock.ts";
import { CallFailure, type CallProgress, type CallTransport, type InstanceControl } from "./transport.ts";

/** One server the live host talks to. */
export interface LiveEndpoint {
  instanceId: string;
  /** Base URL, e.g. http://127.0.0.1:8000. */
  url: string;
  /** The model name the server serves (sent as `model`). */
  served_model: string;
  /** The server runs vLLM's priority scheduling (`--scheduling-policy priority`): calls carry the
   *  scheduling policy's rank as `priority`. vLLM refuses a non-zero priority otherwise. */
  priority_scheduling: boolean;
  /** The server is tandem's emulator: calls carry `tandem_output_key` (docs/emulator.md) so that
   *  outputs reused in later prompts hit the prefix cache as they do in the simulator. */
  emulator?: boolean;
  /** The server's max_num_seqs as the config sets it (engine.max_num_seqs); unset → vLLM's
   *  default for the GPU and release (vllm-generation.ts defaultMaxNumSeqs). */
  max_num_seqs?: number;
  /** The instance's GPU (for vLLM's default max_num_seqs). */
  gpu?: { name: string; memory_bytes: number };
  /** Calls in flight to this server at most; overrides max_num_seqs (`--max-in-flight`). */
  max_in_flight?: number;
}

/** What tandem found on a server at start-up and how it talks to it (docs/live.md). */
export interface ServerConformance {
  instance: string;
  vllm_version: string;
  generation: VllmGeneration;
  /** Whether calls carry `priority`, and why. */
  priority: { sent: boolean; reason: string };
  /** Calls in flight at most, and where the number came from. */
  max_in_flight: number;
  max_in_flight_source: "--max-in-flight" | "config max_num_seqs" | "vLLM default for the GPU";
  /** Streams ask for token ids (`return_token_ids`), so tokens are counted exactly. */
  return_token_ids: boolean;
}

/** vLLM's `priority` is an integer (lower first): ranks are sent at millisecond resolution, clamped. */
export function vllmPriority(rank: number): number {
  return Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(rank * 1000)));
}

export interface HttpTransportOptions {
  clock: LiveClock;
  endpoints: readonly LiveEndpoint[];
  api_key?: string;
  timeouts?: Partial<HttpTimeouts>;
  retry?: Partial<RetryPolicy>;
}

/** Statuses that mean the server refused the request itself (it never ran): the call is rejected,
 *  as the simulated engine rejects it, rather than failed. 429: the server's waiting queue is full. */
const REJECTING_STATUSES: Record<number, string> = { 400: "bad_request", 404: "unknown_model", 413: "request_too_large", 429: "queue_full" };

/** The live host's transport over HTTP: calls stream through the undici client (token-id prompts,
 *  priority, retries before the first token), instances are observed and slept through their
 *  control-plane handles. */
export class HttpTransport implements CallTransport, InstanceControl {
  private readonly client: CompletionClient;
  private readonly handles = new Map<string, InstanceHandle>();
  private readonly models = new Map<string, string>();
  private readonly priorityScheduling = new Set<string>();
  private readonly emulators = new Set<string>();
  private readonly speedup: number;
  private readonly scrapeRtts_ms = new Map<string, number[]>();
  private readonly endpoints = new Map<string, LiveEndpoint>();
  private readonly tokenIds = new Set<string>();
  private readonly conformance = new Map<string, ServerConformance>();

  constructor(options: HttpTransportOptions) {
    this.speedup = options.clock.speedup;
    const now_s = () => options.clock.now_s();
    this.client = new CompletionClient({
      now_s,
      ...(options.api_key !== undefined ? { api_key: options.api_key } : {}),
      ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {}),
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
    });
    for (const endpoint of options.endpoints) {
      this.endpoints.set(endpoint.instanceId, endpoint);
      this.models.set(endpoint.instanceId, endpoint.served_model);
      if (endpoint.emulator) this.emulators.add(endpoint.instanceId);
      this.handles.set(
        endpoint.instanceId,
        new InstanceHandle({
          id: endpoint.instanceId,
          base_url: endpoint.url,
          now_s,
          model: endpoint.served_model,
          ...(options.api_key !== undefined ? { api_key: options.api_key } : {}),
        }),
      );
    }
  }

  /** Checks every server answers /health and serves its model, then probes /version and /metrics
   *  and sets up how tandem talks to it (priority, in-flight cap, token ids; docs/live.md). Throws
   *  an InputError naming the first instance that is unreachable, not vLLM, of an unknown release
   *  or without metrics. */
  async checkReachable(): Promise<void> {
    await Promise.all(
      [...this.handles.values()].map(async (handle) => {
        await handle.checkServing(this.models.get(handle.id)!);
        try {
          await handle.probe();
        } catch (error) {
          if (error instanceof InstanceRequestError) throw new InputError(`instance ${handle.id} (${handle.baseUrl}): ${error.reason}`);
          throw error;
        }
      }),
    );
    for (const handle of this.handles.values()) this.conform(handle);
  }

  /** What the start-up probe found on each server and what tandem does about it. */
  servers(): ServerConformance[] {
    return [...this.conformance.values()];
  }

  private conform(handle: InstanceHandle): void {
    const endpoint = this.endpoints.get(handle.id)!;
    const { version, traits } = handle.profile!;
    const priority = priorityDecision(traits, endpoint.priority_scheduling);
    if (priority.send) this.priorityScheduling.add(handle.id);
    let max_in_flight: number;
    let source: ServerConformance["max_in_flight_source"];
    if (endpoint.max_in_flight !== undefined) {
      [max_in_flight, source] = [endpoint.max_in_flight, "--max-in-flight"];
    } else if (endpoint.max_num_seqs !== undefined) {
      [max_in_flight, source] = [endpoint.max_num_seqs, "config max_num_seqs"];
    } else {
      [max_in_flight, source] = [endpoint.gpu !== undefined ? defaultMaxNumSeqs(endpoint.gpu, traits) : 256, "vLLM default for the GPU"];
    }
    if (traits.return_token_ids) this.tokenIds.add(handle.id);
    this.client.addInstance(handle.id, endpoint.url, { max_in_flight });
    this.conformance.set(handle.id, {
      instance: handle.id,
      vllm_version: version.text,
      generation: traits.generation,
      priority: { sent: priority.send, reason: priority.reason },
      max_in_flight,
      max_in_flight_source: source,
      return_token_ids: traits.return_token_ids,
    });
  }

  /** The HTTP round trip to every server (GET /health, median of a few in a row), one server at a
   *  time so that the probes do not compete; in model seconds, keyed by instance id. */
  async measureApiLatencies(samples?: number): Promise<Map<string, ApiLatency>> {
    const out = new Map<string, ApiLatency>();
    for (const handle of this.handles.values()) {
      const probe = async () => (await handle.health()).ok;
      out.set(handle.id, await measureApiLatency(probe, { speedup: this.speedup, describe: `instance ${handle.id}`, ...(samples !== undefined ? { samples } : {}) }));
    }
    return out;
  }

  async send(instanceId: string, call: LlmCall, enginePriority: number | undefined, progress: CallProgress, signal: AbortSignal): Promise<CallUsage> {
    try {
      const result = await this.client.complete(instanceId, call, {
        model: this.models.get(instanceId)!,
        ...(enginePriority !== undefined && this.priorityScheduling.has(instanceId) ? { priority: vllmPriority(enginePriority) } : {}),
        ...this.extraBody(instanceId, call),
        signal,
        onFirstToken: (at_s) => progress.firstToken(at_s),
        onTokens: (at_s, count) => progress.tokens(at_s, count),
      });
      return toCallUsage(result.usage);
    } catch (error) {
      if (error instanceof LiveCallError) {
        const rejection = error.kind === "http" && error.status !== undefined ? REJECTING_STATUSES[error.status] : undefined;
        if (rejection !== undefined) throw new CallFailure(`${rejection}: ${error.reason}`, false, true);
        throw new CallFailure(error.reason, error.retryable, false, error.kind === "connect");
      }
      throw error;
    }
  }

  /** Fields beyond the standard body: `return_token_ids` where the server supports it (exact token
   *  counts whatever its stream_interval), and the emulator's `tandem_output_key`. */
  private extraBody(instanceId: string, call: LlmCall): { extra_body?: Record<string, unknown> } {
    const extra: Record<string, unknown> = {};
    if (this.tokenIds.has(instanceId)) extra.return_token_ids = true;
    if (call.output_key !== undefined && this.emulators.has(instanceId)) extra.tandem_output_key = call.output_key;
    return Object.keys(extra).length > 0 ? { extra_body: extra } : {};
  }

  async observe(instanceId: string): Promise<InstanceSnapshot> {
    const start = performance.now();
    const { snapshot } = await this.handle(instanceId).scrape();
    const rtts = this.scrapeRtts_ms.get(instanceId);
    if (rtts) rtts.push(performance.now() - start);
    else this.scrapeRtts_ms.set(instanceId, [performance.now() - start]);
    return snapshot;
  }

  /** Median wall round trip of the /metrics scrapes so far, per instance, in model seconds: the
   *  live path's latency under the run's own load (for the record and for parity studies). */
  scrapeRoundTrips(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, rtts] of this.scrapeRtts_ms) {
      const sorted = [...rtts].sort((a, b) => a - b);
      out.set(id, (sorted[sorted.length >> 1] / 1000) * this.speedup);
    }
    return out;
  }

  sleep(instanceId: string): Promise<void> {
    return this.handle(instanceId).sleep(1);
  }

  wake(instanceId: string): Promise<void> {
    return this.handle(instanceId).wakeUp();
  }

  async close(): Promise<void> {
    await Promise.all([...this.conformance.keys()].map((id) => this.client.removeInstance(id)));
    await Promise.all([...this.handles.values()].map((h) => h.close()));
  }

  private handle(instanceId: string): InstanceHandle {
    const handle = this.handles.get(instanceId);
    if (!handle) throw new Error(`unknown instance ${instanceId}`);
    return handle;
  }
}
