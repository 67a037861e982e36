import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliSandbox, expectInputError } from "../../helpers/cli.ts";
import { REPO_ROOT } from "../../helpers/shared-data.ts";

const BIN = join(REPO_ROOT, "bin/tandem.mjs");
const TWO = "instances: [{ name: small, model: llama-3.1-8b, gpu: h100-80gb, count: 2 }]\n";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("tandem launch (CLI)", () => {
  it("--print shows each engine's environment and command and starts nothing", () => {
    const box = cliSandbox("tandem-launch-cli-");
    const config = box.file("cluster.yaml", `${TWO}engine: { max_num_seqs: 64 }\nlaunch: { env: { VLLM_SERVER_DEV_MODE: "1" }, port: 18100 }\n`);
    const result = box.tandem("launch", "--config", config, "--gpus", "2,3", "--print");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const log = (id: string) => join(box.scratch, "out/launch", `${id}.log`);
    expect(result.stdout).toBe(
      [
        `# small-0: http://127.0.0.1:18100, GPUs 2, log ${log("small-0")}`,
        "VLLM_SERVER_DEV_MODE=1 CUDA_VISIBLE_DEVICES=2 vllm serve meta-llama/Llama-3.1-8B-Instruct --host 127.0.0.1 --port 18100 --tensor-parallel-size 1 --served-model-name llama-3.1-8b --max-num-seqs 64",
        `# small-1: http://127.0.0.1:18101, GPUs 3, log ${log("small-1")}`,
        "VLLM_SERVER_DEV_MODE=1 CUDA_VISIBLE_DEVICES=3 vllm serve meta-llama/Llama-3.1-8B-Instruct --host 127.0.0.1 --port 18101 --tensor-parallel-size 1 --served-model-name llama-3.1-8b --max-num-seqs 64",
        "",
      ].join("\n"),
    );
    expect(existsSync(join(box.scratch, "out/launch"))).toBe(false);
  });

  it("fewer GPUs than the config needs: one line, exit 2", () => {
    const box = cliSandbox("tandem-launch-cli-");
    const config = box.file("cluster.yaml", TWO);
    expectInputError(
      box.tandem("launch", "--config", config, "--gpus", "0", "--print"),
      /launch: instance small-1 needs 1 GPU but only 0 of the 1 in --gpus \(0\) are left; the config needs 2/,
    );
  });

  it("a port already taken: one line naming the instance and the port, exit 2", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const box = cliSandbox("tandem-launch-cli-");
      const config = box.file("cluster.yaml", `${TWO}launch: { engine: emulate }\n`);
      const result = box.tandem("launch", "--config", config, "--engine-port", String(port));
      expectInputError(result, new RegExp(`launch: instance small-0: port ${port} on 127.0.0.1 is taken`));
    } finally {
      server.close();
    }
  });

  it("an engine command that exits at once: one line naming the instance and its log, exit 2, nothing left running", () => {
    const box = cliSandbox("tandem-launch-cli-");
    const config = box.file(
      "cluster.yaml",
      `instances:
  - { name: ok, model: llama-3.1-8b, gpu: h100-80gb, launch: { engine: emulate } }
  - { name: broken, model: llama-3.1-8b, gpu: h100-80gb, launch: { command: ["${process.execPath}", "-e", "console.error('no GPU'); process.exit(1)"] } }
`,
    );
    const result = box.tandem("launch", "--config", config, "--gpus", "0,1");
    const log = join(box.scratch, "out/launch/broken.log");
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("tandem: error:"));
    expect(result.code).toBe(2);
    expect(errors).toEqual([`tandem: error: launch: instance broken exited with code 1 during start-up; see its log ${log} (last line: no GPU)`]);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const state = JSON.parse(readFileSync(join(box.scratch, "out/launch/launch.json"), "utf8")) as { engines: { id: string; pid: number; state: string }[] };
    expect(state.engines.map((e) => e.state)).toEqual(["stopped", "stopped"]);
    for (const engine of state.engines) expect(alive(engine.pid)).toBe(false);
  });
});

describe("tandem live --launch", () => {
  it("survives an engine killed mid-run: it is restarted, and only calls that had started streaming fail", async () => {
    const box = cliSandbox("tandem-launch-live-");
    const config = box.file("cluster.yaml", `${TWO}launch: { engine: emulate, restart: { initial_backoff_s: 0.2 } }\n`);
    const child = spawn(process.execPath, [BIN, "live", "--config", config, "--launch", "--app", "qa-router", "--rate", "4", "--count", "60", "--out", "out", "--no-progress", "--quiet"], {
      cwd: box.scratch,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const stateFile = join(box.scratch, "out/launch/launch.json");
    try {
      const deadline = Date.now() + 90_000;
      while (!stderr.includes("engines healthy")) {
        if (Date.now() > deadline) throw new Error(`engines never healthy: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 3000)); // calls under way on both engines
      const state = JSON.parse(readFileSync(stateFile, "utf8")) as { engines: { id: string; pid: number }[] };
      process.kill(state.engines[0].pid, "SIGKILL");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGTERM");
    }
    expect(stderr).toMatch(/small-0: was killed by SIGKILL/);
    expect(stderr).toMatch(/small-0: healthy again [\d.]+ s after it died/);
    const rows = readFileSync(join(box.scratch, "out/calls.csv"), "utf8").trim().split("\n");
    const header = rows[0].split(",");
    const col = (name: string) => header.indexOf(name);
    const calls = rows.slice(1).map((line) => line.split(","));
    const failed = calls.filter((c) => c[col("status")] !== "finished");
    // A failed call is one whose stream was cut: it had its first token; none waiting was lost.
    for (const call of failed) expect(call[col("first_token_s")], `${call[col("call_id")]} failed before streaming`).not.toBe("");
    expect(calls.length - failed.length).toBeGreaterThan(100);
    // The restarted engine served again after the kill.
    const state = JSON.parse(readFileSync(stateFile, "utf8")) as { engines: { id: string; pid: number; restarts: number }[] };
    expect(state.engines[0].restarts).toBe(1);
    for (const engine of state.engines) expect(alive(engine.pid)).toBe(false);
  }, 180_000);
});

describe("tandem gateway --launch", () => {
  it("routes to the engines it started, and on SIGINT drains, writes the report and stops them", async () => {
    const box = cliSandbox("tandem-launch-gw-");
    const config = box.file("cluster.yaml", `${TWO}launch: { engine: emulate }\n`);
    const child = spawn(process.execPath, [BIN, "gateway", "--config", config, "--launch", "--port", "0", "--out", "out", "--quiet"], {
      cwd: box.scratch,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      const deadline = Date.now() + 90_000;
      while (!stdout.includes("listening on")) {
        if (Date.now() > deadline) throw new Error(`gateway never listened: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stdout).toMatch(/2 instances, launched/);
      const url = /listening on (\S+)/.exec(stdout)![1];
      const res = await fetch(`${url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "llama-3.1-8b", prompt: "hello", max_tokens: 4 }),
      });
      expect(res.status).toBe(200);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
    expect(existsSync(join(box.scratch, "out/report.json"))).toBe(true);
    const state = JSON.parse(readFileSync(join(box.scratch, "out/launch/launch.json"), "utf8")) as { engines: { pid: number; state: string }[] };
    expect(state.engines.map((e) => e.state)).toEqual(["stopped", "stopped"]);
    for (const engine of state.engines) expect(alive(engine.pid)).toBe(false);
  }, 120_000);
});
