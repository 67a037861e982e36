/** Prefix-aware dispatch on the Mooncake conversation trace.
 *
 *  Studies how much of the prompt KV cache a dispatch policy lets the engines reuse, and what that
 *  does to TTFT: the first 3,000 requests of Mooncake's conversation trace (its own arrival times;
 *  prompts share 512-token prefix blocks through `hash_ids`) on 4 × Qwen2.5-7B / H100, dispatched by
 *  round-robin, least-outstanding, prefix-affinity (Dynamo-like defaults, and prefill_weight 16:
 *  uncached prefill blocks weigh 16× an active decode block) and session-affinity (a trace request
 *  has no workflow or tenant, so its session is its own id: a consistent-hash spread). FCFS
 *  scheduling; deterministic.
 *
 *  Needs ../shared/data/traces/mooncake-conversation.jsonl (exits with a message when absent).
 *  Run:     npx tsx notebooks/prefix-dispatch.ts      (about 30–40 s on 2 cores)
 *  Writes:  docs/figures/prefix-dispatch-ttft-cdf.png (TTFT CDF per policy),
 *           docs/figures/prefix-dispatch-hit-rate.png (prefix-cache hit rate per policy),
 *           notebooks/results/prefix-dispatch.md (the table). */
import type { ClusterConfig } from "../src/model/cluster-schema.ts";
import type { Report } from "../src/metrics/report-schema.ts";
import type { PolicyChoice } from "../src/policies/registry.ts";
import { cdfSpec, type CdfSeries } from "../cli/plot/cdf.ts";
import { runSimulation } from "../sim/run.ts";
import type { Workload } from "../run/workload.ts";
import { sharedDataFile } from "../test/helpers/shared-data.ts";
import { barsSpec, valuesCdf } from "./lib/charts.ts";
import { change, fixed, markdownTable, percent } from "./lib/markdown.ts";
import { elapsed_s, isMain, repoRelative, writeFigure, writeResults, type Figure } from "./lib/output.ts";

export const NAME = "prefix-dispatch";
export const TRACE = "traces/mooncake-conversation.jsonl";
export const ROWS = 3000;

export const CLUSTER: ClusterConfig = { instances: [{ model: "qwen2.5-7b", gpu: "h100-80gb", tensor_parallel: 1, count: 4 }] };

/** The baseline first. */
export const POLICIES: { label: string; dispatch: PolicyChoice }[] = [
  { label: "round-robin", dispatch: "round-robin" },
  { label: "least-outstanding", dispatch: "least-outstanding" },
  { label: "prefix-affinity", dispatch: "prefix-affinity" },
  { label: "prefix-affinity (prefill_weight 16)", dispatch: { name: "prefix-affinity", params: { prefill_weight: 16 } } },
  { label: "session-affinity", dispatch: "session-affinity" },
];

export interface PolicyRun {
  label: string;
  report: Report;
  ttfts: number[];
  /** Rejected calls by reason. */
  rejected: Map<string, number>;
}

export function traceWorkload(path: string, rows = ROWS): Workload {
  return { kind: "trace", path, format: "mooncake", limit: rows, arrival: "trace" };
}

export async function runStudy(workload: Workload, policies = POLICIES, cluster = CLUSTER, onRun?: (run: PolicyRun) => void): Promise<PolicyRun[]> {
  const runs: PolicyRun[] = [];
  for (const policy of policies) {
    const ttfts: number[] = [];
    const rejected = new Map<string, number>();
    const { report } = await runSimulation({
      cluster,
      workload,
      scheduling: "fcfs",
      dispatch: policy.dispatch,
      onCallClosed: (row) => {
        if (row.status === "finished" && row.ttft_s !== null) ttfts.push(row.ttft_s);
        if (row.status === "rejected") rejected.set(row.reason ?? "unknown", (rejected.get(row.reason ?? "unknown") ?? 0) + 1);
      },
    });
    const run = { label: policy.label, report, ttfts, rejected };
    runs.push(run);
    onRun?.(run);
  }
  return runs;
}

export function resultTable(runs: readonly PolicyRun[]): string {
  const base = runs[0].report.summary;
  const header = ["dispatch", "completed", "rejected", "prefix hit rate", "× baseline", "TTFT p50 ms", "p90 ms", "p99 ms", "mean ms", "Δ p50", "E2E p50 s", "preemptions"];
  const rows = runs.map((run, i) => {
    const s = run.report.summary;
    return [
      run.label,
      String(s.calls.completed),
      String(s.calls.rejected),
      percent(s.prefix_cache.hit_rate),
      `${(s.prefix_cache.hit_rate / base.prefix_cache.hit_rate).toFixed(2)}×`,
      fixed(1000 * s.ttft_s.p50, 0),
      fixed(1000 * s.ttft_s.p90, 0),
      fixed(1000 * s.ttft_s.p99, 0),
      fixed(1000 * s.ttft_s.mean, 0),
      i === 0 ? "baseline" : change((s.ttft_s.p50 - base.ttft_s.p50) / base.ttft_s.p50),
      fixed(s.e2e_s.p50, 2),
      String(s.preemptions),
    ];
  });
  return markdownTable(header, rows);
}

export function figures(runs: readonly PolicyRun[]): Figure[] {
  const series = runs.map((r) => valuesCdf(r.label, r.ttfts)).filter((s): s is CdfSeries => s !== undefined);
  return [
    {
      name: `${NAME}-ttft-cdf`,
      spec: cdfSpec({
        metric: "ttft_s",
        series,
        title: "TTFT CDF per dispatch policy: Mooncake conversation trace",
        subtitle: `first ${runs[0].report.run.trace.rows} requests at their own arrival times, 4 × Qwen2.5-7B / H100, FCFS; every completed call`,
      }),
    },
    {
      name: `${NAME}-hit-rate`,
      spec: barsSpec({
        title: "Prefix-cache hit rate per dispatch policy",
        subtitle: "hit tokens over queried prompt tokens, all instances: Mooncake conversation trace on 4 × Qwen2.5-7B / H100",
        bars: runs.map((r) => ({ group: r.label, value: r.report.summary.prefix_cache.hit_rate })),
        groupTitle: "dispatch",
        valueTitle: "prefix-cache hit rate",
        format: ".1%",
      }),
    },
  ];
}

export async function main(): Promise<void> {
  const trace = sharedDataFile(TRACE);
  if (!trace) {
    process.stderr.write(`prefix-dispatch: needs ../shared/data/${TRACE}; nothing written\n`);
    process.exitCode = 1;
    return;
  }
  const start = performance.now();
  const runs = await runStudy(traceWorkload(trace), POLICIES, CLUSTER, (r) =>
    process.stderr.write(`  ${r.label}: hit rate ${percent(r.report.summary.prefix_cache.hit_rate)}, TTFT p50 ${fixed(1000 * r.report.summary.ttft_s.p50, 0)} ms\n`),
  );
  const table = resultTable(runs);
  const written: string[] = [];
  for (const figure of figures(runs)) written.push(await writeFigure(figure.name, figure.spec));
  const reasons = runs.map((r) => [...r.rejected].map(([reason, n]) => `${n} × \`${reason}\``).join(", "));
  const overLong = runs[0].rejected.has("exceeds_max_model_len") ? ", prompt plus output longer than Qwen2.5-7B's context, as vLLM refuses them" : "";
  const rejectedLine = reasons.every((r) => r === reasons[0])
    ? reasons[0] === ""
      ? "No request is rejected."
      : `Rejected calls, the same under every policy: ${reasons[0]}${overLong}.`
    : `Rejected calls per policy: ${runs.map((r, i) => `${r.label}: ${reasons[i] || "none"}`).join("; ")}.`;
  const markdown = [
    "# Prefix-aware dispatch on the Mooncake conversation trace",
    "",
    `The first ${ROWS.toLocaleString("en-US")} requests of Mooncake's conversation trace`,
    "(`../shared/data/traces/mooncake-conversation.jsonl`; prompts share 512-token prefix blocks through",
    "`hash_ids`) at their own arrival times on 4 × Qwen2.5-7B / H100, FCFS scheduling, one run per",
    "dispatch policy. `prefix-affinity` picks the instance with the lowest `prefill_weight` × uncached",
    "prompt blocks + active decode blocks (default weight 1, Dynamo-like; 16 weighs cache reuse much",
    "more than load). `session-affinity` hashes a call's workflow or tenant, else its own id: trace",
    "requests have neither, so it spreads them like a seeded random choice. Hit rate is prefix-cache",
    "hit tokens over queried prompt tokens; × baseline and Δ p50 are against round-robin.",
    rejectedLine,
    "",
    "Regenerate: `npx tsx notebooks/prefix-dispatch.ts` (deterministic: same table, same figures).",
    "",
    table,
    "",
    "Figures: " + written.map((p) => `\`${repoRelative(p)}\``).join(", ") + ".",
  ].join("\n");
  const results = writeResults(NAME, markdown);
  process.stdout.write(table + "\n\n");
  process.stdout.write(`wrote ${[...written, results].map(repoRelative).join(", ")} in ${elapsed_s(start).toFixed(0)} s\n`);
}

if (isMain(import.meta.url)) await main();
