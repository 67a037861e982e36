import type { InstanceView } from "../../core/view.ts";
import type { DispatchPolicy } from "./policy.ts";

/** round-robin — instances in turn, ignoring their state.
 *  Source: the baseline of every LLM router (Vidur's `round_robin`, the SGLang router's default
 *  fallback). The turn counter is kept per candidate set, so model groups rotate independently. */
export function createRoundRobin(): DispatchPolicy {
  const turns = new Map<string, number>();
  const groupOf = (candidates: readonly InstanceView[]) => (candidates.length === 1 ? candidates[0].spec.id : candidates.map((c) => c.spec.id).join(","));
  return {
    name: "round-robin",
    explain(_call, candidates) {
      const turn = (turns.get(groupOf(candidates)) ?? 0) % candidates.length;
      return { reason: `turn ${turn} of ${candidates.length}` };
    },
    choose(_call, candidates) {
      const group = groupOf(candidates);
      const turn = turns.get(group) ?? 0;
      turns.set(group, turn + 1);
      return candidates[turn % candidates.length];
    },
  };
}
