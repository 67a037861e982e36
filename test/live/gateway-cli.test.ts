import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/shared-data.ts";

const BIN = join(REPO_ROOT, "bin/tandem.mjs");

describe("tandem gateway (CLI)", () => {
  it("prints its listening line, serves a request, and on SIGTERM drains and writes the report (exit 0)", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "tandem-gateway-cli-"));
    const config = join(scratch, "cluster.yaml");
    writeFileSync(config, "instances:\n  - { model: llama-3-8b, gpu: h100-80gb, count: 2, served_model_name: llama, engine: { max_model_len: 2048 } }\n");
    const out = join(scratch, "out");
    const child = spawn(process.execPath, [BIN, "gateway", "--emulate", "--port", "0", "--config", config, "--speedup", "20", "--out", out, "--quiet"], {
      cwd: scratch,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (d) => (stderr += d));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d) => {
          stdout += d;
          const newline = stdout.indexOf("\n");
          if (newline >= 0) resolve(stdout.slice(0, newline));
        });
        child.on("exit", (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
      });
      const match = /^tandem gateway: listening on (http:\/\/127\.0\.0\.1:\d+) \(models: llama; 2 instances, emulated\)$/.exec(line);
      expect(match, line).not.toBeNull();
      const url = match![1];
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tandem-workflow": "cli-wf", "x-tandem-agent": "solo" },
        body: JSON.stringify({ model: "llama", messages: [{ role: "user", content: "hi" }], max_tokens: 3 }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(3);
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited, stderr).toBe(0);
      expect(stdout).toContain(`wrote ${join(out, "report.json")}`);
      const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
      expect(report.mode).toBe("live");
      expect(report.summary.calls).toMatchObject({ arrived: 1, completed: 1 });
      expect(report.agents.map((a: { agent: string }) => a.agent)).toEqual(["solo"]);
      expect(existsSync(join(out, "calls.csv"))).toBe(true);
      expect(readFileSync(join(out, "workflows.csv"), "utf8")).toMatch(/\ncli-wf,/);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("a config whose servers cannot be reached is bad input: one line, exit code 2", () => {
    const scratch = mkdtempSync(join(tmpdir(), "tandem-gateway-cli-"));
    const config = join(scratch, "cluster.yaml");
    writeFileSync(config, "instances:\n  - { model: llama-3-8b, gpu: h100-80gb }\n");
    const run = spawnSync(process.execPath, [BIN, "gateway", "--config", config, "--port", "0"], { encoding: "utf8", timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^tandem: error: \S*cluster\.yaml: instances\[0\]\.endpoints: expected 1 server URL .*; or run with --emulate\n$/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
