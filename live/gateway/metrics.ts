import type { CallRow } from "../../src/metrics/calls-csv.ts";
import type { DispatchPolicy } from "../../src/policies/dispatch/policy.ts";
import { Counter, Gauge, Registry } from "prom-client";
import { Exposition, Histogram as Buckets, formatValue } from "../emulator/prometheus.ts";

/** prom-client writes the text format 0.0.4 (Registry.PROMETHEUS_CONTENT_TYPE). */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Seconds: from a millisecond to a few minutes. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250];

/** The stable code at the start of a reason ("upstream_connect: …" → upstream_connect), so label
 *  values stay few whatever the messages say. */
export function reasonCode(reason: string | null): string {
  if (reason === null) return "none";
  const m = /^[a-z][a-z0-9_]*/.exec(reason);
  return m !== null && (m[0].length === reason.length || reason[m[0].length] === ":" || reason[m[0].length] === " ") ? m[0] : "other";
}

/** What the gateway knows only at scrape time. */
export interface GatewayGauges {
  /** Per model: calls waiting at the controller or for a connection, calls sent, the bound. */
  models: { model: string; queued: number; in_flight: number; max_queue: number }[];
  instances: { instance: string; model: string; up: boolean; state: string; outstanding: number }[];
  draining: boolean;
}

/** The gateway's own Prometheus metrics (`GET /metrics`): HTTP requests, calls by model and
 *  instance, latency histograms, queue lengths, and the dispatch policy's decisions. Written by
 *  prom-client into a registry of its own, so the text is a standard writer's (counters named
 *  `…_total`, `# HELP` on every family: `promtool check metrics` finds nothing to report). */
export class GatewayMetrics {
  private readonly registry = new Registry();
  private readonly http = this.counter("tandem_gateway_http_requests_total", "HTTP requests answered, by route and status code.", ["route", "code"]);
  private readonly calls = this.counter(
    "tandem_gateway_requests_total",
    "Completion calls closed, by model, instance of the last dispatch (empty: never dispatched) and status (finished, failed, rejected).",
    ["model", "instance", "status"],
  );
  private readonly rejections = this.counter("tandem_gateway_rejections_total", "Calls rejected, by model and reason (gateway_queue_full, exceeds_max_model_len, an instance's 4xx, …).", [
    "model",
    "reason",
  ]);
  private readonly failures = this.counter("tandem_gateway_failures_total", "Calls failed, by model and reason (upstream_stream, upstream_connect, client_disconnected, …).", [
    "model",
    "reason",
  ]);
  private readonly dispatches = this.counter("tandem_gateway_dispatches_total", "Dispatch decisions that sent a call to an instance, by policy and instance (re-dispatches included).", [
    "policy",
    "instance",
  ]);
  private readonly holds = this.counter("tandem_gateway_holds_total", "Dispatch decisions that held the head call at the controller, by policy.", ["policy"]);
  private readonly redispatches = this.counter(
    "tandem_gateway_redispatches_total",
    "Calls handed back to the controller for another instance after a failure before their answer began, by instance and reason.",
    ["instance", "reason"],
  );
  private readonly instanceEvents = this.counter("tandem_gateway_instance_events_total", "Instances taken out of dispatch (down) or back (up), put to sleep or woken.", [
    "instance",
    "event",
  ]);
  private readonly promptTokens = this.counter("tandem_gateway_prompt_tokens_total", "Prompt tokens of closed calls (server usage when reported, else the gateway's estimate), by model.", [
    "model",
  ]);
  private readonly outputTokens = this.counter("tandem_gateway_generation_tokens_total", "Output tokens of finished calls, by model.", ["model"]);
  /** The latency histograms, per model, counted here (a prom-client observation hashes its labels
   *  and walks an object of buckets: three per request showed in the gateway's CPU profile) and
   *  written at scrape time in prometheus_client's form. */
  private readonly latencies = new Map<string, ModelLatencies>();
  /** Closed calls not yet added to the prom-client counters (added at scrape time: a counter
   *  increment hashes its labels). */
  private readonly pendingCalls = new Map<string, PendingCalls>();
  private readonly pendingHttp = new Map<string, PendingHttp>();
  private readonly queueLength = this.gauge("tandem_gateway_queue_length", "Calls waiting at the gateway (for a dispatch decision or a connection), by model.", ["model"]);
  private readonly queueCapacity = this.gauge("tandem_gateway_queue_capacity", "The bound on queue_length (--max-queue); beyond it requests get 429.", ["model"]);
  private readonly inFlight = this.gauge("tandem_gateway_requests_in_flight", "Calls sent to an instance and not yet closed, by model.", ["model"]);
  private readonly instanceUp = this.gauge("tandem_gateway_instance_up", "1 while the instance is reachable (else it is out of dispatch until /health answers).", ["instance", "model"]);
  private readonly instanceState = this.gauge("tandem_gateway_instance_state", "The instance's state as the controller sees it (1 for the current one).", ["instance", "model", "state"]);
  private readonly instanceOutstanding = this.gauge("tandem_gateway_instance_outstanding", "Calls the controller has dispatched to the instance and not yet closed.", ["instance", "model"]);
  private readonly draining = this.gauge("tandem_gateway_draining", "1 once shutdown began (new requests get 503).", []);
  /** More families rendered after the gateway's own (tenant usage, shared state), written in the same
   *  prometheus_client form. */
  readonly extra: ((x: Exposition) => void)[] = [];
  /** Calls a policy file's code failed on (the fallback dispatched them); set by the gateway. */
  policyFaults: { count: number; fallback: string } | undefined;

  httpRequest(route: string, status: number): void {
    const key = route + KEY_SEPARATOR + status;
    const pending = this.pendingHttp.get(key);
    if (pending !== undefined) pending.count++;
    else this.pendingHttp.set(key, { route, code: String(status), count: 1 });
  }

  /** A call closed (every call closes once, whatever its end). */
  callClosed(row: CallRow): void {
    const model = row.model ?? "";
    const instance = row.instance ?? "";
    const key = model + KEY_SEPARATOR + instance + KEY_SEPARATOR + row.status;
    let pending = this.pendingCalls.get(key);
    if (pending === undefined) {
      pending = { model, instance, status: row.status, count: 0, prompt_tokens: 0, output_tokens: 0 };
      this.pendingCalls.set(key, pending);
    }
    pending.count++;
    pending.prompt_tokens += row.prompt_tokens;
    if (row.status === "finished") {
      pending.output_tokens += row.output_tokens ?? 0;
      let l = this.latencies.get(model);
      if (l === undefined) {
        l = { e2e: new Buckets(LATENCY_BUCKETS), ttft: new Buckets(LATENCY_BUCKETS), queue: new Buckets(LATENCY_BUCKETS) };
        this.latencies.set(model, l);
      }
      if (row.e2e_s !== null) l.e2e.observe(row.e2e_s);
      if (row.ttft_s !== null) l.ttft.observe(row.ttft_s);
      if (row.queue_s !== null) l.queue.observe(row.queue_s);
    } else if (row.status === "rejected") this.rejections.inc({ model, reason: reasonCode(row.reason) });
    else this.failures.inc({ model, reason: reasonCode(row.reason) });
  }

  /** Adds what closed since the last scrape to the prom-client counters. */
  private flush(): void {
    for (const p of this.pendingHttp.values()) {
      if (p.count === 0) continue;
      this.http.inc({ route: p.route, code: p.code }, p.count);
      p.count = 0;
    }
    for (const p of this.pendingCalls.values()) {
      if (p.count === 0) continue;
      this.calls.inc({ model: p.model, instance: p.instance, status: p.status }, p.count);
      this.promptTokens.inc({ model: p.model }, p.prompt_tokens);
      if (p.status === "finished") this.outputTokens.inc({ model: p.model }, p.output_tokens);
      p.count = 0;
      p.prompt_tokens = 0;
      p.output_tokens = 0;
    }
  }

  /** A call went back to the controller after a failure before its answer began. */
  redispatch(instance: string, reason: string): void {
    this.redispatches.inc({ instance, reason: reasonCode(reason) });
  }

  instanceEvent(instance: string, event: "down" | "up" | "sleep" | "wake"): void {
    this.instanceEvents.inc({ instance, event });
  }

  /** The dispatch policy, its every decision counted (dispatch to an instance, or hold). */
  countDecisions(policy: DispatchPolicy): DispatchPolicy {
    const dispatches = this.dispatches;
    const holds = this.holds;
    const counted: DispatchPolicy = {
      name: policy.name,
      choose(call, candidates, view) {
        const target = policy.choose(call, candidates, view);
        if (target === undefined) holds.inc({ policy: policy.name });
        else dispatches.inc({ policy: policy.name, instance: target.spec.id });
        return target;
      },
    };
    if (policy.retryAt_s) Object.assign(counted, { retryAt_s: policy.retryAt_s.bind(policy) });
    if (policy.callDispatched) Object.assign(counted, { callDispatched: policy.callDispatched.bind(policy) });
    if (policy.callClosed) Object.assign(counted, { callClosed: policy.callClosed.bind(policy) });
    if (policy.instanceObserved) Object.assign(counted, { instanceObserved: policy.instanceObserved.bind(policy) });
    if (policy.explain) Object.assign(counted, { explain: policy.explain.bind(policy) });
    return counted;
  }

  /** The exposition, with the gauges set from what the gateway knows now. */
  async render(gauges: GatewayGauges): Promise<string> {
    for (const g of [this.queueLength, this.queueCapacity, this.inFlight, this.instanceUp, this.instanceState, this.instanceOutstanding]) g.reset();
    for (const m of gauges.models) {
      this.queueLength.set({ model: m.model }, m.queued);
      this.queueCapacity.set({ model: m.model }, m.max_queue);
      this.inFlight.set({ model: m.model }, m.in_flight);
    }
    for (const i of gauges.instances) {
      this.instanceUp.set({ instance: i.instance, model: i.model }, i.up ? 1 : 0);
      this.instanceState.set({ instance: i.instance, model: i.model, state: i.state }, 1);
      this.instanceOutstanding.set({ instance: i.instance, model: i.model }, i.outstanding);
    }
    this.draining.set(gauges.draining ? 1 : 0);
    this.flush();
    const own = await this.registry.metrics();
    const x = new Exposition();
    for (const [name, help, pick] of LATENCY_FAMILIES) histograms(x, name, help, this.latencies, pick);
    x.counter(
      "tandem_gateway_policy_errors",
      "Times a policy file's code threw; the call went to the fallback dispatch policy (docs/writing-policies.md).",
      [["fallback", this.policyFaults?.fallback ?? ""]],
      this.policyFaults?.count ?? 0,
    );
    for (const render of this.extra) render(x);
    return own + x.text();
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}

const KEY_SEPARATOR = "\u0000";

interface ModelLatencies {
  e2e: Buckets;
  ttft: Buckets;
  queue: Buckets;
}

interface PendingCalls {
  model: string;
  instance: string;
  status: string;
  count: number;
  prompt_tokens: number;
  output_tokens: number;
}

interface PendingHttp {
  route: string;
  code: string;
  count: number;
}

const LATENCY_FAMILIES: readonly [string, string, (l: ModelLatencies) => Buckets][] = [
  ["tandem_gateway_e2e_request_latency_seconds", "Arrival at the gateway to the end of the answer, finished calls, by model.", (l) => l.e2e],
  ["tandem_gateway_time_to_first_token_seconds", "Arrival at the gateway to the first token (a non-streamed answer: its end), by model.", (l) => l.ttft],
  ["tandem_gateway_queue_time_seconds", "Arrival at the gateway to the (last) dispatch, finished calls, by model.", (l) => l.queue],
];

/** One histogram family, a series per model (cumulative buckets, `le` last, then count and sum). */
function histograms(x: Exposition, name: string, help: string, byModel: ReadonlyMap<string, ModelLatencies>, pick: (l: ModelLatencies) => Buckets): void {
  x.family(name, "histogram", help);
  for (const [model, l] of byModel) {
    const h = pick(l);
    let cumulative = 0;
    for (let i = 0; i < h.bounds.length; i++) {
      cumulative += h.counts[i]!;
      x.sample(
        `${name}_bucket`,
        [
          ["model", model],
          ["le", formatValue(h.bounds[i]!)],
        ],
        cumulative,
      );
    }
    x.sample(
      `${name}_bucket`,
      [
        ["model", model],
        ["le", "+Inf"],
      ],
      h.count,
    );
    x.sample(`${name}_count`, [["model", model]], h.count);
    x.sample(`${name}_sum`, [["model", model]], h.sum);
  }
}
