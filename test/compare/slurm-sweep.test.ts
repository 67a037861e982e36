/** `compare --emit slurm` on a real scheduler: a single-node Slurm started here runs the 4-shard
 *  array and the dependent merge job; the merged files must equal one unsharded run's, byte for byte. */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cliSandbox } from "../helpers/cli.ts";
import { required } from "../helpers/requirements.ts";
import { slurmMissing, startLocalSlurm, type LocalSlurm } from "../helpers/slurm.ts";

const GRID = ["--app", "qa-router", "--count", "10", "--rates", "1,2", "--policies", "fcfs+round-robin,fcfs+least-kv", "--seeds", "2"];

required(slurmMissing()).describe("compare --emit slurm on a local Slurm", () => {
  const { scratch, tandem } = cliSandbox("tandem-slurm-sweep-", 300_000);
  let slurm: LocalSlurm | undefined;
  beforeAll(async () => {
    slurm = await startLocalSlurm(join(scratch, "slurm-cluster"));
  }, 60_000);
  afterAll(async () => {
    await slurm?.stop();
  }, 30_000);

  it("4 array tasks and the afterok merge job give the unsharded run's compare.csv, compare-means.csv and compare.json", async () => {
    const emitted = tandem("compare", ...GRID, "--out", "sharded", "--emit", "slurm", "--shards", "4");
    expect(emitted.code, emitted.stderr).toBe(0);
    const array = readFileSync(join(scratch, "sharded/slurm/array.sbatch"), "utf8");
    expect(array).toContain("#SBATCH --array=0-3");
    const submit = spawnSync("bash", [join(scratch, "sharded/slurm/submit.sh")], { env: slurm!.env, encoding: "utf8" });
    expect(submit.status, submit.stderr).toBe(0);
    expect(submit.stdout).toMatch(/submitted: shards job \d+ \(array 0-3\), merge job \d+/);
    await slurm!.waitIdle(240_000);

    for (let i = 0; i < 4; i++) expect(existsSync(join(scratch, `sharded/compare-shard-${i}-of-4.json`)), `shard ${i}`).toBe(true);
    const mergeLog = join(scratch, "sharded/slurm/merge.log");
    expect(existsSync(join(scratch, "sharded/compare.json")), existsSync(mergeLog) ? readFileSync(mergeLog, "utf8") : "no merge log").toBe(true);

    const whole = tandem("compare", ...GRID, "--out", "whole", "--quiet");
    expect(whole.code, whole.stderr).toBe(0);
    for (const name of ["compare.csv", "compare-means.csv", "compare.json"]) {
      expect(readFileSync(join(scratch, "sharded", name), "utf8"), name).toBe(readFileSync(join(scratch, "whole", name), "utf8"));
    }
  }, 300_000);
});
