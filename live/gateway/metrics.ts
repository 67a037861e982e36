import type { CallRow } from "../../src/metrics/calls-csv.ts";
import type { DispatchPolicy } from "../../src/policies/dispatch/policy.ts";
import { Exposition, Histogram, type Labels } from "../emulator/prometheus.ts";

export { PROMETHEUS_CONTENT_TYPE } from "../emulator/prometheus.ts";

/** Seconds: from a millisecond to a few minutes. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250];

/** The stable code at the start of a reason ("upstream_connect: …" → upstream_connect), so label
 *  values stay few whatever the messages say. */
export function reasonCode(reason: string | null): string {
  if (reason === null) return "none";
  const m = /^[a-z][a-z0-9_]*/.exec(reason);
  return m !== null && (m[0].length === reason.length || reason[m[0].length] === ":" || reason[m[0].length] === " ") ? m[0] : "other";
}

/** Counters of one family by label values (joined with NUL as the key). */
class Family<T> {
  readonly entries = new Map<string, { labels: string[]; value: T }>();

  constructor(
    readonly names: readonly string[],
    private readonly init: () => T,
  ) {}

  get(...values: string[]): T {
    const key = values.length === 1 ? values[0] : values.join("\0");
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { labels: values, value: this.init() };
      this.entries.set(key, e);
    }
    return e.value;
  }

  labels(values: string[]): Labels {
    return this.names.map((n, i) => [n, values[i]] as const);
  }
}

class Count {
  n = 0;
}

/** What the gateway knows only at scrape time. */
export interface GatewayGauges {
  /** Per model: calls waiting at the controller or for a connection, calls sent, the bound. */
  models: { model: string; queued: number; in_flight: number; max_queue: number }[];
  instances: { instance: string; model: string; up: boolean; state: string; outstanding: number }[];
  draining: boolean;
}

/** The gateway's own Prometheus metrics (`GET /metrics`): HTTP requests, calls by model and
 *  instance, latency histograms, queue lengths, and the dispatch policy's decisions. */
export class GatewayMetrics {
  private readonly http = new Family(["route", "code"], () => new Count());
  private readonly calls = new Family(["model", "instance", "status"], () => new Count());
  private readonly rejections = new Family(["model", "reason"], () => new Count());
  private readonly failures = new Family(["model", "reason"], () => new Count());
  private readonly dispatches = new Family(["policy", "instance"], () => new Count());
  private readonly holds = new Family(["policy"], () => new Count());
  private readonly redispatches = new Family(["instance", "reason"], () => new Count());
  private readonly promptTokens = new Family(["model"], () => new Count());
  private readonly outputTokens = new Family(["model"], () => new Count());
  private readonly e2e = new Family(["model"], () => new Histogram(LATENCY_BUCKETS));
  private readonly ttft = new Family(["model"], () => new Histogram(LATENCY_BUCKETS));
  private readonly queue = new Family(["model"], () => new Histogram(LATENCY_BUCKETS));
  private readonly instanceEvents = new Family(["instance", "event"], () => new Count());
  /** More families rendered after the gateway's own (tenant usage, shared state). */
  readonly extra: ((x: Exposition) => void)[] = [];

  httpRequest(route: string, status: number): void {
    this.http.get(route, String(status)).n++;
  }

  /** A call closed (every call closes once, whatever its end). */
  callClosed(row: CallRow): void {
    const model = row.model ?? "";
    this.calls.get(model, row.instance ?? "", row.status).n++;
    this.promptTokens.get(model).n += row.prompt_tokens;
    if (row.status === "finished") {
      this.outputTokens.get(model).n += row.output_tokens ?? 0;
      if (row.e2e_s !== null) this.e2e.get(model).observe(row.e2e_s);
      if (row.ttft_s !== null) this.ttft.get(model).observe(row.ttft_s);
      if (row.queue_s !== null) this.queue.get(model).observe(row.queue_s);
    } else if (row.status === "rejected") this.rejections.get(model, reasonCode(row.reason)).n++;
    else this.failures.get(model, reasonCode(row.reason)).n++;
  }

  /** A call went back to the controller after a failure before its answer began. */
  redispatch(instance: string, reason: string): void {
    this.redispatches.get(instance, reasonCode(reason)).n++;
  }

  instanceEvent(instance: string, event: "down" | "up" | "sleep" | "wake"): void {
    this.instanceEvents.get(instance, event).n++;
  }

  /** The dispatch policy, its every decision counted (dispatch to an instance, or hold). */
  countDecisions(policy: DispatchPolicy): DispatchPolicy {
    const dispatches = this.dispatches;
    const holds = this.holds;
    const counted: DispatchPolicy = {
      name: policy.name,
      choose(call, candidates, view) {
        const target = policy.choose(call, candidates, view);
        if (target === undefined) holds.get(policy.name).n++;
        else dispatches.get(policy.name, target.spec.id).n++;
        return target;
      },
    };
    if (policy.retryAt_s) Object.assign(counted, { retryAt_s: policy.retryAt_s.bind(policy) });
    if (policy.callDispatched) Object.assign(counted, { callDispatched: policy.callDispatched.bind(policy) });
    if (policy.callClosed) Object.assign(counted, { callClosed: policy.callClosed.bind(policy) });
    return counted;
  }

  render(gauges: GatewayGauges): string {
    const x = new Exposition();
    counters(x, "tandem_gateway_http_requests", "HTTP requests answered, by route and status code.", this.http);
    counters(x, "tandem_gateway_requests", "Completion calls closed, by model, instance of the last dispatch (empty: never dispatched) and status (finished, failed, rejected).", this.calls);
    counters(x, "tandem_gateway_rejections", "Calls rejected, by model and reason (gateway_queue_full, exceeds_max_model_len, an instance's 4xx, …).", this.rejections);
    counters(x, "tandem_gateway_failures", "Calls failed, by model and reason (upstream_stream, upstream_connect, client_disconnected, …).", this.failures);
    counters(x, "tandem_gateway_dispatches", "Dispatch decisions that sent a call to an instance, by policy and instance (re-dispatches included).", this.dispatches);
    counters(x, "tandem_gateway_holds", "Dispatch decisions that held the head call at the controller, by policy.", this.holds);
    counters(
      x,
      "tandem_gateway_redispatches",
      "Calls handed back to the controller for another instance after a failure before their answer began, by instance and reason.",
      this.redispatches,
    );
    counters(x, "tandem_gateway_instance_events", "Instances taken out of dispatch (down) or back (up), put to sleep or woken.", this.instanceEvents);
    counters(x, "tandem_gateway_prompt_tokens", "Prompt tokens of closed calls (server usage when reported, else the gateway's estimate), by model.", this.promptTokens);
    counters(x, "tandem_gateway_generation_tokens", "Output tokens of finished calls, by model.", this.outputTokens);
    histograms(x, "tandem_gateway_e2e_request_latency_seconds", "Arrival at the gateway to the end of the answer, finished calls, by model.", this.e2e);
    histograms(x, "tandem_gateway_time_to_first_token_seconds", "Arrival at the gateway to the first token (a non-streamed answer: its end), by model.", this.ttft);
    histograms(x, "tandem_gateway_queue_time_seconds", "Arrival at the gateway to the (last) dispatch, finished calls, by model.", this.queue);
    x.family("tandem_gateway_queue_length", "gauge", "Calls waiting at the gateway (for a dispatch decision or a connection), by model.");
    for (const m of gauges.models) x.sample("tandem_gateway_queue_length", [["model", m.model]], m.queued);
    x.family("tandem_gateway_queue_capacity", "gauge", "The bound on queue_length (--max-queue); beyond it requests get 429.");
    for (const m of gauges.models) x.sample("tandem_gateway_queue_capacity", [["model", m.model]], m.max_queue);
    x.family("tandem_gateway_requests_in_flight", "gauge", "Calls sent to an instance and not yet closed, by model.");
    for (const m of gauges.models) x.sample("tandem_gateway_requests_in_flight", [["model", m.model]], m.in_flight);
    x.family("tandem_gateway_instance_up", "gauge", "1 while the instance is reachable (else it is out of dispatch until /health answers).");
    for (const i of gauges.instances)
      x.sample(
        "tandem_gateway_instance_up",
        [
          ["instance", i.instance],
          ["model", i.model],
        ],
        i.up ? 1 : 0,
      );
    x.family("tandem_gateway_instance_state", "gauge", "The instance's state as the controller sees it (1 for the current one).");
    for (const i of gauges.instances)
      x.sample(
        "tandem_gateway_instance_state",
        [
          ["instance", i.instance],
          ["model", i.model],
          ["state", i.state],
        ],
        1,
      );
    x.family("tandem_gateway_instance_outstanding", "gauge", "Calls the controller has dispatched to the instance and not yet closed.");
    for (const i of gauges.instances)
      x.sample(
        "tandem_gateway_instance_outstanding",
        [
          ["instance", i.instance],
          ["model", i.model],
        ],
        i.outstanding,
      );
    x.gauge("tandem_gateway_draining", "1 once shutdown began (new requests get 503).", [], gauges.draining ? 1 : 0);
    for (const render of this.extra) render(x);
    return x.text();
  }
}

function counters(x: Exposition, name: string, help: string, family: Family<Count>): void {
  x.family(name, "counter", help);
  for (const { labels, value } of family.entries.values()) x.sample(`${name}_total`, family.labels(labels), value.n);
}

function histograms(x: Exposition, name: string, help: string, family: Family<Histogram>): void {
  x.family(name, "histogram", help);
  for (const { labels, value: h } of family.entries.values()) {
    const base = family.labels(labels);
    let cumulative = 0;
    for (let i = 0; i < h.bounds.length; i++) {
      cumulative += h.counts[i];
      x.sample(`${name}_bucket`, [...base, ["le", String(h.bounds[i])]], cumulative);
    }
    x.sample(`${name}_bucket`, [...base, ["le", "+Inf"]], h.count);
    x.sample(`${name}_count`, base, h.count);
    x.sample(`${name}_sum`, base, h.sum);
  }
}
