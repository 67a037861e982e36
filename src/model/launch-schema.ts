import { z } from "zod";

/** An engine command: one string (split into words as a shell would, quotes kept together, nothing
 *  expanded) or the words as a list. `{placeholders}` are filled per instance (docs/launch.md). */
export const CommandTemplateSchema = z.union([z.string().min(1), z.array(z.string()).min(1)]);

/** Which engine's default command template to use: vLLM's OpenAI server, or `tandem emulate`. */
export const LaunchEngineSchema = z.enum(["vllm", "emulate"]);

/** What a group may set for its own instances, over the cluster's `launch`. */
export const GroupLaunchSchema = z.strictObject({
  engine: LaunchEngineSchema.optional(),
  command: CommandTemplateSchema.optional(),
  /** Words appended after the command (after the cluster's `args`). */
  args: z.array(z.string()).optional(),
  /** Environment of the engine process, over the cluster's `env` and the launcher's own. */
  env: z.record(z.string(), z.string()).optional(),
  /** What the engine loads (`{model}`): a HuggingFace repo id or a local folder; default: the
   *  preset's repo id, or the folder of the group's config.json. */
  model: z.string().min(1).optional(),
});

/** `tandem launch` (and `live`/`gateway --launch`): how to start and supervise the engines. */
export const LaunchSchema = z.strictObject({
  engine: LaunchEngineSchema.optional(),
  command: CommandTemplateSchema.optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  /** GPUs to hand out, TP at a time, in instance order (ids as CUDA_VISIBLE_DEVICES takes them):
   *  "0,1,2,3" or a list; default: $CUDA_VISIBLE_DEVICES, else what nvidia-smi lists. */
  gpus: z.union([z.string().min(1), z.array(z.union([z.string().min(1), z.number().int().nonnegative()])).min(1)]).optional(),
  /** Address the engines listen on (and tandem connects to). */
  host: z.string().min(1).optional(),
  /** 0: a free port for each instance; N: ports N, N+1, … in instance order. */
  port: z.number().int().min(0).max(65535).optional(),
  /** One log file per instance goes here (relative to the config file). */
  log_dir: z.string().min(1).optional(),
  /** Seconds to wait for every engine's GET /health after starting it. */
  health_timeout_s: z.number().positive().optional(),
  /** Seconds from SIGTERM to an engine's process group until SIGKILL. */
  stop_timeout_s: z.number().positive().optional(),
  /** Restart of an engine that dies after it was healthy: the wait doubles from initial_backoff_s up
   *  to max_backoff_s, and resets once the engine stayed healthy reset_after_s. */
  restart: z
    .strictObject({
      max_restarts: z.number().int().nonnegative().optional(),
      initial_backoff_s: z.number().nonnegative().optional(),
      max_backoff_s: z.number().nonnegative().optional(),
      reset_after_s: z.number().positive().optional(),
    })
    .optional(),
});

export type GroupLaunch = z.infer<typeof GroupLaunchSchema>;
export type LaunchConfig = z.infer<typeof LaunchSchema>;
export type CommandTemplate = z.infer<typeof CommandTemplateSchema>;
export type LaunchEngine = z.infer<typeof LaunchEngineSchema>;
