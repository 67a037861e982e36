/** Simulator speed. Prints its figures; run with `npm run bench:sim`.
 *  1. The Vidur-comparable run: the first 8,192 rows of the Azure conversation trace (lengths from
 *     the trace), Poisson arrivals at 8 req/s, 4 × Llama-2-7B on A100-80GB, chunked prefill with a
 *     512-token budget, least-outstanding dispatch. Target: under 1 s of wall time.
 *  2. A scale run: 1,000,000 synthetic requests on 64 instances. Target: under 60 s, under 2 GiB RSS.
 *  Both write calls.csv to a temporary folder, as `tandem sim` does. The Vidur-comparable run is
 *  also timed with decision tracing on (--decisions; target: at most 25% more wall time). */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { BufferedFileWriter } from "../cli/file-sink.ts";
import { CALLS_CSV_HEADER, callRowToCsv } from "../src/metrics/calls-csv.ts";
import type { ClusterConfig } from "../src/model/cluster-schema.ts";
import { runSimulation } from "../sim/run.ts";
import type { Workload } from "../run/workload.ts";
import { sharedDataFile } from "../test/helpers/shared-data.ts";

const scratch = mkdtempSync(join(tmpdir(), "tandem-bench-"));

async function timed(name: string, cluster: ClusterConfig, workload: Workload, dispatch: string, decisions?: string) {
  const csv = new BufferedFileWriter(join(scratch, `${name}.csv`));
  csv.write(CALLS_CSV_HEADER + "\n");
  const started = performance.now();
  const { report, result } = await runSimulation({
    cluster,
    workload,
    dispatch,
    ...(decisions !== undefined ? { decisions } : {}),
    onCallClosed: (row) => csv.write(callRowToCsv(row) + "\n"),
  });
  csv.close();
  const wall_s = (performance.now() - started) / 1000;
  return { report, result, wall_s };
}

function line(label: string, value: string) {
  console.log(`  ${label.padEnd(34)} ${value}`);
}

async function vidurComparable() {
  const trace = sharedDataFile("traces/azure-llm-2023-conv.csv");
  console.log("Vidur-comparable run: Azure conversation trace, 8,192 rows, Poisson 8 req/s, 4 × llama-2-7b on a100-80gb, budget 512, least-outstanding");
  if (!trace) {
    console.log("  skipped: ../shared/data is absent");
    return;
  }
  const cluster: ClusterConfig = {
    instances: [{ model: "llama-2-7b", gpu: "a100-80gb", tensor_parallel: 1, count: 4, engine: { max_num_batched_tokens: 512 } }],
  };
  const workload: Workload = { kind: "trace", path: trace, format: "azure", limit: 8192, arrival: "poisson", rate: 8 };
  await timed("warmup", cluster, { ...workload, limit: 512 }, "least-outstanding"); // JIT warm-up, not counted
  const { report, result, wall_s } = await timed("vidur", cluster, workload, "least-outstanding");
  const s = report.summary;
  line("requests", `${s.calls.arrived} (${s.calls.completed} completed, ${s.calls.rejected} rejected)`);
  line("simulated time", `${result.end_s.toFixed(1)} s`);
  line("wall time", `${wall_s.toFixed(3)} s  (target < 1 s; Vidur ≈ 40 s on this machine)`);
  line("speed-up over Vidur's 40 s", `${(40 / wall_s).toFixed(0)}×`);
  line("simulated requests per wall-second", `${Math.round(s.calls.arrived / wall_s)}`);
  line("TTFT p50 / p99", `${(s.ttft_s.p50 * 1000).toFixed(1)} / ${(s.ttft_s.p99 * 1000).toFixed(1)} ms`);
  line("TPOT p50 / p99", `${(s.tpot_s.p50 * 1000).toFixed(1)} / ${(s.tpot_s.p99 * 1000).toFixed(1)} ms`);
  // Decision tracing (--decisions): the same run writing every decision; best of 3 each way, so
  // one GC pause or a noisy neighbour does not decide the figure.
  const best = async (decisions: boolean) => {
    let min = Infinity;
    for (let k = 0; k < 3; k++) min = Math.min(min, (await timed("vidur", cluster, workload, "least-outstanding", decisions ? join(scratch, "decisions.jsonl") : undefined)).wall_s);
    return min;
  };
  const off_s = await best(false);
  const on_s = await best(true);
  line("with --decisions (best of 3)", `${on_s.toFixed(3)} s vs ${off_s.toFixed(3)} s without: +${((100 * (on_s - off_s)) / off_s).toFixed(1)}%  (target ≤ 25%)`);
  line("decision trace size", `${(statSync(join(scratch, "decisions.jsonl")).size / 2 ** 20).toFixed(1)} MiB`);
}

async function scaleRun() {
  const count = Number(process.env.TANDEM_BENCH_SCALE_COUNT ?? 1_000_000);
  console.log(`Scale run: ${count.toLocaleString("en")} synthetic requests on 64 × llama-3-8b on h100-80gb, Poisson 1,000 req/s, least-outstanding`);
  const cluster: ClusterConfig = {
    instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 64 }],
  };
  const workload: Workload = {
    kind: "generated",
    options: {
      count,
      rate: 1000,
      arrival: "poisson",
      prompt: "lognormal:512,1",
      prompt_min_tokens: 8,
      prompt_max_tokens: 4096,
      output: "lognormal:128,1",
      output_min_tokens: 1,
      output_max_tokens: 1024,
      prefix_groups: 16,
      prefix_tokens: 128,
      prefix_zipf: 1,
      seed: 1,
    },
  };
  const { report, result, wall_s } = await timed("scale", cluster, workload, "least-outstanding");
  const s = report.summary;
  const peak_rss_bytes = process.resourceUsage().maxRSS * 1024;
  line("requests", `${s.calls.arrived} (${s.calls.completed} completed)`);
  line("simulated time", `${result.end_s.toFixed(1)} s`);
  line("engine steps", `${result.engines.reduce((n, e) => n + e.stats.steps, 0).toLocaleString("en")}`);
  line("output tokens", `${Math.round(s.throughput.output_tokens_per_s * s.duration_s).toLocaleString("en")}`);
  line("wall time", `${wall_s.toFixed(1)} s  (target < 60 s)`);
  line("simulated requests per wall-second", `${Math.round(s.calls.arrived / wall_s).toLocaleString("en")}`);
  line("peak RSS", `${(peak_rss_bytes / 2 ** 30).toFixed(2)} GiB  (target < 2 GiB)`);
}

try {
  if (process.argv.includes("--scale-only")) await scaleRun();
  else {
    await vidurComparable();
    if (!process.argv.includes("--vidur-only")) await scaleRun();
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
