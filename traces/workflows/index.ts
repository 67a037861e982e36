/** Multi-agent workflow traces: tandem's workflow JSONL (read/write), the AppWorld importer, and
 *  timed arrival streams built from templates or app generators. */
export { readWorkflowTrace, TOOL_DURATION_STREAM, WORKFLOW_BATCH_SIZE, type WorkflowReadOptions } from "./reader.ts";
export { writeWorkflowTrace, type WorkflowSource } from "./writer.ts";
export { workflowLine } from "./line-format.ts";
export { WorkflowLineSchema, LlmStepLineSchema, ToolStepLineSchema, AgentLineSchema } from "./schema.ts";
export {
  appWorldWorkflow,
  importAppWorld,
  importAppWorldFolder,
  CHARS_PER_TOKEN,
  DEFAULT_APPWORLD_SYSTEM_TOKENS,
  DEFAULT_APPWORLD_TOOL_DURATIONS,
  type AppWorldImportOptions,
} from "./appworld.ts";
export { parseAppWorldDag, APPWORLD_NODE_TYPES, type AppWorldDag } from "./appworld-schema.ts";
export {
  workflowArrivals,
  WORKFLOW_ARRIVAL_STREAMS,
  type WorkflowArrivalOptions,
  type WorkflowArrivalSource,
  type WorkflowBuilder,
} from "./arrivals.ts";
export { arrivalTimes, checkTiming, WORKFLOW_TIMINGS, type WorkflowTiming } from "./arrival-times.ts";
export { sampledTimestamps } from "./timestamps.ts";
export { instantiate, frozenTemplate, type WorkflowOverrides } from "./instantiate.ts";
