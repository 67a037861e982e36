/** SIGTERM under load (issue 14's fault table): the calls in flight finish, a request arriving
 *  during the drain gets 503 `shutting_down`, the report is written with every call in it, and
 *  the process exits 0. */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/shared-data.ts";

const BIN = join(REPO_ROOT, "bin/tandem.mjs");
const PROMPT = Array.from({ length: 16 }, (_, i) => 1000 + i);
const STREAMS = 8;

describe("tandem gateway: SIGTERM under load", () => {
  it("in-flight calls finish, a request arriving during the drain gets 503, the report holds every call, exit 0", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "tandem-gateway-sigterm-")), "out");
    const child = spawn(process.execPath, [BIN, "gateway", "--emulate", "--port", "0", "--speedup", "2", "--out", out, "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (d) => (stderr += d));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d) => {
          stdout += d;
          const m = /listening on (http:\/\/[\d.:]+)/.exec(stdout);
          if (m) resolve(m[1]!);
        });
        child.on("exit", (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
      });
      const streams = Array.from({ length: STREAMS }, () =>
        fetch(`${url}/v1/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "llama-3.1-8b", prompt: PROMPT, max_tokens: 300, stream: true }),
        }),
      );
      const responses = await Promise.all(streams);
      for (const r of responses) expect(r.status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      // The drain has begun once /health says so; a request arriving now is turned away.
      for (let draining = false; !draining; ) draining = (await fetch(`${url}/health`)).status === 503;
      const late = await fetch(`${url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "llama-3.1-8b", prompt: PROMPT, max_tokens: 2 }),
      });
      expect(late.status).toBe(503);
      expect(late.headers.get("connection")).toBe("close");
      expect(((await late.json()) as { error: { code: string } }).error.code).toBe("shutting_down");
      const bodies = await Promise.all(responses.map((r) => r.text()));
      for (const body of bodies) expect(body.slice(-300)).toMatch(/data: \[DONE\]\s*$/);
      expect(await exited, stderr).toBe(0);
      const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
      // The request turned away never became a call.
      expect(report.summary.calls).toMatchObject({ arrived: STREAMS, completed: STREAMS, failed: 0, rejected: 0 });
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 60_000);
});
