/** `tandem compare merge`: the shards of one comparison → the comparison's files, byte-identical to
 *  one unsharded run. Every shard I/N of the grid must be found exactly once (the same manifest
 *  found through two paths counts once), all for the same grid; every run's report must be there
 *  with the inputs hash its shard recorded. Run folders are copied into the output folder when a
 *  shard wrote elsewhere. */
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError } from "../../src/core/errors.ts";
import { parseReportJson, type Report } from "../../src/metrics/report-schema.ts";
import { writeCompareOutputs, type WrittenOutputs } from "./outputs.ts";
import { rowFromReport } from "./results.ts";
import { readShardManifests, type ShardManifest, type ShardRun } from "./shard-manifest.ts";

export interface MergeResult extends WrittenOutputs {
  runs: number;
  shards: number;
  seeds: number;
}

interface Found {
  dir: string;
  path: string;
  manifest: ShardManifest;
}

export function mergeShards(dirs: readonly string[], out: string): MergeResult {
  if (dirs.length === 0) throw new InputError("compare merge: no folders given; expected the output folders of compare --shard runs");
  const found = collectManifests(dirs);
  const first = found[0].manifest;
  const count = first.shard.count;
  const byShard = new Map<number, Found>();
  for (const entry of found) {
    const m = entry.manifest;
    if (m.grid_sha256 !== first.grid_sha256 || m.shard.count !== count) {
      throw new InputError(
        `${entry.path}: shard ${m.shard.index}/${m.shard.count} of another comparison than ${found[0].path} (grid ${m.grid_sha256.slice(0, 12)}… vs ${first.grid_sha256.slice(0, 12)}…); merge the shards of one grid`,
      );
    }
    const earlier = byShard.get(m.shard.index);
    if (earlier) throw new InputError(`shard ${m.shard.index}/${count} found twice: ${earlier.path} and ${entry.path}; expected each shard once`);
    byShard.set(m.shard.index, entry);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byShard.has(i));
  if (missing.length > 0) throw new InputError(`compare merge: shard${missing.length === 1 ? "" : "s"} ${missing.map((i) => `${i}/${count}`).join(", ")} not found in ${dirs.join(", ")}`);

  const runs: ({ run: ShardRun; from: Found } | undefined)[] = Array.from({ length: first.grid_runs }, () => undefined);
  for (const entry of byShard.values()) {
    for (const run of entry.manifest.runs) {
      if (run.index < 0 || run.index >= first.grid_runs || runs[run.index] !== undefined) {
        throw new InputError(`${entry.path}: run ${run.index} (${run.dir}) is outside the grid of ${first.grid_runs} runs or listed by two shards`);
      }
      runs[run.index] = { run, from: entry };
    }
  }
  const absent = runs.indexOf(undefined);
  if (absent !== -1) {
    throw new InputError(`compare merge: run ${absent} of ${first.grid_runs} is in no shard's manifest; were the shards written by the same tandem version?`);
  }

  mkdirSync(out, { recursive: true });
  const rows = [];
  let firstReport: Report | undefined;
  for (const { run, from } of runs as { run: ShardRun; from: Found }[]) {
    const report = readRunReport(from.dir, run);
    if (resolvePath(from.dir) !== resolvePath(out)) cpSync(join(from.dir, run.dir), join(out, run.dir), { recursive: true });
    rows.push(rowFromReport(run, report));
    firstReport ??= report;
  }
  const written = writeCompareOutputs(out, { policies: first.policies, rates: first.rates, seeds: first.seeds, runs: rows, first: firstReport! });
  return { ...written, runs: rows.length, shards: count, seeds: first.seeds.length };
}

function collectManifests(dirs: readonly string[]): Found[] {
  const seen = new Set<string>();
  const found: Found[] = [];
  for (const dir of dirs) {
    for (const { path, manifest } of readShardManifests(dir)) {
      const real = resolvePath(path);
      if (seen.has(real)) continue; // the same folder given twice
      seen.add(real);
      found.push({ dir, path, manifest });
    }
  }
  if (found.length === 0) throw new InputError(`compare merge: no compare-shard-I-of-N.json in ${dirs.join(", ")}; expected the output folders of compare --shard I/N runs`);
  return found;
}

function readRunReport(dir: string, run: ShardRun): Report {
  const path = join(dir, run.dir, "report.json");
  if (!existsSync(path)) throw new InputError(`${path}: not found; the shard's run ${run.dir} did not finish (rerun that shard: it resumes)`);
  const report = parseReportJson(readFileSync(path, "utf8"), path);
  if (report.run.inputs_sha256 !== run.inputs_sha256) {
    throw new InputError(`${path}: run.inputs_sha256 is not the one its shard's manifest records; the report is from another run (rerun that shard)`);
  }
  return report;
}

function resolvePath(path: string): string {
  return existsSync(path) ? realpathSync(path) : resolve(path);
}
