/** The package's library entry (`import { simulate } from "tandem"`): what a researcher's script
 *  needs to run the simulator, read its report, write a policy, read traces and build latency
 *  models. It lives in sim/ because `simulate` is the sim host: the layering lets sim/ import run/,
 *  traces/ and src/, and nothing below it may import sim/. The names here are the public API; the
 *  rest of dist/ is the app's own and may change. */

// Running the simulator.
export { runSimulation as simulate, type SimRunOptions as SimulateOptions, type SimRunOutput as SimulateOutput } from "./run.ts";
export { DEFAULT_SEED, type RunHooks, type RunProgress } from "../run/setup.ts";
export type { Workload } from "../run/workload.ts";
export { loadClusterConfig, parseClusterConfig } from "../run/config-file.ts";
export { DEFAULT_CLUSTER, ClusterConfigSchema, type ClusterConfig, type InstanceGroup } from "../src/model/cluster-schema.ts";

// The report.
export {
  REPORT_SCHEMA_ID,
  ReportSchema,
  parseReportJson,
  reportToJson,
  type Report,
  type Summary,
  type Distribution,
  type RunInfo,
  type InstanceSummary,
  type AgentSummary,
  type ModelTrafficSummary,
  type InstanceTimeline,
  type LongestWorkflowSummary,
} from "../src/metrics/report-schema.ts";
export { formatSummaryTable } from "../src/metrics/summary-table.ts";

// Policies.
export { defineSchedulingPolicy, defineDispatchPolicy, type PolicyDefinition, type SchedulingPolicyDefinition, type DispatchPolicyDefinition } from "../src/policies/define.ts";
/** The zod a policy file declares its params with: tandem's own, so schemas and parser agree. */
export { z } from "zod";
export type { DecisionRecord, CandidateRecord, RankRecord, DispatchExplanation } from "../src/core/decisions.ts";
export type { SchedulingPolicy } from "../src/policies/scheduling/policy.ts";
export type { DispatchPolicy } from "../src/policies/dispatch/policy.ts";
export type { CallObserver, ControllerView, InstanceView, QueuedCall, WorkflowSignals } from "../src/core/view.ts";
export type { LlmCall, RequestSpec, PromptSegment } from "../src/core/types.ts";
export { SCHEDULING_POLICIES, DISPATCH_POLICIES, type PolicyChoice } from "../src/policies/registry.ts";

// Traces.
export {
  TRACE_FORMATS,
  readTrace,
  readAzureTrace,
  readMooncakeTrace,
  readTandemTrace,
  readVidurTrace,
  writeTandemTrace,
  generateRequests,
  DEFAULT_WORKLOAD,
  type TraceFormat,
  type ReadOptions,
  type TraceStats,
  type GenerateOptions,
} from "../traces/index.ts";
export { readWorkflowTrace, writeWorkflowTrace, type WorkflowReadOptions } from "../traces/workflows/index.ts";

// Latency models.
export { rooflineModel } from "../src/model/roofline.ts";
export { DEFAULT_ROOFLINE_CONSTANTS, type RooflineConstants } from "../src/model/roofline-constants.ts";
export { latencyModelFromJson } from "../src/model/latency-json.ts";
export { loadLatencyModelFile } from "../run/latency-file.ts";
export type { LatencyModel, BatchShape } from "../src/model/latency-model.ts";
export { LATENCY_SCHEMA, type LatencyModelInfo } from "../src/model/latency-info.ts";
export { modelNames, modelSpec, activeMatmulParamsPerToken, residentWeightBytes, type ModelSpec, type MoeSpec, type MlaSpec } from "../src/model/models.ts";
export { modelSpecFromHfConfig } from "../src/model/hf-config.ts";
export { loadHfConfig, resolveModel } from "../run/model-file.ts";
export { defaultMaxModelLen } from "../src/model/max-model-len.ts";
export { gpuNames, gpuSpec, type GpuSpec } from "../src/model/gpus.ts";
