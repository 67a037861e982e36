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

/** Default for `engine.api_latency_s` (one-way seconds): what vLLM's OpenAI API server
 *  adds between the router and the engine core — HTTP parsing, tokenisation, the hop to the engine
 *  process, detokenisation and the SSE write. 1.5 ms one-way (3 ms round trip): on the default
 *  cluster, `tandem parity --app qa-router --rate 4 --count 60` measured live TTFT p50 16.9 ms
 *  against the simulator's 11.3 ms with 0, while the simulator gives 16.6 / 16.7 / 16.8 / 17.1 /
 *  18.1 ms with 0.5 / 1 / 1.5 / 2 / 3 ms (E2E moves by < 0.5%). Most of the gap is not the latency
 *  itself but its effect: a follow-up call that lands just after a step started waits for the next
 *  step, where with 0 it joins the step that starts at its dispatch. Idle GET /health round trips
 *  to the emulator measure 0.8–2 ms (0.4–1 ms one-way); vLLM does at least that work, plus
 *  tokenisation and the engine-core hop, so 1.5 ms is a lower-middle estimate for a real server.
 *  Live runs measure their own (docs/live.md, "API latency"). */
export const VLLM_API_LATENCY_S = 0.0015;

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
  api_latency_s: VLLM_API_LATENCY_S,
};
