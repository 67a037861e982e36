/** The step timings of the run's longest workflow (report.json `longest_workflow`): every LLM call
 *  and tool step of the completed workflow with the longest makespan, for Gantt charts. While
 *  workflows run, their steps are kept (memory: one small record per step of each open workflow);
 *  when one completes it replaces the kept one if its makespan is longer (ties: the first to close
 *  wins, as in workflows.csv order). Request traces (no workflows) cost nothing. */

export interface WorkflowStep {
  step_id: string;
  kind: "llm" | "tool";
  /** The agent of an LLM step, if the workflow names it. */
  agent?: string;
  /** The instance of an LLM step's last dispatch. */
  instance?: string;
  /** LLM: arrival at the controller (release); tool: start. */
  start_s: number;
  /** LLM only: last dispatch to an instance. */
  dispatched_s?: number;
  /** LLM only: first output token. */
  first_token_s?: number;
  /** LLM: finish; tool: end. */
  end_s: number;
}

export interface LongestWorkflow {
  workflow_id: string;
  app?: string;
  arrival_s: number;
  finished_s: number;
  makespan_s: number;
  /** Steps the workflow ran; `steps` holds at most MAX_GANTT_STEPS of them (the earliest). */
  steps_total: number;
  /** Ordered by start, then end, then step id. */
  steps: WorkflowStep[];
}

/** The most steps written to the report (a 10,000-call workflow keeps its first 1,000). */
export const MAX_GANTT_STEPS = 1000;

interface OpenWorkflow {
  arrival_s: number;
  app: string | undefined;
  steps: WorkflowStep[];
}

export class WorkflowStepsRecorder {
  private readonly open = new Map<string, OpenWorkflow>();
  private longest: LongestWorkflow | undefined;
  private longestSteps: WorkflowStep[] = [];

  arrived(at_s: number, workflowId: string, app: string | undefined): void {
    this.open.set(workflowId, { arrival_s: at_s, app, steps: [] });
  }

  /** A step ended. Steps of workflows that are not open (already failed) are ignored. */
  step(workflowId: string, step: WorkflowStep): void {
    this.open.get(workflowId)?.steps.push(step);
  }

  closed(at_s: number, workflowId: string, completed: boolean): void {
    const run = this.open.get(workflowId);
    if (run === undefined) return;
    this.open.delete(workflowId);
    if (!completed) return;
    const makespan_s = at_s - run.arrival_s;
    if (this.longest !== undefined && !(makespan_s > this.longest.makespan_s)) return;
    this.longest = {
      workflow_id: workflowId,
      app: run.app,
      arrival_s: run.arrival_s,
      finished_s: at_s,
      makespan_s,
      steps_total: run.steps.length,
      steps: [],
    };
    this.longestSteps = run.steps;
  }

  result(): LongestWorkflow | undefined {
    if (this.longest === undefined) return undefined;
    const steps = [...this.longestSteps].sort((a, b) => a.start_s - b.start_s || a.end_s - b.end_s || (a.step_id < b.step_id ? -1 : a.step_id > b.step_id ? 1 : 0));
    return { ...this.longest, steps: steps.slice(0, MAX_GANTT_STEPS) };
  }
}
