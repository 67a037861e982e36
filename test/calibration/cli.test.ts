import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";
import { fittedModel, formatProfileCsv, simulateStaticBatch, type ProfileRow } from "../../sim/calibrate/index.ts";
import { sharedData } from "../helpers/requirements.ts";

const { scratch, tandem, file } = cliSandbox("tandem-calibrate-");

const TRACE = Array.from({ length: 12 }, (_, i) => JSON.stringify({ arrival_s: i * 0.5, prompt_tokens: 300 + 50 * i, output_tokens: 20 + i })).join("\n") + "\n";

function cluster(model: string, gpu: string, tp: number): string {
  return file(`cluster-${model}-${gpu}-${tp}.yaml`, `instances:\n  - model: ${model}\n    gpu: ${gpu}\n    tensor_parallel: ${tp}\n    count: 1\n`);
}

/** A sweep as `tandem profile` would record it against a server with known step times. */
function syntheticProfile(): string {
  const truth = { overhead_s: 0.007, per_prefill_token_s: 5e-5, per_attention_pair_s: 1e-10, per_decode_seq_s: 2e-4, per_kv_token_s: 5e-8 };
  const model = fittedModel({ model: "llama-3.1-8b", gpu: "h100-80gb", tensor_parallel: 1 }, truth);
  const rows: ProfileRow[] = [];
  let id = 0;
  for (const b of [1, 4, 16]) {
    for (const p of [128, 1024, 4096]) {
      for (const n of [16, 64]) {
        const batch = { requests: Array.from({ length: b }, () => ({ prompt_tokens: p, output_tokens: n })), max_num_batched_tokens: 2048, max_num_seqs: 256 };
        const t = simulateStaticBatch(batch, model);
        for (let i = 0; i < b; i++) {
          rows.push({
            model: "llama-3.1-8b",
            gpu: "h100-80gb",
            tensor_parallel: 1,
            batch_id: `b${id}`,
            batch_size: b,
            request_index: i,
            prompt_tokens: p,
            output_tokens: n,
            ttft_s: t.ttft_s[i],
            tpot_s: t.tpot_s[i],
            e2e_s: t.e2e_s[i],
            max_num_batched_tokens: 2048,
            max_num_seqs: 256,
          } as ProfileRow);
        }
        id++;
      }
    }
  }
  return formatProfileCsv(rows);
}

describe("tandem calibrate", () => {
  it("fits a tandem profile, writes the model, and sim --latency runs with it", () => {
    const profile = file("sweep.csv", syntheticProfile());
    const out = join(scratch, "fit-tandem");
    const result = tandem("calibrate", "--profile", profile, "--out", out, "--folds", "3");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/llama-3.1-8b on h100-80gb × TP1: \d+ rows/);
    expect(result.stdout).toMatch(/3-fold CV \(shapes held out\) MAPE/);
    expect(result.stdout).toMatch(/per-config CV \(leaky\) MAPE/);
    const path = join(out, "llama-3.1-8b_h100-80gb_tp1.json");
    const doc = JSON.parse(readFileSync(path, "utf8"));
    expect(doc).toMatchObject({ schema: "tandem.latency/v1", kind: "fitted", model: "llama-3.1-8b", gpu: "h100-80gb", tensor_parallel: 1 });
    expect(doc.coefficients.overhead_s).toBeCloseTo(0.007, 9);
    expect(doc.fit).toMatchObject({ format: "tandem", source: profile });
    expect(doc.fit.cross_validation).toMatchObject({ folds: 3, holds_out: "shape" });
    expect(doc.fit.cross_validation_by_configuration).toMatchObject({ folds: 3, holds_out: "configuration" });

    const trace = file("t.jsonl", TRACE);
    const sim = tandem("sim", "--trace", trace, "--trace-format", "tandem", "--latency", path, "--out", join(scratch, "sim-tandem"), "--quiet");
    expect(sim.stderr).toBe("");
    expect(sim.code).toBe(0);
    const report = JSON.parse(readFileSync(join(scratch, "sim-tandem", "report.json"), "utf8"));
    expect(report.run.latency_model).toEqual([doc]);
  });

  const splitwise = sharedData("profiles/splitwise-perf-model.csv");

  splitwise.it(
    "fits one Splitwise group into a directory; sim --latency records the fitted model",
    () => {
      const out = join(scratch, "fit-splitwise");
      const result = tandem("calibrate", "--format", "splitwise", "--profile", splitwise.path, "--model", "llama2-70b", "--gpu", "h100-80gb", "--tensor-parallel", "4", "--out", out);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/llama-2-70b on h100-80gb × TP4: 105 rows/);
      expect(result.stdout).toMatch(/ttft \(prompt_time\)/);
      const path = join(out, "llama-2-70b_h100-80gb_tp4.json");
      expect(existsSync(path)).toBe(true);
      const doc = JSON.parse(readFileSync(path, "utf8"));
      expect(doc.fit.samples).toBe(105);
      // Both cross-validations are printed, each quantity's row carrying in-sample, shape-held-out
      // and per-configuration MAPE and max; the shape-held-out one is the document's headline.
      expect(result.stdout).toMatch(/5-fold CV \(shapes held out\) MAPE +max +per-config CV \(leaky\) MAPE +max/);
      for (const q of ["ttft \\(prompt_time\\)", "tpot \\(token_time\\)", "e2e \\(e2e_time\\)"]) {
        expect(result.stdout).toMatch(new RegExp(`${q}( +[\\d.]+%){6}\n`));
      }
      expect(result.stdout).toMatch(/19 configurations, 13 prefill shapes/);
      expect(doc.fit.shapes).toBe(13);
      expect(doc.fit.cross_validation.holds_out).toBe("shape");
      expect(doc.fit.cross_validation.errors.ttft.mape).toBeLessThan(0.08);
      expect(doc.fit.cross_validation_by_configuration.errors.ttft.mape).toBeLessThan(0.05);
      expect(doc.fit.mape).toBe(Math.max(...Object.values(doc.fit.cross_validation.errors as Record<string, { mape: number }>).map((e) => e.mape)));

      const config = cluster("llama-2-70b", "h100-80gb", 4);
      const trace = file("t2.jsonl", TRACE);
      const sim = tandem("sim", "--config", config, "--trace", trace, "--trace-format", "tandem", "--latency", path, "--out", join(scratch, "sim-splitwise"), "--quiet");
      expect(sim.code).toBe(0);
      const report = JSON.parse(readFileSync(join(scratch, "sim-splitwise", "report.json"), "utf8"));
      expect(report.run.latency_model).toHaveLength(1);
      expect(report.run.latency_model[0].kind).toBe("fitted");
      expect(report.run.latency_model[0].coefficients).toEqual(doc.coefficients);
      // Stored relative to the config's folder, where the cluster builder resolves it.
      expect(report.run.config.latency).toEqual({ kind: "fitted", file: join("fit-splitwise", "llama-2-70b_h100-80gb_tp4.json") });
    },
    120_000,
  );

  splitwise.it("--out FILE.json with several matching groups is an error", () => {
    expectInputError(tandem("calibrate", "--profile", splitwise.path, "--model", "llama2-70b", "--out", join(scratch, "one.json")), /--out .*one\.json names one file but \d+ groups match/);
  });

  splitwise.it("a selection that matches nothing lists the groups", () => {
    expectInputError(tandem("calibrate", "--profile", splitwise.path, "--model", "llama-3-8b"), /--model llama-3-8b: no group of .* matches; it has llama-2-70b on a100-80gb × TP2/);
  });

  it("a bad profile row names the file, line and column", () => {
    const profile = file(
      "bad.csv",
      "model,gpu,tensor_parallel,batch_id,batch_size,request_index,prompt_tokens,output_tokens,ttft_s,tpot_s,e2e_s\nllama-3-8b,h100,1,a,1,0,512,65,0.05,0.01,0.69\nllama-3-8b,h100,1,b,1,0,512,65,soon,0.01,0.69\n",
    );
    expectInputError(tandem("calibrate", "--profile", profile), /^tandem: error: .*bad\.csv:3: column "ttft_s": expected a number > 0, got "soon"$/m);
  });

  it("bad flags and missing files are one-line errors", () => {
    expectInputError(tandem("calibrate"), /--profile/);
    expectInputError(tandem("calibrate", "--profile", "nope.csv"), /nope\.csv: cannot read/);
    expectInputError(tandem("calibrate", "--profile", "x.csv", "--folds", "1"), /--folds 1: expected 0/);
    expectInputError(tandem("calibrate", "--profile", "x.csv", "--holdout", "1.5"), /--holdout.*fraction/);
    expectInputError(tandem("calibrate", "--profile", "x.csv", "--form", "cubic"), /--form.*basic, prefill-curve/);
  });

  it("sim --latency rejects a missing or invalid model file", () => {
    expectInputError(tandem("sim", "--latency", "missing.json"), /missing\.json: cannot read latency model/);
    const bad = file("bad-model.json", JSON.stringify({ schema: "tandem.latency/v1", kind: "fitted", model: "x", gpu: "y", tensor_parallel: 1, coefficients: { overhead_s: 0 } }));
    expectInputError(tandem("sim", "--latency", bad), /bad-model\.json: coefficients\.overhead_s/);
  });
});
