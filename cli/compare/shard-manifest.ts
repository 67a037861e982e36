/** A shard's manifest, `compare-shard-I-of-N.json` in its output folder: which grid it belongs to
 *  (the grid's hash, policies, rates, seeds) and which runs it made, each with its folder and inputs
 *  hash. `compare merge` reads the manifests, checks that together they cover the grid once, and
 *  builds the comparison's files from the runs' reports. */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { InputError, inputError } from "../../src/core/errors.ts";
import { TANDEM_VERSION } from "../../src/version.ts";
import type { CompareJob } from "./jobs.ts";
import type { Shard } from "./shard.ts";

export const SHARD_SCHEMA_ID = "tandem.compare-shard/v1";

export interface ShardRun {
  index: number;
  dir: string;
  policy: string;
  rate: number | null;
  seed: number;
  inputs_sha256: string;
}

export interface ShardManifest {
  schema: typeof SHARD_SCHEMA_ID;
  tandem_version: string;
  shard: Shard;
  /** gridSha256 over every job of the grid (job-inputs.ts). */
  grid_sha256: string;
  /** Runs in the whole grid. */
  grid_runs: number;
  policies: string[];
  rates: (number | null)[];
  seeds: number[];
  /** This shard's runs, in grid order. */
  runs: ShardRun[];
}

export function shardManifestName(shard: Shard): string {
  return `compare-shard-${shard.index}-of-${shard.count}.json`;
}

export function shardManifest(fields: Omit<ShardManifest, "schema" | "tandem_version" | "runs">, jobs: readonly CompareJob[]): ShardManifest {
  return {
    schema: SHARD_SCHEMA_ID,
    tandem_version: TANDEM_VERSION,
    ...fields,
    runs: jobs.map((job) => ({ index: job.index, dir: job.dir, policy: job.policy, rate: job.rate, seed: job.seed, inputs_sha256: job.inputs_sha256 ?? "" })),
  };
}

export function shardManifestJson(manifest: ShardManifest): string {
  return JSON.stringify(manifest, null, 2) + "\n";
}

/** Every shard manifest in `dir` (a folder a shard wrote into), with its path. */
export function readShardManifests(dir: string): { path: string; manifest: ShardManifest }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new InputError(`${dir}: cannot read the folder (${(error as NodeJS.ErrnoException).code ?? String(error)}); expected a folder a compare --shard run wrote`);
  }
  return names
    .filter((name) => /^compare-shard-\d+-of-\d+\.json$/.test(name))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      return { path, manifest: parseShardManifest(readFileSync(path, "utf8"), path) };
    });
}

function parseShardManifest(text: string, path: string): ShardManifest {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw inputError(path, `not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== "object" || value.schema !== SHARD_SCHEMA_ID) {
    throw inputError(path, `expected a shard manifest with "schema": "${SHARD_SCHEMA_ID}"`);
  }
  const shard = value.shard as Shard | undefined;
  const validShard = shard !== undefined && Number.isInteger(shard.index) && Number.isInteger(shard.count) && shard.index >= 0 && shard.index < shard.count;
  if (!validShard) throw inputError(`${path}: shard`, "expected {index, count} with 0 ≤ index < count");
  if (typeof value.grid_sha256 !== "string" || !Number.isInteger(value.grid_runs)) throw inputError(path, "expected grid_sha256 and grid_runs");
  if (!Array.isArray(value.runs) || !Array.isArray(value.policies) || !Array.isArray(value.rates) || !Array.isArray(value.seeds)) {
    throw inputError(path, "expected arrays runs, policies, rates and seeds");
  }
  for (const [i, run] of (value.runs as ShardRun[]).entries()) {
    const ok = run !== null && typeof run === "object" && Number.isInteger(run.index) && typeof run.dir === "string" && typeof run.inputs_sha256 === "string";
    if (!ok || run.dir.includes("..")) throw inputError(`${path}: runs[${i}]`, "expected {index, dir, policy, rate, seed, inputs_sha256} with a folder under runs/");
  }
  return value as unknown as ShardManifest;
}
