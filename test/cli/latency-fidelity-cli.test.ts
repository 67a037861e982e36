import { describe, expect, it } from "vitest";
import { LLAMA_31_8B_CONFIG } from "../helpers/hf-configs.ts";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";
import { sharedData } from "../helpers/requirements.ts";
import { shippedStepPresets } from "../../src/model/step-presets.ts";
import { fitStepPresets } from "../../sim/calibrate/fit-presets.ts";

const { tandem, file } = cliSandbox("tandem-latency-", 120_000);

describe("tandem latency", () => {
  it("--json prints exactly step_s and the four-part breakdown, which sum to it", () => {
    const r = tandem("latency", "--model", "llama-3-8b", "--gpu", "h100", "--prefill-tokens", "1024", "--json");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(["step_s", "breakdown"]);
    expect(Object.keys(out.breakdown)).toEqual(["gemm_s", "attention_s", "communication_s", "overhead_s"]);
    const b = out.breakdown;
    expect(b.gemm_s + b.attention_s + b.communication_s + b.overhead_s).toBeCloseTo(out.step_s, 12);
    expect(b.communication_s).toBe(0);
  });

  it("a decode step at TP 4 has all-reduce time; --grid prints one CSV row per P and per (B, C)", () => {
    const d = JSON.parse(tandem("latency", "--model", "llama-2-70b", "--gpu", "a100", "--tp", "4", "--decode-seqs", "8", "--context", "2048", "--json").stdout);
    expect(d.breakdown.communication_s).toBeGreaterThan(0);
    const g = tandem("latency", "--model", "llama-3-8b", "--gpu", "h100", "--grid", "--prefill-tokens", "128,512,2048", "--decode-seqs", "1,8,64", "--context", "1024,8192");
    expect(g.code).toBe(0);
    const rows = g.stdout.trim().split("\n");
    expect(rows[0]).toBe("prefill_tokens,decode_seqs,context,step_s,gemm_s,attention_s,communication_s,overhead_s");
    expect(rows).toHaveLength(1 + 3 + 3 * 2);
  });

  it("--latency FILE uses that model (a roofline document here)", () => {
    const doc = file("roof.json", JSON.stringify({ schema: "tandem.latency/v1", kind: "roofline", model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1 }));
    const r = tandem("latency", "--latency", doc, "--decode-seqs", "4", "--context", "100", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).step_s).toBeGreaterThan(0);
  });

  it("--model takes a Hugging Face config.json: Llama-3.1-8B's shapes predict what the preset does", () => {
    const config = file("config.json", JSON.stringify(LLAMA_31_8B_CONFIG));
    const args = ["--gpu", "h100", "--decode-seqs", "16", "--context", "4096", "--json"];
    const fromFile = tandem("latency", "--model", config, ...args);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toEqual(JSON.parse(tandem("latency", "--model", "llama-3.1-8b", ...args).stdout));
    file("broken.json", JSON.stringify({ architectures: ["LlamaForCausalLM"], hidden_size: 4096 }));
    expectInputError(tandem("latency", "--model", "broken.json", ...args), /broken\.json: num_hidden_layers/);
  });

  it("bad input is a one-line error with exit 2", () => {
    expectInputError(tandem("latency", "--model", "gpt-9", "--gpu", "h100", "--prefill-tokens", "10"), /model "gpt-9": unknown/);
    expectInputError(tandem("latency", "--model", "llama-3-8b", "--gpu", "h100"), /expected --prefill-tokens P, or --decode-seqs B with --context C/);
    expectInputError(tandem("latency", "--model", "llama-3-8b", "--gpu", "h100", "--decode-seqs", "4"), /--decode-seqs and --context go together/);
    expectInputError(tandem("latency", "--model", "llama-3-8b", "--gpu", "h100", "--prefill-tokens", "0"), /--prefill-tokens 0: expected an integer ≥ 1/);
    expectInputError(tandem("latency", "--model", "llama-2-70b", "--gpu", "h100", "--tp", "3", "--prefill-tokens", "10"), /tensor_parallel 3/);
  });
});

describe("tandem fidelity", () => {
  it("a missing --data directory is a one-line error", () => {
    expectInputError(tandem("fidelity", "--data", "no/such/dir"), /--data no\/such\/dir: no such directory/);
  });

  const data = sharedData("profiles/splitwise-perf-model.csv", "profiles/vidur");
  const profiles = data.path.replace(/\/splitwise-perf-model\.csv$/, "");
  data.it("--json gives MAPE per Splitwise group and kernel family; the step presets beat the roofline on TP 8 e2e", () => {
    const step = JSON.parse(tandem("fidelity", "--data", profiles, "--json").stdout) as { source: string; group: string; quantity: string; error: { mape: number } }[];
    const roof = JSON.parse(tandem("fidelity", "--data", profiles, "--model-kind", "roofline", "--json").stdout) as typeof step;
    const find = (lines: typeof step, group: string, quantity: string) => lines.find((l) => l.group === group && l.quantity === quantity)!.error.mape;
    expect(find(step, "llama-2-70b h100-80gb TP8", "e2e")).toBeLessThan(find(roof, "llama-2-70b h100-80gb TP8", "e2e"));
    expect(find(step, "a100 kernels", "gemm")).toBeLessThan(0.1);
    expect(step.filter((l) => l.source === "splitwise")).toHaveLength(8 * 3);
  });

  data.it("npm run fit:presets reproduces the shipped coefficients (within 2%)", () => {
    const refit = fitStepPresets(profiles);
    const shipped = shippedStepPresets();
    expect(Object.keys(refit.presets).sort()).toEqual(Object.keys(shipped.presets).sort());
    for (const [gpu, preset] of Object.entries(shipped.presets)) {
      for (const [name, value] of Object.entries(preset.coefficients)) {
        const got = (refit.presets[gpu].coefficients as Record<string, number | number[]>)[name];
        const want = Array.isArray(value) ? value : [value];
        const have = Array.isArray(got) ? got : [got];
        want.forEach((w, i) => expect(Math.abs(have[i] - w), `${gpu}.${name}`).toBeLessThanOrEqual(0.02 * Math.abs(w) + 1e-12));
      }
    }
  });
});
