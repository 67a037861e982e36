/** The comparison's results: one row per run (from its report), the mean over seeds per
 *  (policy, rate), and their CSV and JSON renderings. Pure: no I/O. */
import { csvCell } from "../../src/metrics/calls-csv.ts";
import type { Report } from "../../src/metrics/report-schema.ts";
import type { CompareJob } from "./jobs.ts";

export const COMPARE_SCHEMA_ID = "tandem.compare/v1";

/** One run, or (seed null) the mean of a (policy, rate) over its seeds. Latencies in seconds;
 *  makespan is null when the workload has no workflows. */
export interface CompareRow {
  policy: string;
  scheduling: string;
  dispatch: string;
  /** Arrival rate per second; null = the workload's own arrival times. */
  rate: number | null;
  /** The run's seed; null in a mean row. */
  seed: number | null;
  /** Runs the row stands for (1, or the number of seeds in a mean row). */
  runs: number;
  calls_arrived: number;
  calls_completed: number;
  workflows_arrived: number;
  workflows_completed: number;
  makespan_mean_s: number | null;
  makespan_p99_s: number | null;
  e2e_mean_s: number;
  e2e_p99_s: number;
  ttft_p50_s: number;
  ttft_p99_s: number;
  throughput_requests_per_s: number;
  throughput_output_tokens_per_s: number;
  goodput_requests_per_s: number;
  prefix_hit_rate: number;
  preemptions: number;
  /** The run's folder (relative to the output folder); null in a mean row. */
  dir: string | null;
  /** Per-class SLO attainment and goodput (config `slo.classes`); absent when none. */
  slo_classes?: Record<string, { attainment: number; goodput_requests_per_s: number }>;
}

/** The numeric columns a mean row averages. */
const AVERAGED = [
  "calls_arrived",
  "calls_completed",
  "workflows_arrived",
  "workflows_completed",
  "makespan_mean_s",
  "makespan_p99_s",
  "e2e_mean_s",
  "e2e_p99_s",
  "ttft_p50_s",
  "ttft_p99_s",
  "throughput_requests_per_s",
  "throughput_output_tokens_per_s",
  "goodput_requests_per_s",
  "prefix_hit_rate",
  "preemptions",
] as const satisfies readonly (keyof CompareRow)[];

export const COMPARE_CSV_COLUMNS = ["policy", "scheduling", "dispatch", "rate", "seed", "runs", ...AVERAGED, "dir"] as const satisfies readonly (keyof CompareRow)[];

export function rowFromReport(job: Pick<CompareJob, "policy" | "rate" | "seed" | "dir">, report: Report): CompareRow {
  const s = report.summary;
  const hasWorkflows = s.workflows.arrived > 0;
  return {
    policy: job.policy,
    scheduling: report.run.policies.scheduling,
    dispatch: report.run.policies.dispatch,
    rate: job.rate,
    seed: job.seed,
    runs: 1,
    calls_arrived: s.calls.arrived,
    calls_completed: s.calls.completed,
    workflows_arrived: s.workflows.arrived,
    workflows_completed: s.workflows.completed,
    makespan_mean_s: hasWorkflows ? s.workflow_makespan_s.mean : null,
    makespan_p99_s: hasWorkflows ? s.workflow_makespan_s.p99 : null,
    e2e_mean_s: s.e2e_s.mean,
    e2e_p99_s: s.e2e_s.p99,
    ttft_p50_s: s.ttft_s.p50,
    ttft_p99_s: s.ttft_s.p99,
    throughput_requests_per_s: s.throughput.requests_per_s,
    throughput_output_tokens_per_s: s.throughput.output_tokens_per_s,
    goodput_requests_per_s: s.goodput_requests_per_s,
    prefix_hit_rate: s.prefix_cache.hit_rate,
    preemptions: s.preemptions,
    dir: job.dir,
    ...(s.slo_classes
      ? { slo_classes: Object.fromEntries(Object.entries(s.slo_classes).map(([name, c]) => [name, { attainment: c.attainment, goodput_requests_per_s: c.goodput_requests_per_s }])) }
      : {}),
  };
}

/** The SLO class names any row has, sorted. */
export function sloClassNames(rows: readonly CompareRow[]): string[] {
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row.slo_classes ?? {})) names.add(name);
  return [...names].sort();
}

/** Mean over seeds per (policy, rate), in the order each pair first appears in `rows`. A column is
 *  null in the mean only when it is null in every run. */
export function meanRows(rows: readonly CompareRow[]): CompareRow[] {
  const groups = new Map<string, CompareRow[]>();
  for (const row of rows) {
    const key = JSON.stringify([row.rate, row.policy]);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0];
    const mean: CompareRow = { ...first, seed: null, runs: group.length, dir: null };
    for (const column of AVERAGED) {
      const values = group.map((r) => r[column]).filter((v): v is number => v !== null);
      (mean as unknown as Record<string, number | null>)[column] = values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
    }
    const classes = sloClassNames(group);
    if (classes.length > 0) {
      mean.slo_classes = {};
      for (const name of classes) {
        const runs = group.flatMap((r) => (r.slo_classes?.[name] ? [r.slo_classes[name]] : []));
        const avg = (f: (c: (typeof runs)[number]) => number) => runs.reduce((a, c) => a + f(c), 0) / runs.length;
        mean.slo_classes[name] = { attainment: avg((c) => c.attainment), goodput_requests_per_s: avg((c) => c.goodput_requests_per_s) };
      }
    }
    return mean;
  });
}

/** compare.csv (or the means' CSV): a header and one line per row, "\n"-terminated. */
export function compareCsv(rows: readonly CompareRow[]): string {
  // Per-class SLO columns after the fixed ones, only when a run has classes.
  const classes = sloClassNames(rows);
  const classHeader = classes.flatMap((name) => [`slo_attainment:${name}`, `goodput_requests_per_s:${name}`]);
  const classCells = (row: CompareRow) => classes.flatMap((name) => [csvCell(row.slo_classes?.[name]?.attainment ?? null), csvCell(row.slo_classes?.[name]?.goodput_requests_per_s ?? null)]);
  const lines = [[...COMPARE_CSV_COLUMNS, ...classHeader.map((h) => csvCell(h))].join(",")];
  for (const row of rows) lines.push([...COMPARE_CSV_COLUMNS.map((c) => csvCell(row[c])), ...classCells(row)].join(","));
  return lines.join("\n") + "\n";
}

export interface CompareDocument {
  schema: typeof COMPARE_SCHEMA_ID;
  tandem_version: string;
  /** The workload of the first run (source, format, arrival process; rate and rows vary by run). */
  workload: Report["run"]["trace"];
  policies: string[];
  rates: (number | null)[];
  seeds: number[];
  runs: CompareRow[];
  means: CompareRow[];
}

/** compare.json: stable pretty JSON, no wall-clock fields, so that the same inputs give the same
 *  bytes. */
export function compareJson(document: CompareDocument): string {
  return JSON.stringify(document, null, 2) + "\n";
}
