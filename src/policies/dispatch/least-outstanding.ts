import { argMin, type DispatchPolicy } from "./policy.ts";

/** least-outstanding — the instance with the fewest calls in flight by the router's own count
 *  (dispatched, not yet finished). Needs no scraping, so it never acts on stale data.
 *  Source: Vidur's `lor` global scheduler; the default of many HTTP load balancers. */
export function createLeastOutstanding(): DispatchPolicy {
  return {
    name: "least-outstanding",
    choose: (_call, candidates) => argMin(candidates, (instance) => instance.outstanding),
    explain: (_call, candidates) => ({ scores: candidates.map((instance) => instance.outstanding) }),
  };
}
