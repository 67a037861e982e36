import { inputError } from "../../src/core/errors.ts";
import type { Random } from "../../src/core/rng.ts";
import type { AgentSpec, StepSpec } from "../../src/workflow/types.ts";
import type { AppGenerator } from "./app.ts";
import { appWorkflow, llm, seconds, tokens, tool } from "./steps.ts";

const NAME = "supervisor";

/**
 * `supervisor` — AppWorld-style delegation (Trivedi et al., "AppWorld", 2024; the multi-agent
 * AppWorld traces of the MAST dataset): a supervisor agent works through a task by handing it, app by
 * app, to app agents (one per app — Spotify, Venmo, Gmail, … — each with that app's API docs in its
 * system prompt). Each app agent runs a few think → API-call rounds in its own conversation, then
 * replies; the supervisor reads the reply and continues. Everything is sequential:
 *
 *   sup-0 → [app-a: think-0 → api-0 → think-1 → api-1 → reply] → sup-1 → [app-b: …] → sup-2 → … → sup-A
 *
 * sup-k (k > 0) continues the supervisor's conversation (history = sup-(k−1), the reply as input);
 * an app session starts fresh from its system prompt and the supervisor's message, and each later
 * call of the session extends the previous one (history), the API response as input. The A app
 * agents of a workflow are drawn without replacement from a pool of `app_pool` apps (AppWorld has
 * nine), so workflows share app system prompts the way real ones do.
 * LLM calls: (A + 1) + A·(app_turns + 1); tool steps: A·app_turns.
 *
 * Defaults: 1,500-token supervisor prompt; 2,000-token app prompts (API docs); a ~200-token task;
 * ~120-token supervisor messages; ~200-token app-agent turns (code calling the API); ~300-token API
 * responses (JSON, high variance) returned in ~0.3 s (local API servers); ~100-token replies.
 */
export const supervisor: AppGenerator = {
  name: NAME,
  description:
    "AppWorld-style supervisor: a supervisor agent delegates a task to app agents one at a time; each app " +
    "agent runs think → API-call rounds in its own conversation and replies, and the supervisor continues " +
    "its conversation with the reply. A sequential chain: sup → (app session → reply → sup) × apps.",
  params: {
    apps: { kind: "int", default: 3, min: 1, description: "app agents the supervisor delegates to, in turn" },
    app_turns: { kind: "int", default: 2, min: 1, description: "think → API-call rounds per app session" },
    app_pool: { kind: "int", default: 9, min: 1, description: "distinct app agents to draw from (AppWorld has 9 apps)" },
    supervisor_system_tokens: { kind: "int", default: 1500, min: 0, description: "supervisor system prompt" },
    app_system_tokens: { kind: "int", default: 2000, min: 0, description: "each app agent's system prompt (its API docs)" },
    task_tokens: { kind: "length", default: "lognormal:200,0.5", description: "the user task, input of the first supervisor call" },
    supervisor_tokens: { kind: "length", default: "lognormal:120,0.5", description: "each supervisor output (a delegation, finally the answer)" },
    app_think_tokens: { kind: "length", default: "lognormal:200,0.6", description: "each app-agent think output (code calling the API)" },
    api_tokens: { kind: "length", default: "lognormal:300,0.8", description: "each API response" },
    api_s: { kind: "duration", default: "lognormal:0.3,0.5", description: "each API call's duration, seconds" },
    reply_tokens: { kind: "length", default: "lognormal:100,0.5", description: "each app agent's reply to the supervisor" },
  },
  check(params, where) {
    if (params.int("apps") > params.int("app_pool")) {
      throw inputError(`${where} apps`, `${params.int("apps")} apps exceed app_pool = ${params.int("app_pool")}; expected apps ≤ app_pool`);
    }
  },
  build(index, params, random) {
    const apps = params.int("apps");
    const appTurns = params.int("app_turns");
    const task = tokens(params.length("task_tokens"), random);
    const supervisorOut = tokens(params.length("supervisor_tokens"), random);
    const think = tokens(params.length("app_think_tokens"), random);
    const api = tokens(params.length("api_tokens"), random);
    const apiSeconds = seconds(params.duration("api_s"), random);
    const reply = tokens(params.length("reply_tokens"), random);

    const chosen = drawDistinct(apps, params.int("app_pool"), random);
    const agents: Record<string, AgentSpec> = { supervisor: { system_tokens: params.int("supervisor_system_tokens") } };
    const steps: StepSpec[] = [llm("sup-0", "supervisor", [], task(), supervisorOut())];
    chosen.forEach((app, k) => {
      const agent = `app-${app}`;
      agents[agent] = { system_tokens: params.int("app_system_tokens") };
      const session = `a${k}`;
      let previous = `sup-${k}`; // the step the next app-session call waits on
      let history: string | undefined; // the session's conversation so far
      for (let t = 0; t < appTurns; t++) {
        const thinkId = `${session}-think-${t}`;
        steps.push(llm(thinkId, agent, [previous], 0, think(), history));
        steps.push(tool(`${session}-api-${t}`, "api", [thinkId], apiSeconds(), api()));
        previous = `${session}-api-${t}`;
        history = thinkId;
      }
      steps.push(llm(`${session}-reply`, agent, [previous], 0, reply(), history));
      steps.push(llm(`sup-${k + 1}`, "supervisor", [`${session}-reply`], 0, supervisorOut(), `sup-${k}`));
    });
    return appWorkflow(NAME, index, agents, steps);
  },
};

/** `count` distinct integers from [0, pool), in draw order (a partial Fisher–Yates shuffle). */
function drawDistinct(count: number, pool: number, random: Random): number[] {
  const items = Array.from({ length: pool }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (pool - i));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items.slice(0, count);
}
