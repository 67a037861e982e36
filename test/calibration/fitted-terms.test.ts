import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { fittedLatencyModelFromJson } from "../../src/model/fitted.ts";
import { addDecode, addPrefillChunk, emptyBatchShape } from "../../src/model/latency-model.ts";

const BASE = {
  schema: "tandem.latency/v1",
  kind: "fitted",
  model: "llama-2-70b",
  gpu: "h100-80gb",
  tensor_parallel: 4,
  coefficients: { overhead_s: 0.03, per_prefill_token_s: 2e-5, per_attention_pair_s: 1e-10, per_decode_seq_s: 2e-4, per_kv_token_s: 1e-7 },
};
const EXTENDED = {
  ...BASE,
  coefficients: {
    ...BASE.coefficients,
    prefill_step_overhead_s: 0.015,
    prefill_token_curve: { knots: [512, 2048], extra_per_token_s: [1e-5, 0, 4e-5] },
  },
};

function prefillStep(tokens: number) {
  const shape = emptyBatchShape();
  addPrefillChunk(shape, tokens, 0);
  return shape;
}

function base(tokens: number) {
  const c = BASE.coefficients;
  return c.overhead_s + c.per_prefill_token_s * tokens + c.per_attention_pair_s * ((tokens * (tokens + 1)) / 2) + c.per_kv_token_s * tokens;
}

function errorOf(doc: unknown): string {
  try {
    fittedLatencyModelFromJson(doc, "fit.json");
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("fitted model: prefill-step overhead and prefill-token curve", () => {
  it("a document without them is the five-term model (absent = 0)", () => {
    const model = fittedLatencyModelFromJson(BASE, "fit.json");
    for (const t of [1, 100, 5000]) expect(model.stepTime_s(prefillStep(t))).toBeCloseTo(base(t), 15);
  });

  it("adds the step overhead to steps with prefill tokens, and the extra per-token cost by segment", () => {
    const model = fittedLatencyModelFromJson(EXTENDED, "fit.json");
    const extra = (t: number) => 1e-5 * Math.min(t, 512) + 0 * Math.max(0, Math.min(t, 2048) - 512) + 4e-5 * Math.max(0, t - 2048);
    for (const t of [1, 300, 512, 513, 2048, 2049, 10000]) {
      expect(model.stepTime_s(prefillStep(t))).toBeCloseTo(base(t) + 0.015 + extra(t), 14);
    }
    const decode = emptyBatchShape();
    addDecode(decode, 1000);
    addDecode(decode, 1000);
    const c = BASE.coefficients;
    expect(model.stepTime_s(decode)).toBeCloseTo(c.overhead_s + 2 * c.per_decode_seq_s + 2000 * c.per_kv_token_s, 15);
  });

  it("adding prefill tokens never shortens a step", () => {
    const model = fittedLatencyModelFromJson(EXTENDED, "fit.json");
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20000 }), fc.integer({ min: 1, max: 5000 }), (t, more) => {
        const a = t === 0 ? model.stepTime_s(emptyBatchShape()) : model.stepTime_s(prefillStep(t));
        expect(model.stepTime_s(prefillStep(t + more))).toBeGreaterThanOrEqual(a);
      }),
    );
  });

  it("round-trips through the model's info", () => {
    const model = fittedLatencyModelFromJson(EXTENDED, "fit.json");
    expect(fittedLatencyModelFromJson(JSON.parse(JSON.stringify(model.info)), "again.json").stepTime_s(prefillStep(3000))).toBe(model.stepTime_s(prefillStep(3000)));
  });

  it("bad curves name the field and what was expected", () => {
    const curve = (c: unknown) => ({ ...BASE, coefficients: { ...BASE.coefficients, prefill_token_curve: c } });
    expect(errorOf(curve({ knots: [512, 256], extra_per_token_s: [0, 0, 0] }))).toBe(
      "fit.json: coefficients.prefill_token_curve.knots[1]: expected knots in increasing order (256 after 512)",
    );
    expect(errorOf(curve({ knots: [512], extra_per_token_s: [0] }))).toMatch(/^fit\.json: coefficients\.prefill_token_curve\.extra_per_token_s: expected 2 values \(one per segment/);
    expect(errorOf(curve({ knots: [512], extra_per_token_s: [0, -1e-6] }))).toMatch(/^fit\.json: coefficients\.prefill_token_curve\.extra_per_token_s\[1\]: /);
    expect(errorOf({ ...BASE, coefficients: { ...BASE.coefficients, prefill_step_overhead_s: -1 } })).toMatch(/^fit\.json: coefficients\.prefill_step_overhead_s: /);
  });
});
