import { describe, expect, it } from "vitest";
import { validateWorkflow } from "../../src/workflow/validate.ts";
import { buildOne, llmSteps, toolSteps } from "./helpers.ts";

/** The MT-APC workloads at full size. Generation is linear in the number of calls (and peers),
 *  so each builds in tens of milliseconds; no time is asserted, but a quadratic regression would
 *  show up as a slow test. */
describe("MT-APC scale", () => {
  it("builds the 400 + 400-agent, 3-round debate", () => {
    const wf = buildOne("debate", { truthful: "400", adversarial: "400", rounds: "3" });
    expect(llmSteps(wf)).toHaveLength(2400);
    expect(toolSteps(wf)).toHaveLength(2);
    expect(wf.steps.at(-1)!.after).toHaveLength(800);
    validateWorkflow(wf, "app debate");
  });

  it("builds the 1000-player, 5-step guessing game (10,000 LLM calls)", () => {
    const wf = buildOne("guessing-game", { participants: "1000", steps: "5" });
    expect(llmSteps(wf)).toHaveLength(10_000);
    expect(toolSteps(wf)).toHaveLength(5);
  });
});
