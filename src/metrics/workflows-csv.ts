import { csvCell } from "./calls-csv.ts";
import type { WorkflowRow } from "./workflow-recorder.ts";

export const WORKFLOWS_CSV_COLUMNS = [
  "workflow_id",
  "app",
  "tenant",
  "priority_class",
  "status",
  "reason",
  "arrival_s",
  "finished_s",
  "makespan_s",
  "critical_path_s",
  "slowdown",
  "llm_steps",
  "tool_steps",
  "slo_s",
  "slo_met",
] as const satisfies readonly (keyof WorkflowRow)[];

export const WORKFLOWS_CSV_HEADER = WORKFLOWS_CSV_COLUMNS.join(",");

/** One data line of workflows.csv, without a line terminator; same cell rules as calls.csv. */
export function workflowRowToCsv(row: WorkflowRow): string {
  return WORKFLOWS_CSV_COLUMNS.map((column) => csvCell(row[column])).join(",");
}
