/** What a `compare` invocation runs of its grid: every job's inputs hash (for resume and shard
 *  manifests), the shard's share with --shard, or with --dry-run only the listing. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CompareJob } from "./jobs.ts";
import { formatDryRun } from "./dry-run.ts";
import { gridSha256, withInputHashes } from "./job-inputs.ts";
import type { JobResult } from "./run-job.ts";
import { parseShard, shardJobs, shardLabel } from "./shard.ts";
import { shardManifest, shardManifestJson, shardManifestName } from "./shard-manifest.ts";

export interface SweepFlags {
  out: string;
  runCsv?: boolean;
  resume: boolean;
  shard?: string;
  dryRun?: boolean;
}

export interface GridLabels {
  policies: string[];
  rates: (number | null)[];
  seeds: number[];
}

export interface Sweep {
  /** The jobs to run (the whole grid, or the shard's share), inputs hashes filled in. */
  jobs: CompareJob[];
  /** A shard: write its manifest after the runs and return the line to print (instead of the
   *  comparison's files, which `compare merge` writes). */
  finish?: (results: JobResult[]) => string;
}

/** undefined: nothing to run (--dry-run printed the grid). */
export async function prepareSweep(flags: SweepFlags, grid: readonly CompareJob[], labels: GridLabels): Promise<Sweep | undefined> {
  const shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
  const hashed = await withInputHashes(grid);
  const jobs = shardJobs(hashed, shard);
  if (flags.dryRun) {
    process.stdout.write(formatDryRun(jobs, { out: flags.out, runCsv: flags.runCsv === true, resume: flags.resume, shard, gridRuns: grid.length }) + "\n");
    return undefined;
  }
  mkdirSync(flags.out, { recursive: true });
  if (shard === undefined) return { jobs };
  const manifest = shardManifest({ shard, grid_sha256: gridSha256(hashed), grid_runs: hashed.length, ...labels }, jobs);
  return {
    jobs,
    finish: () => {
      const path = join(flags.out, shardManifestName(shard));
      writeFileSync(path, shardManifestJson(manifest));
      return `shard ${shardLabel(shard)}: wrote ${jobs.length} of ${grid.length} runs under ${join(flags.out, "runs")} and ${path}; when every shard is done: tandem compare merge ${flags.out} --out ${flags.out}`;
    },
  };
}
