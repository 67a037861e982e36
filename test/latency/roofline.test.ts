import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { gpuSpec } from "../../src/model/gpus.ts";
import { latencyModelFromJson } from "../../src/model/latency-json.ts";
import { addDecode, addPrefillChunk, emptyBatchShape, type BatchShape } from "../../src/model/latency-model.ts";
import { modelSpec, transformerMatmulParams } from "../../src/model/models.ts";
import { DEFAULT_ROOFLINE_CONSTANTS } from "../../src/model/roofline-constants.ts";
import { rooflineModel } from "../../src/model/roofline.ts";

function decodes(n: number, context_tokens: number): BatchShape {
  const batch = emptyBatchShape();
  for (let i = 0; i < n; i++) addDecode(batch, context_tokens);
  return batch;
}

function prefill(chunk_tokens: number, cached_tokens = 0): BatchShape {
  const batch = emptyBatchShape();
  addPrefillChunk(batch, chunk_tokens, cached_tokens);
  return batch;
}

const FIELDS = ["num_seqs", "prefill_tokens", "prefill_attention_pairs", "prefill_context_tokens", "decode_seqs", "decode_context_tokens"] as const;

const shapeArb = fc.record({
  num_seqs: fc.nat(1024),
  prefill_tokens: fc.nat(16_384),
  prefill_attention_pairs: fc.nat(100_000_000),
  prefill_context_tokens: fc.nat(200_000),
  decode_seqs: fc.nat(1024),
  decode_context_tokens: fc.nat(2_000_000),
});

describe("roofline latency model", () => {
  it("never gets faster when any field of the batch grows", () => {
    const models = [
      rooflineModel("llama-3-8b", "h100-80gb", 1),
      rooflineModel("llama-2-70b", "a100-80gb", 4),
      rooflineModel("qwen2.5-7b", "l40s", 2),
      rooflineModel("bloom-176b", "h200", 8),
    ];
    fc.assert(
      fc.property(shapeArb, fc.constantFrom(...FIELDS), fc.integer({ min: 1, max: 100_000 }), fc.nat(models.length - 1), (shape, field, extra, m) => {
        const model = models[m];
        const grown = { ...shape, [field]: shape[field] + extra };
        const before = model.stepTime_s(shape);
        const after = model.stepTime_s(grown);
        return Number.isFinite(before) && before > 0 && after >= before;
      }),
      { numRuns: 2000 },
    );
  });

  it("is memory-bound for a small decode batch: about weights / bandwidth", () => {
    const model = rooflineModel("llama-3-8b", "h100-80gb", 1);
    const spec = modelSpec("llama-3-8b");
    const gpu = gpuSpec("h100-80gb");
    const parts = model.breakdown(decodes(1, 1024));
    expect(parts.linear_memory_s).toBeGreaterThan(10 * parts.linear_compute_s);
    expect(parts.attention_memory_s).toBeGreaterThan(parts.attention_compute_s);
    const weights_s = (spec.params * spec.dtype_bytes) / (gpu.mem_bandwidth_bytes_per_s * DEFAULT_ROOFLINE_CONSTANTS.linear_memory_efficiency);
    expect(parts.linear_memory_s).toBeCloseTo(weights_s, 12);
    // Everything but the overhead is the weight stream, to within a few percent.
    expect((parts.total_s - parts.overhead_s) / weights_s).toBeGreaterThan(1);
    expect((parts.total_s - parts.overhead_s) / weights_s).toBeLessThan(1.03);
  });

  it("is compute-bound for a large prefill chunk: about 2 · params · tokens / peak", () => {
    const model = rooflineModel("llama-3-8b", "h100-80gb", 1);
    const spec = modelSpec("llama-3-8b");
    const tokens = 8192;
    const parts = model.breakdown(prefill(tokens));
    expect(parts.linear_compute_s).toBeGreaterThan(5 * parts.linear_memory_s);
    expect(parts.attention_compute_s).toBeGreaterThan(parts.attention_memory_s);
    const flops_s = (2 * transformerMatmulParams(spec) * tokens) / (gpuSpec("h100").peak_fp16_flops * DEFAULT_ROOFLINE_CONSTANTS.linear_compute_efficiency);
    expect(parts.total_s / flops_s).toBeGreaterThan(1);
    expect(parts.total_s / flops_s).toBeLessThan(1.2);
  });

  it("speeds a 70B prefill up with tensor parallelism", () => {
    const batch = prefill(2048);
    const t = (tp: number) => rooflineModel("llama-2-70b", "a100-80gb", tp).stepTime_s(batch);
    expect(t(2)).toBeLessThan(t(1));
    expect(t(4)).toBeLessThan(t(2));
    expect(t(8)).toBeLessThan(t(4));
    expect(t(2) / t(1)).toBeGreaterThan(0.5); // all-reduce and overhead keep it from a perfect halving
  });

  it("lands where vLLM does with the default constants", () => {
    const ms = (x: number) => x * 1e3;
    const small = rooflineModel("llama-3-8b", "h100-80gb", 1);
    expect(ms(small.stepTime_s(decodes(1, 1024)))).toBeGreaterThan(6);
    expect(ms(small.stepTime_s(decodes(1, 1024)))).toBeLessThan(9);
    expect(ms(small.stepTime_s(prefill(1024)))).toBeGreaterThan(25);
    expect(ms(small.stepTime_s(prefill(1024)))).toBeLessThan(50);
    const big = rooflineModel("llama-2-70b", "a100-80gb", 4);
    expect(ms(big.stepTime_s(decodes(1, 1024)))).toBeGreaterThan(30);
    expect(ms(big.stepTime_s(decodes(8, 1024)))).toBeLessThan(50);
  });

  it("records every constant in its info, and loads back from it", () => {
    const model = rooflineModel("meta-llama/Meta-Llama-3-8B", "H100", 2, { step_overhead_s: 3e-3 });
    expect(model.info).toMatchObject({ schema: "tandem.latency/v1", kind: "roofline", model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 2 });
    expect(model.info.kind === "roofline" && Object.keys(model.info.constants).sort()).toEqual(Object.keys(DEFAULT_ROOFLINE_CONSTANTS).sort());
    expect(model.info.kind === "roofline" && model.info.constants.step_overhead_s).toBe(3e-3);
    const again = latencyModelFromJson(JSON.parse(JSON.stringify(model.info)), "report.json");
    const batch = decodes(17, 3000);
    expect(again.stepTime_s(batch)).toBe(model.stepTime_s(batch));
  });

  it("rejects bad overrides and names with the field", () => {
    expect(() => rooflineModel("llama-3-8b", "h100", 1, { linear_compute_efficiency: 1.5 }, "c.yaml: instances[0]")).toThrow(
      /^c\.yaml: instances\[0\]\.constants\.linear_compute_efficiency: /,
    );
    expect(() => rooflineModel("llama-3-8b", "h100", 1, { step_overhead_s: -1 })).toThrow(InputError);
    expect(() => rooflineModel("llama-3-8b", "v100", 1, undefined, "c.yaml: instances[0]")).toThrow(/^c\.yaml: instances\[0\]\.gpu: gpu "v100"/);
    expect(() => rooflineModel("llama-3-8b", "h100", 3)).toThrow(/tensor_parallel 3/);
  });

  it("charges all-reduces only with tensor parallelism", () => {
    expect(rooflineModel("llama-3-8b", "h100", 1).breakdown(prefill(512)).allreduce_s).toBe(0);
    expect(rooflineModel("llama-3-8b", "h100", 2).breakdown(prefill(512)).allreduce_s).toBeGreaterThan(0);
    // PCIe all-reduces cost more than NVLink ones.
    const pcie = rooflineModel("llama-3-8b", "l40s", 2).breakdown(prefill(4096)).allreduce_s;
    const nvlink = rooflineModel("llama-3-8b", "a100", 2).breakdown(prefill(4096)).allreduce_s;
    expect(pcie).toBeGreaterThan(nvlink);
  });
});
