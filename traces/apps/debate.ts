import { inputError } from "../../src/core/errors.ts";
import type { Random } from "../../src/core/rng.ts";
import type { StepSpec } from "../../src/workflow/types.ts";
import type { AppGenerator } from "./app.ts";
import { appWorkflow, llm, seconds, tokens, tool } from "./steps.ts";

const NAME = "debate";
/** Tokens of the vote count's result (the winning answer's label). */
const VERDICT_TOKENS = 4;

/**
 * `debate` — multi-agent debate with truthful and adversarial agents and a majority vote (the
 * 400 + 400-agent debate of the MT-APC multi-tier prefix-cache study; debate after Du et al.,
 * "Improving Factuality and Reasoning through Multiagent Debate", 2023).
 *
 *   question ─┬→ r1-a0 ─┬→ r2-a0 ─ … ─ rR-a0 ─┐
 *             ├→ r1-a1 ─┼→ r2-a1 ─ … ─ rR-a1 ─┼→ vote
 *             └→ …      └→ …                  ┘
 *
 * `question` is a zero-duration tool step whose output is the question: every round-1 call depends
 * on it, so its prompt is role system prompt + question — a prefix shared by all agents of a role.
 * In round r > 1 agent i continues its own conversation (history = its round r−1 call) and reads the
 * round r−1 answers of `peers` other agents, drawn at random (distinct, never itself), as inputs.
 * `vote` is a tool step (counting votes) after every last-round call. Agents 0 … N−1 are truthful,
 * N … N+M−1 adversarial. (N+M)·R LLM calls + 2 tool steps; generation is O((N+M)·R·peers).
 *
 * Defaults: 800-token truthful and 900-token adversarial system prompts; a ~200-token question;
 * ~250-token answers (a stance and its argument); a 10 ms vote count.
 */
export const debate: AppGenerator = {
  name: NAME,
  description:
    "Multi-agent debate (MT-APC's 400 + 400 setup): N truthful and M adversarial agents answer a shared " +
    "question, then for R−1 more rounds each continues its own conversation reading `peers` other agents' " +
    "previous answers; a majority-vote tool step counts the last round. Layers: question → R rounds of " +
    "N+M calls → vote.",
  params: {
    truthful: { kind: "int", default: 4, min: 0, description: "truthful agents (N)" },
    adversarial: { kind: "int", default: 4, min: 0, description: "adversarial agents (M)" },
    rounds: { kind: "int", default: 3, min: 1, description: "debate rounds (R)" },
    peers: { kind: "int", default: 2, min: 0, description: "other agents' previous answers each agent reads in rounds > 1" },
    truthful_system_tokens: { kind: "int", default: 800, min: 0, description: "system prompt of the truthful role" },
    adversarial_system_tokens: { kind: "int", default: 900, min: 0, description: "system prompt of the adversarial role" },
    question_tokens: { kind: "length", default: "lognormal:200,0.5", description: "the question, shared by every round-1 call" },
    answer_tokens: { kind: "length", default: "lognormal:250,0.5", description: "each agent's answer per round" },
    vote_s: { kind: "duration", default: "fixed:0.01", description: "duration of the majority-vote count, seconds" },
  },
  check(params, where) {
    const agents = params.int("truthful") + params.int("adversarial");
    if (agents < 1) throw inputError(`${where} truthful`, "truthful + adversarial is 0; expected at least one agent");
    if (params.int("peers") > agents - 1) {
      throw inputError(`${where} peers`, `${params.int("peers")} peers but only ${agents - 1} other agents; expected peers ≤ truthful + adversarial − 1`);
    }
  },
  build(index, params, random) {
    const truthful = params.int("truthful");
    const agents = truthful + params.int("adversarial");
    const rounds = params.int("rounds");
    const peers = params.int("peers");
    const answer = tokens(params.length("answer_tokens"), random);
    const question = tokens(params.length("question_tokens"), random);
    const voteSeconds = seconds(params.duration("vote_s"), random);
    const id = (round: number, agent: number) => `r${round}-a${agent}`;
    const role = (agent: number) => (agent < truthful ? "truthful" : "adversarial");

    const steps: StepSpec[] = [tool("question", "question", [], 0, question())];
    for (let i = 0; i < agents; i++) steps.push(llm(id(1, i), role(i), ["question"], 0, answer()));
    for (let r = 2; r <= rounds; r++) {
      for (let i = 0; i < agents; i++) {
        const own = id(r - 1, i);
        const read = peerOffsets(peers, agents - 1, random).map((offset) => id(r - 1, (i + offset) % agents));
        steps.push(llm(id(r, i), role(i), [own, ...read], 0, answer(), own));
      }
    }
    const last = Array.from({ length: agents }, (_, i) => id(rounds, i));
    steps.push(tool("vote", "majority-vote", last, voteSeconds(), VERDICT_TOKENS));
    const system = {
      truthful: { system_tokens: params.int("truthful_system_tokens") },
      adversarial: { system_tokens: params.int("adversarial_system_tokens") },
    };
    return appWorkflow(NAME, index, system, steps);
  },
};

/** `count` distinct offsets from [1, others], ascending, in O(count) draws (Floyd's algorithm):
 *  agent i reads agents (i + offset) mod n, which are never i itself. */
function peerOffsets(count: number, others: number, random: Random): number[] {
  const chosen = new Set<number>();
  for (let j = others - count + 1; j <= others; j++) {
    const t = 1 + Math.floor(random() * j);
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}
