import type { DispatchPolicy } from "./policy.ts";

/** round-robin — instances in turn, ignoring their state.
 *  Source: the baseline of every LLM router (Vidur's `round_robin`, the SGLang router's default
 *  fallback). The turn counter is kept per candidate set, so model groups rotate independently. */
export function createRoundRobin(): DispatchPolicy {
  const turns = new Map<string, number>();
  return {
    name: "round-robin",
    choose(_call, candidates) {
      const group = candidates.length === 1 ? candidates[0].spec.id : candidates.map((c) => c.spec.id).join(",");
      const turn = turns.get(group) ?? 0;
      turns.set(group, turn + 1);
      return candidates[turn % candidates.length];
    },
  };
}
