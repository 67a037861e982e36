import { RankedQueue } from "./ranked-queue.ts";
import type { QueuedCall } from "./view.ts";

/** The controller's waiting calls, one ranked queue per model (key "" = any model). A call held
 *  for one model — all its instances asleep, or the dispatch policy waiting for memory — never
 *  blocks calls of another model behind it. Keys keep first-seen order, so rounds are deterministic. */
export class WaitingQueues {
  private readonly queues = new Map<string, RankedQueue<QueuedCall>>();
  private total = 0;

  get size(): number {
    return this.total;
  }

  keys(): IterableIterator<string> {
    return this.queues.keys();
  }

  queue(key: string): RankedQueue<QueuedCall> | undefined {
    return this.queues.get(key);
  }

  push(key: string, queued: QueuedCall, rank: number): void {
    let queue = this.queues.get(key);
    if (!queue) {
      queue = new RankedQueue<QueuedCall>();
      this.queues.set(key, queue);
    }
    queue.push(queued, rank);
    this.total++;
  }

  /** Pops the head of one queue (after a successful dispatch). */
  pop(key: string): QueuedCall | undefined {
    const head = this.queues.get(key)?.pop();
    if (head) this.total--;
    return head;
  }

  rerank(rankOf: (queued: QueuedCall) => number): void {
    for (const queue of this.queues.values()) if (queue.size > 1) queue.rerank(rankOf);
  }

  /** Removes every waiting call matching `predicate`, in arrival order. */
  removeWhere(predicate: (queued: QueuedCall) => boolean): QueuedCall[] {
    const removed: QueuedCall[] = [];
    for (const queue of this.queues.values()) removed.push(...queue.removeWhere(predicate));
    this.total -= removed.length;
    return removed.sort((a, b) => a.seq - b.seq);
  }

  /** Waiting calls per model key. */
  sizes(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, queue] of this.queues) out.set(key, queue.size);
    return out;
  }
}
