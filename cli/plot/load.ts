/** Loading what `tandem plot` is given: run reports (sim or live) with the calls.csv and
 *  workflows.csv next to them, and compare folders (compare.json). Everything a chart needs is
 *  read here, once; the chart builders are pure functions of the result. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import { InputError } from "../../src/core/errors.ts";
import { parseReportJson, type Report } from "../../src/metrics/report-schema.ts";
import { CsvFile } from "./csv.ts";
import { DECISIONS_FILE, loadDecisionTimeline, type DecisionTimeline } from "./decisions-load.ts";

export const COMPARE_SCHEMA = "tandem.compare/v1";
/** File names a run folder holds (src/cli/run-output.ts). */
export const REPORT_FILE = "report.json";
export const CALLS_FILE = "calls.csv";
export const WORKFLOWS_FILE = "workflows.csv";
export const COMPARE_FILE = "compare.json";

export type LatencyMetric = "ttft_s" | "tpot_s" | "e2e_s";
export const LATENCY_METRICS: readonly LatencyMetric[] = ["ttft_s", "tpot_s", "e2e_s"];

/** One step of a workflow as the Gantt chart draws it. Times are absolute (s). */
export interface GanttStep {
  step_id: string;
  kind: "llm" | "tool";
  instance: string | null;
  start_s: number;
  dispatched_s: number | null;
  first_token_s: number | null;
  end_s: number;
}

export interface SelectedWorkflow {
  id: string;
  arrival_s: number;
  finished_s: number;
  makespan_s: number | null;
  /** Where the steps came from: the report's `longest_workflow` (LLM and tool steps) or the rows
   *  of calls.csv (LLM steps only). */
  source: "report" | "calls.csv";
  steps: GanttStep[];
  /** Steps the workflow ran, when known (the report's steps_total, or workflows.csv). */
  steps_total: number | null;
  /** Tool steps the workflow ran but that are not in `steps` (calls.csv has no tools). */
  tools_missing: number;
}

export interface RunData {
  /** Legend label, unique among the inputs (set by `labelRuns`). */
  label: string;
  file: string;
  dir: string;
  report: Report;
  /** Sorted per-call values from calls.csv (finished calls); null when calls.csv is absent. */
  latencies: Record<LatencyMetric, Float64Array> | null;
  /** Sorted makespans of completed workflows from workflows.csv; null when absent. */
  makespans: Float64Array | null;
  workflow: SelectedWorkflow | null;
  /** The run's decision trace (`decisions.jsonl` beside the report, or `--decisions`); null without one. */
  decisions: DecisionTimeline | null;
}

const CompareRowSchema = z.object({
  policy: z.string(),
  rate: z.number().nullable(),
  seed: z.number().nullable(),
  runs: z.number(),
  makespan_mean_s: z.number().nullable(),
  makespan_p99_s: z.number().nullable(),
  e2e_mean_s: z.number(),
  e2e_p99_s: z.number(),
  ttft_p50_s: z.number(),
  ttft_p99_s: z.number(),
  throughput_requests_per_s: z.number(),
});
const CompareSchema = z.object({
  schema: z.literal(COMPARE_SCHEMA),
  workload: z.object({ format: z.string().optional() }).loose().optional(),
  policies: z.array(z.string()),
  runs: z.array(CompareRowSchema),
  means: z.array(CompareRowSchema),
});
export type CompareRowData = z.infer<typeof CompareRowSchema>;

export interface CompareData {
  label: string;
  file: string;
  dir: string;
  policies: string[];
  /** Trace format of the workload (`app`/`appworld`: rates are workflows/s). */
  format: string | undefined;
  runs: CompareRowData[];
  means: CompareRowData[];
}

export interface PlotInputs {
  runs: RunData[];
  compares: CompareData[];
  /** What could not be drawn and why, one line each. */
  notes: string[];
}

export interface LoadOptions {
  /** Workflow for the Gantt chart; default: the one with the longest makespan. */
  workflow?: string;
  /** The decision trace of the one run given (default: `decisions.jsonl` in each run's folder). */
  decisions?: string;
  /** Most dispatches (and holds) the decision timeline keeps (default 20,000). */
  maxDecisionPoints?: number;
}

/** Reads every input; bad input is an InputError naming the path. */
export async function loadPlotInputs(paths: string[], options: LoadOptions = {}): Promise<PlotInputs> {
  if (paths.length === 0) throw new InputError("no input: expected report.json files, run folders or compare folders");
  const inputs: PlotInputs = { runs: [], compares: [], notes: [] };
  const seen = new Set<string>();
  for (const path of paths) {
    const kind = classify(path);
    const key = resolve(kind.file);
    if (seen.has(key)) throw new InputError(`${path}: given twice`);
    seen.add(key);
    if (kind.kind === "compare") inputs.compares.push(loadCompare(kind.file, kind.text));
    else inputs.runs.push(await loadRun(kind.file, kind.text, options, inputs.notes));
  }
  if (options.workflow !== undefined && inputs.runs.length > 0 && inputs.runs.every((run) => run.workflow === null)) {
    throw new InputError(`--workflow ${options.workflow}: no such workflow in ${inputs.runs.map((r) => r.file).join(", ")}`);
  }
  if (options.decisions !== undefined && inputs.runs.length !== 1) {
    throw new InputError(`--decisions ${options.decisions}: give exactly one run with it (${inputs.runs.length} given); other runs' traces are found as ${DECISIONS_FILE} in their folders`);
  }
  labelRuns(inputs.runs);
  labelCompares(inputs.compares);
  return inputs;
}

const EXPECTED = "expected a report.json, a run folder holding one, or a compare folder (compare.json)";

function classify(path: string): { kind: "run" | "compare"; file: string; text: string } {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new InputError(`${path}: no such file or folder; ${EXPECTED}`);
  }
  let file = path;
  if (stat.isDirectory()) {
    if (existsSync(join(path, REPORT_FILE))) file = join(path, REPORT_FILE);
    else if (existsSync(join(path, COMPARE_FILE))) file = join(path, COMPARE_FILE);
    else throw new InputError(`${path}: folder holds neither ${REPORT_FILE} nor ${COMPARE_FILE}; ${EXPECTED}`);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ${EXPECTED}`);
  }
  let schema: unknown;
  try {
    schema = (JSON.parse(text) as { schema?: unknown } | null)?.schema;
  } catch (error) {
    throw new InputError(`${file}: not valid JSON (${(error as Error).message.replace(/\s+/g, " ")}); ${EXPECTED}`);
  }
  return { kind: schema === COMPARE_SCHEMA ? "compare" : "run", file, text };
}

function loadCompare(file: string, text: string): CompareData {
  const parsed = CompareSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`${file}: not a ${COMPARE_SCHEMA} document: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const doc = parsed.data;
  const format = doc.workload?.format;
  return { label: "", file, dir: dirname(file), policies: doc.policies, format: typeof format === "string" ? format : undefined, runs: doc.runs, means: doc.means };
}

async function loadRun(file: string, text: string, options: LoadOptions, notes: string[]): Promise<RunData> {
  const report = parseReportJson(text, file);
  const dir = dirname(file);
  const workflowsPath = join(dir, WORKFLOWS_FILE);
  const callsPath = join(dir, CALLS_FILE);
  const hasWorkflows = report.summary.workflows.arrived > 0;

  // workflows.csv first: it names the workflow the Gantt chart shows.
  let makespans: Float64Array | null = null;
  let wanted: WorkflowRowInfo | undefined;
  if (hasWorkflows && existsSync(workflowsPath)) {
    const scan = await scanWorkflows(workflowsPath, options.workflow);
    makespans = scan.makespans;
    wanted = scan.wanted;
  } else if (hasWorkflows) {
    notes.push(`${file}: no ${WORKFLOWS_FILE} beside it; the makespan CDF uses the report's percentiles`);
  }
  const wantedId = options.workflow ?? wanted?.id ?? report.longest_workflow?.workflow_id;
  const fromReport = report.longest_workflow !== undefined && report.longest_workflow.workflow_id === wantedId;

  let latencies: RunData["latencies"] = null;
  let callSteps: GanttStep[] = [];
  if (existsSync(callsPath)) {
    const scan = await scanCalls(callsPath, fromReport ? undefined : wantedId);
    latencies = scan.latencies;
    callSteps = scan.steps;
  } else {
    notes.push(`${file}: no ${CALLS_FILE} beside it; the latency CDFs use the report's percentiles (p50, p90, p99, max)`);
  }

  let workflow: SelectedWorkflow | null = null;
  if (wantedId !== undefined && fromReport) {
    const w = report.longest_workflow!;
    workflow = {
      id: w.workflow_id,
      arrival_s: w.arrival_s,
      finished_s: w.finished_s,
      makespan_s: w.makespan_s,
      source: "report",
      steps_total: w.steps_total,
      tools_missing: 0,
      steps: w.steps.map((s) => ({
        step_id: s.step_id,
        kind: s.kind,
        instance: s.instance ?? null,
        start_s: s.start_s,
        dispatched_s: s.dispatched_s ?? null,
        first_token_s: s.first_token_s ?? null,
        end_s: s.end_s,
      })),
    };
    if (w.steps_total > w.steps.length)
      notes.push(`${file}: workflow ${w.workflow_id} ran ${w.steps_total} steps; the report keeps its first ${w.steps.length}, and the Gantt chart shows those`);
  } else if (wantedId !== undefined && callSteps.length > 0) {
    const first = callSteps.reduce((m, s) => Math.min(m, s.start_s), Infinity);
    const last = callSteps.reduce((m, s) => Math.max(m, s.end_s), -Infinity);
    const toolSteps = wanted?.id === wantedId ? wanted.tool_steps : null;
    workflow = {
      id: wantedId,
      arrival_s: wanted?.id === wantedId ? wanted.arrival_s : first,
      finished_s: wanted?.id === wantedId ? wanted.finished_s : last,
      makespan_s: wanted?.id === wantedId ? wanted.makespan_s : null,
      source: "calls.csv",
      steps: callSteps,
      steps_total: toolSteps === null ? null : callSteps.length + toolSteps,
      tools_missing: toolSteps ?? 0,
    };
    if (toolSteps === null || toolSteps > 0) {
      notes.push(
        `${file}: the Gantt chart of workflow ${wantedId} shows its LLM calls from ${CALLS_FILE} only: ` +
          `tool-step timings are recorded for the longest workflow alone (report.json longest_workflow${report.longest_workflow ? `: ${report.longest_workflow.workflow_id}` : ", absent here"})`,
      );
    }
  } else if (options.workflow !== undefined) {
    notes.push(`${file}: workflow ${options.workflow} is not in this run; no Gantt chart for it`);
  } else if (hasWorkflows) {
    notes.push(`${file}: no completed workflow with recorded steps; no Gantt chart`);
  }
  const decisionsPath = options.decisions ?? join(dir, DECISIONS_FILE);
  const decisions = options.decisions !== undefined || existsSync(decisionsPath) ? await loadDecisionTimeline(decisionsPath, options.maxDecisionPoints) : null;
  return { label: "", file, dir, report, latencies, makespans, workflow, decisions };
}

interface WorkflowRowInfo {
  id: string;
  arrival_s: number;
  finished_s: number;
  makespan_s: number | null;
  tool_steps: number | null;
}

/** Makespans of completed workflows, and the wanted workflow's row (default: the longest; ties:
 *  the first to close, as the recorder picks it). */
async function scanWorkflows(path: string, wantedId: string | undefined): Promise<{ makespans: Float64Array; wanted: WorkflowRowInfo | undefined }> {
  const csv = await CsvFile.open(path, ["workflow_id", "status", "arrival_s", "finished_s", "makespan_s"]);
  const [idCol, statusCol, arrivalCol, finishedCol, makespanCol, toolCol] = ["workflow_id", "status", "arrival_s", "finished_s", "makespan_s", "tool_steps"].map((c) => csv.index(c));
  const values = new GrowableFloats();
  let wanted: WorkflowRowInfo | undefined;
  for await (const record of csv) {
    const id = record.cells[idCol];
    const makespan = csv.number(record, makespanCol);
    const completed = record.cells[statusCol] === "completed" && makespan !== null;
    if (completed) values.push(makespan);
    const isWanted = wantedId !== undefined ? id === wantedId : completed && (wanted === undefined || makespan > wanted.makespan_s!);
    if (isWanted) {
      wanted = {
        id,
        arrival_s: csv.number(record, arrivalCol) ?? 0,
        finished_s: csv.number(record, finishedCol) ?? 0,
        makespan_s: makespan,
        tool_steps: toolCol >= 0 ? csv.number(record, toolCol) : null,
      };
    }
  }
  return { makespans: values.sorted(), wanted };
}

/** Per-call latencies of finished calls, and the LLM steps of workflow `workflowId` (its calls
 *  are named `WORKFLOW/STEP`). */
async function scanCalls(path: string, workflowId: string | undefined): Promise<{ latencies: Record<LatencyMetric, Float64Array>; steps: GanttStep[] }> {
  const csv = await CsvFile.open(path, ["call_id", "status", "instance", "arrival_s", "dispatched_s", "first_token_s", "finished_s", "ttft_s", "tpot_s", "e2e_s"]);
  const col = (name: string) => csv.index(name);
  const [idCol, statusCol, instanceCol, arrivalCol, dispatchedCol, firstCol, finishedCol] = ["call_id", "status", "instance", "arrival_s", "dispatched_s", "first_token_s", "finished_s"].map(
    col,
  );
  const metricCols = LATENCY_METRICS.map(col);
  const series = LATENCY_METRICS.map(() => new GrowableFloats());
  const prefix = workflowId === undefined ? undefined : `${workflowId}/`;
  const steps: GanttStep[] = [];
  for await (const record of csv) {
    if (record.cells[statusCol] !== "finished") continue;
    for (let m = 0; m < metricCols.length; m++) {
      const value = csv.number(record, metricCols[m]);
      if (value !== null) series[m].push(value);
    }
    if (prefix !== undefined && record.cells[idCol].startsWith(prefix)) {
      const start_s = csv.number(record, arrivalCol) ?? 0;
      steps.push({
        step_id: record.cells[idCol].slice(prefix.length),
        kind: "llm",
        instance: record.cells[instanceCol] || null,
        start_s,
        dispatched_s: csv.number(record, dispatchedCol),
        first_token_s: csv.number(record, firstCol),
        end_s: csv.number(record, finishedCol) ?? start_s,
      });
    }
  }
  steps.sort((a, b) => a.start_s - b.start_s || a.end_s - b.end_s || (a.step_id < b.step_id ? -1 : a.step_id > b.step_id ? 1 : 0));
  const latencies = { ttft_s: series[0].sorted(), tpot_s: series[1].sorted(), e2e_s: series[2].sorted() };
  return { latencies, steps };
}

/** A Float64Array that grows by doubling (a 1M-row calls.csv: 8 MB per metric). */
class GrowableFloats {
  private data = new Float64Array(1024);
  private size = 0;
  push(value: number): void {
    if (this.size === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.size++] = value;
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.size).sort();
  }
}

/** Legend labels: `scheduling+dispatch`, with the mode when sim and live are mixed, then the
 *  folder name and finally a number where labels would still collide. */
export function labelRuns(runs: RunData[]): void {
  const mixed = new Set(runs.map((r) => r.report.mode)).size > 1;
  const base = runs.map((r) => {
    const p = r.report.run.policies;
    return `${p.scheduling}+${p.dispatch}${mixed ? ` (${r.report.mode})` : ""}`;
  });
  const withDir = uniqueOr(base, (i) => `${base[i]} [${folderName(runs[i].dir)}]`);
  const final = uniqueOr(withDir, (i) => `${withDir[i]} #${i + 1}`);
  runs.forEach((run, i) => (run.label = final[i]));
}

function labelCompares(compares: CompareData[]): void {
  const base = compares.map((c) => folderName(c.dir));
  const final = uniqueOr(base, (i) => `${base[i]} #${i + 1}`);
  compares.forEach((c, i) => (c.label = final[i]));
}

/** Keeps each label that is unique; renames the colliding ones with `rename`. */
function uniqueOr(labels: string[], rename: (i: number) => string): string[] {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return labels.map((l, i) => (counts.get(l)! > 1 ? rename(i) : l));
}

function folderName(dir: string): string {
  return basename(resolve(dir)) || dir;
}
