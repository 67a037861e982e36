import type { Report } from "../src/metrics/report-schema.ts";
import type { ClusterConfig } from "../src/model/cluster-schema.ts";
import type { Workload } from "../run/workload.ts";

/** The parity configuration (the parity test and notebooks/parity.ts): two emulated Llama-2-13B/A100
 *  instances; the simulator adds the live path's effective one-way latency (HTTP, JSON, SSE: 5 ms
 *  with 20–30 streams in flight on a 2-core machine), so a follow-up call that lands just after a
 *  step started waits for the next step in both (docs/live.md, "Parity"). */
export const PARITY_CLUSTER: ClusterConfig = {
  instances: [{ model: "llama-2-13b", gpu: "a100-80gb", tensor_parallel: 1, count: 2, engine: { api_latency_s: 0.005 } }],
};

/** ~300 calls: 100 qa-router workflows (router → expert → writer) at 6 workflows/s. */
export const PARITY_WORKLOAD: Workload = {
  kind: "app",
  name: "qa-router",
  params: { expert_tokens: "lognormal:120,0.5", reply_tokens: "lognormal:80,0.5" },
  timing: { kind: "poisson", rate: 6, count: 100 },
};

/** `cluster` with each instance group's `engine.api_latency_s` set to what the live run measured
 *  for its instances (the median over the group; `measured` in configured-instance order, as
 *  runLive returns it): the sim then adds the live path's own round trip to every call. */
export function withApiLatency(cluster: ClusterConfig, measured: readonly { instance: string; api_latency_s: number }[]): ClusterConfig {
  let next = 0;
  const instances = cluster.instances.map((group) => {
    const total = group.max_count ?? group.count ?? 1;
    const values = measured
      .slice(next, next + total)
      .map((m) => m.api_latency_s)
      .sort((a, b) => a - b);
    next += total;
    if (values.length === 0) return group;
    const mid = values.length >> 1;
    const median = values.length % 2 === 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    return { ...group, engine: { ...group.engine, api_latency_s: median } };
  });
  return { ...cluster, instances };
}

/** One quantity of a sim-vs-live comparison. `relative` = (live − sim) / sim (NaN when sim is 0). */
export interface ParityRow {
  metric: string;
  sim: number;
  live: number;
  relative: number;
  /** Counts must match exactly; latencies are compared against the tolerance. */
  kind: "count" | "latency" | "rate";
}

/** The quantities `tandem parity` lays side by side: call and workflow counts, TTFT, TPOT and E2E
 *  percentiles, the mean workflow makespan, throughput and the prefix hit rate. */
export function parityRows(sim: Report, live: Report): ParityRow[] {
  const rows: ParityRow[] = [];
  const add = (metric: string, kind: ParityRow["kind"], pick: (r: Report) => number) => {
    const s = pick(sim);
    const l = pick(live);
    rows.push({ metric, sim: s, live: l, relative: s === 0 ? (l === 0 ? 0 : NaN) : (l - s) / s, kind });
  };
  add("calls arrived", "count", (r) => r.summary.calls.arrived);
  add("calls completed", "count", (r) => r.summary.calls.completed);
  add("calls failed", "count", (r) => r.summary.calls.failed);
  add("calls rejected", "count", (r) => r.summary.calls.rejected);
  add("workflows arrived", "count", (r) => r.summary.workflows.arrived);
  add("workflows completed", "count", (r) => r.summary.workflows.completed);
  for (const [name, key] of [
    ["TTFT", "ttft_s"],
    ["TPOT", "tpot_s"],
    ["E2E", "e2e_s"],
  ] as const) {
    for (const p of ["p50", "p90", "p99"] as const) add(`${name} ${p} (s)`, "latency", (r) => r.summary[key][p]);
  }
  if (sim.summary.workflows.arrived > 0) {
    add("makespan mean (s)", "latency", (r) => r.summary.workflow_makespan_s.mean);
    add("makespan p90 (s)", "latency", (r) => r.summary.workflow_makespan_s.p90);
  }
  add("throughput (req/s)", "rate", (r) => r.summary.throughput.requests_per_s);
  add("prefix hit rate", "rate", (r) => r.summary.prefix_cache.hit_rate);
  return rows;
}

/** A fixed-width table of the rows, with relative differences in percent. */
export function formatParityTable(rows: readonly ParityRow[]): string {
  const cells = rows.map((row) => [
    row.metric,
    formatValue(row.sim),
    formatValue(row.live),
    Number.isNaN(row.relative) ? "n/a" : `${row.relative >= 0 ? "+" : ""}${(100 * row.relative).toFixed(1)}%`,
  ]);
  const header = ["metric", "sim", "live", "live vs sim"];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}
