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
  /** Blocks of the CPU KV tier below the GPU prefix cache (LMCache-style offload); 0 = no CPU tier.
   *  Keys evicted from the GPU move here (LRU); a hit here is swapped back in. */
  cpu_kv_blocks: number;
  /** Blocks of the disk KV tier below the CPU tier; 0 = no disk tier. CPU evictions move here (LRU),
   *  or GPU evictions directly when there is no CPU tier. */
  disk_kv_blocks: number;
  /** CPU → GPU transfer bandwidth (PCIe 4.0 ×16 is ~25 GB/s in practice). */
  cpu_bandwidth_bytes_per_s: number;
  /** Disk → GPU transfer bandwidth (a fast NVMe drive). */
  disk_bandwidth_bytes_per_s: number;
  /** Bytes of one KV block on one GPU (KV bytes per token per GPU × block_size); sim/cluster.ts
   *  derives it from the model. The default is Llama-3-8B's (128 KiB per token, 16-token blocks). */
  kv_block_bytes: number;
  /** Prefix-aware admission: the engine looks at the first N waiting requests (queue order) and
   *  admits the one with the longest cached prefix first (ties keep queue order); 0 or 1 = off. */
  waiting_reorder_window: number;
  /** Act on the controller's prefetch advice (move a known next call's prefix up from the CPU/disk
   *  tiers while its workflow's tool runs); only matters with tiers. */
  enable_prefetch: boolean;
  /** One-way seconds between the router and the engine: a dispatched request reaches the engine
   *  that much later (network, the API server's parsing), and its tokens, finish or rejection
   *  reach the router that much after the engine produced them (simulator only; a live server has
   *  its real one). A request that lands just after a step started waits for the next step, as
   *  on a real server. */
  api_latency_s: number;
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
  cpu_kv_blocks: 0,
  disk_kv_blocks: 0,
  cpu_bandwidth_bytes_per_s: 25e9,
  disk_bandwidth_bytes_per_s: 5e9,
  kv_block_bytes: 128 * 1024 * 16,
  waiting_reorder_window: 0,
  enable_prefetch: true,
  api_latency_s: 0,
};
