/** `compare --dry-run`: the grid (or the shard's part of it) as a table — position, policy, rate,
 *  seed, folder, and whether the run would run or reuse an existing report — and a count. */
import { join } from "node:path";
import type { CompareJob } from "./jobs.ts";
import { rateLabel } from "./policy-list.ts";
import { reusableReport } from "./resume.ts";
import { shardLabel, type Shard } from "./shard.ts";

export interface DryRunOptions {
  out: string;
  runCsv: boolean;
  resume: boolean;
  shard?: Shard;
  gridRuns: number;
}

export function formatDryRun(jobs: readonly CompareJob[], options: DryRunOptions): string {
  const rows = jobs.map((job) => {
    const reuse = options.resume && reusableReport(join(options.out, job.dir), job, options.runCsv) !== undefined;
    return [String(job.index), reuse ? "reuse" : "run", job.policy, rateLabel(job.rate), String(job.seed), job.dir];
  });
  const header = ["#", "action", "policy", "rate", "seed", "folder"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  const reused = rows.filter((r) => r[1] === "reuse").length;
  const scope = options.shard ? `shard ${shardLabel(options.shard)}: ${jobs.length} of the grid's ${options.gridRuns} runs` : `${jobs.length} runs`;
  const summary = `${scope}; ${jobs.length - reused} to run, ${reused} already done (reused) under ${options.out}`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line), "", summary].join("\n");
}
