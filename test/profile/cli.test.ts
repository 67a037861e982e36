import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../live/emulator/index.ts";
import { PROFILE_CSV_HEADER, parseProfileCsv } from "../../sim/calibrate/index.ts";
import { REPO_ROOT } from "../helpers/shared-data.ts";

const BIN = join(REPO_ROOT, "bin/tandem.mjs");
const scratch = mkdtempSync(join(tmpdir(), "tandem-profile-cli-"));
const SPEEDUP = 4;

/** Runs the CLI without blocking this process's event loop (the emulator lives in it). */
function tandem(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: scratch });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function expectInputError(result: Awaited<ReturnType<typeof tandem>>, pattern: RegExp) {
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe("tandem profile (CLI) against an emulator", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    const latency = join(scratch, "latency.json");
    writeFileSync(
      latency,
      JSON.stringify({
        schema: "tandem.latency/v1",
        kind: "fitted",
        model: "llama-3-8b",
        gpu: "h100-80gb",
        tensor_parallel: 1,
        coefficients: { overhead_s: 0.025, per_prefill_token_s: 1.2e-4, per_attention_pair_s: 1e-9, per_decode_seq_s: 3e-4, per_kv_token_s: 6e-8 },
      }),
    );
    emulator = await startEmulator({ model: "llama-3-8b", gpu: "h100", latencyFile: latency, speedup: SPEEDUP });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it("writes a profile CSV (grid file, small sweep) that tandem calibrate --profile accepts", async () => {
    const grid = join(scratch, "grid.yaml");
    writeFileSync(grid, "prompts: [256, 1024]\nbatch_sizes: [1, 2]\noutputs: [4]\n");
    const out = join(scratch, "runs", "profile.csv");
    const run = await tandem(
      "profile",
      ...["--endpoint", emulator.url, "--model", "llama-3-8b", "--grid", grid, "--out", out, "--speedup", String(SPEEDUP)],
      ...["--gpu", "h100", "--max-num-batched-tokens", "8192", "--max-num-seqs", "256", "--gate-tokens", "1024", "--seed", "7", "--max-reruns", "1"],
    );
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^batch\s+prompt\s+batch size\s+output\s+ttft ms\s+tpot ms\s+e2e ms$/m);
    expect(run.stdout).toMatch(/^p1024-b2-o4-r1\s+1024\s+2\s+4\s/m);
    expect(run.stdout).toMatch(/profiled 4 static batches \(6 requests\) of llama-3-8b at http:\/\/127\.0\.0\.1:\d+ in [\d.]+ s \(seed 7, gate \d+ tokens.*\); wrote .*profile\.csv/);
    expect(existsSync(`${out}.partial`)).toBe(false);
    const text = readFileSync(out, "utf8");
    expect(text.split("\n")[0]).toBe(PROFILE_CSV_HEADER);
    const rows = parseProfileCsv(text, out).map((r) => r.row);
    expect(rows).toHaveLength(6);
    expect(rows.map((r) => r.batch_id)).toEqual(["p256-b1-o4-r1", "p256-b2-o4-r1", "p256-b2-o4-r1", "p1024-b1-o4-r1", "p1024-b2-o4-r1", "p1024-b2-o4-r1"]);
    for (const r of rows) {
      expect(r).toMatchObject({
        model: "llama-3-8b",
        gpu: "h100",
        tensor_parallel: 1,
        output_tokens: 4,
        max_num_batched_tokens: 8192,
        max_num_seqs: 256,
        cached_tokens: 0,
        engine_version: expect.stringMatching(/^tandem-emulator \(vllm \d/),
      });
      expect(r.ttft_s).toBeGreaterThan(0.025);
    }

    const fitted = join(scratch, "fit.json");
    const calibrate = await tandem("calibrate", "--profile", out, "--form", "basic", "--folds", "0", "--out", fitted);
    expect(calibrate.stderr).toBe("");
    expect(calibrate.code).toBe(0);
    expect(calibrate.stdout).toMatch(/llama-3-8b on h100-80gb × TP1: 6 rows \(6 used, 0 excluded\), 4 configurations/);
    const doc = JSON.parse(readFileSync(fitted, "utf8"));
    expect(doc).toMatchObject({ schema: "tandem.latency/v1", kind: "fitted", model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1 });
    expect(doc.coefficients.overhead_s).toBeGreaterThan(0);
  });

  it("refuses bad input with one line and exit code 2, before sending any batch", async () => {
    const url = emulator.url;
    const out = join(scratch, "bad.csv");
    const badGrid = join(scratch, "bad-grid.yaml");
    writeFileSync(badGrid, "prompts: [128]\nsizes: [1]\n");
    const [unreachable, unknownModel, badList, noSpeedup, grid] = await Promise.all([
      tandem("profile", "--endpoint", "http://127.0.0.1:9", "--model", "llama-3-8b", "--out", out),
      tandem("profile", "--endpoint", url, "--model", "gpt-9", "--out", out, "--speedup", String(SPEEDUP)),
      tandem("profile", "--endpoint", url, "--model", "llama-3-8b", "--out", out, "--batch-sizes", "1,four"),
      tandem("profile", "--endpoint", url, "--model", "llama-3-8b", "--out", out),
      tandem("profile", "--endpoint", url, "--model", "llama-3-8b", "--out", out, "--grid", badGrid),
    ]);
    expectInputError(unreachable, /--endpoint http:\/\/127\.0\.0\.1:9: .*(ECONNREFUSED|connect).*; expected a running vLLM-compatible server/);
    expectInputError(unknownModel, /--model gpt-9: the server at http:\/\/127\.0\.0\.1:\d+ serves llama-3-8b; expected one of them/);
    expectInputError(badList, /--batch-sizes: "four" is not an integer ≥ 1/);
    expectInputError(noSpeedup, new RegExp(`is a tandem emulator running at speedup ${SPEEDUP}; pass --speedup ${SPEEDUP}`));
    expectInputError(grid, /bad-grid\.yaml: .*unknown field\(s\) sizes/);
  });
});
