/** The run report (report.json): one zod schema, one TS type derived from it, for both hosts. */
import { z } from "zod";
import { InputError } from "../core/errors.ts";

export const REPORT_SCHEMA_ID = "tandem.report/v1";

// z.number() already refuses NaN and ±Infinity, so nothing non-finite can reach report.json.
const seconds = z.number().nonnegative();
const count = z.number().int().nonnegative();
const fraction = z.number().min(0).max(1);
const rate = z.number().nonnegative();

/** Resolved config and latency model travel as opaque JSON; check that they are JSON (no NaN,
 *  undefined, functions or class instances) so that writing the report cannot lose anything. */
const jsonBlob = z.unknown().superRefine((value, ctx) => {
  const bad = firstNonJson(value, []);
  if (bad !== undefined) {
    ctx.addIssue({ code: "custom", path: bad.path, message: `not JSON: ${bad.problem}` });
  }
});

export const DistributionSchema = z.strictObject({
  count,
  mean: seconds,
  p50: seconds,
  p90: seconds,
  p99: seconds,
  max: seconds,
});

export const SummarySchema = z.strictObject({
  /** First arrival → last close. */
  duration_s: seconds,
  calls: z.strictObject({ arrived: count, completed: count, failed: count, rejected: count }),
  ttft_s: DistributionSchema,
  tpot_s: DistributionSchema,
  itl_s: DistributionSchema,
  e2e_s: DistributionSchema,
  queue_s: DistributionSchema,
  throughput: z.strictObject({
    requests_per_s: rate,
    input_tokens_per_s: rate,
    output_tokens_per_s: rate,
  }),
  goodput_requests_per_s: rate,
  slo: z.strictObject({
    ttft_s: seconds.optional(),
    tpot_s: seconds.optional(),
    e2e_s: seconds.optional(),
    attainment: fraction,
  }),
  /** Per-class SLOs (config `slo.classes`): each class's targets, completed calls, calls within
   *  them, attainment and goodput. Absent when no classes are configured. */
  slo_classes: z
    .record(
      z.string(),
      z.strictObject({
        ttft_s: seconds.optional(),
        tpot_s: seconds.optional(),
        e2e_s: seconds.optional(),
        completed: count,
        met: count,
        attainment: fraction,
        goodput_requests_per_s: rate,
      }),
    )
    .optional(),
  prefix_cache: z.strictObject({
    queried_tokens: count,
    hit_tokens: count,
    hit_rate: fraction,
    /** hit_tokens by the KV tier they came from (they add up to hit_tokens); present when the
     *  instances report tiers (sim), absent when unknown (live). */
    gpu_hit_tokens: count.optional(),
    cpu_hit_tokens: count.optional(),
    disk_hit_tokens: count.optional(),
  }),
  preemptions: count,
  rejections: z.record(z.string(), count),
  failures: z.record(z.string(), count),
  /** Workflow-level results; all zero for request traces (no workflows). */
  workflows: z.strictObject({ arrived: count, completed: count, failed: count, slo_attainment: fraction }),
  workflow_makespan_s: DistributionSchema,
  /** makespan / critical path, over completed workflows with a known critical path. */
  workflow_slowdown: DistributionSchema,
});

/** Token counts: mean exact, percentiles from a log histogram (1% relative accuracy). */
export const TokenDistributionSchema = z.strictObject({
  mean: z.number().nonnegative(),
  p50: z.number().nonnegative(),
  p90: z.number().nonnegative(),
  p99: z.number().nonnegative(),
});

/** One agent's online profile at the end of the run (per app: `app/agent`). */
export const AgentSummarySchema = z.strictObject({
  agent: z.string(),
  calls: count,
  latency_s: DistributionSchema,
  queue_s: DistributionSchema,
  input_tokens: TokenDistributionSchema,
  output_tokens: TokenDistributionSchema,
});

export const InstanceSummarySchema = z.strictObject({
  id: z.string(),
  model: z.string(),
  gpu: z.string(),
  tensor_parallel: z.number().int().positive(),
  kv_capacity_tokens: count,
  dispatched: count,
  completed: count,
  failed: count,
  output_tokens: count,
  mean_ttft_s: seconds,
  mean_e2e_s: seconds,
  peak_kv_usage: fraction,
  prefix_queried_tokens: count,
  prefix_hit_tokens: count,
  prefix_hit_rate: fraction,
  /** prefix_hit_tokens by KV tier (sim; absent when unknown). */
  prefix_gpu_hit_tokens: count.optional(),
  prefix_cpu_hit_tokens: count.optional(),
  prefix_disk_hit_tokens: count.optional(),
  preemptions: count,
  /** Live only, measured before the run: half the median HTTP round trip to the instance (GET
   *  /health), in model seconds — the one-way latency the simulator's `engine.api_latency_s` models
   *  (`tandem parity` runs its sim with it). Absent in sim reports. */
  api_latency_s: seconds.optional(),
});

/** Per-model traffic statistics at the end of the run (kvcached's router statistics). */
export const ModelTrafficSchema = z.strictObject({
  model: z.string(),
  requests: count,
  completed: count,
  failed: count,
  rejected: count,
  mean_latency_s: seconds,
  rate_per_s: rate,
  recent_rate_per_s: rate,
  success_rate: fraction,
  idle_s: seconds,
  sleeps: count,
  wakes: count,
});

/** One instance's sampled state over time (columns of equal length, time-ordered; docs/report.md). */
export const InstanceTimelineSchema = z
  .strictObject({
    instance: z.string(),
    sample_interval_s: seconds,
    t_s: z.array(seconds),
    running: z.array(count),
    waiting: z.array(count),
    kv_usage: z.array(fraction),
    awake: z.array(z.boolean()),
  })
  .refine((t) => [t.running, t.waiting, t.kv_usage, t.awake].every((column) => column.length === t.t_s.length), { message: "timeline columns must have the same length as t_s" });

/** One step of the longest workflow: an LLM call (with its instance) or a tool step. */
export const WorkflowStepSchema = z.strictObject({
  step_id: z.string(),
  kind: z.enum(["llm", "tool"]),
  agent: z.string().optional(),
  instance: z.string().optional(),
  start_s: seconds,
  dispatched_s: seconds.optional(),
  first_token_s: seconds.optional(),
  end_s: seconds,
});

/** The completed workflow with the longest makespan, step by step (for Gantt charts). */
export const LongestWorkflowSchema = z.strictObject({
  workflow_id: z.string(),
  app: z.string().optional(),
  arrival_s: seconds,
  finished_s: seconds,
  makespan_s: seconds,
  steps_total: count,
  steps: z.array(WorkflowStepSchema),
});

export const RunInfoSchema = z.strictObject({
  seed: z.number().int(),
  config: jsonBlob,
  trace: z.strictObject({
    source: z.string(),
    format: z.string(),
    rows: count,
    limit: count.optional(),
    arrival: z.string(),
    rate: rate.optional(),
    cv: rate.optional(),
    time_scale: z.number().positive().optional(),
    /** Workflow arrivals from a timestamp trace (Kairos): every k-th row, s arrivals per row. */
    sample_interval: count.optional(),
    scale_factor: count.optional(),
    /** Closed-loop clients (arrival "closed-loop"): how many users, and their think time. */
    users: count.optional(),
    think_time: z.string().optional(),
    /** The app generator's parameters, defaults included. */
    app_params: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
  }),
  policies: z.strictObject({
    scheduling: z.string(),
    dispatch: z.string(),
    /** Parameters given to the policies (absent: defaults). */
    scheduling_params: jsonBlob.optional(),
    dispatch_params: jsonBlob.optional(),
    /** Live: times a policy file's code threw; each such call went to the fallback dispatch policy
     *  (absent when none did; docs/writing-policies.md). */
    errors: z.strictObject({ count, fallback: z.string(), first: z.string() }).optional(),
  }),
  observability: z.strictObject({ mode: z.enum(["scraped", "oracle"]), interval_s: seconds }),
  latency_model: jsonBlob,
  /** Models read from a HuggingFace config.json (absent when every model is a preset): the path
   *  as the cluster config gives it, and the shapes tandem read from it. */
  model_files: z.array(z.strictObject({ path: z.string(), spec: jsonBlob })).optional(),
  /** SHA-256 of the run's inputs (version, mode, seed, config, workload and its files' contents,
   *  policies, observation, latency models; run/inputs-hash.ts). Absent in older reports. */
  inputs_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

/** One tenant's use of an authenticated gateway (`tandem gateway --keys`, docs/gateway-auth.md). */
export const TenantUsageSchema = z.strictObject({
  tenant: z.string(),
  requests: count,
  finished: count,
  failed: count,
  rejected: count,
  prompt_tokens: count,
  output_tokens: count,
  /** Requests refused by the API-key checks, by reason (missing_api_key, rate_limited, …). */
  refused: z.record(z.string(), count),
});

export const ReportSchema = z.strictObject({
  schema: z.literal(REPORT_SCHEMA_ID),
  tandem_version: z.string(),
  mode: z.enum(["sim", "live"]),
  run: RunInfoSchema,
  summary: SummarySchema,
  instances: z.array(InstanceSummarySchema),
  agents: z.array(AgentSummarySchema),
  models: z.array(ModelTrafficSchema),
  /** Per-instance running/waiting/KV usage/awake over time, sampled and bounded (optional). */
  timelines: z.array(InstanceTimelineSchema).optional(),
  /** Step timings of the longest completed workflow (optional; workflow runs only). */
  longest_workflow: LongestWorkflowSchema.optional(),
  /** Per-tenant usage of a gateway run with API keys (optional; gateway --keys only). */
  tenants: z.array(TenantUsageSchema).optional(),
});

export type Distribution = z.infer<typeof DistributionSchema>;
export type Summary = z.infer<typeof SummarySchema>;
export type InstanceSummary = z.infer<typeof InstanceSummarySchema>;
export type AgentSummary = z.infer<typeof AgentSummarySchema>;
export type ModelTrafficSummary = z.infer<typeof ModelTrafficSchema>;
export type RunInfo = z.infer<typeof RunInfoSchema>;
export type InstanceTimeline = z.infer<typeof InstanceTimelineSchema>;
export type LongestWorkflowSummary = z.infer<typeof LongestWorkflowSchema>;
export type Report = z.infer<typeof ReportSchema>;
export type ReportParts = Omit<Report, "schema">;

/** Assemble and validate a report. A failure here is a bug in tandem, so it throws a plain Error
 *  naming the field path. The result's keys follow the schema's order whatever the input's order. */
export function buildReport(parts: ReportParts): Report {
  // jitless: zod's compiled fast path costs ~100 ms to generate for this schema, more than a run
  // that builds one report spends parsing it the plain way (same result either way).
  const result = ReportSchema.safeParse({ schema: REPORT_SCHEMA_ID, ...parts }, { jitless: true });
  if (!result.success) throw new Error(`invalid report: ${describeIssues(result.error)}`);
  return result.data;
}

/** Stable pretty JSON (2-space indent, trailing newline). */
export function reportToJson(report: Report): string {
  return JSON.stringify(report, null, 2) + "\n";
}

/** Parse report.json text read by a caller (compare, plot); bad input names the file and field. */
export function parseReportJson(text: string, file: string): Report {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const result = ReportSchema.safeParse(value);
  if (!result.success) {
    throw new InputError(`${file}: not a ${REPORT_SCHEMA_ID} report: ${describeIssues(result.error)}`);
  }
  return result.data;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
}

type PathKey = string | number;

function firstNonJson(value: unknown, path: PathKey[]): { path: PathKey[]; problem: string } | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : { path, problem: `number ${value}` };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = firstNonJson(value[i], [...path, i]);
      if (bad) return bad;
    }
    return undefined;
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return { path, problem: "not a plain object" };
    for (const [key, item] of Object.entries(value)) {
      const bad = firstNonJson(item, [...path, key]);
      if (bad) return bad;
    }
    return undefined;
  }
  return { path, problem: typeof value };
}
