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
  const shards = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: `${plan.name}-shards`, namespace: plan.namespace, labels },
    spec: {
      completionMode: "Indexed",
      completions: plan.shards,
      parallelism: plan.parallelism,
      backoffLimit: plan.backoffLimit,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "shard",
              image: plan.image,
              workingDir: plan.mount,
              command: plan.tandem,
              // $(SHARD_INDEX) is expanded by Kubernetes from the env below: no shell needed.
              args: ["compare", ...plan.args, "--out", out, "--shard", `$(${SHARD_INDEX})/${plan.shards}`, ...(plan.jobsGiven ? [] : ["--jobs", cpu]), "--no-progress", "--quiet"],
              env: [{ name: SHARD_INDEX, valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }],
              resources: { requests: { cpu }, limits: { cpu } },
              volumeMounts: [volumeMount],
            },
          ],
          volumes: [volume],
        },
      },
    },
  };
  const manifests = posix.join(out, `compare-shard-*-of-${plan.shards}.json`);
  const wait = `until [ "$(ls ${manifests} 2>/dev/null | wc -l)" -ge ${plan.shards} ]; do sleep 10; done`;
  const merge = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: `${plan.name}-merge`, namespace: plan.namespace, labels },
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: plan.backoffLimit,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "merge",
              image: plan.image,
              workingDir: plan.mount,
              command: ["sh", "-c"],
              // Kubernetes has no job-to-job dependency: wait for every shard's manifest (each is
              // written when its shard has finished), then merge.
              args: [`${wait}; exec ${[...plan.tandem, "compare", "merge", out, "--out", out, "--quiet"].map(shellQuote).join(" ")}`],
              resources: { requests: { cpu: "1" }, limits: { cpu: "1" } },
              volumeMounts: [volumeMount],
            },
          ],
          volumes: [volume],
        },
      },
    },
  };
  return [shards, merge];
}
