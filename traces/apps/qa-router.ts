import type { AppGenerator, AppParam } from "./app.ts";
import { appWorkflow, llm, tokens } from "./steps.ts";

/**
 * `qa-router` — the question-answering service used to evaluate Kairos (workflow-aware multi-agent
 * serving): a router agent classifies each question and hands it to a math or a history expert,
 * whose answer a writer agent turns into the reply.
 *
 *   router → math | history → writer
 *
 * The expert is drawn per workflow (math with probability `math_share`). The expert's prompt is its
 * system prompt, the router's output (the routing note) and the question again; the writer is
 * history-less: its system prompt and the expert's answer. 3 LLM calls, a chain — but which expert
 * runs varies, which is what a per-agent latency profile has to learn.
 *
 * Defaults: system prompts of 500 (router), 1,000 (each expert, with worked examples) and 700
 * (writer) tokens; ~100-token questions; ~40-token routing notes; ~400-token expert answers
 * (step-by-step working); ~250-token final replies. Each expert's answer is the `expert_tokens` draw
 * times its own scale (`math_output_scale`, `history_output_scale`; both 1 by default), so the two
 * experts can have different output distributions; `qa-router-heterogeneous` is the preset with
 * math ×1.5 and history ×0.2 (the heterogeneous experts of Kairos's evaluation).
 */
function qaRouterApp(name: string, description: string, scales: { math: number; history: number }): AppGenerator {
  const scale = (expert: string, value: number): AppParam => ({
    kind: "number",
    default: value,
    min: 0,
    description: `${expert} expert's output = the expert_tokens draw × this (at least 1 token)`,
  });
  return {
    name,
    description,
    params: {
      ...QA_ROUTER_PARAMS,
      math_output_scale: scale("math", scales.math),
      history_output_scale: scale("history", scales.history),
    },
    build(index, params, random) {
      const question = tokens(params.length("question_tokens"), random)();
      const expert = random() < params.number("math_share") ? "math" : "history";
      const expertSystem = params.int("expert_system_tokens");
      // Draw order (question, expert, route, answer, reply) is the stream's contract: keep it.
      const route = tokens(params.length("route_tokens"), random)();
      const answer = Math.max(1, Math.round(tokens(params.length("expert_tokens"), random)() * params.number(`${expert}_output_scale`)));
      const steps = [
        llm("router", "router", [], question, route),
        llm("expert", expert, ["router"], question, answer),
        llm("writer", "writer", ["expert"], 0, tokens(params.length("reply_tokens"), random)()),
      ];
      const agents = {
        router: { system_tokens: params.int("router_system_tokens") },
        math: { system_tokens: expertSystem },
        history: { system_tokens: expertSystem },
        writer: { system_tokens: params.int("writer_system_tokens") },
      };
      return appWorkflow(name, index, agents, steps);
    },
  };
}

const QA_ROUTER_PARAMS: Record<string, AppParam> = {
  math_share: { kind: "number", default: 0.5, min: 0, max: 1, description: "probability a question goes to the math expert" },
  router_system_tokens: { kind: "int", default: 500, min: 0, description: "router system prompt" },
  expert_system_tokens: { kind: "int", default: 1000, min: 0, description: "math and history expert system prompts (each)" },
  writer_system_tokens: { kind: "int", default: 700, min: 0, description: "writer system prompt" },
  question_tokens: { kind: "length", default: "lognormal:100,0.5", description: "the question (router input; repeated to the expert)" },
  route_tokens: { kind: "length", default: "lognormal:40,0.5", description: "router output (the routing note)" },
  expert_tokens: { kind: "length", default: "lognormal:400,0.6", description: "expert output (the worked answer)" },
  reply_tokens: { kind: "length", default: "lognormal:250,0.5", description: "writer output (the final reply)" },
};

export const qaRouter: AppGenerator = qaRouterApp(
  "qa-router",
  "Kairos's question service: a router agent sends each question to a math or a history expert " +
    "(math with probability math_share), and a writer agent rewrites the expert's answer. A 3-call chain " +
    "router → expert → writer whose middle agent varies per workflow.",
  { math: 1, history: 1 },
);

/** The heterogeneous-experts preset: math answers 1.5× and history answers 0.2× the base length. */
export const qaRouterHeterogeneous: AppGenerator = qaRouterApp(
  "qa-router-heterogeneous",
  "qa-router with heterogeneous experts (Kairos's evaluation): the math expert's answers are 1.5× and " +
    "the history expert's 0.2× the expert_tokens draw (math_output_scale 1.5, history_output_scale 0.2).",
  { math: 1.5, history: 0.2 },
);
