import type { StepSpec } from "../../src/workflow/types.ts";
import type { AppGenerator } from "./app.ts";
import { appWorkflow, llm, seconds, tokens, tool } from "./steps.ts";

const NAME = "guessing-game";
const PLAYER = "player";

/**
 * `guessing-game` — "guess 2/3 of the average" played by P LLM participants over S steps (the
 * 1000-player, 5-round game of the MT-APC multi-tier prefix-cache study).
 *
 *   p0: reason → guess ─┐            ┌→ p0: reason → guess ─┐
 *   p1: reason → guess ─┼→ average-1 ┼→ p1: reason → guess ─┼→ average-2 → …
 *   …                   ┘            └→ …                   ┘
 *
 * Two calls per participant per step: `reason` (think about what the others will guess) and
 * `guess` (state a number), the guess extending the reason's conversation (history). After each
 * step the `average` tool step waits for every guess and announces the average (a few tokens); the
 * next step's reason continues the participant's conversation (history = its previous guess) with
 * the announcement as input. All participants are one agent, "player", so the whole game shares
 * one system-prompt prefix. 2·P·S LLM calls and S tool steps; O(P·S) to generate.
 *
 * Defaults: a 400-token system prompt (the rules); a ~30-token instruction per call ("Round 2.
 * Think." / "Your number:"); ~200-token reasoning; a guess of 3–10 tokens; a 12-token announcement
 * computed in 50 ms.
 */
export const guessingGame: AppGenerator = {
  name: NAME,
  description:
    '"Guess 2/3 of the average" (MT-APC\'s 1000-player game): P participants, all one agent sharing one ' +
    "system prompt, each make two calls per step (reason, then guess extending it); an average tool step " +
    "after each step waits for all guesses, and the next step's reasoning continues each participant's " +
    "conversation with the announced average. S layers of 2·P calls joined by S average steps.",
  params: {
    participants: { kind: "int", default: 10, min: 1, description: "players (P)" },
    steps: { kind: "int", default: 3, min: 1, description: "game steps (S); each is reason + guess per player, then the average" },
    system_tokens: { kind: "int", default: 400, min: 0, description: "the shared player system prompt (the rules)" },
    instruction_tokens: { kind: "length", default: "uniform:20,40", description: "new input of every call (the round's instruction)" },
    reason_tokens: { kind: "length", default: "lognormal:200,0.5", description: "output of each reason call" },
    guess_tokens: { kind: "length", default: "uniform:3,10", description: "output of each guess call (a number)" },
    average_tokens: { kind: "length", default: "fixed:12", description: "the announced average (average tool output)" },
    average_s: { kind: "duration", default: "fixed:0.05", description: "duration of each average computation, seconds" },
  },
  build(index, params, random) {
    const players = params.int("participants");
    const rounds = params.int("steps");
    const instruction = tokens(params.length("instruction_tokens"), random);
    const reason = tokens(params.length("reason_tokens"), random);
    const guess = tokens(params.length("guess_tokens"), random);
    const average = tokens(params.length("average_tokens"), random);
    const averageSeconds = seconds(params.duration("average_s"), random);

    const steps: StepSpec[] = [];
    for (let s = 1; s <= rounds; s++) {
      const guesses: string[] = new Array(players);
      for (let p = 0; p < players; p++) {
        const reasonId = `s${s}-p${p}-reason`;
        const continues = s > 1 ? `s${s - 1}-p${p}-guess` : undefined;
        steps.push(llm(reasonId, PLAYER, s > 1 ? [`average-${s - 1}`] : [], instruction(), reason(), continues));
        guesses[p] = `s${s}-p${p}-guess`;
        steps.push(llm(guesses[p], PLAYER, [reasonId], instruction(), guess(), reasonId));
      }
      steps.push(tool(`average-${s}`, "average", guesses, averageSeconds(), average()));
    }
    return appWorkflow(NAME, index, { [PLAYER]: { system_tokens: params.int("system_tokens") } }, steps);
  },
};
