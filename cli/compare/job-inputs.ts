/** The inputs fingerprint of each job of a comparison (the `run.inputs_sha256` its report will
 *  carry), computed before anything runs: resume compares it with an existing report's, and a
 *  shard's manifest records it so that `compare merge` can tell that every report belongs to the
 *  same grid. */
import { createHash } from "node:crypto";
import { setupRun } from "../../run/setup.ts";
import { jobRunInputs, type CompareJob } from "./jobs.ts";

/** The hash `runSimulation` will record for this job: the same setup, without running. */
export async function jobInputsSha256(job: CompareJob): Promise<string> {
  const setup = await setupRun(jobRunInputs(job), "sim");
  return setup.inputs_sha256;
}

/** The jobs with `inputs_sha256` filled in. */
export async function withInputHashes(jobs: readonly CompareJob[]): Promise<CompareJob[]> {
  const out: CompareJob[] = [];
  for (const job of jobs) out.push({ ...job, inputs_sha256: await jobInputsSha256(job) });
  return out;
}

/** One hash over the whole grid: every job's position, folder, labels and inputs, in grid order.
 *  Shards of the same comparison agree on it; anything else that differs makes it differ. */
export function gridSha256(jobs: readonly CompareJob[]): string {
  const hash = createHash("sha256");
  for (const job of jobs) hash.update(JSON.stringify([job.index, job.dir, job.policy, job.rate, job.seed, job.inputs_sha256]) + "\n");
  return hash.digest("hex");
}
