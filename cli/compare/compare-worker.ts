/** Worker-thread side of `tandem compare`: receives jobs one at a time from the pool (pool.ts),
 *  runs each, and posts back the result or the failure. Loaded through worker-bootstrap.mjs, which
 *  registers the TypeScript loader first. */
import { parentPort } from "node:worker_threads";
import { InputError } from "../../src/core/errors.ts";
import type { CompareJob } from "./jobs.ts";
import { runCompareJob, type JobResult, type RunJobOptions } from "./run-job.ts";

export type WorkerRequest = { type: "run"; job: CompareJob; options: RunJobOptions };

export type WorkerReply = { type: "done"; result: JobResult } | { type: "failed"; index: number; input: boolean; message: string; stack?: string };

const port = parentPort;
if (!port) throw new Error("compare-worker.ts must run in a worker thread");

port.on("message", async (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { type: "done", result: await runCompareJob(request.job, request.options) };
  } catch (error) {
    const input = error instanceof InputError;
    const message = error instanceof Error ? error.message : String(error);
    reply = { type: "failed", index: request.job.index, input, message, stack: error instanceof Error ? error.stack : undefined };
  }
  port.postMessage(reply);
});
