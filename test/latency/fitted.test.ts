import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { FittedLatencyModel, fittedLatencyModelFromJson } from "../../src/model/fitted.ts";
import { latencyModelFromJson } from "../../src/model/latency-json.ts";
import { loadLatencyModelFile } from "../../run/latency-file.ts";
import { addDecode, addPrefillChunk, emptyBatchShape, resetBatchShape } from "../../src/model/latency-model.ts";

// Binary fractions, so that the linear form is exact whatever order it is summed in.
const DOC = {
  schema: "tandem.latency/v1",
  kind: "fitted",
  model: "llama-3-8b",
  gpu: "h100-80gb",
  tensor_parallel: 1,
  coefficients: {
    overhead_s: 2 ** -9,
    per_prefill_token_s: 2 ** -15,
    per_attention_pair_s: 2 ** -30,
    per_decode_seq_s: 2 ** -13,
    per_kv_token_s: 2 ** -22,
  },
  fit: { samples: 412, mape: 0.041 },
};

function withCoefficient(name: string, value: unknown) {
  return { ...DOC, coefficients: { ...DOC.coefficients, [name]: value } };
}

describe("fitted latency model", () => {
  it("evaluates its linear form exactly", () => {
    const model = fittedLatencyModelFromJson(DOC, "fit.json");
    const c = DOC.coefficients;
    fc.assert(
      fc.property(fc.nat(512), fc.nat(8192), fc.nat(10_000_000), fc.nat(100_000), fc.nat(512), fc.nat(1_000_000), (n, pt, pairs, pctx, ds, dctx) => {
        const batch = { num_seqs: n, prefill_tokens: pt, prefill_attention_pairs: pairs, prefill_context_tokens: pctx, decode_seqs: ds, decode_context_tokens: dctx };
        const expected = c.overhead_s + c.per_prefill_token_s * pt + c.per_attention_pair_s * pairs + c.per_decode_seq_s * ds + c.per_kv_token_s * (dctx + pctx);
        return model.stepTime_s(batch) === expected;
      }),
    );
    expect(model.stepTime_s(emptyBatchShape())).toBe(c.overhead_s);
  });

  it("keeps the document as its info", () => {
    const model = fittedLatencyModelFromJson(DOC, "fit.json");
    expect(model).toBeInstanceOf(FittedLatencyModel);
    expect(model.info).toEqual(DOC);
  });

  it("rejects a bad document with a message naming the field", () => {
    const bad: Array<[unknown, RegExp]> = [
      [withCoefficient("per_kv_token_s", -1e-9), /^fit\.json: coefficients\.per_kv_token_s: /],
      [withCoefficient("per_decode_seq_s", "fast"), /^fit\.json: coefficients\.per_decode_seq_s: .*number/],
      [withCoefficient("overhead_s", 0), /^fit\.json: coefficients\.overhead_s: /],
      [withCoefficient("per_kv_tokens_s", 1), /^fit\.json: coefficients: .*per_kv_tokens_s/],
      [{ ...DOC, coefficients: { ...DOC.coefficients, per_attention_pair_s: undefined } }, /^fit\.json: coefficients\.per_attention_pair_s: /],
      [{ ...DOC, tensor_parallel: 0 }, /^fit\.json: tensor_parallel: /],
      [{ ...DOC, schema: "tandem.latency/v0" }, /^fit\.json: schema: /],
      [{ ...DOC, model: "" }, /^fit\.json: model: /],
    ];
    for (const [doc, message] of bad) {
      expect(() => fittedLatencyModelFromJson(doc, "fit.json")).toThrow(InputError);
      expect(() => fittedLatencyModelFromJson(doc, "fit.json")).toThrow(message);
    }
  });
});

describe("latency model documents", () => {
  it("dispatches on kind and rejects unknown ones", () => {
    expect(latencyModelFromJson(DOC, "fit.json").info.kind).toBe("fitted");
    expect(latencyModelFromJson({ schema: "tandem.latency/v1", kind: "roofline", model: "llama-2-7b", gpu: "a100", tensor_parallel: 1 }, "r.json").info.kind).toBe("roofline");
    expect(() => latencyModelFromJson({ ...DOC, kind: "neural" }, "x.json")).toThrow(/^x\.json: kind: expected "fitted", "roofline" or "step", got "neural"$/);
    expect(() => latencyModelFromJson([], "x.json")).toThrow(/^x\.json: expected a JSON object/);
    expect(() => latencyModelFromJson({ kind: "fitted" }, "x.json")).toThrow(/^x\.json: schema: /);
    expect(() => latencyModelFromJson({ schema: "tandem.latency/v1", kind: "roofline", model: "gpt-4", gpu: "a100", tensor_parallel: 1 }, "r.json")).toThrow(
      /^r\.json: model: model "gpt-4": unknown/,
    );
  });

  it("loads from a file and reports unreadable or invalid ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-latency-"));
    const good = join(dir, "fit.json");
    writeFileSync(good, JSON.stringify(DOC));
    const model = await loadLatencyModelFile(good);
    const batch = emptyBatchShape();
    addPrefillChunk(batch, 100, 28);
    addDecode(batch, 500);
    expect(model.stepTime_s(batch)).toBeGreaterThan(DOC.coefficients.overhead_s);
    resetBatchShape(batch);
    expect(batch).toEqual(emptyBatchShape());

    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ not json");
    await expect(loadLatencyModelFile(broken)).rejects.toThrow(/broken\.json: not valid JSON/);
    await expect(loadLatencyModelFile(join(dir, "missing.json"))).rejects.toThrow(InputError);
    writeFileSync(broken, JSON.stringify(withCoefficient("per_prefill_token_s", -1)));
    await expect(loadLatencyModelFile(broken)).rejects.toThrow(/broken\.json: coefficients\.per_prefill_token_s: /);
  });
});

describe("batch shape helpers", () => {
  it("count attention pairs and context as the BatchShape fields define them", () => {
    const batch = emptyBatchShape();
    addPrefillChunk(batch, 4, 10); // 4·10 + 4·5/2 = 50 pairs, reads 14 tokens of KV
    addPrefillChunk(batch, 3, 0); // 0 + 6 = 6 pairs, reads 3
    addDecode(batch, 7);
    expect(batch).toEqual({
      num_seqs: 3,
      prefill_tokens: 7,
      prefill_attention_pairs: 56,
      prefill_context_tokens: 17,
      decode_seqs: 1,
      decode_context_tokens: 7,
    });
  });
});
