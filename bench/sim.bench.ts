/** Simulator speed. Prints its figures; run with `npm run bench:sim`. Each run is timed with the
 *  decode fast-forward (the default) and without it (`--no-fast-forward`), in the same process, and
 *  the two reports are checked to be identical. Flags: `--latency step` (the fitted step-time model
 *  instead of the roofline), `--vidur-only`, `--scale-only`, `--linear` (also 2,000,000 requests, to
 *  see that cost grows linearly with work), `--fast-forward-only` (skip the step-by-step runs).
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

const latencyFlag = process.argv.indexOf("--latency");
const latency: ClusterConfig["latency"] = latencyFlag >= 0 && process.argv[latencyFlag + 1] === "step" ? { kind: "step" } : undefined;
const fastForwardOnly = process.argv.includes("--fast-forward-only");

async function timed(name: string, cluster: ClusterConfig, workload: Workload, dispatch: string, fastForward = true, decisions?: string) {
  const csv = new BufferedFileWriter(join(scratch, `${name}.csv`));
  csv.write(CALLS_CSV_HEADER + "\n");
  const started = performance.now();
  const { report, result } = await runSimulation({
    cluster: latency === undefined ? cluster : { ...cluster, latency },
    workload,
    dispatch,
    ...(decisions !== undefined ? { decisions } : {}),
    fastForward,
    onCallClosed: (row) => csv.write(callRowToCsv(row) + "\n"),
  });
  csv.close();
  const wall_s = (performance.now() - started) / 1000;
  return { report, result, wall_s };
}

/** Times the run without fast-forward too (unless --fast-forward-only) and says whether the reports match. */
async function stepByStep(name: string, cluster: ClusterConfig, workload: Workload, dispatch: string, fast: { report: unknown; wall_s: number }, digits: number, repeat = 1) {
  if (fastForwardOnly) return;
  let slow = await timed(`${name}-step`, cluster, workload, dispatch, false);
  for (let i = 1; i < repeat; i++) {
    const again = await timed(`${name}-step`, cluster, workload, dispatch, false);
    if (again.wall_s < slow.wall_s) slow = again;
  }
  line("wall time, --no-fast-forward", `${slow.wall_s.toFixed(digits)} s  (fast-forward ${(slow.wall_s / fast.wall_s).toFixed(2)}× faster)`);
  line("reports identical", JSON.stringify(slow.report) === JSON.stringify(fast.report) ? "yes" : "NO (a bug: please report it)");
}

function line(label: string, value: string) {
  console.log(`  ${label.padEnd(34)} ${value}`);
}

async function vidurComparable() {
  const trace = sharedDataFile("traces/azure-llm-2023-conv.csv");
  console.log(
    `Vidur-comparable run: Azure conversation trace, 8,192 rows, Poisson 8 req/s, 4 × llama-2-7b on a100-80gb, budget 512, least-outstanding, latency ${latency?.kind ?? "default"}`,
  );
  if (!trace) {
    console.log("  skipped: ../shared/data is absent");
    return;
  }
  const cluster: ClusterConfig = {
    instances: [{ model: "llama-2-7b", gpu: "a100-80gb", tensor_parallel: 1, count: 4, engine: { max_num_batched_tokens: 512 } }],
  };
  const workload: Workload = { kind: "trace", path: trace, format: "azure", limit: 8192, arrival: "poisson", rate: 8 };
  await timed("warmup", cluster, { ...workload, limit: 512 }, "least-outstanding"); // JIT warm-up, not counted
  await timed("warmup", cluster, { ...workload, limit: 512 }, "least-outstanding", false);
  // Short enough to repeat: the best of three, so one burst of machine load does not decide.
  let best = await timed("vidur", cluster, workload, "least-outstanding");
  for (let i = 0; i < 2; i++) {
    const again = await timed("vidur", cluster, workload, "least-outstanding");
    if (again.wall_s < best.wall_s) best = again;
  }
  const { report, result, wall_s } = best;
  const s = report.summary;
  line("requests", `${s.calls.arrived} (${s.calls.completed} completed, ${s.calls.rejected} rejected)`);
  line("simulated time", `${result.end_s.toFixed(1)} s`);
  line("wall time", `${wall_s.toFixed(3)} s  (target ≤ 0.1 s warm; Vidur ≈ 40 s on this machine)`);
  line("speed-up over Vidur's 40 s", `${(40 / wall_s).toFixed(0)}×`);
  line("simulated requests per wall-second", `${Math.round(s.calls.arrived / wall_s)}`);
  line("TTFT p50 / p99", `${(s.ttft_s.p50 * 1000).toFixed(1)} / ${(s.ttft_s.p99 * 1000).toFixed(1)} ms`);
  line("TPOT p50 / p99", `${(s.tpot_s.p50 * 1000).toFixed(1)} / ${(s.tpot_s.p99 * 1000).toFixed(1)} ms`);
  await stepByStep("vidur", cluster, workload, "least-outstanding", { report, wall_s }, 3, 3);
  // Decision tracing (--decisions): the same run writing every decision; best of 3 each way, so
  // one GC pause or a noisy neighbour does not decide the figure.
  const bestTraced = async (decisions: boolean) => {
    let min = Infinity;
    for (let k = 0; k < 3; k++) min = Math.min(min, (await timed("vidur", cluster, workload, "least-outstanding", true, decisions ? join(scratch, "decisions.jsonl") : undefined)).wall_s);
    return min;
  };
  const off_s = await bestTraced(false);
  const on_s = await bestTraced(true);
  line("with --decisions (best of 3)", `${on_s.toFixed(3)} s vs ${off_s.toFixed(3)} s without: +${((100 * (on_s - off_s)) / off_s).toFixed(1)}%  (target ≤ 25%)`);
  line("decision trace size", `${(statSync(join(scratch, "decisions.jsonl")).size / 2 ** 20).toFixed(1)} MiB`);
}

async function scaleRun(count = Number(process.env.TANDEM_BENCH_SCALE_COUNT ?? 1_000_000)): Promise<number> {
  console.log(`Scale run: ${count.toLocaleString("en")} synthetic requests on 64 × llama-3-8b on h100-80gb, Poisson 1,000 req/s, least-outstanding, latency ${latency?.kind ?? "default"}`);
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
  line("wall time", `${wall_s.toFixed(1)} s  (target ≤ 8 s for 1,000,000)`);
  line("simulated requests per wall-second", `${Math.round(s.calls.arrived / wall_s).toLocaleString("en")}`);
  line("peak RSS (process so far)", `${(peak_rss_bytes / 2 ** 30).toFixed(2)} GiB  (target ≤ 1 GiB)`);
  await stepByStep("scale", cluster, workload, "least-outstanding", { report, wall_s }, 1);
  return wall_s;
}

try {
  if (!process.argv.includes("--scale-only")) await vidurComparable();
  if (!process.argv.includes("--vidur-only")) {
    const one = await scaleRun();
    if (process.argv.includes("--linear")) {
      const two = await scaleRun(2 * Number(process.env.TANDEM_BENCH_SCALE_COUNT ?? 1_000_000));
      line("twice the requests: time ratio", `${(two / one).toFixed(2)}×  (target ≤ 2.3×)`);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
