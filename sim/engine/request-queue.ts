import { RankedQueue } from "../../src/core/ranked-queue.ts";
import type { EngineConfig } from "../../src/model/engine-config.ts";
import type { EngineRequest } from "./request.ts";

/** A place in the waiting queue, kept whole so that a request taken out for a look (the prefix-aware
 *  reorder window) can be put back exactly where it was. */
export interface QueuedRequest {
  readonly seq: number;
  readonly rank: number;
  readonly request: EngineRequest;
}

/** The engine's waiting queue under one scheduling discipline (vLLM's `scheduling_policy`): the
 *  order requests are admitted in, where a preempted request goes back, and which running request a
 *  full KV cache preempts. */
export interface RequestQueue {
  readonly size: number;
  /** A request that just arrived. */
  add(request: EngineRequest): void;
  /** A request just preempted (recompute): it waits again. */
  readd(request: EngineRequest): void;
  /** The request admission tries next, without taking it out. */
  peek(): EngineRequest | undefined;
  /** Takes out the request `peek` names. */
  pop(): void;
  /** Takes out the first `count` places in queue order (fewer when the queue is shorter), appending
   *  them to `into`. */
  takeFirst(count: number, into: QueuedRequest[]): void;
  /** Puts back a place taken by `takeFirst`: the queue order is as if it had never left. */
  putBack(place: QueuedRequest): void;
  /** Takes out the request with this id; false when it is not waiting here. */
  remove(requestId: string): boolean;
  /** Visits every waiting request (in no particular order). */
  forEach(visit: (request: EngineRequest) => void): void;
  /** Which of the running requests (in admission order, not empty) is preempted to free KV blocks. */
  victim(running: readonly EngineRequest[]): EngineRequest;
}

/** The queue a config's `scheduling_policy` names. */
export function requestQueueFor(policy: EngineConfig["scheduling_policy"]): RequestQueue {
  return policy === "priority" ? new PriorityQueue() : new FcfsQueue();
}

/** Both disciplines order by (rank, arrival): they differ in the rank they give. */
abstract class RankedRequestQueue implements RequestQueue {
  private readonly heap = new RankedQueue<QueuedRequest>();

  get size(): number {
    return this.heap.size;
  }

  add(request: EngineRequest): void {
    this.enter(request, this.arrivalRank(request));
  }

  readd(request: EngineRequest): void {
    this.enter(request, this.preemptedRank(request));
  }

  peek(): EngineRequest | undefined {
    return this.heap.peek()?.request;
  }

  pop(): void {
    this.heap.pop();
  }

  takeFirst(count: number, into: QueuedRequest[]): void {
    for (let i = 0; i < count; i++) {
      const place = this.heap.pop();
      if (place === undefined) return;
      into.push(place);
    }
  }

  putBack(place: QueuedRequest): void {
    this.heap.push(place, place.rank);
  }

  remove(requestId: string): boolean {
    return this.heap.removeWhere((place) => place.request.id === requestId).length > 0;
  }

  forEach(visit: (request: EngineRequest) => void): void {
    // The heap has no iterator; a removal that removes nothing visits every entry, order unchanged.
    this.heap.removeWhere((place) => {
      visit(place.request);
      return false;
    });
  }

  abstract victim(running: readonly EngineRequest[]): EngineRequest;
  protected abstract arrivalRank(request: EngineRequest): number;
  protected abstract preemptedRank(request: EngineRequest): number;

  private enter(request: EngineRequest, rank: number): void {
    this.heap.push({ seq: request.seq, rank, request }, rank);
  }
}

/** First come, first served: preempted requests first (the most recently preempted at the front),
 *  then arrival order; the newest running request is preempted. */
export class FcfsQueue extends RankedRequestQueue {
  private preemptSerial = 0;

  victim(running: readonly EngineRequest[]): EngineRequest {
    return running[running.length - 1];
  }

  protected arrivalRank(): number {
    return 0;
  }

  protected preemptedRank(): number {
    return -++this.preemptSerial;
  }
}

/** By priority (lower value first), then arrival, preempted or not; the lowest-priority, newest
 *  running request is preempted. */
export class PriorityQueue extends RankedRequestQueue {
  victim(running: readonly EngineRequest[]): EngineRequest {
    let victim = running[0];
    for (const r of running) {
      if (r.priority > victim.priority || (r.priority === victim.priority && r.seq > victim.seq)) victim = r;
    }
    return victim;
  }

  protected arrivalRank(request: EngineRequest): number {
    return request.priority;
  }

  protected preemptedRank(request: EngineRequest): number {
    return request.priority;
  }
}
