import { Worker } from "node:worker_threads";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import type { EmulatorWorkerData, EmulatorWorkerMessage } from "./emulator-worker.ts";

const BOOTSTRAP = new URL("./worker-bootstrap.mjs", import.meta.url);

/** An emulator running on its own worker thread, as a real server runs in its own process: its
 *  engine clock is not delayed by the driver's work on the main thread, nor the driver by it. */
export interface WorkerEmulator {
  readonly url: string;
  readonly servedModelName: string;
  close(): Promise<void>;
}

/** Starts an emulator for instance `instanceIndex` of the cluster on a worker thread. */
export function startEmulatorWorker(cluster: ClusterConfig, clusterFile: string, instanceIndex: number, speedup: number): Promise<WorkerEmulator> {
  const worker = new Worker(BOOTSTRAP, { workerData: { cluster, clusterFile, instanceIndex, speedup } satisfies EmulatorWorkerData });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (message: EmulatorWorkerMessage) => {
      if (message.type !== "listening") {
        void worker.terminate();
        reject(new Error(message.type === "failed" ? message.message : "emulator worker stopped before listening"));
        return;
      }
      resolve({
        url: message.url,
        servedModelName: message.servedModelName,
        close: () =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => void worker.terminate().then(() => done()), 5000);
            worker.once("message", () => {
              clearTimeout(timer);
              void worker.terminate().then(() => done());
            });
            worker.postMessage({ type: "close" });
          }),
      });
    });
  });
}
