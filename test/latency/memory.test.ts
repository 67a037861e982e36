import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { kvBytesPerToken, kvBytesPerTokenPerGpu, kvCapacity, numGpuBlocks, weightBytesPerGpu } from "../../src/model/memory.ts";
import { modelSpec } from "../../src/model/models.ts";

describe("KV bytes per token", () => {
  it("is 2 × layers × kv_heads × head_dim × dtype", () => {
    expect(kvBytesPerToken(modelSpec("llama-3-8b"))).toBe(128 * 1024); // 2·32·8·128·2
    expect(kvBytesPerToken(modelSpec("llama-2-7b"))).toBe(512 * 1024); // 2·32·32·128·2
    expect(kvBytesPerToken(modelSpec("llama-2-70b"))).toBe(320 * 1024); // 2·80·8·128·2
  });

  it("uses the KV dtype when it differs (vLLM --kv-cache-dtype fp8)", () => {
    const fp8_kv = { ...modelSpec("llama-3.1-8b"), kv_dtype_bytes: 1 };
    expect(kvBytesPerToken(fp8_kv)).toBe(64 * 1024);
    expect(kvBytesPerTokenPerGpu(fp8_kv, 2)).toBe(32 * 1024);
  });

  it("stores MLA's latent once per layer and keeps it whole on every TP rank", () => {
    const m = modelSpec("deepseek-v2-lite"); // 27 layers × (512 + 64) × 2 bytes
    expect(kvBytesPerToken(m)).toBe(31_104);
    for (const tp of [1, 2, 4, 8]) expect(kvBytesPerTokenPerGpu(m, tp)).toBe(31_104);
  });
});

describe("weights per GPU", () => {
  it("holds every expert of an MoE model, split over TP", () => {
    const mixtral = modelSpec("mixtral-8x7b");
    expect(weightBytesPerGpu(mixtral, 1)).toBe(mixtral.params * 2);
    expect(weightBytesPerGpu(mixtral, 4)).toBe(mixtral.params / 2);
  });

  it("counts FP8 weights at one byte", () => {
    const fp8 = { ...modelSpec("llama-3.1-70b"), weight_dtype_bytes: 1 };
    expect(weightBytesPerGpu(fp8, 2)).toBe(fp8.params / 2);
    // 70B in FP8 fits two H100s with room for KV; in bf16 it needs four for a similar pool.
    expect(numGpuBlocks({ model: fp8, gpu: "h100", tensor_parallel: 2 })).toBeGreaterThan(10_000);
  });

  it("leaves Mixtral-8x7B a KV pool at TP 2 on H100 but not at TP 1", () => {
    expect(() => numGpuBlocks({ model: "mixtral-8x7b", gpu: "h100", tensor_parallel: 1 })).toThrow(/raise tensor_parallel/);
    expect(numGpuBlocks({ model: "mixtral-8x7b", gpu: "h100", tensor_parallel: 2 })).toBeGreaterThan(10_000);
  });
});

describe("numGpuBlocks", () => {
  it("gives llama-3-8b on one H100 at 0.9 the ~28k blocks vLLM logs", () => {
    const capacity = kvCapacity({ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1 });
    expect(capacity.num_gpu_blocks).toBeGreaterThanOrEqual(25_000);
    expect(capacity.num_gpu_blocks).toBeLessThanOrEqual(30_000);
    expect(capacity.kv_tokens).toBeGreaterThanOrEqual(400_000);
    expect(capacity.kv_tokens).toBeLessThanOrEqual(480_000);
    // The activation reserve is a GiB or two, as in vLLM's profiling logs.
    expect(capacity.activation_reserve_bytes / 2 ** 30).toBeGreaterThan(0.5);
    expect(capacity.activation_reserve_bytes / 2 ** 30).toBeLessThan(3);
  });

  it("grows at least in proportion to tensor_parallel (each GPU holds 1/TP of the KV and of the weights)", () => {
    const blocks = (tp: number) => numGpuBlocks({ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: tp });
    const one = blocks(1);
    for (const tp of [2, 4, 8]) {
      expect(blocks(tp) / one).toBeGreaterThanOrEqual(tp);
      expect(blocks(tp) / one).toBeLessThan(tp * 1.4);
    }
  });

  it("stops growing per GPU once KV heads are replicated", () => {
    const per_token = (tp: number) => kvCapacity({ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: tp }).block_bytes;
    expect(per_token(8)).toBe(per_token(16));
    expect(per_token(4)).toBe(2 * per_token(8));
  });

  it("scales with gpu_memory_utilization and block_size", () => {
    const base = { model: "llama-3-8b", gpu: "h100", tensor_parallel: 1 };
    expect(numGpuBlocks({ ...base, gpu_memory_utilization: 0.5 })).toBeLessThan(numGpuBlocks(base));
    const b16 = numGpuBlocks(base);
    const b32 = numGpuBlocks({ ...base, block_size: 32 });
    expect(Math.abs(b32 * 2 - b16)).toBeLessThanOrEqual(1);
  });

  it("raises an InputError when the weights do not fit", () => {
    const at = { model: "llama-2-70b", gpu: "h100-80gb", tensor_parallel: 1, where: "cluster.yaml: instances[0]" };
    expect(() => numGpuBlocks(at)).toThrow(InputError);
    expect(() => numGpuBlocks(at)).toThrow(
      /^cluster\.yaml: instances\[0\]: llama-2-70b needs 1[23]\d\.\d GiB per GPU at tensor_parallel 1 .*but h100-80gb offers 79\.6 GiB × 0\.9.*raise tensor_parallel/,
    );
    expect(numGpuBlocks({ ...at, tensor_parallel: 4 })).toBeGreaterThan(10_000);
  });

  it("names the field of a bad option", () => {
    const base = { model: "llama-3-8b", gpu: "h100", tensor_parallel: 1, where: "c.yaml: instances[2]" };
    expect(() => numGpuBlocks({ ...base, gpu_memory_utilization: 1.2 })).toThrow(/^c\.yaml: instances\[2\]\.gpu_memory_utilization: /);
    expect(() => numGpuBlocks({ ...base, block_size: 0 })).toThrow(/^c\.yaml: instances\[2\]\.block_size: /);
    expect(() => numGpuBlocks({ ...base, tensor_parallel: 3 })).toThrow(/^c\.yaml: instances\[2\]\.tensor_parallel: /);
    expect(() => numGpuBlocks({ ...base, model: "gpt-4" })).toThrow(/^c\.yaml: instances\[2\]\.model: model "gpt-4"/);
  });
});
