import { parentPort, workerData } from "node:worker_threads";
import { buildInstances } from "../../run/instances.ts";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import { startEmulator } from "./index.ts";

/** What the main thread sends: the cluster (re-built here: latency models are not cloneable) and
 *  which of its instances this worker serves. */
export interface EmulatorWorkerData {
  cluster: ClusterConfig;
  clusterFile: string;
  instanceIndex: number;
  speedup: number;
}

export type EmulatorWorkerMessage = { type: "listening"; url: string; servedModelName: string } | { type: "failed"; message: string } | { type: "closed" };

const data = workerData as EmulatorWorkerData;
const port = parentPort!;
try {
  const instances = await buildInstances(data.cluster, data.clusterFile);
  const emulator = await startEmulator({ instance: instances[data.instanceIndex], speedup: data.speedup });
  port.on("message", async (message: { type: "close" }) => {
    if (message.type !== "close") return;
    await emulator.close();
    port.postMessage({ type: "closed" } satisfies EmulatorWorkerMessage);
    port.close();
  });
  port.postMessage({ type: "listening", url: emulator.url, servedModelName: emulator.servedModelName } satisfies EmulatorWorkerMessage);
} catch (error) {
  port.postMessage({ type: "failed", message: (error as Error).message } satisfies EmulatorWorkerMessage);
}
