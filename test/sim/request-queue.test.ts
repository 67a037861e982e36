import { describe, expect, it } from "vitest";
import type { TokenIdentity } from "../../src/core/prefix-identity.ts";
import { EngineRequest } from "../../sim/engine/request.ts";
import { FcfsQueue, PriorityQueue, type QueuedRequest, type RequestQueue } from "../../sim/engine/request-queue.ts";

/** The queue never looks at a request's tokens. */
const NO_SHARING: TokenIdentity = { sharable_tokens: 0, blockKey: () => 0 };

function request(seq: number, priority = 0): EngineRequest {
  return new EngineRequest({ id: `r${seq}`, arrival_s: 0, prompt_tokens: 16, output_tokens: 1, segments: [{ tokens: 16 }] }, priority, seq, NO_SHARING, 0);
}

function drain(queue: RequestQueue): string[] {
  const ids: string[] = [];
  for (let r = queue.peek(); r !== undefined; r = queue.peek()) {
    ids.push(r.id);
    queue.pop();
  }
  return ids;
}

describe("waiting queue disciplines", () => {
  it("fcfs admits preempted requests first, the most recently preempted at the front, then arrivals in order", () => {
    const q = new FcfsQueue();
    q.add(request(3));
    q.add(request(2));
    q.readd(request(0));
    q.readd(request(1));
    expect(drain(q)).toEqual(["r1", "r0", "r2", "r3"]);
  });

  it("priority admits by priority then arrival, preempted or not", () => {
    const q = new PriorityQueue();
    q.add(request(0, 5));
    q.readd(request(1, 5));
    q.add(request(2, 1));
    expect(drain(q)).toEqual(["r2", "r0", "r1"]);
  });

  it("fcfs preempts the newest running request; priority the lowest-priority, newest one", () => {
    const running = [request(0, 9), request(1, 0), request(2, 9), request(3, 1)];
    expect(new FcfsQueue().victim(running).id).toBe("r3");
    expect(new PriorityQueue().victim(running).id).toBe("r2");
  });

  it("puts places taken for a look back where they were", () => {
    const q = new FcfsQueue();
    for (let i = 0; i < 5; i++) q.add(request(i));
    const taken: QueuedRequest[] = [];
    q.takeFirst(3, taken);
    expect(taken.map((p) => p.request.id)).toEqual(["r0", "r1", "r2"]);
    for (const place of [taken[2], taken[0]]) q.putBack(place);
    expect(drain(q)).toEqual(["r0", "r2", "r3", "r4"]);
  });
});
