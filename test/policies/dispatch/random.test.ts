import { describe, expect, it } from "vitest";
import { RngStreams } from "../../../src/core/rng.ts";
import { call, controller, spec, targets } from "./helpers.ts";

const instances = () => [spec("a"), spec("b"), spec("c")];

function run(seed: number, n: number): string[] {
  const c = controller("random", instances(), new RngStreams(seed).stream("policy"));
  for (let i = 0; i < n; i++) c.callArrived(i, call(`x${i}`));
  return targets(c.drain()) as string[];
}

describe("random dispatch", () => {
  it("is a function of the view's random stream: same seed, same placements", () => {
    expect(run(7, 50)).toEqual(run(7, 50));
    expect(run(7, 50)).not.toEqual(run(8, 50));
  });

  it("spreads calls over every instance", () => {
    const placed = run(1, 600);
    for (const id of ["a", "b", "c"]) {
      const share = placed.filter((t) => t === id).length / placed.length;
      expect(share).toBeGreaterThan(0.25);
      expect(share).toBeLessThan(0.42);
    }
  });

  it("maps the draw onto the candidates uniformly, first to last", () => {
    const low = controller("random", instances(), () => 0);
    low.callArrived(0, call("x"));
    expect(targets(low.drain())).toEqual(["a"]);
    const high = controller("random", instances(), () => 0.9999999);
    high.callArrived(0, call("y"));
    expect(targets(high.drain())).toEqual(["c"]);
  });
});
