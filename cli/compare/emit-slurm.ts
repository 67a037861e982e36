/** `compare --emit slurm`: a Slurm job array that runs the shards (SLURM_ARRAY_TASK_ID picks the
 *  shard) and a merge job that starts when every shard succeeded (`--dependency=afterok`), with a
 *  submit script that submits both. Pure: returns the files' text. */
import { shellQuote } from "./rerun-args.ts";

export interface SlurmPlan {
  shards: number;
  /** How to start tandem on a node, as shell words (`node /path/bin/tandem.mjs`). */
  tandem: string[];
  /** compare's own flags (no --out, --shard). */
  args: string[];
  /** Absolute: the folder every shard writes into and the merge reads. */
  out: string;
  /** Absolute: where the jobs run (relative input paths resolve from here). */
  workdir: string;
  cpusPerShard: number;
  /** compare --jobs was given: keep it; otherwise each shard uses its allocated CPUs. */
  jobsGiven: boolean;
  jobName: string;
  partition?: string;
  time?: string;
  account?: string;
}

export interface SlurmFiles {
  "array.sbatch": string;
  "merge.sbatch": string;
  "submit.sh": string;
}

export function slurmFiles(plan: SlurmPlan): SlurmFiles {
  const q = (words: string[]) => words.map(shellQuote).join(" ");
  const logs = `${plan.out}/slurm`;
  const common = [
    ...(plan.partition ? [`#SBATCH --partition=${plan.partition}`] : []),
    ...(plan.time ? [`#SBATCH --time=${plan.time}`] : []),
    ...(plan.account ? [`#SBATCH --account=${plan.account}`] : []),
    `#SBATCH --chdir=${plan.workdir}`,
  ];
  const shardCommand = [
    `exec ${q(plan.tandem)} compare ${q(plan.args)} \\`,
    `  --out ${shellQuote(plan.out)} --shard "\${SLURM_ARRAY_TASK_ID}/${plan.shards}"${plan.jobsGiven ? "" : ` --jobs "\${SLURM_CPUS_PER_TASK:-1}"`} --no-progress --quiet`,
  ];
  const array = [
    "#!/bin/bash",
    "# tandem compare: one array task per shard; SLURM_ARRAY_TASK_ID is the shard I of I/N.",
    `#SBATCH --job-name=${plan.jobName}`,
    `#SBATCH --array=0-${plan.shards - 1}`,
    "#SBATCH --ntasks=1",
    `#SBATCH --cpus-per-task=${plan.cpusPerShard}`,
    `#SBATCH --output=${logs}/shard-%a.log`,
    ...common,
    "set -euo pipefail",
    ...shardCommand,
    "",
  ].join("\n");
  const merge = [
    "#!/bin/bash",
    "# tandem compare: joins the shards into compare.csv, compare-means.csv and compare.json.",
    `#SBATCH --job-name=${plan.jobName}-merge`,
    "#SBATCH --ntasks=1",
    "#SBATCH --cpus-per-task=1",
    `#SBATCH --output=${logs}/merge.log`,
    ...common,
    "set -euo pipefail",
    `exec ${q(plan.tandem)} compare merge ${shellQuote(plan.out)} --out ${shellQuote(plan.out)} --quiet`,
    "",
  ].join("\n");
  const submit = [
    "#!/bin/bash",
    "# Submits the shard array, then the merge job to start once every shard has succeeded.",
    "set -euo pipefail",
    'here="$(cd "$(dirname "$0")" && pwd)"',
    'array="$(sbatch --parsable "$here/array.sbatch")"',
    // sbatch --parsable prints "jobid" or "jobid;cluster": keep the id.
    `array="\${array%%;*}"`,
    'merge="$(sbatch --parsable --dependency=afterok:"$array" "$here/merge.sbatch")"',
    `merge="\${merge%%;*}"`,
    `echo "submitted: shards job $array (array 0-${plan.shards - 1}), merge job $merge (after the shards succeed); results in ${plan.out}"`,
    "",
  ].join("\n");
  return { "array.sbatch": array, "merge.sbatch": merge, "submit.sh": submit };
}
