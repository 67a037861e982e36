/** vLLM's API surface by generation, as tandem uses it (docs/live.md, "vLLM generations"): what
 *  each generation calls its metrics, how it treats `priority`, which request fields and
 *  endpoint parameters it knows. The live client follows this table, and the emulator's
 *  `--vllm-version` imitates it, so every row is tested. */

export type VllmGeneration = "v0" | "v1-early" | "v1";

export interface VllmVersion {
  major: number;
  minor: number;
  patch: number;
  /** As /version gave it, e.g. "0.11.0" or "0.10.2rc2.dev1+g1234". */
  text: string;
}

/** Oldest release tandem knows; older ones are refused. */
export const OLDEST_SUPPORTED = "0.6.0";
/** The release the emulator imitates by default (current V1). */
export const DEFAULT_EMULATED_VERSION = "0.11.0";

/** What `priority` does on a server: `honoured` (queue order under --scheduling-policy priority;
 *  V0 refuses a non-zero value under fcfs), `refused` (early V1: any non-zero value is a 400),
 *  `ignored-under-fcfs` (current V1: accepted, honoured only under priority scheduling). */
export type PriorityBehaviour = "refused-under-fcfs" | "refused" | "ignored-under-fcfs";

export interface GenerationTraits {
  generation: VllmGeneration;
  /** KV usage gauge name. */
  kv_usage_metric: "vllm:kv_cache_usage_perc" | "vllm:gpu_cache_usage_perc";
  /** Prefix-cache counters: names and unit, or none (V0 has only a hit-rate gauge). */
  prefix_counters: { queries: string; hits: string; unit: "tokens" | "blocks" } | undefined;
  /** Series carry `engine="N"` (V1). */
  engine_label: boolean;
  /** `vllm:engine_sleep_state{sleep_state=awake|weights_offloaded|discard_all}`. */
  sleep_state_metric: boolean;
  priority: PriorityBehaviour;
  /** `return_token_ids` (streamed chunks carry `token_ids`). */
  return_token_ids: boolean;
  /** `/wake_up?tags=weights|kv_cache`. */
  wake_up_tags: boolean;
  /** `/sleep?mode=abort|wait|keep` (older servers ignore the parameter). */
  sleep_mode: boolean;
  /** Error bodies `{"error": {message, type, param, code}}` (else the flat `{"object": "error", …}`). */
  nested_error_body: boolean;
  /** Over-long requests are described by `'max_tokens' … is too large` (else "you requested N tokens"). */
  max_tokens_error_text: boolean;
  /** The OpenAI server's default max_num_seqs depends on the GPU (1024 on ≥ 70 GiB non-A100). */
  max_num_seqs_by_gpu: boolean;
}

/** Parses `/version`'s string ("0.11.0", "0.10.2rc2.dev1+gabc", "v0.8.5.post1"). */
export function parseVllmVersion(text: string): VllmVersion | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (m === null) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), text: text.trim() };
}

function atLeast(v: VllmVersion, minor: number, patch = 0): boolean {
  return v.major > 0 || v.minor > minor || (v.minor === minor && v.patch >= patch);
}

/** The generation a version runs, when the version alone decides it: 0.6 is V0, 0.10 and newer
 *  V1; 0.7–0.9 ship both engines (VLLM_USE_V1), so `/metrics` decides (`engineFromMetrics`). */
export function generationOfVersion(v: VllmVersion, engine?: "v0" | "v1"): VllmGeneration {
  if (!atLeast(v, 7)) return "v0";
  if (atLeast(v, 10)) return "v1";
  if (engine === "v0") return "v0";
  return atLeast(v, 9) ? "v1" : "v1-early";
}

/** The traits of a version (and, for 0.7–0.9, the engine /metrics shows). */
export function traitsOf(v: VllmVersion, engine?: "v0" | "v1"): GenerationTraits {
  const generation = generationOfVersion(v, engine);
  const v1 = generation !== "v0";
  return {
    generation,
    // V1 renamed the gauge in 0.9 and stopped exposing the old name in 0.10.
    kv_usage_metric: v1 && atLeast(v, 9) ? "vllm:kv_cache_usage_perc" : "vllm:gpu_cache_usage_perc",
    prefix_counters: !v1
      ? undefined
      : atLeast(v, 9)
        ? { queries: "vllm:prefix_cache_queries", hits: "vllm:prefix_cache_hits", unit: "tokens" }
        : { queries: "vllm:gpu_prefix_cache_queries", hits: "vllm:gpu_prefix_cache_hits", unit: "blocks" },
    engine_label: v1,
    sleep_state_metric: v1 && atLeast(v, 11),
    priority: generation === "v0" ? "refused-under-fcfs" : generation === "v1-early" ? "refused" : "ignored-under-fcfs",
    return_token_ids: v1 && atLeast(v, 10, 2),
    wake_up_tags: atLeast(v, 8, 5),
    sleep_mode: atLeast(v, 11, 1),
    nested_error_body: atLeast(v, 10),
    max_tokens_error_text: atLeast(v, 10),
    max_num_seqs_by_gpu: v1 && atLeast(v, 9),
  };
}

/** 0.7–0.9 run V0 or V1: V1's series carry an `engine` label, V0's never do; V0 also has
 *  `vllm:num_requests_swapped`. Undefined when the page says neither. */
export function engineFromMetrics(page: { hasFamily(name: string): boolean; hasEngineLabel: boolean }): "v0" | "v1" | undefined {
  if (page.hasEngineLabel) return "v1";
  if (page.hasFamily("vllm:num_requests_swapped") || page.hasFamily("vllm:gpu_prefix_cache_hit_rate")) return "v0";
  return undefined;
}

/** GiB of device memory from which vLLM's OpenAI server defaults to 1024 sequences (V1, 0.9+),
 *  except on A100s (vllm/engine/arg_utils.py, get_batch_defaults). */
const LARGE_GPU_GIB = 70;

/** vLLM's default `max_num_seqs` for the OpenAI server on this GPU: 1024 on GPUs with ≥ 70 GiB
 *  that are not A100 (H100, H200, B200, MI300X), else 256; always 256 before V1 0.9. */
export function defaultMaxNumSeqs(gpu: { name: string; memory_bytes: number }, traits: Pick<GenerationTraits, "max_num_seqs_by_gpu">): number {
  if (!traits.max_num_seqs_by_gpu) return 256;
  const gib = gpu.memory_bytes / 2 ** 30;
  return gib >= LARGE_GPU_GIB && !gpu.name.toLowerCase().includes("a100") ? 1024 : 256;
}

/** Whether a call's `priority` may be sent to a server: only where it is honoured, i.e. the
 *  server runs --scheduling-policy priority and is not early V1 (which refuses any non-zero
 *  priority). `reason` says why not. */
export function priorityDecision(traits: Pick<GenerationTraits, "priority" | "generation">, priorityScheduling: boolean): { send: boolean; reason: string } {
  if (!priorityScheduling) return { send: false, reason: "the config's scheduling_policy is not priority" };
  if (traits.priority === "refused") return { send: false, reason: 'vLLM V1 before 0.9 refuses any non-zero priority ("V1 does not support priority yet")' };
  return { send: true, reason: "the server runs --scheduling-policy priority" };
}
