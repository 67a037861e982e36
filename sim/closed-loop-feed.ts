import { isWorkflow, type Arrival } from "../src/core/arrival.ts";
import type { WorkflowSpec } from "../src/workflow/types.ts";
import { EventQueue } from "./des/event-queue.ts";
import { ArrivalFeed, type ArrivalSource } from "./arrival-feed.ts";

/** Closed-loop clients: `users` users each run workflows back to back. Every user's first
 *  workflow arrives at 0 s; the next arrives a think time after the previous one closed. The
 *  workflows themselves come, in order, from `source` (its arrival times are ignored), so the run
 *  ends when the source is used up and the last workflow closes. The feed never waits on a close:
 *  while every user is busy it reports nothing to arrive (`nextTime_s` Infinity) but `hasMore`,
 *  and the host's next event (a step end that closes a workflow) puts a user back in line. */
export class ClosedLoopFeed implements ArrivalSource {
  /** The workflows, in order (their own arrival times ignored). */
  private readonly workflows: ArrivalFeed;
  /** Users waiting to start their next workflow, by the time they start it (ties: who queued first). */
  private readonly ready = new EventQueue<number>();
  /** The user running each open workflow. */
  private readonly userOf = new Map<string, number>();

  constructor(
    source: AsyncIterator<Arrival[]>,
    users: number,
    private readonly thinkTime: () => number,
    private readonly onStart?: (user: number, workflowId: string, at_s: number) => void,
  ) {
    this.workflows = new ArrivalFeed(source);
    for (let user = 0; user < users; user++) this.ready.push(0, user);
  }

  /** Workflows open now (at most `users`). */
  get open(): number {
    return this.userOf.size;
  }

  get needsPull(): boolean {
    return this.workflows.needsPull;
  }

  /** Workflows still to come: the source has some and a user will be free to run them. */
  get hasMore(): boolean {
    return this.workflows.hasMore && (this.ready.size > 0 || this.userOf.size > 0);
  }

  get nextTime_s(): number {
    return this.workflows.nextTime_s < Infinity ? this.ready.peekTime() : Infinity;
  }

  pull(): Promise<void> {
    return this.workflows.pull();
  }

  /** The next free user's next workflow, at the time the user starts it; only when `nextTime_s`
   *  is finite. */
  take(): Arrival {
    const arrival_s = this.ready.peekTime();
    const user = this.ready.pop();
    const next = this.workflows.take();
    if (!isWorkflow(next)) throw new Error(`closed-loop users run workflows; ${next.id} is a request`);
    const workflow: WorkflowSpec = { ...next, arrival_s };
    this.userOf.set(workflow.id, user);
    this.onStart?.(user, workflow.id, arrival_s);
    return workflow;
  }

  workflowClosed(at_s: number, workflowId: string): void {
    const user = this.userOf.get(workflowId);
    if (user === undefined) return;
    this.userOf.delete(workflowId);
    this.ready.push(at_s + this.thinkTime(), user);
  }
}
