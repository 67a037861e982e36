import type { DispatchPolicy } from "./policy.ts";

/** random — an instance drawn uniformly among the candidates from the view's seeded `random`
 *  stream (the only randomness a policy may use), so a run is reproducible from its seed.
 *  Source: the random baseline of Vidur's global schedulers and of most load-balancing studies
 *  ("power of d choices" starts from it). */
export function createRandom(): DispatchPolicy {
  return {
    name: "random",
    choose(_call, candidates, view) {
      const i = Math.floor(view.random() * candidates.length);
      return candidates[Math.min(i, candidates.length - 1)];
    },
  };
}
