import { exactDistribution } from "./distribution.ts";
import { FloatSeries, type SampleSeries, type SampleSeriesFactory } from "./float-series.ts";
import type { Distribution } from "./report-schema.ts";

/** What the recorder is told about a workflow when it arrives. */
export interface WorkflowArrival {
  id: string;
  app: string | undefined;
  tenant: string | undefined;
  priority_class: string | undefined;
  slo_s: number | undefined;
  /** Zero-queueing lower bound of the makespan (0 when unknown). */
  critical_path_s: number;
  llm_steps: number;
  tool_steps: number;
}

export type WorkflowStatus = "completed" | "failed";

/** One row of workflows.csv. */
export interface WorkflowRow {
  workflow_id: string;
  app: string | null;
  tenant: string | null;
  priority_class: string | null;
  status: WorkflowStatus;
  reason: string | null;
  arrival_s: number;
  finished_s: number;
  makespan_s: number | null;
  critical_path_s: number;
  slowdown: number | null;
  llm_steps: number;
  tool_steps: number;
  slo_s: number | null;
  slo_met: boolean | null;
}

export interface WorkflowSummary {
  arrived: number;
  completed: number;
  failed: number;
  /** Completed workflows within their slo_s, over completed workflows that have one (0 if none). */
  slo_attainment: number;
}

/** Workflow lifecycle: arrival to completion or failure, makespan and slowdown over the critical
 *  path. Each workflow closes once; rows go to `onClosed` (the host writes workflows.csv). */
export class WorkflowRecorder {
  private readonly open = new Map<string, { info: WorkflowArrival; arrival_s: number }>();
  private arrived = 0;
  private completed = 0;
  private failed = 0;
  private withSlo = 0;
  private metSlo = 0;
  private readonly makespan_s: SampleSeries;
  private readonly slowdown: SampleSeries;

  constructor(
    private readonly onClosed: ((row: WorkflowRow) => void) | undefined,
    series: SampleSeriesFactory = () => new FloatSeries(),
  ) {
    this.makespan_s = series("makespan_s");
    this.slowdown = series("slowdown");
  }

  arrivedAt(at_s: number, info: WorkflowArrival): void {
    if (this.open.has(info.id)) throw new Error(`workflow ${info.id} arrived twice`);
    this.open.set(info.id, { info, arrival_s: at_s });
    this.arrived++;
  }

  closedAt(at_s: number, id: string, status: WorkflowStatus, reason: string | null): void {
    const open = this.open.get(id);
    if (!open) throw new Error(`workflow ${id} closed but is not open`);
    this.open.delete(id);
    const { info, arrival_s } = open;
    let makespan_s: number | null = null;
    let slowdown: number | null = null;
    let slo_met: boolean | null = null;
    if (status === "completed") {
      this.completed++;
      makespan_s = at_s - arrival_s;
      this.makespan_s.push(makespan_s);
      if (info.critical_path_s > 0) {
        slowdown = makespan_s / info.critical_path_s;
        this.slowdown.push(slowdown);
      }
      if (info.slo_s !== undefined) {
        slo_met = makespan_s <= info.slo_s;
        this.withSlo++;
        if (slo_met) this.metSlo++;
      }
    } else {
      this.failed++;
    }
    this.onClosed?.({
      workflow_id: id,
      app: info.app ?? null,
      tenant: info.tenant ?? null,
      priority_class: info.priority_class ?? null,
      status,
      reason,
      arrival_s,
      finished_s: at_s,
      makespan_s,
      critical_path_s: info.critical_path_s,
      slowdown,
      llm_steps: info.llm_steps,
      tool_steps: info.tool_steps,
      slo_s: info.slo_s ?? null,
      slo_met,
    });
  }

  get inFlight(): number {
    return this.open.size;
  }

  summary(): { workflows: WorkflowSummary; workflow_makespan_s: Distribution; workflow_slowdown: Distribution } {
    return {
      workflows: {
        arrived: this.arrived,
        completed: this.completed,
        failed: this.failed,
        slo_attainment: this.withSlo > 0 ? this.metSlo / this.withSlo : 0,
      },
      workflow_makespan_s: exactDistribution(this.makespan_s),
      workflow_slowdown: exactDistribution(this.slowdown),
    };
  }
}
