/** Launcher restart benchmark (`npm run bench:launch`); prints its figures. One engine under the
 *  supervisor is SIGKILLed LAUNCH_BENCH_KILLS times (default 3); per kill: kill → exit seen, kill →
 *  healthy again (GET /health answers), and the new process's own start → healthy. Two engines:
 *  `tandem emulate` (a real start: node, the CLI, the engine model) with the default restart
 *  backoff (1 s) and with none, and a minimal HTTP server with no backoff — the launcher's own
 *  overhead (exit detection, spawn, the 100 ms health poll). A vLLM start (weights, CUDA graphs)
 *  adds its own tens of seconds to the first two; docs/launch.md. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseClusterConfig } from "../run/config-file.ts";
import { planLaunch, Supervisor, type LaunchEvent } from "../live/launch/index.ts";

const KILLS = Number(process.env.LAUNCH_BENCH_KILLS ?? 3);
const FAKE = new URL("../test/live/fixtures/fake-engine.mjs", import.meta.url).pathname;

interface Sample {
  exit_seen_s: number;
  healthy_s: number;
  start_to_healthy_s: number;
}

async function measure(name: string, launchYaml: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tandem-launch-bench-"));
  const file = join(dir, "cluster.yaml");
  const cluster = parseClusterConfig(`instances: [{ name: e, model: llama-3.1-8b, gpu: h100-80gb }]\nlaunch: ${launchYaml}\n`, file);
  const plan = await planLaunch(cluster, file);
  let waiter: ((event: LaunchEvent) => void) | undefined;
  const supervisor = new Supervisor(plan, (event) => waiter?.(event));
  const next = (kind: LaunchEvent["kind"]) =>
    new Promise<LaunchEvent>((resolve) => {
      waiter = (event) => {
        if (event.kind === kind) resolve(event);
      };
    });
  await supervisor.start();
  const samples: Sample[] = [];
  try {
    for (let k = 0; k < KILLS; k++) {
      const exited = next("exited");
      const killed = performance.now();
      process.kill(supervisor.status()[0].pid!, "SIGKILL");
      await exited;
      const exit_seen_s = (performance.now() - killed) / 1000;
      const healthy = await next("healthy");
      const healthy_s = (performance.now() - killed) / 1000;
      samples.push({ exit_seen_s, healthy_s, start_to_healthy_s: healthy.kind === "healthy" ? healthy.after_start_s : Number.NaN });
    }
  } finally {
    await supervisor.stop();
  }
  const stat = (pick: (s: Sample) => number) => {
    const v = samples.map(pick).sort((a, b) => a - b);
    return `${v[0].toFixed(3)} / ${v[v.length >> 1].toFixed(3)} / ${v[v.length - 1].toFixed(3)}`;
  };
  process.stdout.write(
    `${name.padEnd(38)} kill→healthy ${stat((s) => s.healthy_s)} s   kill→exit seen ${stat((s) => s.exit_seen_s)} s   restart→healthy ${stat((s) => s.start_to_healthy_s)} s\n`,
  );
}

process.stdout.write(`launcher restart after SIGKILL, ${KILLS} kills each (min / median / max)\n`);
await measure("tandem emulate, default backoff (1 s)", "{ engine: emulate }");
await measure("tandem emulate, no backoff", "{ engine: emulate, restart: { initial_backoff_s: 0 } }");
await measure("minimal HTTP engine, no backoff", `{ command: ["${process.execPath}", "${FAKE}", "--port", "{port}"], gpus: "0", restart: { initial_backoff_s: 0 } }`);
