/** `compare --emit k8s`: a Kubernetes Indexed Job whose pods run the shards (the completion index
 *  picks the shard) writing to a mounted PersistentVolumeClaim, and a merge Job that waits until
 *  every shard's manifest is on the volume, then merges. Pure: returns the two Job objects. */
import { posix } from "node:path";
import { shellQuote } from "./rerun-args.ts";

export interface K8sPlan {
  shards: number;
  /** Pods running at once (≤ shards). */
  parallelism: number;
  /** The container's command to start tandem (`tandem`, or `node /app/bin/tandem.mjs`). */
  tandem: string[];
  /** compare's own flags (no --out, --shard). */
  args: string[];
  /** The results folder, relative to the volume's mount. */
  out: string;
  image: string;
  pvc: string;
  mount: string;
  namespace: string;
  name: string;
  cpusPerShard: number;
  jobsGiven: boolean;
  /** Retries of a failed shard pod before the Job fails. */
  backoffLimit: number;
}

const SHARD_INDEX = "SHARD_INDEX";

export function k8sJobs(plan: K8sPlan): [Record<string, unknown>, Record<string, unknown>] {
  const out = posix.join(plan.mount, plan.out);
  const volume = { name: "results", persistentVolumeClaim: { claimName: plan.pvc } };
  const volumeMount = { name: "results", mountPath: plan.mount };
  const labels = { "app.kubernetes.io/name": "tandem-compare", "app.kubernetes.io/instance": plan.name };
  const cpu = String(plan.cpusPerShard);
  /** A Job of pods that each run one container on the results volume. */
  const job = (suffix: string, counts: Record<string, unknown>, container: { name: string; command: string[]; args: string[]; env?: unknown[]; cpu: string }) => ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: `${plan.name}-${suffix}`, namespace: plan.namespace, labels },
    spec: {
      ...counts,
      backoffLimit: plan.backoffLimit,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: container.name,
              image: plan.image,
              workingDir: plan.mount,
              command: container.command,
              args: container.args,
              ...(container.env !== undefined ? { env: container.env } : {}),
              resources: { requests: { cpu: container.cpu }, limits: { cpu: container.cpu } },
              volumeMounts: [volumeMount],
            },
          ],
          volumes: [volume],
        },
      },
    },
  });
  const shards = job(
    "shards",
    { completionMode: "Indexed", completions: plan.shards, parallelism: plan.parallelism },
    {
      name: "shard",
      command: plan.tandem,
      // $(SHARD_INDEX) is expanded by Kubernetes from the env below: no shell needed.
      args: ["compare", ...plan.args, "--out", out, "--shard", `$(${SHARD_INDEX})/${plan.shards}`, ...(plan.jobsGiven ? [] : ["--jobs", cpu]), "--no-progress", "--quiet"],
      env: [{ name: SHARD_INDEX, valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }],
      cpu,
    },
  );
  const manifests = posix.join(out, `compare-shard-*-of-${plan.shards}.json`);
  const wait = `until [ "$(ls ${manifests} 2>/dev/null | wc -l)" -ge ${plan.shards} ]; do sleep 10; done`;
  // Kubernetes has no job-to-job dependency: wait for every shard's manifest (each is written when
  // its shard has finished), then merge.
  const merge = job(
    "merge",
    { completions: 1, parallelism: 1 },
    {
      name: "merge",
      command: ["sh", "-c"],
      args: [`${wait}; exec ${[...plan.tandem, "compare", "merge", out, "--out", out, "--quiet"].map(shellQuote).join(" ")}`],
      cpu: "1",
    },
  );
  return [shards, merge];
}
