/** vLLM engine knobs the model honours (names as in vLLM's engine arguments). */
export interface EngineConfig {
  /** Token budget of one step (prefill chunks + decodes). */
  max_num_batched_tokens: number;
  /** Most sequences in one step. */
  max_num_seqs: number;
  /** Tokens per KV block. */
  block_size: number;
  /** Fraction of GPU memory vLLM may use (weights + activations + KV). */
  gpu_memory_utilization: number;
  /** Longest prompt + output accepted; undefined = the model's context length. */
  max_model_len: number | undefined;
  enable_chunked_prefill: boolean;
  enable_prefix_caching: boolean;
  /** `fcfs` serves the waiting queue in arrival order; `priority` by the request's priority, then
   *  arrival (vLLM --scheduling-policy). Also decides who is preempted: the newest, or the lowest
   *  priority. */
  scheduling_policy: "fcfs" | "priority";
  /** Replaces the KV capacity derived from model and GPU memory (vLLM --num-gpu-blocks-override). */
  num_gpu_blocks_override: number | undefined;
  /** Waiting requests beyond this are rejected (HTTP 429 in live); undefined = unbounded. */
  max_waiting: number | undefined;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  max_num_batched_tokens: 8192,
  max_num_seqs: 256,
  block_size: 16,
  gpu_memory_utilization: 0.9,
  max_model_len: undefined,
  enable_chunked_prefill: true,
  enable_prefix_caching: true,
  scheduling_policy: "fcfs",
  num_gpu_blocks_override: undefined,
  max_waiting: undefined,
};
