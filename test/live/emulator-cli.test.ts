import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/shared-data.ts";
import { json } from "./emulator-helpers.ts";

const BIN = join(REPO_ROOT, "bin/tandem.mjs");

describe("tandem emulate (CLI)", () => {
  it("prints the serving line with its port, answers /health and /v1/models, and exits 0 on SIGTERM", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "tandem-emulate-"));
    const config = join(scratch, "cluster.yaml");
    writeFileSync(config, "instances:\n  - model: llama-3-8b\n    gpu: h100-80gb\n    engine: { max_model_len: 4096 }\n");
    const child = spawn(process.execPath, [BIN, "emulate", "--config", config, "--port", "0", "--speedup", "10", "--served-model-name", "llama"], {
      cwd: scratch,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
          const newline = out.indexOf("\n");
          if (newline >= 0) resolve(out.slice(0, newline));
        });
        child.on("exit", (code) => reject(new Error(`exited ${code} before serving: ${stderr}`)));
      });
      const match = /^tandem emulate: serving llama on (http:\/\/127\.0\.0\.1:(\d+)) \(speedup 10\)$/.exec(line);
      expect(match, line).not.toBeNull();
      const url = match![1];
      expect(Number(match![2])).toBeGreaterThan(0);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const models = await json(fetch(`${url}/v1/models`));
      expect(models.data[0]).toMatchObject({ id: "llama", max_model_len: 4096 });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("an unknown model is bad input: one line, exit code 2", () => {
    const run = spawnSync(process.execPath, [BIN, "emulate", "--model", "no-such-model", "--gpu", "h100", "--port", "0"], { encoding: "utf8", timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^tandem: error: --model: model "no-such-model": unknown/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("model seconds per wall second is --speedup; the old --time-scale is an unknown option (exit code 2)", () => {
    const run = spawnSync(process.execPath, [BIN, "emulate", "--model", "llama-3-8b", "--gpu", "h100", "--port", "0", "--time-scale", "10"], { encoding: "utf8", timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/unknown option '--time-scale'/);
    const help = spawnSync(process.execPath, [BIN, "emulate", "--help"], { encoding: "utf8", timeout: 60_000 });
    expect(help.stdout).toMatch(/--speedup <x>\s+model seconds per wall second/);
  });
});
