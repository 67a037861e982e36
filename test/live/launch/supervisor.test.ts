import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../../src/core/errors.ts";
import { parseClusterConfig } from "../../../run/config-file.ts";
import { planLaunch, Supervisor, type LaunchEvent } from "../../../live/launch/index.ts";
import { healthOk } from "../../../live/launch/health.ts";
import { REPO_ROOT } from "../../helpers/shared-data.ts";

const FAKE = join(REPO_ROOT, "test/live/fixtures/fake-engine.mjs");

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, timeout_ms = 60_000): Promise<void> {
  const end = Date.now() + timeout_ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function supervise(yaml: string, flags = {}) {
  const dir = mkdtempSync(join(tmpdir(), "tandem-launch-sup-"));
  const file = join(dir, "cluster.yaml");
  const plan = await planLaunch(parseClusterConfig(yaml, file), file, flags);
  const events: LaunchEvent[] = [];
  return { plan, events, supervisor: new Supervisor(plan, (e) => events.push(e)), dir };
}

const fakeEngine = (extra: string) => `
instances: [{ name: f, model: llama-3.1-8b, gpu: h100-80gb }]
launch:
  command: ["${process.execPath}", "${FAKE}", "--port", "{port}"]
  gpus: "0"
${extra}`;

describe("Supervisor with tandem emulate as the engine", () => {
  it("waits for /health, restarts an engine killed with SIGKILL (backoff, then healthy again), and stops every process", async () => {
    const { supervisor, events, plan } = await supervise(
      "instances: [{ name: e, model: llama-3.1-8b, gpu: h100-80gb, count: 2 }]\nlaunch: { engine: emulate, restart: { initial_backoff_s: 0.2 } }\n",
    );
    await supervisor.start();
    try {
      for (const { url } of plan.instances) expect(await healthOk(url)).toBe(true);
      const [first, second] = supervisor.status();
      expect(first.state).toBe("healthy");
      process.kill(first.pid!, "SIGKILL");
      await until("e-0 healthy again", () => events.some((e) => e.kind === "healthy" && e.instance === "e-0" && e.attempt === 2));
      const restarting = events.find((e) => e.kind === "restarting");
      expect(restarting).toEqual({ kind: "restarting", instance: "e-0", restart: 1, backoff_s: 0.2 });
      const healthy = events.find((e) => e.kind === "healthy" && e.attempt === 2);
      expect(healthy?.kind === "healthy" && healthy.after_exit_s).toBeGreaterThan(0.2);
      const after = supervisor.status();
      expect(after[0]).toMatchObject({ state: "healthy", restarts: 1, url: first.url });
      expect(after[0].pid).not.toBe(first.pid);
      expect(after[1]).toMatchObject({ state: "healthy", restarts: 0, pid: second.pid });
      expect(await healthOk(first.url)).toBe(true);
      await supervisor.stop();
      expect(alive(after[0].pid) || alive(after[1].pid)).toBe(false);
      expect(await healthOk(first.url)).toBe(false);
    } finally {
      await supervisor.stop();
    }
  }, 120_000);
});

describe("Supervisor restart policy (a fast stand-in engine)", () => {
  it("doubles the backoff while restarts keep failing, then serves again", async () => {
    const counter = join(mkdtempSync(join(tmpdir(), "tandem-launch-count-")), "starts");
    const { supervisor, events } = await supervise(
      fakeEngine(`  env: { FAKE_ENGINE_COUNTER: "${counter}", FAKE_ENGINE_FAIL_STARTS: "3" }\n  restart: { initial_backoff_s: 0.05, max_backoff_s: 0.15 }\n`),
    );
    await supervisor.start();
    try {
      process.kill(supervisor.status()[0].pid!, "SIGKILL");
      await until("healthy again", () => events.some((e) => e.kind === "healthy" && e.attempt > 1));
      expect(events.filter((e) => e.kind === "restarting").map((e) => (e.kind === "restarting" ? e.backoff_s : 0))).toEqual([0.05, 0.1, 0.15, 0.15]);
      expect(events.filter((e) => e.kind === "exited").map((e) => (e.kind === "exited" ? e.description : ""))).toEqual([
        "was killed by SIGKILL",
        "exited with code 3",
        "exited with code 3",
        "exited with code 3",
      ]);
      expect(supervisor.status()[0]).toMatchObject({ state: "healthy", restarts: 4 });
    } finally {
      await supervisor.stop();
    }
  }, 60_000);

  it("gives up after max_restarts failed restarts in a row and leaves the engine down", async () => {
    const counter = join(mkdtempSync(join(tmpdir(), "tandem-launch-count-")), "starts");
    const { supervisor, events } = await supervise(
      fakeEngine(`  env: { FAKE_ENGINE_COUNTER: "${counter}", FAKE_ENGINE_FAIL_STARTS: "100" }\n  restart: { initial_backoff_s: 0.01, max_restarts: 2 }\n`),
    );
    await supervisor.start();
    try {
      process.kill(supervisor.status()[0].pid!, "SIGKILL");
      await until("gave up", () => events.some((e) => e.kind === "gave_up"));
      expect(events.filter((e) => e.kind === "restarting")).toHaveLength(2);
      expect(supervisor.status()[0].state).toBe("failed");
    } finally {
      await supervisor.stop();
    }
  }, 60_000);
});

describe("Supervisor start-up failures", () => {
  it("an engine that exits at once fails the start with its instance, log file and last log line; the others are stopped", async () => {
    const { supervisor, plan } = await supervise(`
instances:
  - { name: slow, model: llama-3.1-8b, gpu: h100-80gb, launch: { command: ["${process.execPath}", "-e", "setInterval(Object, 1000)"] } }
  - { name: bad, model: llama-3.1-8b, gpu: h100-80gb, launch: { command: ["${process.execPath}", "-e", "console.error('CUDA error: no device'); process.exit(3)"] } }
launch: { gpus: "0,1" }
`);
    const pids: (number | undefined)[] = [];
    const failure = supervisor.start().catch((error: unknown) => error);
    pids.push(...supervisor.status().map((s) => s.pid));
    const error = await failure;
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(`launch: instance bad exited with code 3 during start-up; see its log ${plan.instances[1].log_file} (last line: CUDA error: no device)`);
    expect(pids.every((pid) => pid !== undefined && !alive(pid))).toBe(true);
  }, 60_000);

  it("a command that does not exist is named", async () => {
    const { supervisor } = await supervise("instances: [{ name: x, model: llama-3.1-8b, gpu: h100-80gb }]\nlaunch: { command: 'tandem-no-such-engine {port}', gpus: '0' }\n");
    await expect(supervisor.start()).rejects.toThrow(/launch: instance x: cannot run "tandem-no-such-engine" \(no such command\); install it or set launch.command/);
  });

  it("an engine that never answers /health is stopped at the timeout, naming its URL", async () => {
    const { supervisor, plan } = await supervise(
      `instances: [{ name: h, model: llama-3.1-8b, gpu: h100-80gb }]\nlaunch: { command: ["${process.execPath}", "-e", "setInterval(Object, 1000)"], gpus: "0", health_timeout_s: 0.5 }\n`,
    );
    const started = supervisor.start().catch((error: unknown) => error);
    const pid = supervisor.status()[0].pid;
    expect(((await started) as Error).message).toBe(
      `launch: instance h did not answer GET ${plan.instances[0].url}/health within 0.5 s; read its log ${plan.instances[0].log_file}, or raise launch.health_timeout_s (--health-timeout)`,
    );
    expect(alive(pid)).toBe(false);
  });
});
