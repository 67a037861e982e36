import { normaliseModelName } from "../../src/model/models.ts";

/** The HuggingFace checkpoint `tandem launch` serves for each model preset: the instruction-tuned
 *  release where there is one (agents chat), which has the preset's shapes. A group picks another
 *  checkpoint with `launch.model`. */
export const PRESET_HF_REPOS: Readonly<Record<string, string>> = {
  "llama-2-7b": "meta-llama/Llama-2-7b-chat-hf",
  "llama-2-13b": "meta-llama/Llama-2-13b-chat-hf",
  "llama-2-70b": "meta-llama/Llama-2-70b-chat-hf",
  "llama-3-8b": "meta-llama/Meta-Llama-3-8B-Instruct",
  "llama-3-70b": "meta-llama/Meta-Llama-3-70B-Instruct",
  "llama-3.1-8b": "meta-llama/Llama-3.1-8B-Instruct",
  "llama-3.1-70b": "meta-llama/Llama-3.1-70B-Instruct",
  "llama-3.1-405b": "meta-llama/Llama-3.1-405B-Instruct",
  "llama-3.2-1b": "meta-llama/Llama-3.2-1B-Instruct",
  "llama-3.2-3b": "meta-llama/Llama-3.2-3B-Instruct",
  "qwen2.5-7b": "Qwen/Qwen2.5-7B-Instruct",
  "qwen2.5-14b": "Qwen/Qwen2.5-14B-Instruct",
  "qwen2.5-32b": "Qwen/Qwen2.5-32B-Instruct",
  "qwen2.5-72b": "Qwen/Qwen2.5-72B-Instruct",
  "qwen3-8b": "Qwen/Qwen3-8B",
  "qwen3-14b": "Qwen/Qwen3-14B",
  "qwen3-32b": "Qwen/Qwen3-32B",
  "qwen3-30b-a3b": "Qwen/Qwen3-30B-A3B",
  // v0.2: v0.3 grew the vocabulary, which the preset does not have.
  "mistral-7b": "mistralai/Mistral-7B-Instruct-v0.2",
  "mixtral-8x7b": "mistralai/Mixtral-8x7B-Instruct-v0.1",
  "bloom-176b": "bigscience/bloom",
  "deepseek-v2-lite": "deepseek-ai/DeepSeek-V2-Lite-Chat",
};

/** The repo id to serve for a model as a config names it: a repo id (`org/name`, e.g.
 *  meta-llama/Meta-Llama-3-8B) is kept as written; a preset name (aliases accepted) maps to its
 *  checkpoint; undefined when neither. */
export function hfRepoFor(model: string): string | undefined {
  if (model.includes("/")) return model;
  return PRESET_HF_REPOS[normaliseModelName(model)];
}
