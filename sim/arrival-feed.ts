import type { Arrival } from "../src/core/arrival.ts";

/** What the event loop reads arrivals from: a prepared stream (ArrivalFeed) or closed-loop
 *  users (ClosedLoopFeed), which hear each workflow close and schedule the user's next one. */
export interface ArrivalSource {
  readonly needsPull: boolean;
  readonly hasMore: boolean;
  readonly nextTime_s: number;
  pull(): Promise<void>;
  take(): Arrival;
  /** A workflow closed at `at_s` (completed or failed); absent: arrivals do not depend on it. */
  workflowClosed?(at_s: number, workflowId: string): void;
}

/** The workload's arrivals, pulled batch by batch (a trace is never held in memory whole). The
 *  event loop asks `needsPull` before reading, so only a batch boundary awaits. */
export class ArrivalFeed implements ArrivalSource {
  private batch: Arrival[] = [];
  private index = 0;
  private done = false;

  constructor(private readonly source: AsyncIterator<Arrival[]>) {}

  /** The current batch is used up and the source may have more: `pull` before reading. */
  get needsPull(): boolean {
    return this.index >= this.batch.length && !this.done;
  }

  /** Anything still to arrive (in this batch or the source). */
  get hasMore(): boolean {
    return this.index < this.batch.length || !this.done;
  }

  /** When the next arrival comes (Infinity when there is none). */
  get nextTime_s(): number {
    return this.index < this.batch.length ? this.batch[this.index].arrival_s : Infinity;
  }

  async pull(): Promise<void> {
    const next = await this.source.next();
    if (next.done) {
      this.done = true;
    } else {
      this.batch = next.value;
      this.index = 0;
    }
  }

  /** Takes the next arrival; only when `nextTime_s` is finite. */
  take(): Arrival {
    return this.batch[this.index++];
  }
}
