/** Runs a comparison's jobs on a pool of worker threads, each worker taking the next job when it
 *  finishes one. Results come back in job order whatever order the runs finish in. The first
 *  failure stops the pool: an InputError in a run becomes an InputError here (the CLI's exit 2),
 *  anything else an Error carrying the worker's stack. */
import { Worker } from "node:worker_threads";
import { InputError } from "../../src/core/errors.ts";
import type { CompareJob } from "./jobs.ts";
import type { JobResult, RunJobOptions } from "./run-job.ts";
import type { WorkerReply, WorkerRequest } from "./compare-worker.ts";

/** Worker threads do not inherit the TypeScript loader of the main thread, and `execArgv:
 *  ["--import", "tsx"]` resolves tsx from the working directory (and is not honoured by worker
 *  threads in Node 20): the .mjs bootstrap registers tsx itself, resolved from this folder, then
 *  imports compare-worker.ts. The same path works under bin/tandem.mjs and under vitest. */
export const WORKER_BOOTSTRAP = new URL("./worker-bootstrap.mjs", import.meta.url);

export interface PoolOptions extends RunJobOptions {
  /** Worker threads (at most one per job). */
  concurrency: number;
  /** Called as each run finishes (in completion order), e.g. for a progress bar. */
  onDone?: (result: JobResult, job: CompareJob) => void;
}

export async function runJobsInWorkers(jobs: readonly CompareJob[], options: PoolOptions): Promise<JobResult[]> {
  const results: JobResult[] = new Array(jobs.length);
  if (jobs.length === 0) return results;
  // Jobs carry their grid index; a shard's or a resumed sweep's jobs are a subset of the grid, so
  // results go by position in `jobs`.
  const position = new Map(jobs.map((job, i) => [job.index, i]));
  const size = Math.max(1, Math.min(Math.floor(options.concurrency), jobs.length));
  const workers: Worker[] = [];
  const runOptions: RunJobOptions = { out: options.out, runCsv: options.runCsv };
  let next = 0;
  let finished = 0;
  let failed = false;

  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        if (failed) return;
        failed = true;
        reject(error);
      };
      const give = (worker: Worker) => {
        if (failed || next >= jobs.length) return false;
        const request: WorkerRequest = { type: "run", job: jobs[next++], options: runOptions };
        worker.postMessage(request);
        return true;
      };
      for (let i = 0; i < size; i++) {
        const worker = new Worker(WORKER_BOOTSTRAP);
        workers.push(worker);
        let busy = false;
        worker.on("message", (reply: WorkerReply) => {
          busy = false;
          if (reply.type === "failed") {
            const job = jobs[position.get(reply.index)!];
            if (reply.input) fail(new InputError(reply.message));
            else {
              const error = new Error(`run ${job.dir}: ${reply.message}`);
              error.stack = `run ${job.dir}: ${reply.stack ?? reply.message}`;
              fail(error);
            }
            return;
          }
          const at = position.get(reply.result.index)!;
          results[at] = reply.result;
          finished++;
          options.onDone?.(reply.result, jobs[at]);
          if (finished === jobs.length) resolve();
          else busy = give(worker);
        });
        worker.on("error", (error) => fail(error instanceof Error ? error : new Error(String(error))));
        worker.on("exit", (code) => {
          if (busy || (!failed && finished < jobs.length && code !== 0)) fail(new Error(`a compare worker exited with code ${code} before finishing its run`));
        });
        busy = give(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
