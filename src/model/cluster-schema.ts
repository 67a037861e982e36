import { z } from "zod";
import { GroupLaunchSchema, LaunchSchema } from "./launch-schema.ts";

const positiveInt = z.number().int().positive();

/** Engine knobs, each optional: a group's values override the cluster-wide ones, which override
 *  vLLM's defaults. Names as in vLLM's engine arguments. */
export const EngineOverridesSchema = z.strictObject({
  max_num_batched_tokens: positiveInt.optional(),
  max_num_seqs: positiveInt.optional(),
  block_size: positiveInt.optional(),
  gpu_memory_utilization: z.number().gt(0).lte(1).optional(),
  max_model_len: positiveInt.optional(),
  enable_chunked_prefill: z.boolean().optional(),
  enable_prefix_caching: z.boolean().optional(),
  scheduling_policy: z.enum(["fcfs", "priority"]).optional(),
  num_gpu_blocks_override: positiveInt.optional(),
  max_waiting: positiveInt.optional(),
  /** KV tiers below the GPU prefix cache (docs/engine.md): capacities in blocks (0 = off) and
   *  transfer bandwidths to the GPU. */
  cpu_kv_blocks: z.number().int().nonnegative().optional(),
  disk_kv_blocks: z.number().int().nonnegative().optional(),
  cpu_bandwidth_bytes_per_s: z.number().positive().finite().optional(),
  disk_bandwidth_bytes_per_s: z.number().positive().finite().optional(),
  /** Prefix-aware admission among the first N waiting requests; 0 = off. */
  waiting_reorder_window: z.number().int().nonnegative().optional(),
  enable_prefetch: z.boolean().optional(),
  /** Simulator: seconds from dispatch until the engine holds the request (network + API server). */
  api_latency_s: z.number().nonnegative().finite().optional(),
});

/** How step times are computed: the analytic roofline (default), the step-time model with the shipped
 *  per-GPU fitted coefficients, or a fitted model file. */
export const LatencySchema = z.union([
  z.strictObject({ kind: z.literal("roofline") }),
  z.strictObject({ kind: z.literal("step") }),
  z.strictObject({ kind: z.literal("fitted"), file: z.string().min(1) }),
]);

/** A group of identical instances. */
export const InstanceGroupSchema = z.strictObject({
  /** Instance ids are `<name>-<i>` (or `<name>` when count is 1); default: the model name. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, "expected letters, digits, '.', '_' or '-'")
    .optional(),
  model: z.string().min(1),
  gpu: z.string().min(1),
  tensor_parallel: positiveInt.default(1),
  count: positiveInt.default(1),
  engine: EngineOverridesSchema.optional(),
  latency: LatencySchema.optional(),
  /** Instances with the same `colocate` name share one set of GPUs (same gpu and tensor_parallel):
   *  their KV pools split what the awake ones' weights leave free, and grow when one sleeps. */
  colocate: z.string().min(1).optional(),
  /** With lifecycle.autoscale: the group may grow to this many instances (the extra ones start
   *  stopped, as spares); default = count. */
  max_count: positiveInt.optional(),
  /** Live mode: base URLs of this group's servers (http://host:port), one per instance. */
  endpoints: z.array(z.string().url()).optional(),
  /** Live mode: the name the servers serve the model under (vLLM --served-model-name); default `model`. */
  served_model_name: z.string().min(1).optional(),
  /** `tandem launch`: this group's engine command, args, env and model, over the cluster's `launch`. */
  launch: GroupLaunchSchema.optional(),
});

/** A policy by name, or by name with parameters (checked by the policy's own schema). */
export const PolicyChoiceSchema = z.union([z.string().min(1), z.strictObject({ name: z.string().min(1), params: z.record(z.string(), z.unknown()).optional() })]);

const SloTargetsSchema = z.strictObject({
  ttft_s: z.number().positive().optional(),
  tpot_s: z.number().positive().optional(),
  e2e_s: z.number().positive().optional(),
});

/** The run's latency targets, and optionally per-class targets: calls grouped by `class_by` (their
 *  workflow's priority class, or their tenant); a class's targets override the run's. */
export const SloSchema = SloTargetsSchema.extend({
  class_by: z.enum(["priority_class", "tenant"]).optional(),
  classes: z.record(z.string().min(1), SloTargetsSchema).optional(),
}).refine((s) => s.class_by === undefined || s.classes !== undefined, { message: "class_by needs classes (class name → targets)", path: ["class_by"] });

export const ClusterConfigSchema = z.strictObject({
  instances: z.array(InstanceGroupSchema).min(1),
  engine: EngineOverridesSchema.optional(),
  latency: LatencySchema.optional(),
  slo: SloSchema.optional(),
  policies: z
    .strictObject({
      scheduling: PolicyChoiceSchema.optional(),
      dispatch: PolicyChoiceSchema.optional(),
      /** Live and gateway: the dispatch policy that takes a call over when a policy file's code
       *  throws (default least-outstanding; docs/writing-policies.md). */
      fallback_dispatch: PolicyChoiceSchema.optional(),
    })
    .optional(),
  observability: z
    .strictObject({
      mode: z.enum(["scraped", "oracle"]).optional(),
      interval_s: z.number().positive().optional(),
    })
    .optional(),
  seed: z.number().int().nonnegative().optional(),
  /** `tandem launch` and `live`/`gateway --launch`: how to start and supervise the engines (docs/launch.md). */
  launch: LaunchSchema.optional(),
  /** Lifecycle policies: kvcached-style sleep/wake of idle models, and autoscaling. */
  lifecycle: z
    .strictObject({
      sleep: z
        .strictObject({
          idle_s: z.number().positive().default(30),
          min_sleep_s: z.number().nonnegative().default(0),
          wake_latency_s: z.number().nonnegative().default(2),
          min_awake_per_model: z.number().int().nonnegative().default(0),
        })
        .optional(),
      autoscale: z
        .strictObject({
          queue_per_instance: z.number().positive().default(8),
          kv_usage: z.number().gt(0).lte(1).default(0.9),
          idle_s: z.number().positive().default(60),
          min_instances: z.number().int().nonnegative().default(1),
          cooldown_s: z.number().nonnegative().default(10),
          startup_s: z.number().nonnegative().default(30),
        })
        .optional(),
    })
    .optional(),
});

export type ClusterConfig = z.infer<typeof ClusterConfigSchema>;
export type InstanceGroup = z.infer<typeof InstanceGroupSchema>;
export type EngineOverrides = z.infer<typeof EngineOverridesSchema>;

/** The cluster `tandem sim` runs when no --config is given: 4 × Llama-3.1-8B on H100 (max_model_len 131,072 by vLLM's rule). */
export const DEFAULT_CLUSTER: ClusterConfig = {
  instances: [{ name: "llama-3.1-8b", model: "llama-3.1-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 4 }],
  slo: { ttft_s: 2, tpot_s: 0.1 },
};
