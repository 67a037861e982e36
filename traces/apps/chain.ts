import type { AppGenerator } from "./app.ts";
import { appWorkflow, llm, seconds, tokens, tool } from "./steps.ts";
import type { StepSpec } from "../../src/workflow/types.ts";

/**
 * `chain` — a ReAct tool-using agent (Yao et al., "ReAct", 2023): think → act → observe, repeated.
 *
 *   think-0 → tool-0 → think-1 → tool-1 → … → think-(T−1)
 *
 * One agent, one growing conversation: think-k (k > 0) has `history` = think-(k−1), so its prompt is
 * the whole previous context plus the tool's observation; think-0's prompt is the system prompt plus
 * the user query. 2·turns − 1 steps.
 *
 * Defaults: a 1,200-token system prompt (tool descriptions and a few-shot example, as ReAct prompts
 * carry); a ~150-token user query; ~120-token thoughts (a thought plus one action call, the last one
 * the answer); ~400-token observations with high variance (search snippets, API JSON); tools taking
 * ~1.5 s (a web search or remote API call).
 */
const NAME = "chain";

export const chain: AppGenerator = {
  name: NAME,
  description:
    "A ReAct tool-using agent: one agent alternates think (LLM) and act (tool) steps, think → tool → think …, " +
    "each think continuing the previous one's conversation with the tool's observation appended, so the " +
    "context grows every turn. A linear chain of 2·turns − 1 steps.",
  params: {
    turns: { kind: "int", default: 5, min: 1, description: "think steps (LLM calls); a tool runs between consecutive ones" },
    system_tokens: { kind: "int", default: 1200, min: 0, description: "agent system prompt (tool descriptions, few-shot example)" },
    query_tokens: { kind: "length", default: "lognormal:150,0.5", description: "the user query, input of the first think step" },
    thought_tokens: { kind: "length", default: "lognormal:120,0.5", description: "output of each think step (thought + action)" },
    observation_tokens: { kind: "length", default: "lognormal:400,0.8", description: "output of each tool (the observation)" },
    tool_s: { kind: "duration", default: "lognormal:1.5,1", description: "duration of each tool run, seconds" },
  },
  build(index, params, random) {
    const turns = params.int("turns");
    const query = tokens(params.length("query_tokens"), random);
    const thought = tokens(params.length("thought_tokens"), random);
    const observation = tokens(params.length("observation_tokens"), random);
    const toolSeconds = seconds(params.duration("tool_s"), random);
    const steps: StepSpec[] = [llm("think-0", "react", [], query(), thought())];
    for (let k = 1; k < turns; k++) {
      steps.push(tool(`tool-${k - 1}`, "action", [`think-${k - 1}`], toolSeconds(), observation()));
      steps.push(llm(`think-${k}`, "react", [`tool-${k - 1}`], 0, thought(), `think-${k - 1}`));
    }
    return appWorkflow(NAME, index, { react: { system_tokens: params.int("system_tokens") } }, steps);
  },
};
