import type { CallRow } from "../../src/metrics/calls-csv.ts";
import type { OpenWorkflowInfo } from "../../src/core/events.ts";
import type { CallIdentity } from "./identity.ts";

/** Where workflows begin and end: the live host, which tells the controller (and so the report). */
export interface WorkflowEvents {
  workflowOpened(workflow: OpenWorkflowInfo): void;
  workflowEnded(workflowId: string, end_s: number, llm_steps: number, failure: string | null): void;
}

interface OpenWorkflow {
  /** Calls arrived so far. */
  llm_steps: number;
  /** Calls arrived and not closed. */
  open: number;
  /** When its latest call closed (the workflow's end, once nothing more comes). */
  last_s: number;
  failure: string | null;
  /** A call marked the workflow's last has arrived. */
  ending: boolean;
}

/** Open-ended workflows named by clients (`x-tandem-workflow`). The gateway cannot know a
 *  workflow's DAG ahead of time: a workflow begins with its first call and ends when a call marked
 *  `x-tandem-workflow-end` has closed with nothing else open, or after `idle_s` with no call open
 *  and none arriving, or at shutdown; its end is its last call's close. A failed or rejected call
 *  fails it (as in the simulator). A request that names no workflow is a one-call workflow (id: the
 *  call id) that ends with its call. Calls the gateway turns away with 429 are not counted in. */
export class OpenWorkflows {
  private readonly open = new Map<string, OpenWorkflow>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly events: WorkflowEvents,
    private readonly idle_s: number,
    private readonly now_s: () => number,
    sweep_ms = 1000,
  ) {
    this.timer = setInterval(() => this.sweep(this.now_s()), sweep_ms);
    this.timer.unref();
  }

  get size(): number {
    return this.open.size;
  }

  callArrived(identity: CallIdentity, callId: string, at_s: number): void {
    const id = identity.workflow ?? callId;
    let w = this.open.get(id);
    if (w === undefined) {
      const info: OpenWorkflowInfo = { id };
      if (identity.app !== undefined) info.app = identity.app;
      if (identity.tenant !== undefined) info.tenant = identity.tenant;
      if (identity.priority_class !== undefined) info.priority_class = identity.priority_class;
      if (identity.slo_s !== undefined) info.slo_s = identity.slo_s;
      this.events.workflowOpened(info);
      w = { llm_steps: 0, open: 0, last_s: at_s, failure: null, ending: false };
      this.open.set(id, w);
    }
    w.llm_steps++;
    w.open++;
    if (identity.workflow_end || identity.workflow === undefined) w.ending = true;
  }

  callClosed(identity: CallIdentity, row: CallRow): void {
    const id = identity.workflow ?? row.call_id;
    const w = this.open.get(id);
    if (w === undefined) return;
    w.open--;
    if (row.finished_s > w.last_s) w.last_s = row.finished_s;
    if (row.status !== "finished" && w.failure === null) w.failure = `call ${row.call_id} ${row.status}: ${row.reason ?? ""}`;
    if (w.ending && w.open === 0) this.close(id, w);
  }

  /** Closes workflows idle for `idle_s` (none open, none arrived). */
  sweep(now_s: number): void {
    for (const [id, w] of this.open) if (w.open === 0 && now_s - w.last_s >= this.idle_s) this.close(id, w);
  }

  /** Shutdown: every workflow still open closes at its last call's end. */
  closeAll(): void {
    clearInterval(this.timer);
    for (const [id, w] of this.open) this.close(id, w);
  }

  private close(id: string, w: OpenWorkflow): void {
    this.open.delete(id);
    this.events.workflowEnded(id, w.last_s, w.llm_steps, w.failure);
  }
}
