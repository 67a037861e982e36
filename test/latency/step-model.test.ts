import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gpuSpec } from "../../src/model/gpus.ts";
import { latencyModelFromJson } from "../../src/model/latency-json.ts";
import { addDecode, addPrefillChunk, emptyBatchShape, type BatchShape } from "../../src/model/latency-model.ts";
import { modelSpec, type ModelSpec } from "../../src/model/models.ts";
import { decodeAttentionLayer_s, StepLatencyModel } from "../../src/model/step-model.ts";
import { shippedStepPresets, stepModel, stepPresetFor } from "../../src/model/step-presets.ts";

const prefill = (tokens: number): BatchShape => {
  const b = emptyBatchShape();
  addPrefillChunk(b, tokens, 0);
  return b;
};
const decode = (seqs: number, context: number): BatchShape => {
  const b = emptyBatchShape();
  for (let i = 0; i < seqs; i++) addDecode(b, context);
  return b;
};

describe("step-time model", () => {
  it("ships fitted presets for A100 and H100 with provenance and measured errors", () => {
    const presets = shippedStepPresets().presets;
    for (const gpu of ["a100-80gb", "h100-80gb"]) {
      expect(presets[gpu].fitted_on).toMatch(/Splitwise/);
      expect(Object.keys(presets[gpu].error).some((k) => k.endsWith("_heldout"))).toBe(true);
    }
    expect(stepPresetFor(gpuSpec("h200")).fitted_on).toMatch(/^carried from h100-80gb/);
  });

  it("a carried preset keeps the fractions of peak and launch costs, and scales the per (token, head) attention work with peak FLOPs", () => {
    const h100 = stepPresetFor(gpuSpec("h100-80gb")).coefficients;
    const b200 = gpuSpec("b200");
    const carried = stepPresetFor(b200);
    expect(carried.fitted_on).toMatch(/^carried from h100-80gb/);
    const { prefill_attention_head_token_s, ...rest } = carried.coefficients;
    const { prefill_attention_head_token_s: h100_head_token_s, ...h100_rest } = h100;
    expect(rest).toEqual(h100_rest);
    expect(prefill_attention_head_token_s).toBeCloseTo((h100_head_token_s * gpuSpec("h100-80gb").peak_fp16_flops) / b200.peak_fp16_flops, 20);
    expect(prefill_attention_head_token_s).toBeLessThan(h100_head_token_s);
  });

  it("breakdown parts sum to step_s, which is what stepTime_s returns", () => {
    const model = stepModel("llama-2-70b", "a100-80gb", 4);
    fc.assert(
      fc.property(fc.nat(4096), fc.nat(256), fc.integer({ min: 1, max: 8192 }), (p, b, c) => {
        const batch = emptyBatchShape();
        if (p > 0) addPrefillChunk(batch, p, 0);
        for (let i = 0; i < b; i++) addDecode(batch, c);
        const x = model.breakdown(batch);
        expect(x.gemm_s + x.attention_s + x.communication_s + x.overhead_s).toBe(x.step_s);
        expect(model.stepTime_s(batch)).toBe(x.step_s);
      }),
    );
  });

  it("decode GEMMs are memory-bound: 1 → 16 sequences costs < 5% more GEMM time", () => {
    const model = stepModel("llama-3-8b", "h100-80gb", 1);
    const one = model.breakdown(decode(1, 512)).gemm_s;
    const sixteen = model.breakdown(decode(16, 512)).gemm_s;
    expect(sixteen / one).toBeGreaterThan(1);
    expect(sixteen / one).toBeLessThan(1.05);
  });

  it("large prefills are compute-bound: doubling 4096 → 8192 tokens doubles GEMM time (±10%)", () => {
    const model = stepModel("llama-3-8b", "a100-80gb", 1);
    const ratio = model.breakdown(prefill(8192)).gemm_s / model.breakdown(prefill(4096)).gemm_s;
    expect(ratio).toBeGreaterThan(1.8);
    expect(ratio).toBeLessThan(2.1);
  });

  it("all-reduce time grows with TP, and is zero on one GPU", () => {
    const comm = (tp: number) => stepModel("llama-2-70b", "h100-80gb", tp).breakdown(prefill(2048)).communication_s;
    expect(comm(1)).toBe(0);
    expect(comm(2)).toBeLessThan(comm(4));
    expect(comm(4)).toBeLessThan(comm(8));
  });

  it("the all-reduce skew adds 2 · layers · skew · log2 TP of overhead, none on one GPU, and nothing to the GPU part", () => {
    const overhead = (tp: number) => stepModel("llama-2-70b", "h100-80gb", tp).breakdown(decode(1, 64)).overhead_s;
    const c = stepModel("llama-2-70b", "h100-80gb", 2).coefficients;
    const skew = c.allreduce_skew_s ?? 0;
    expect(skew).toBeGreaterThan(0);
    expect(overhead(4) - overhead(2)).toBeCloseTo(2 * 80 * skew, 9);
    expect(overhead(8) - overhead(2)).toBeCloseTo(2 * 2 * 80 * skew, 9);
    expect(overhead(2) - overhead(1)).toBeCloseTo(c.tp_step_overhead_s + 2 * 80 * skew, 9);
    const without = new StepLatencyModel(modelSpec("llama-2-70b"), gpuSpec("h100-80gb"), 4, { ...c, allreduce_skew_s: 0 }).breakdown(decode(1, 64));
    const withSkew = stepModel("llama-2-70b", "h100-80gb", 4).breakdown(decode(1, 64));
    expect(withSkew.gemm_s + withSkew.attention_s + withSkew.communication_s).toBe(without.gemm_s + without.attention_s + without.communication_s);
  });

  it("the per-layer decode-attention floor survives TP: TP8 short-context attention is not half of TP4's", () => {
    const a4 = stepModel("llama-2-70b", "h100-80gb", 4).breakdown(decode(1, 64)).attention_s;
    const m8 = stepModel("llama-2-70b", "h100-80gb", 8);
    const a8 = m8.breakdown(decode(1, 64)).attention_s;
    expect(a8).toBeGreaterThan(0.9 * a4);
    expect(a8).toBeGreaterThanOrEqual(80 * m8.coefficients.decode_attention_layer_s);
  });

  it("decode attention equals layers × the kernel-level formula", () => {
    const m = stepModel("llama-2-70b", "a100-80gb", 2);
    const kv_bytes = 2 * (8 / 2) * 128 * 2;
    const expected = 80 * decodeAttentionLayer_s(m.coefficients, m.gpu, kv_bytes, 32 * 1000);
    expect(m.breakdown(decode(32, 1000)).attention_s).toBeCloseTo(expected, 12);
  });

  it("FP8 weights halve the memory-bound decode GEMM time; FP8 KV halves the KV read", () => {
    const bf16 = modelSpec("llama-3-8b");
    const fp8: ModelSpec = { ...bf16, dtype_bytes: 1 };
    const fp8kv: ModelSpec = { ...bf16, kv_dtype_bytes: 1 };
    const c = stepPresetFor(gpuSpec("h100-80gb")).coefficients;
    // Two sequences: weight streaming dominates (at 64 the FP8 GEMMs turn compute-bound on a 16-bit peak).
    const at = (m: ModelSpec) => new StepLatencyModel(m, gpuSpec("h100-80gb"), 1, c).breakdown(decode(2, 4096));
    const ratio = at(fp8).gemm_s / at(bf16).gemm_s;
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(0.65); // the kernel floors and elementwise kernels do not shrink
    const kv = (at(fp8kv).attention_s - 32 * c.decode_attention_layer_s) / (at(bf16).attention_s - 32 * c.decode_attention_layer_s);
    expect(kv).toBeCloseTo(0.5, 6);
  });

  it("MoE reads only the experts its tokens reach: one token is far cheaper than the dense equivalent; many tokens read them all", () => {
    const base = modelSpec("mistral-7b");
    const moe: ModelSpec = {
      ...base,
      name: "toy-moe",
      moe: { experts: 8, active_experts: 2, expert_intermediate_size: base.intermediate_size, shared_experts: 0, shared_intermediate_size: 0, dense_layers: 0 },
    };
    const gpu = gpuSpec("h100-80gb");
    const c = stepPresetFor(gpu).coefficients;
    const m = new StepLatencyModel(moe, gpu, 1, c);
    const one = m.breakdown(decode(1, 128)).gemm_s;
    const many = m.breakdown(decode(256, 128)).gemm_s;
    const dense = new StepLatencyModel(base, gpu, 1, c).breakdown(decode(1, 128)).gemm_s;
    expect(one).toBeLessThan(3 * dense); // ≈ 2 of 8 experts' weights, not 8
    expect(many / one).toBeGreaterThan(2.5); // all 8 experts read
  });

  it("a sliding window caps the KV each decode reads", () => {
    const base = modelSpec("mistral-7b");
    const gpu = gpuSpec("a100-80gb");
    const c = stepPresetFor(gpu).coefficients;
    const windowed = new StepLatencyModel({ ...base, sliding_window: 4096 }, gpu, 1, c);
    expect(windowed.breakdown(decode(8, 30000)).attention_s).toBeCloseTo(windowed.breakdown(decode(8, 4096)).attention_s, 12);
  });

  it("its info round-trips through latencyModelFromJson (kind step, fitted_on, error)", () => {
    const model = stepModel("llama-3-8b", "h100-80gb", 2);
    expect(model.info.kind).toBe("step");
    const back = latencyModelFromJson(JSON.parse(JSON.stringify(model.info)), "info.json");
    expect(back.info).toEqual(model.info);
    const batch = decode(12, 900);
    addPrefillChunk(batch, 300, 100);
    expect(back.stepTime_s(batch)).toBe(model.stepTime_s(batch));
  });

  it("a bad step document is a one-line error naming the file and field", () => {
    const doc = { ...stepModel("llama-3-8b", "h100-80gb", 1).info, coefficients: { gemm_memory_efficiency: 2 } };
    expect(() => latencyModelFromJson(doc, "bad.json")).toThrow(/^bad\.json: coefficients/);
  });
});
