/** The fingerprint of a run's inputs, `run.inputs_sha256` in its report: SHA-256 over everything
 *  that decides the report's bytes — tandem's version, the mode, the seed, the cluster config, the
 *  workload's description and the contents of every file it reads, the policies with their params,
 *  the observation mode, and the latency models and model files the instances were built from.
 *  `tandem compare` skips a run whose report.json already carries the hash it would get
 *  (docs/compare.md). Paths of files are part of the description (the report shows them too);
 *  file contents are hashed, never their times, so a copied trace hashes alike. */
import { createHash } from "node:crypto";
import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ClusterConfig } from "../src/model/cluster-schema.ts";
import type { ConfiguredInstance } from "../src/model/instance.ts";
import type { PolicyChoice } from "../src/policies/registry.ts";
import { TANDEM_VERSION } from "../src/version.ts";
import type { Workload } from "./workload.ts";

export interface RunInputs {
  mode: "sim" | "live";
  seed: number;
  cluster: ClusterConfig;
  workload: Workload;
  scheduling: PolicyChoice;
  dispatch: PolicyChoice;
  observability: { mode: "scraped" | "oracle"; interval_s: number };
  instances: readonly Pick<ConfiguredInstance, "latency" | "model_file">[];
  /** Absolute paths of the user policy files the run loads (their bytes are hashed). */
  policy_files?: readonly string[];
}

export function runInputsSha256(inputs: RunInputs): string {
  const document = {
    tandem_version: TANDEM_VERSION,
    mode: inputs.mode,
    seed: inputs.seed,
    config: inputs.cluster,
    workload: inputs.workload,
    workload_files: Object.fromEntries(workloadFiles(inputs.workload).map((path) => [path, pathDigest(path)])),
    scheduling: inputs.scheduling,
    dispatch: inputs.dispatch,
    observability: inputs.observability,
    latency_models: inputs.instances.map((i) => i.latency.info),
    model_files: inputs.instances.map((i) => i.model_file ?? null),
    // Only when present, so that runs without policy files keep their hashes.
    ...(inputs.policy_files?.length ? { policy_files: Object.fromEntries(inputs.policy_files.map((path) => [path, pathDigest(path)])) } : {}),
  };
  return createHash("sha256").update(canonicalJson(document)).digest("hex");
}

/** The files (or folders) a workload reads. */
function workloadFiles(workload: Workload): string[] {
  switch (workload.kind) {
    case "trace":
    case "workflows":
      return [workload.path];
    case "appworld":
      return [workload.dir, ...(workload.timing.kind === "timestamps" ? [workload.timing.path] : [])];
    case "app":
      return workload.timing.kind === "timestamps" ? [workload.timing.path] : [];
    default:
      return [];
  }
}

/** JSON with object keys sorted at every level, so that key order never changes the hash. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

// A sweep hashes the same trace once per run; remember digests per (path, size, mtime) in-process.
const digestCache = new Map<string, string>();

/** SHA-256 of a file's bytes; of a folder, over its entries' names and digests (sorted); "missing"
 *  when absent (the run itself then fails with its own message). */
function pathDigest(path: string): string {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return "missing";
  }
  const key = `${path}\0${stat.size}\0${stat.mtimeMs}\0${stat.isDirectory()}`;
  const cached = digestCache.get(key);
  if (cached !== undefined) return cached;
  let digest: string;
  if (stat.isDirectory()) {
    const hash = createHash("sha256");
    for (const name of readdirSync(path).sort()) hash.update(`${name}\0${pathDigest(join(path, name))}\n`);
    digest = hash.digest("hex");
  } else {
    digest = fileDigest(path);
  }
  digestCache.set(key, digest);
  return digest;
}

function fileDigest(path: string): string {
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}
