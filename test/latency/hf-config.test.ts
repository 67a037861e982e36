import { readFileSync } from "node:fs";
import { LLAMA_31_8B_CONFIG } from "../helpers/hf-configs.ts";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { modelSpecFromHfConfig } from "../../src/model/hf-config.ts";
import { kvBytesPerToken, kvBytesPerTokenPerGpu, weightBytesPerGpu } from "../../src/model/memory.ts";
import { activeMatmulParamsPerToken, lmHeadParams, modelSpec, residentMatmulParams, residentWeightBytes } from "../../src/model/models.ts";
import { sharedData } from "../helpers/requirements.ts";
import { sharedDataFile } from "../helpers/shared-data.ts";

/** The shared config.json of `folder`, parsed, or undefined (the test skips) without ../shared/data. */
function sharedConfig(folder: string): Record<string, unknown> | undefined {
  const file = sharedDataFile(`models/${folder}/config.json`);
  return file === undefined ? undefined : JSON.parse(readFileSync(file, "utf8"));
}

function imported(folder: string) {
  const doc = sharedConfig(folder);
  return doc === undefined ? undefined : modelSpecFromHfConfig(doc, `${folder}/config.json`, folder);
}

/** A minimal Llama config; tests change one field at a time. */
const LLAMA = LLAMA_31_8B_CONFIG;

describe("config.json importer against the shared configs", () => {
  // Each test reads ../shared/data/models: it skips with a message without it (fails under TANDEM_REQUIRE_ALL=1).
  const models = sharedData("models");
  // Total parameters from the model cards (HuggingFace safetensors counts).
  const cards: [string, string, number][] = [
    ["llama-3.1-8b-instruct", "llama-3.1-8b", 8.03e9],
    ["llama-2-7b-hf", "llama-2-7b", 6.74e9],
    ["codellama-34b-instruct-hf", "codellama-34b-instruct-hf", 33.7e9],
    ["qwen3-14b", "qwen3-14b", 14.8e9],
    ["qwen3-30b-a3b", "qwen3-30b-a3b", 30.5e9],
    ["mixtral-8x7b-v0.1", "mixtral-8x7b", 46.7e9],
    ["deepseek-v2-lite", "deepseek-v2-lite", 15.7e9],
  ];
  for (const [folder, name, card] of cards)
    models.it(`${folder}: named ${name}, params within 1% of the model card's ${card}`, () => {
      const spec = imported(folder)!;
      expect(spec.name).toBe(name);
      expect(Math.abs(spec.params / card - 1)).toBeLessThan(0.01);
    });

  const presets: [string, string][] = [
    ["llama-3.1-8b-instruct", "llama-3.1-8b"],
    ["llama-2-7b-hf", "llama-2-7b"],
    ["qwen3-14b", "qwen3-14b"],
    ["qwen3-30b-a3b", "qwen3-30b-a3b"],
    ["mixtral-8x7b-v0.1", "mixtral-8x7b"],
    ["deepseek-v2-lite", "deepseek-v2-lite"],
  ];
  for (const [folder, preset] of presets)
    models.it(`the ${preset} preset equals what the importer reads from ${folder}/config.json`, () => {
      const spec = imported(folder)!;
      expect(spec).toEqual(modelSpec(preset));
    });

  models.it("reads Llama-3.1-8B: GQA, 128k context, bf16, untied", () => {
    const m = imported("llama-3.1-8b-instruct")!;
    expect(m).toMatchObject({ layers: 32, heads: 32, kv_heads: 8, head_dim: 128, max_position_embeddings: 131072, dtype_bytes: 2, tied_embeddings: false });
    expect(m.moe).toBeUndefined();
    expect(kvBytesPerToken(m)).toBe(2 * 32 * 8 * 128 * 2);
  });

  models.it("reads Qwen3's head_dim override (40 heads × 128 = hidden 5120) and no sliding window", () => {
    const m = imported("qwen3-14b")!;
    expect(m.head_dim).toBe(128);
    expect(m.sliding_window).toBeUndefined(); // use_sliding_window: false
  });

  models.it("reads Qwen3-30B-A3B: 128 experts, 8 active, ≈3.3 B active parameters", () => {
    const m = imported("qwen3-30b-a3b")!;
    expect(m.moe).toEqual({ experts: 128, active_experts: 8, expert_intermediate_size: 768, shared_experts: 0, shared_intermediate_size: 0, dense_layers: 0 });
    expect(m.head_dim).toBe(128); // not hidden / heads = 64
    const active = activeMatmulParamsPerToken(m) + 2 * lmHeadParams(m);
    expect(Math.abs(active / 3.3e9 - 1)).toBeLessThan(0.03);
    // All experts are resident: the weights are the 30.5 B total, not the active 3.3 B.
    expect(residentWeightBytes(m)).toBe(m.params * 2);
    expect(weightBytesPerGpu(m, 2)).toBe(m.params);
  });

  models.it("reads Mixtral: 8 experts of the full MLP width, 2 active (≈12.9 B active)", () => {
    const m = imported("mixtral-8x7b-v0.1")!;
    expect(m.moe).toMatchObject({ experts: 8, active_experts: 2, expert_intermediate_size: 14336, dense_layers: 0 });
    const active = activeMatmulParamsPerToken(m) + 2 * lmHeadParams(m);
    expect(Math.abs(active / 12.9e9 - 1)).toBeLessThan(0.01);
    expect(m.sliding_window).toBeUndefined(); // "sliding_window": null
  });

  models.it("reads DeepSeek-V2-Lite: MLA latent 512 + rope 64, 64 routed + 2 shared experts, first layer dense", () => {
    const m = imported("deepseek-v2-lite")!;
    expect(m.mla).toEqual({ kv_lora_rank: 512, qk_rope_head_dim: 64, qk_nope_head_dim: 128, v_head_dim: 128, q_lora_rank: null });
    expect(m.moe).toEqual({ experts: 64, active_experts: 6, expert_intermediate_size: 1408, shared_experts: 2, shared_intermediate_size: 1408, dense_layers: 1 });
    // One 576-element latent per layer, 2 bytes each: 27 × 576 × 2.
    expect(kvBytesPerToken(m)).toBe(27 * 576 * 2);
    // vLLM keeps the whole latent on every TP rank.
    expect(kvBytesPerTokenPerGpu(m, 4)).toBe(27 * 576 * 2);
    expect(residentMatmulParams(m)).toBeGreaterThan(activeMatmulParamsPerToken(m) * 5);
  });
});

describe("config.json importer, hand-made configs", () => {
  const read = (doc: unknown, name = "my-model") => modelSpecFromHfConfig(doc, "m/config.json", name);

  it("counts a Llama's parameters exactly as the model card does (8,030,261,248)", () => {
    expect(read(LLAMA).params).toBe(8_030_261_248);
  });

  it("names the model after _name_or_path when present, else the folder, lower-cased", () => {
    expect(read(LLAMA, "My-Finetune").name).toBe("my-finetune");
    expect(read({ ...LLAMA, _name_or_path: "meta-llama/Llama-3.1-8B-Instruct" }).name).toBe("llama-3.1-8b");
    expect(read({ ...LLAMA, _name_or_path: "/ckpt/Run-7/" }).name).toBe("run-7");
  });

  it("ties the LM head to the embeddings when tie_word_embeddings is true", () => {
    const untied = read(LLAMA);
    const tied = read({ ...LLAMA, tie_word_embeddings: true });
    expect(tied.tied_embeddings).toBe(true);
    expect(untied.params - tied.params).toBe(128256 * 4096);
  });

  it("adds Qwen2's q/k/v biases, and keeps a sliding window only with use_sliding_window", () => {
    const qwen2 = { ...LLAMA, architectures: ["Qwen2ForCausalLM"], sliding_window: 4096 };
    expect(read(qwen2).params - read(LLAMA).params).toBe(32 * (4096 + 2 * 1024));
    expect(read(qwen2).sliding_window).toBeUndefined();
    expect(read({ ...qwen2, use_sliding_window: true }).sliding_window).toBe(4096);
    expect(read({ ...LLAMA, architectures: ["MistralForCausalLM"], sliding_window: 4096 }).sliding_window).toBe(4096);
  });

  it("reads FP8 checkpoints as one byte per weight, the KV cache in the model dtype", () => {
    const fp8 = read({ ...LLAMA, quantization_config: { quant_method: "fp8", weight_block_size: [128, 128] } });
    expect(fp8.weight_dtype_bytes).toBe(1);
    expect(residentWeightBytes(fp8)).toBe(fp8.params);
    expect(kvBytesPerToken(fp8)).toBe(kvBytesPerToken(read(LLAMA)));
    // An FP8 KV cache (vLLM --kv-cache-dtype fp8) halves the KV bytes.
    expect(kvBytesPerToken({ ...fp8, kv_dtype_bytes: 1 })).toBe(kvBytesPerToken(read(LLAMA)) / 2);
  });

  it("serves float16, bfloat16 and float32 checkpoints in 16 bits, as vLLM's dtype auto does", () => {
    expect(read({ ...LLAMA, torch_dtype: "float16" }).dtype_bytes).toBe(2);
    expect(read({ ...LLAMA, torch_dtype: "float32" }).dtype_bytes).toBe(2);
    const { torch_dtype: _, ...no_dtype } = LLAMA;
    expect(read(no_dtype).dtype_bytes).toBe(2);
    expect(read({ ...no_dtype, dtype: "bfloat16" }).dtype_bytes).toBe(2);
  });

  it("counts DeepSeek-V3-style low-rank queries and router score biases", () => {
    const v3 = {
      architectures: ["DeepseekV3ForCausalLM"],
      hidden_size: 7168,
      num_hidden_layers: 61,
      num_attention_heads: 128,
      num_key_value_heads: 128,
      intermediate_size: 18432,
      vocab_size: 129280,
      max_position_embeddings: 163840,
      torch_dtype: "bfloat16",
      kv_lora_rank: 512,
      q_lora_rank: 1536,
      qk_rope_head_dim: 64,
      qk_nope_head_dim: 128,
      v_head_dim: 128,
      n_routed_experts: 256,
      n_shared_experts: 1,
      num_experts_per_tok: 8,
      moe_intermediate_size: 2048,
      first_k_dense_replace: 3,
      moe_layer_freq: 1,
      topk_method: "noaux_tc",
      tie_word_embeddings: false,
      quantization_config: { quant_method: "fp8" },
    };
    const m = read(v3);
    // The model card: 671 B main-model parameters (685 B with the multi-token-prediction layer).
    expect(Math.abs(m.params / 671e9 - 1)).toBeLessThan(0.01);
    // ≈37 B activated per token.
    expect(Math.abs((activeMatmulParamsPerToken(m) + 2 * lmHeadParams(m)) / 37e9 - 1)).toBeLessThan(0.03);
    expect(m.moe?.dense_layers).toBe(3);
    expect(m.weight_dtype_bytes).toBe(1);
  });

  it.each([
    [{ ...LLAMA, num_hidden_layers: 0 }, "m/config.json: num_hidden_layers: expected an integer ≥ 1 (got 0)"],
    [{ ...LLAMA, num_hidden_layers: "32" }, 'm/config.json: num_hidden_layers: expected an integer ≥ 1 (got "32")'],
    [{ ...LLAMA, hidden_size: undefined }, "m/config.json: hidden_size: expected an integer ≥ 1 (missing)"],
    [{ ...LLAMA, architectures: ["GemmaForCausalLM"] }, /^m\/config\.json: architectures: "GemmaForCausalLM" is not supported; expected one of LlamaForCausalLM, /],
    [{ ...LLAMA, architectures: undefined }, /^m\/config\.json: architectures: expected a list of model class names/],
    [{ ...LLAMA, num_key_value_heads: 5 }, "m/config.json: num_key_value_heads: 5 does not divide num_attention_heads 32"],
    [{ ...LLAMA, torch_dtype: "int8" }, /^m\/config\.json: torch_dtype: expected one of bfloat16, float16, float32 \(got "int8"\)$/],
    [{ ...LLAMA, quantization_config: { quant_method: "awq" } }, /^m\/config\.json: quantization_config\.quant_method: "awq" is not supported/],
    [{ ...LLAMA, tie_word_embeddings: "yes" }, 'm/config.json: tie_word_embeddings: expected true or false (got "yes")'],
    [{ ...LLAMA, hidden_size: 4000, num_attention_heads: 48, num_key_value_heads: 8 }, /^m\/config\.json: head_dim: missing, and hidden_size 4000 is not a multiple/],
    [{ ...LLAMA, architectures: ["MixtralForCausalLM"], num_experts_per_tok: 2 }, "m/config.json: num_local_experts: expected an integer ≥ 1 (missing)"],
    [{ ...LLAMA, architectures: ["MixtralForCausalLM"], num_local_experts: 8, num_experts_per_tok: 9 }, "m/config.json: num_experts_per_tok: 9 exceeds the 8 experts"],
    [{ ...LLAMA, architectures: ["DeepseekV2ForCausalLM"] }, "m/config.json: kv_lora_rank: expected an integer ≥ 1 (missing)"],
    [[1, 2], "m/config.json: expected a JSON object (a HuggingFace config.json)"],
  ])("rejects a bad config in one line naming the file and field (%#)", (doc, message) => {
    expect(() => read(doc)).toThrow(InputError);
    expect(() => read(doc)).toThrow(message);
  });
});
