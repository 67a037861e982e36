import { z } from "zod";
import type { SchedulingPolicy } from "./policy.ts";

export const SJF_PARAMS = z.strictObject({
  /** Prediction for a call whose agent has no finished call yet (and for calls without an agent). */
  default_output_tokens: z.number().positive().default(256),
  /** When set, a call that has waited longer than this goes ahead of every prediction (FCFS among
   *  such calls); omitted = no promotion. */
  starvation_s: z.number().positive().optional(),
});

export type SjfParams = z.infer<typeof SJF_PARAMS>;

/** sjf — shortest job first by predicted output length: the calls expected to decode the fewest
 *  tokens leave first, which minimises mean latency when lengths are predictable.
 *  Signal: `predictedOutputTokens(call, default_output_tokens)` — the mean output of the call's
 *  agent so far (online profile). A router cannot know a call's true output length, so the policy
 *  never reads `call.output_tokens`. With `starvation_s`, a call that has waited longer ranks −1,
 *  ahead of every prediction, oldest first. Predictions change as calls finish, so it is dynamic.
 *  Source: SJF/SRPT scheduling; output-length-predicting LLM schedulers (S3, "Efficient LLM
 *  Scheduling by Learning to Rank"), here with per-agent means as the predictor, as Kairos's agent
 *  profiles allow. */
export function createSjf(params: SjfParams): SchedulingPolicy {
  const fallback = params.default_output_tokens;
  const starvation_s = params.starvation_s ?? Infinity;
  return {
    name: "sjf",
    dynamic: true,
    rank(queued, view) {
      if (view.now_s - queued.enqueued_s > starvation_s) return -1;
      return view.workflows.predictedOutputTokens(queued.call, fallback);
    },
  };
}
