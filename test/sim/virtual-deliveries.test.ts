import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VirtualDeliveries } from "../../sim/virtual-deliveries.ts";

describe("VirtualDeliveries", () => {
  it("yields deliveries in (time, seq) order across latencies, only those before the next real thing", () => {
    const v = new VirtualDeliveries();
    // Binary fractions, so the delivery times are exact.
    v.add(0.25, 1, 10); // at 1.25
    v.add(0.125, 1, 11); // at 1.125
    v.add(0.125, 1.125, 12); // at 1.25, seq 12: after seq 10
    expect(v.nextBefore(Infinity, 1.125, 5)).toBeNaN(); // a queued event at 1.125 pushed earlier comes first
    expect(v.nextBefore(1.125, Infinity, 0)).toBeNaN(); // an arrival at the same time wins the tie
    expect(v.nextBefore(Infinity, 1.125, 20)).toBe(1.125);
    v.shift();
    expect(v.nextBefore(Infinity, Infinity, 0)).toBe(1.25);
    v.shift(); // seq 10
    expect(v.size).toBe(1);
    expect(v.nextBefore(Infinity, 1.25, 11)).toBeNaN(); // seq 12 comes after a queued seq 11
    expect(v.nextBefore(Infinity, 1.25, 13)).toBe(1.25);
    v.shift();
    expect(v.size).toBe(0);
    expect(v.nextBefore(Infinity, Infinity, 0)).toBeNaN();
  });

  it("passes any interleaving of adds and shifts in sorted order (ring buffers grow and wrap)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(0.001, 0.0015, 0.05), fc.double({ min: 0, max: 0.02, noNaN: true }), fc.boolean()), { maxLength: 400 }), (ops) => {
        const v = new VirtualDeliveries();
        const pending: [number, number][] = [];
        let now = 0;
        let seq = 0;
        const taken: [number, number][] = [];
        const expected: [number, number][] = [];
        for (const [latency, dt, take] of ops) {
          now += dt; // step ends come in time order
          v.add(latency, now, seq);
          pending.push([now + latency, seq++]);
          if (take) {
            pending.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
            expected.push(pending.shift()!);
            const t = v.nextBefore(Infinity, Infinity, 0);
            taken.push([t, -1]);
            v.shift();
          }
        }
        expect(taken.map((e) => e[0])).toEqual(expected.map((e) => e[0]));
        expect(v.size).toBe(pending.length);
      }),
    );
  });
});
