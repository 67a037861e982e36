import type { EngineOverrides } from "../../src/model/cluster-schema.ts";

/** Engine knobs as vLLM command-line flags: only the knobs the config sets (a knob left out keeps
 *  vLLM's own default, as the config's docs promise), in a fixed order. Knobs vLLM has no flag for
 *  (max_waiting, the KV tiers, api_latency_s, waiting_reorder_window, enable_prefetch) describe
 *  the simulated engine only and are not passed. */
export function vllmEngineFlags(engine: EngineOverrides): string[] {
  const flags: string[] = [];
  const value = (flag: string, v: number | string | undefined) => {
    if (v !== undefined) flags.push(flag, String(v));
  };
  const toggle = (name: string, v: boolean | undefined) => {
    // vLLM's boolean flags take --X / --no-X (argparse BooleanOptionalAction).
    if (v !== undefined) flags.push(v ? `--${name}` : `--no-${name}`);
  };
  value("--max-num-seqs", engine.max_num_seqs);
  value("--max-num-batched-tokens", engine.max_num_batched_tokens);
  value("--block-size", engine.block_size);
  value("--gpu-memory-utilization", engine.gpu_memory_utilization);
  value("--max-model-len", engine.max_model_len);
  toggle("enable-chunked-prefill", engine.enable_chunked_prefill);
  toggle("enable-prefix-caching", engine.enable_prefix_caching);
  value("--scheduling-policy", engine.scheduling_policy);
  value("--num-gpu-blocks-override", engine.num_gpu_blocks_override);
  return flags;
}
