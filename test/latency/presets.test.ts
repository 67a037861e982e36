import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { gpuNames, gpuSpec } from "../../src/model/gpus.ts";
import { lmHeadParams, modelNames, modelSpec, residentMatmulParams } from "../../src/model/models.ts";
import { kvHeadsPerGpu, validateTensorParallel } from "../../src/model/parallel.ts";

describe("model presets", () => {
  it("has the presets the simulator needs", () => {
    expect(modelNames()).toEqual([
      "llama-2-7b",
      "llama-2-13b",
      "llama-2-70b",
      "llama-3-8b",
      "llama-3-70b",
      "qwen2.5-7b",
      "mistral-7b",
      "bloom-176b",
      "llama-3.1-8b",
      "llama-3.1-70b",
      "llama-3.1-405b",
      "llama-3.2-1b",
      "llama-3.2-3b",
      "qwen2.5-14b",
      "qwen2.5-32b",
      "qwen2.5-72b",
      "qwen3-8b",
      "qwen3-14b",
      "qwen3-32b",
      "qwen3-30b-a3b",
      "mixtral-8x7b",
      "deepseek-v2-lite",
    ]);
  });

  it.each([
    ["llama-3-8b", "llama-3-8b"],
    ["LLAMA-3-8B", "llama-3-8b"],
    ["meta-llama/Meta-Llama-3-8B", "llama-3-8b"],
    ["meta-llama/Meta-Llama-3-8B-Instruct", "llama-3-8b"],
    ["llama3-70b", "llama-3-70b"],
    ["llama2-70b", "llama-2-70b"],
    ["meta-llama/Llama-2-7b-chat-hf", "llama-2-7b"],
    ["Llama-2-13b-hf", "llama-2-13b"],
    ["Qwen/Qwen2.5-7B-Instruct", "qwen2.5-7b"],
    ["mistralai/Mistral-7B-Instruct-v0.2", "mistral-7b"],
    ["bigscience/bloom", "bloom-176b"],
    ["meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b"],
    ["meta-llama/Meta-Llama-3.1-405B", "llama-3.1-405b"],
    ["Qwen/Qwen3-30B-A3B", "qwen3-30b-a3b"],
    ["mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral-8x7b"],
    ["deepseek-ai/DeepSeek-V2-Lite-Chat", "deepseek-v2-lite"],
  ])("resolves %s to %s", (name, expected) => {
    expect(modelSpec(name).name).toBe(expected);
  });

  it("declares parameter counts that match the shapes (within 0.1%: norms and biases are left out)", () => {
    for (const name of modelNames()) {
      const m = modelSpec(name);
      const from_shapes = residentMatmulParams(m) + lmHeadParams(m) * (m.tied_embeddings ? 1 : 2);
      expect(Math.abs(from_shapes / m.params - 1), name).toBeLessThan(1e-3);
      expect(m.heads % m.kv_heads, name).toBe(0);
    }
    // Qwen3 sets head_dim apart from hidden / heads.
    expect(modelSpec("qwen3-32b").heads * modelSpec("qwen3-32b").head_dim).toBe(8192);
    expect(modelSpec("qwen3-32b").hidden_size).toBe(5120);
  });

  it("uses grouped-query attention where the configs do", () => {
    expect(modelSpec("llama-2-70b").kv_heads).toBe(8);
    expect(modelSpec("llama-2-7b").kv_heads).toBe(32);
    expect(modelSpec("bloom-176b").gated_mlp).toBe(false);
  });

  it("rejects unknown names with the field path and the valid choices", () => {
    expect(() => modelSpec("gpt-4", "cluster.yaml: instances[0].model")).toThrow(InputError);
    expect(() => modelSpec("gpt-4", "cluster.yaml: instances[0].model")).toThrow(
      /^cluster\.yaml: instances\[0\]\.model: model "gpt-4": unknown; expected one of llama-2-7b, .*deepseek-v2-lite$/,
    );
    expect(() => modelSpec("llama-3.3-8b")).toThrow(/^model "llama-3.3-8b": unknown/);
    expect(() => modelSpec("mistral-7b-v0.3")).toThrow(InputError);
  });
});

describe("GPU presets", () => {
  it.each([
    ["a100", "a100-80gb"],
    ["A100-80GB", "a100-80gb"],
    ["NVIDIA A100-SXM4-80GB", "a100-80gb"],
    ["a100-40g", "a100-40gb"],
    ["h100", "h100-80gb"],
    ["H100-80GB", "h100-80gb"],
    ["NVIDIA H100 80GB HBM3", "h100-80gb"],
    ["H200", "h200"],
    ["nvidia-l40s", "l40s"],
    ["NVIDIA B200", "b200"],
    ["NVIDIA H100 PCIe", "h100-pcie"],
    ["h100-pcie-80gb", "h100-pcie"],
    ["NVIDIA L4", "l4"],
    ["NVIDIA A10G", "a10g"],
    ["AMD Instinct MI300X", "mi300x"],
    ["mi300x", "mi300x"],
  ])("resolves %s to %s", (name, expected) => {
    expect(gpuSpec(name).name).toBe(expected);
  });

  it("orders the parts by bandwidth as their datasheets do", () => {
    const bw = (n: string) => gpuSpec(n).mem_bandwidth_bytes_per_s;
    expect(bw("l40s")).toBeLessThan(bw("a100-40gb"));
    expect(bw("a100-40gb")).toBeLessThan(bw("a100-80gb"));
    expect(bw("a100-80gb")).toBeLessThan(bw("h100-80gb"));
    expect(bw("h100-80gb")).toBeLessThan(bw("h200"));
    expect(bw("h200")).toBeLessThan(bw("mi300x"));
    expect(bw("mi300x")).toBeLessThan(bw("b200"));
    expect(bw("l4")).toBeLessThan(bw("a10g"));
    expect(bw("h100-pcie")).toBeLessThan(bw("h100-80gb"));
    expect(gpuNames()).toEqual(["a100-80gb", "a100-40gb", "h100-80gb", "h200", "l40s", "b200", "h100-pcie", "l4", "a10g", "mi300x"]);
  });

  it("gives dense FP8 peaks at twice FP16 where the part has FP8 tensor cores, none on Ampere", () => {
    for (const name of ["h100-80gb", "h200", "l40s", "b200", "h100-pcie", "l4", "mi300x"]) {
      const g = gpuSpec(name);
      expect(g.peak_fp8_flops! / g.peak_fp16_flops, name).toBeCloseTo(2, 1);
    }
    expect(gpuSpec("h100").peak_fp8_flops).toBe(1979e12);
    for (const name of ["a100-80gb", "a100-40gb", "a10g"]) expect(gpuSpec(name).peak_fp8_flops, name).toBeUndefined();
  });

  it("rejects unknown names with the field path", () => {
    expect(() => gpuSpec("tpu-v5", "cluster.yaml: instances[1].gpu")).toThrow(/^cluster\.yaml: instances\[1\]\.gpu: gpu "tpu-v5": unknown; expected one of a100-80gb, /);
    expect(() => gpuSpec("h100-nvl")).toThrow(InputError);
  });
});

describe("tensor parallelism", () => {
  it("accepts splits of heads, and replicated KV heads beyond kv_heads", () => {
    const m = modelSpec("llama-3-8b"); // 32 heads, 8 KV heads
    for (const tp of [1, 2, 4, 8, 16, 32]) expect(() => validateTensorParallel(m, tp)).not.toThrow();
    expect(kvHeadsPerGpu(m, 4)).toBe(2);
    expect(kvHeadsPerGpu(m, 16)).toBe(1);
  });

  it("rejects splits that do not divide the heads", () => {
    const m = modelSpec("qwen2.5-7b"); // 28 heads, 4 KV heads
    expect(() => validateTensorParallel(m, 3, "c.yaml: instances[0].tensor_parallel")).toThrow(
      /^c\.yaml: instances\[0\]\.tensor_parallel: tensor_parallel 3 does not divide qwen2\.5-7b's 28 attention heads/,
    );
    expect(() => validateTensorParallel(m, 14)).toThrow(/KV heads/); // 14 divides 28 but is no multiple of 4
    expect(() => validateTensorParallel(m, 0)).toThrow(/positive integer/);
    expect(() => validateTensorParallel(m, 1.5)).toThrow(/positive integer/);
  });
});
