import type { AppGenerator } from "./app.ts";
import { appWorkflow, llm, tokens } from "./steps.ts";

const NAME = "qa-router";

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
 * (step-by-step working); ~250-token final replies.
 */
export const qaRouter: AppGenerator = {
  name: NAME,
  description:
    "Kairos's question service: a router agent sends each question to a math or a history expert " +
    "(math with probability math_share), and a writer agent rewrites the expert's answer. A 3-call chain " +
    "router → expert → writer whose middle agent varies per workflow.",
  params: {
    math_share: { kind: "number", default: 0.5, min: 0, max: 1, description: "probability a question goes to the math expert" },
    router_system_tokens: { kind: "int", default: 500, min: 0, description: "router system prompt" },
    expert_system_tokens: { kind: "int", default: 1000, min: 0, description: "math and history expert system prompts (each)" },
    writer_system_tokens: { kind: "int", default: 700, min: 0, description: "writer system prompt" },
    question_tokens: { kind: "length", default: "lognormal:100,0.5", description: "the question (router input; repeated to the expert)" },
    route_tokens: { kind: "length", default: "lognormal:40,0.5", description: "router output (the routing note)" },
    expert_tokens: { kind: "length", default: "lognormal:400,0.6", description: "expert output (the worked answer)" },
    reply_tokens: { kind: "length", default: "lognormal:250,0.5", description: "writer output (the final reply)" },
  },
  build(index, params, random) {
    const question = tokens(params.length("question_tokens"), random)();
    const expert = random() < params.number("math_share") ? "math" : "history";
    const expertSystem = params.int("expert_system_tokens");
    const steps = [
      llm("router", "router", [], question, tokens(params.length("route_tokens"), random)()),
      llm("expert", expert, ["router"], question, tokens(params.length("expert_tokens"), random)()),
      llm("writer", "writer", ["expert"], 0, tokens(params.length("reply_tokens"), random)()),
    ];
    const agents = {
      router: { system_tokens: params.int("router_system_tokens") },
      math: { system_tokens: expertSystem },
      history: { system_tokens: expertSystem },
      writer: { system_tokens: params.int("writer_system_tokens") },
    };
    return appWorkflow(NAME, index, agents, steps);
  },
};
