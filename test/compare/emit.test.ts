import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Job } from "kubernetes-models/batch/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { k8sJobs } from "../../cli/compare/emit-k8s.ts";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";

const { scratch, tandem } = cliSandbox("tandem-compare-emit-");
const GRID = ["--app", "qa-router", "--count", "10", "--rates", "1,2", "--policies", "fcfs+round-robin,plas{levels=3}+least-kv", "--seeds", "2"];

describe("compare --emit", { timeout: 60_000 }, () => {
  it("k8s: an Indexed Job of N shards on the PVC and a merge Job, both valid against the Kubernetes API schema", () => {
    const result = tandem("compare", ...GRID, "--out", "k", "--emit", "k8s", "--shards", "3", "--k8s-image", "registry.example/tandem:0.1", "--k8s-pvc", "sweeps");
    expect(result.code, result.stderr).toBe(0);
    const docs = parseAllDocuments(readFileSync(join(scratch, "k/k8s-jobs.yaml"), "utf8")).map((d) => d.toJS());
    expect(docs).toHaveLength(2);
    for (const doc of docs) new Job(doc).validate(); // throws on any schema violation
    const [shards, merge] = docs;
    expect(shards.spec).toMatchObject({ completionMode: "Indexed", completions: 3, parallelism: 3 });
    const container = shards.spec.template.spec.containers[0];
    expect(container.args).toEqual(expect.arrayContaining(["--policies", "fcfs+round-robin,plas{levels=3}+least-kv", "--out", "/results/k", "--shard", "$(SHARD_INDEX)/3"]));
    expect(container.env[0].valueFrom.fieldRef.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
    expect(shards.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe("sweeps");
    expect(merge.spec.template.spec.containers[0].args[0]).toMatch(/compare-shard-\*-of-3\.json.*-ge 3.*compare merge \/results\/k --out \/results\/k/);
  });

  it("k8s: an invalid object is refused by the same schema check (the check can fail)", () => {
    const [shards] = k8sJobs({
      shards: 2,
      parallelism: 2,
      tandem: ["tandem"],
      args: [],
      out: "o",
      image: "i",
      pvc: "p",
      mount: "/r",
      namespace: "default",
      name: "n",
      cpusPerShard: 1,
      jobsGiven: false,
      backoffLimit: 3,
    });
    const broken = structuredClone(shards) as { spec: { completions: unknown } };
    broken.spec.completions = "two";
    expect(() => new Job(broken as never).validate()).toThrow();
  });

  it("slurm: an sbatch array over the shards, a merge job and a submit script chaining them with afterok", () => {
    const result = tandem("compare", ...GRID, "--out", "s", "--emit", "slurm", "--shards", "4", "--slurm-partition", "cpu", "--slurm-time", "0:30:00", "--cpus-per-shard", "2");
    expect(result.code, result.stderr).toBe(0);
    const array = readFileSync(join(scratch, "s/slurm/array.sbatch"), "utf8");
    expect(array).toMatch(/#SBATCH --array=0-3\n/);
    expect(array).toMatch(/#SBATCH --partition=cpu\n[\s\S]*#SBATCH --time=0:30:00\n/);
    expect(array).toContain(`--policies 'fcfs+round-robin,plas{levels=3}+least-kv'`);
    expect(array).toContain(`--shard "\${SLURM_ARRAY_TASK_ID}/4" --jobs "\${SLURM_CPUS_PER_TASK:-1}"`);
    expect(array).toContain("#SBATCH --cpus-per-task=2");
    expect(readFileSync(join(scratch, "s/slurm/merge.sbatch"), "utf8")).toContain(`compare merge ${join(scratch, "s")} --out ${join(scratch, "s")}`);
    expect(readFileSync(join(scratch, "s/slurm/submit.sh"), "utf8")).toContain('--dependency=afterok:"$array"');
  });

  it.each([
    [["--emit", "slurm"], /--emit slurm: give --shards N/],
    [["--emit", "k8s", "--shards", "2", "--k8s-pvc", "p"], /--k8s-image/],
    [["--emit", "k8s", "--shards", "2", "--k8s-image", "i"], /--k8s-pvc/],
    [["--emit", "k8s", "--shards", "2", "--k8s-image", "i", "--k8s-pvc", "p", "--k8s-name", "Bad_Name"], /--k8s-name/],
    [["--emit", "pbs", "--shards", "2"], /--emit/],
  ])("bad --emit flags %j are one line and exit 2", (args, pattern) => {
    expectInputError(tandem("compare", ...GRID, "--out", "bad", ...args), pattern);
  });
});
