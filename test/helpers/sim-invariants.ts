import fc from "fast-check";
import { expect } from "vitest";
import type { RequestSpec } from "../../src/core/types.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";

/** Cluster sizes, dispatch policies and observability modes the simulator properties range over. */
export const clusterShape = fc.record({
  instances: fc.integer({ min: 1, max: 3 }),
  dispatch: fc.constantFrom("round-robin", "least-outstanding", "least-kv"),
  oracle: fc.boolean(),
});

/** Every request closed exactly once: rejected if it cannot fit `max_model_len`, else finished with
 *  its full output, no more cached tokens than its prompt, and its first token and finish in order. */
export function expectEveryCallClosed(rows: readonly CallRow[], requests: readonly RequestSpec[], max_model_len: number): void {
  expect(rows.map((r) => r.call_id).sort()).toEqual(requests.map((r) => r.id).sort());
  const byId = new Map(requests.map((r) => [r.id, r]));
  for (const row of rows) {
    const request = byId.get(row.call_id)!;
    if (request.prompt_tokens + request.output_tokens > max_model_len) {
      expect(row.status).toBe("rejected");
      continue;
    }
    expect(row.status).toBe("finished");
    expect(row.output_tokens).toBe(request.output_tokens);
    expect(row.cached_tokens!).toBeLessThanOrEqual(request.prompt_tokens);
    expect(row.first_token_s!).toBeGreaterThan(row.dispatched_s!);
    expect(row.finished_s).toBeGreaterThanOrEqual(row.first_token_s!);
  }
}
