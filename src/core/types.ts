/** Domain types shared by the core, both hosts and the trace readers. One time unit: seconds. */

/** A run of prompt tokens whose content is identified by `key`. Two calls whose prompts start with
 *  the same sequence of keyed segments share that prefix (and its KV blocks). A segment without a key
 *  is unique content that nothing else can share. */
export interface PromptSegment {
  key?: string;
  tokens: number;
}

/** One request as a trace describes it, before it enters the controller. */
export interface RequestSpec {
  id: string;
  arrival_s: number;
  prompt_tokens: number;
  output_tokens: number;
  /** How the prompt is composed; omitted means one unique segment of `prompt_tokens`. When given,
   *  the tokens of the segments sum to `prompt_tokens`. */
  segments?: PromptSegment[];
  /** Model name the request targets; omitted means any instance may serve it. */
  model?: string;
  tenant?: string;
  /** Lower runs first (vLLM's convention for per-request priority). */
  priority?: number;
}

/** An LLM call inside the controller: a request plus the identity it carries through the system. */
export interface LlmCall {
  id: string;
  arrival_s: number;
  prompt_tokens: number;
  output_tokens: number;
  segments: PromptSegment[];
  model?: string;
  tenant?: string;
  priority?: number;
  /** Key of this call's output as a prompt segment of later calls; undefined = nobody reuses it. */
  output_key?: string;
  /** Set for calls that are steps of a workflow. */
  workflow_id?: string;
  step_id?: string;
  agent?: string;
  priority_class?: "high" | "medium" | "low";
}

export type CallStatus = "finished" | "failed" | "rejected";

/** What the server reports when a call finishes (OpenAI `usage`). */
export interface CallUsage {
  prompt_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  /** Times the engine preempted the call (sim: exact; live: unknown → 0). */
  preemptions: number;
}

/** What a router can observe of an instance: the scraped /metrics of a vLLM server. Cumulative
 *  counters (prefix_*, preemptions) are totals since the instance started. */
export interface InstanceSnapshot {
  instance: string;
  at_s: number;
  running: number;
  waiting: number;
  /** Fraction of KV blocks in use, 0..1 (vllm:kv_cache_usage_perc). */
  kv_usage: number;
  prefix_queried_tokens: number;
  prefix_hit_tokens: number;
  /** prefix_hit_tokens by the KV tier the hit came from (sim; absent when unknown, as in live,
   *  where the recorder reports all hits as GPU hits). They add up to prefix_hit_tokens. */
  gpu_hit_tokens?: number;
  cpu_hit_tokens?: number;
  disk_hit_tokens?: number;
  preemptions: number;
  awake: boolean;
  /** KV capacity now, in tokens, when it can change (elastic KV, sleep); absent = the spec's. */
  kv_capacity_tokens?: number;
}

/** Static description of one serving instance, as the cluster config names it. */
export interface InstanceSpec {
  id: string;
  model: string;
  gpu: string;
  tensor_parallel: number;
  max_model_len: number;
  /** KV capacity in tokens (num_gpu_blocks × block_size); known to a live router from
   *  vllm:cache_config_info. */
  kv_capacity_tokens: number;
  /** The config group the instance belongs to (autoscaling acts per group). */
  group?: string;
  /** How the instance starts: running, or a stopped spare an autoscaler may start. */
  initial_state?: "awake" | "stopped";
}
