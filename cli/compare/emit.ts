/** `compare --emit slurm|k8s --shards N`: writes the scheduler files that run this comparison as N
 *  shards and merge them (docs/compare.md), instead of running it here. */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve, basename } from "node:path";
import type { Command } from "commander";
import { stringify } from "yaml";
import { InputError } from "../../src/core/errors.ts";
import { k8sJobs } from "./emit-k8s.ts";
import { slurmFiles } from "./emit-slurm.ts";
import { rerunArgs } from "./rerun-args.ts";

export interface EmitFlags {
  emit: "slurm" | "k8s";
  shards?: number;
  out: string;
  jobs?: number;
  cpusPerShard?: number;
  tandemCommand?: string;
  slurmPartition?: string;
  slurmTime?: string;
  slurmAccount?: string;
  k8sImage?: string;
  k8sPvc?: string;
  k8sMount: string;
  k8sNamespace: string;
  k8sName: string;
  k8sParallelism?: number;
  k8sBackoffLimit: number;
}

/** Options the emitted scripts set themselves, or that only make sense here. */
const NOT_PASSED_ON = new Set([
  "out",
  "shard",
  "dryRun",
  "emit",
  "shards",
  "cpusPerShard",
  "tandemCommand",
  "slurmPartition",
  "slurmTime",
  "slurmAccount",
  "k8sImage",
  "k8sPvc",
  "k8sMount",
  "k8sNamespace",
  "k8sName",
  "k8sParallelism",
  "k8sBackoffLimit",
  "progress",
  "quiet",
]);

/** Returns the lines to print. */
export function emitSweep(flags: EmitFlags, command: Command): string {
  if (flags.shards === undefined) throw new InputError(`--emit ${flags.emit}: give --shards N, the number of shards to split the grid into`);
  const args = rerunArgs(command, NOT_PASSED_ON);
  const cpusPerShard = flags.cpusPerShard ?? flags.jobs ?? 1;
  const jobsGiven = flags.jobs !== undefined;
  const tandem = flags.tandemCommand?.trim().split(/\s+/);
  if (flags.emit === "slurm") {
    const out = resolve(flags.out);
    const dir = join(out, "slurm");
    mkdirSync(dir, { recursive: true });
    const files = slurmFiles({
      shards: flags.shards,
      tandem: tandem ?? [process.execPath, resolve(process.argv[1])],
      args,
      out,
      workdir: process.cwd(),
      cpusPerShard,
      jobsGiven,
      jobName: `tandem-compare-${basename(out)}`.replace(/[^A-Za-z0-9._-]/g, "_"),
      partition: flags.slurmPartition,
      time: flags.slurmTime,
      account: flags.slurmAccount,
    });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    chmodSync(join(dir, "submit.sh"), 0o755);
    return `wrote ${join(dir, "array.sbatch")} (${flags.shards} shards), ${join(dir, "merge.sbatch")} and ${join(dir, "submit.sh")}; submit with: bash ${join(dir, "submit.sh")}`;
  }
  if (flags.k8sImage === undefined) throw new InputError("--emit k8s: give --k8s-image IMAGE, a container image with tandem installed");
  if (flags.k8sPvc === undefined) throw new InputError("--emit k8s: give --k8s-pvc NAME, the PersistentVolumeClaim the shards write their results to");
  if (isAbsolute(flags.out)) throw new InputError(`--out ${flags.out}: with --emit k8s give a folder relative to the volume's mount (${flags.k8sMount})`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(flags.k8sName) || flags.k8sName.length > 50) {
    throw new InputError(`--k8s-name ${JSON.stringify(flags.k8sName)}: expected a DNS label of at most 50 characters (lowercase letters, digits, -)`);
  }
  const jobs = k8sJobs({
    shards: flags.shards,
    parallelism: Math.min(flags.k8sParallelism ?? flags.shards, flags.shards),
    tandem: tandem ?? ["tandem"],
    args,
    out: flags.out,
    image: flags.k8sImage,
    pvc: flags.k8sPvc,
    mount: flags.k8sMount,
    namespace: flags.k8sNamespace,
    name: flags.k8sName,
    cpusPerShard,
    jobsGiven,
    backoffLimit: flags.k8sBackoffLimit,
  });
  mkdirSync(flags.out, { recursive: true });
  const path = join(flags.out, "k8s-jobs.yaml");
  writeFileSync(path, jobs.map((job) => stringify(job, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n"));
  return `wrote ${path}: Job ${flags.k8sName}-shards (Indexed, ${flags.shards} completions) and Job ${flags.k8sName}-merge; apply with: kubectl apply -f ${path}`;
}
