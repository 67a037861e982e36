import fc from "fast-check";
import type { StepSpec, WorkflowSpec } from "../../src/workflow/types.ts";

/** Random valid workflow DAGs: each step depends on a few earlier ones; LLM steps may continue the
 *  history of an LLM predecessor; tools take 0–2 s. */
export const randomStep = (i: number) =>
  fc.record({
    llm: fc.integer({ min: 0, max: 9 }).map((n) => n < 7),
    deps: fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, i - 1) }), { maxLength: i === 0 ? 0 : Math.min(3, i) }),
    agent: fc.constantFrom("a", "b"),
    useHistory: fc.boolean(),
    input_tokens: fc.integer({ min: 0, max: 200 }),
    output_tokens: fc.integer({ min: 1, max: 40 }),
    duration_s: fc.double({ min: 0, max: 2, noNaN: true }),
    tool_output: fc.integer({ min: 0, max: 100 }),
  });

export const randomWorkflow = (id: string, arrival_s: number) =>
  fc.integer({ min: 1, max: 10 }).chain((n) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => randomStep(i))).map((raw): WorkflowSpec => {
      const steps: StepSpec[] = raw.map((r, i) => {
        const after = r.deps.filter((d) => d < i).map((d) => `s${d}`);
        if (!r.llm) return { kind: "tool", id: `s${i}`, after, duration_s: r.duration_s, output_tokens: r.tool_output };
        const llmDeps = after.filter((d) => raw[Number(d.slice(1))].llm);
        return {
          kind: "llm",
          id: `s${i}`,
          after,
          agent: r.agent,
          history: r.useHistory && llmDeps.length > 0 ? llmDeps[0] : undefined,
          input_tokens: r.input_tokens,
          output_tokens: r.output_tokens,
        };
      });
      return { id, arrival_s, app: "prop", agents: { a: { system_tokens: 64 }, b: { system_tokens: 32 } }, steps };
    }),
  );

export const randomWorkflows = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 6 }).chain((gaps) => {
  let t = 0;
  return fc.tuple(...gaps.map((g, k) => randomWorkflow(`w${k}`, (t += g))));
});
