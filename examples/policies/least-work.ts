// A dispatch policy in its own file (docs/writing-policies.md):
//   tandem sim --app qa-router --dispatch ./examples/policies/least-work.ts --dispatch-param waiting_penalty_tokens=4000
import { defineDispatchPolicy, type InstanceView, z } from "tandem";

/** least-work — the instance with the least work queued on it: the prompt and output tokens the
 *  router sent there that have not finished, plus a penalty per request its last scrape saw
 *  waiting (work the router's own count may not know of, e.g. from another router). */
export default defineDispatchPolicy({
  name: "least-work",
  description: "fewest outstanding tokens, plus a penalty per observed waiting request",
  params: z.strictObject({
    /** Tokens one waiting request counts as. */
    waiting_penalty_tokens: z.number().min(0).default(2000),
  }),
  create({ waiting_penalty_tokens }) {
    const terms = (instance: InstanceView) => ({
      outstanding_tokens: instance.outstanding_tokens,
      waiting_penalty: waiting_penalty_tokens * (instance.observed?.waiting ?? 0),
    });
    const score = (instance: InstanceView) => {
      const t = terms(instance);
      return t.outstanding_tokens + t.waiting_penalty;
    };
    return {
      // Lowest score wins; ties go to the first candidate (config order), so runs are deterministic.
      choose: (_call, candidates) => candidates.reduce((best, c) => (score(c) < score(best) ? c : best)),
      // What decision traces (--decisions) record for each candidate.
      explain: (_call, candidates) => ({ scores: candidates.map(score), terms: candidates.map(terms) }),
    };
  },
});
