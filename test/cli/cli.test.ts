import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";

const { scratch, tandem, file } = cliSandbox("tandem-cli-", 60_000);

describe("tandem CLI", () => {
  it("sim runs a trace and writes report.json and calls.csv", () => {
    const trace = file("ok.jsonl", [0, 0.1, 0.2, 0.3].map((t, i) => JSON.stringify({ arrival_s: t, prompt_tokens: 100 + i, output_tokens: 20 })).join("\n") + "\n");
    const out = join(scratch, "run1");
    const result = tandem("sim", "--trace", trace, "--trace-format", "tandem", "--out", out, "--dispatch", "round-robin");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/4 arrived, 4 completed/);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.schema).toBe("tandem.report/v1");
    expect(report.run.policies.dispatch).toBe("round-robin");
    expect(readFileSync(join(out, "calls.csv"), "utf8").trim().split("\n")).toHaveLength(5);
  });

  it("a malformed trace line names the file and line", () => {
    const trace = file("bad.jsonl", `{"arrival_s": 0, "prompt_tokens": 10, "output_tokens": 5}\n{"arrival_s": 1, "prompt_tokens": "ten", "output_tokens": 5}\n`);
    expectInputError(tandem("sim", "--trace", trace, "--trace-format", "tandem", "--out", join(scratch, "r2")), /bad\.jsonl:2: .*prompt_tokens/);
  });

  it("a missing trace file is named", () => {
    expectInputError(tandem("sim", "--trace", "nope.csv", "--trace-format", "azure"), /nope\.csv/);
  });

  it("an unknown policy lists the known ones", () => {
    expectInputError(tandem("sim", "--dispatch", "fastest"), /unknown dispatch policy "fastest"; expected one of round-robin/);
  });

  it("an unknown trace format is a usage error", () => {
    expectInputError(tandem("sim", "--trace", "x", "--trace-format", "parquet"), /parquet/);
  });

  it("a config field of the wrong type names the field path", () => {
    const config = file("bad.yaml", "instances:\n  - model: llama-3-8b\n    gpu: h100-80gb\n    count: two\n");
    expectInputError(tandem("sim", "--config", config), /bad\.yaml: instances\[0\]\.count: .*number/);
  });

  it("presets lists the current catalogue: models with MoE and MLA, GPUs with FP8 peaks", () => {
    const result = tandem("presets");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}llama-3\.1-8b +8\.0B params, 32 layers, 8 KV heads, context 131072$/m);
    expect(result.stdout).toMatch(/^ {2}deepseek-v2-lite +15\.7B params, 27 layers, MLA \(latent 512\+64\), context 163840, MoE 6 of 64 experts$/m);
    for (const gpu of ["b200", "h100-pcie", "l4", "a10g", "mi300x"]) expect(result.stdout).toMatch(new RegExp(`^  ${gpu} `, "m"));
    expect(result.stdout).toMatch(/^ {2}h100-80gb .*1979 fp8/m);
  });

  it("an unknown model in the config lists the presets", () => {
    const config = file("model.yaml", "instances:\n  - model: gpt-5\n    gpu: h100\n");
    expectInputError(tandem("sim", "--config", config), /model\.yaml: instances\[0\]\.model: .*gpt-5.*llama-3-8b/);
  });

  it("a trace with no usable rows is an error, not an empty report", () => {
    const trace = file("empty.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n");
    const out = join(scratch, "r3");
    expectInputError(tandem("sim", "--trace", trace, "--trace-format", "azure", "--out", out), /empty\.csv: no usable rows/);
    expect(existsSync(join(out, "report.json"))).toBe(false);
  });

  it("trace gen writes a trace that sim replays", () => {
    const out = join(scratch, "gen.jsonl");
    const gen = tandem("trace", "gen", "--count", "50", "--rate", "10", "--out", out, "--seed", "3");
    expect(gen.code).toBe(0);
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(50);
    const sim = tandem("sim", "--trace", out, "--trace-format", "tandem", "--out", join(scratch, "r4"), "--quiet");
    expect(sim.code).toBe(0);
  });

  it("--help works on every command", () => {
    for (const args of [["--help"], ["sim", "--help"], ["trace", "gen", "--help"], ["presets", "--help"]]) {
      const result = tandem(...args);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Usage: tandem/);
    }
  });
});
