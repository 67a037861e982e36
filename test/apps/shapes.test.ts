import { describe, expect, it } from "vitest";
import { buildDag, dagShape } from "../../src/workflow/dag.ts";
import { composePrompts, promptTokens, stepOutputKey, systemPromptKey } from "../../src/workflow/prompt.ts";
import type { LlmStepSpec, WorkflowSpec } from "../../src/workflow/types.ts";
import { buildMany, buildOne, llmSteps, toolSteps } from "./helpers.ts";

/** Prompt segments of every step, by step id. */
function promptsById(wf: WorkflowSpec) {
  const dag = buildDag(wf, "test");
  const prompts = composePrompts(wf, dag);
  return new Map(wf.steps.map((s, i) => [s.id, prompts[i]]));
}

const byId = (wf: WorkflowSpec, id: string) => wf.steps.find((s) => s.id === id)!;

describe("chain", () => {
  it.each([1, 2, 5, 9])("has 2·turns − 1 steps alternating think and tool (turns = %i)", (turns) => {
    const wf = buildOne("chain", { turns: String(turns) });
    expect(wf.steps).toHaveLength(2 * turns - 1);
    wf.steps.forEach((s, i) => expect(s.kind).toBe(i % 2 === 0 ? "llm" : "tool"));
    expect(dagShape(buildDag(wf, "t"))).toEqual({ depth: 2 * turns - 1, width: 1 });
  });

  it("continues one conversation with each observation as input", () => {
    const wf = buildOne("chain");
    const prompts = promptsById(wf);
    for (let k = 1; k < 5; k++) {
      const think = byId(wf, `think-${k}`) as LlmStepSpec;
      expect(think.history).toBe(`think-${k - 1}`);
      const segments = prompts.get(think.id)!;
      const observation = byId(wf, `tool-${k - 1}`);
      expect(segments.at(-1)).toEqual({ key: stepOutputKey(wf, observation), tokens: observation.output_tokens });
      expect(promptTokens(segments)).toBeGreaterThan(promptTokens(prompts.get(`think-${k - 1}`)!));
    }
    expect(prompts.get("think-0")!.map((s) => s.key)).toEqual([systemPromptKey(wf, "react"), `in:${wf.id}/think-0`]);
  });
});

describe("fanout", () => {
  it.each([1, 4, 16])("has workers + 2 LLM calls: plan → workers → aggregate (workers = %i)", (workers) => {
    const wf = buildOne("fanout", { workers: String(workers) });
    expect(llmSteps(wf)).toHaveLength(workers + 2);
    expect(toolSteps(wf)).toHaveLength(0);
    expect(dagShape(buildDag(wf, "t"))).toEqual({ depth: 3, width: workers });
    const aggregate = byId(wf, "aggregate");
    expect(aggregate.after).toEqual(Array.from({ length: workers }, (_, w) => `worker-${w}`));
  });

  it("gives each worker the worker system prompt, the plan, then its own sub-task", () => {
    const wf = buildOne("fanout");
    const prompts = promptsById(wf);
    const plan = byId(wf, "plan");
    for (let w = 0; w < 4; w++) {
      expect(prompts.get(`worker-${w}`)!.map((s) => s.key)).toEqual([systemPromptKey(wf, "worker"), stepOutputKey(wf, plan), `in:${wf.id}/worker-${w}`]);
    }
  });
});

describe("supervisor", () => {
  it("delegates to distinct app agents in one sequential chain", () => {
    for (const [apps, turns] of [
      [3, 2],
      [1, 1],
      [5, 3],
    ]) {
      const wf = buildOne("supervisor", { apps: String(apps), app_turns: String(turns) });
      expect(llmSteps(wf)).toHaveLength(apps + 1 + apps * (turns + 1));
      expect(toolSteps(wf)).toHaveLength(apps * turns);
      expect(dagShape(buildDag(wf, "t")).width).toBe(1);
      const appAgents = Object.keys(wf.agents).filter((a) => a !== "supervisor");
      expect(new Set(appAgents).size).toBe(apps);
    }
  });

  it("keeps the supervisor's and each app session's conversations", () => {
    const wf = buildOne("supervisor");
    const sup = (k: number) => byId(wf, `sup-${k}`) as LlmStepSpec;
    expect(sup(0).history).toBeUndefined();
    for (let k = 1; k <= 3; k++) {
      expect(sup(k).history).toBe(`sup-${k - 1}`);
      expect(sup(k).after).toContain(`a${k - 1}-reply`);
    }
    for (let k = 0; k < 3; k++) {
      const first = byId(wf, `a${k}-think-0`) as LlmStepSpec;
      const second = byId(wf, `a${k}-think-1`) as LlmStepSpec;
      const reply = byId(wf, `a${k}-reply`) as LlmStepSpec;
      expect(first.history).toBeUndefined();
      expect(first.after).toEqual([`sup-${k}`]);
      expect(second.history).toBe(first.id);
      expect(reply.history).toBe(second.id);
      expect(new Set([first.agent, second.agent, reply.agent]).size).toBe(1);
    }
  });
});

describe("debate", () => {
  it("has (N+M)·R LLM calls, a question and a vote tool step", () => {
    const wf = buildOne("debate");
    expect(llmSteps(wf)).toHaveLength(8 * 3);
    expect(toolSteps(wf).map((s) => s.id)).toEqual(["question", "vote"]);
    const vote = byId(wf, "vote");
    expect(vote.kind === "tool" && vote.tool).toBe("majority-vote");
    expect(vote.after).toEqual(Array.from({ length: 8 }, (_, i) => `r3-a${i}`));
  });

  it("gives round 1 the role's system prompt then the shared question", () => {
    const wf = buildOne("debate", { truthful: "3", adversarial: "2" });
    const prompts = promptsById(wf);
    const question = stepOutputKey(wf, byId(wf, "question"));
    for (let i = 0; i < 5; i++) {
      const step = byId(wf, `r1-a${i}`) as LlmStepSpec;
      expect(step.agent).toBe(i < 3 ? "truthful" : "adversarial");
      expect(prompts.get(step.id)!.map((s) => s.key)).toEqual([systemPromptKey(wf, step.agent), question]);
    }
  });

  it("continues each agent's conversation and reads `peers` other agents of the previous round", () => {
    for (const peers of [0, 1, 2, 5]) {
      const wf = buildOne("debate", { truthful: "4", adversarial: "3", rounds: "4", peers: String(peers) });
      for (const step of llmSteps(wf) as LlmStepSpec[]) {
        const [, round, agent] = /^r(\d+)-a(\d+)$/.exec(step.id)!.map(Number);
        if (round === 1) continue;
        const own = `r${round - 1}-a${agent}`;
        expect(step.history).toBe(own);
        expect(step.agent).toBe((byId(wf, own) as LlmStepSpec).agent);
        const read = step.after.filter((d) => d !== own);
        expect(read).toHaveLength(peers);
        expect(new Set(read).size).toBe(peers);
        for (const d of read) expect(d).toMatch(new RegExp(`^r${round - 1}-a(?!${agent}$)\\d+$`));
      }
    }
  });

  it("lets an agent read every other agent when peers = N + M − 1", () => {
    const wf = buildOne("debate", { truthful: "2", adversarial: "2", rounds: "2", peers: "3" });
    const after = byId(wf, "r2-a1").after;
    expect(after[0]).toBe("r1-a1");
    expect(new Set(after)).toEqual(new Set(["r1-a0", "r1-a1", "r1-a2", "r1-a3"]));
  });
});

describe("guessing-game", () => {
  it("P = 10, S = 3: 60 LLM calls sharing one system-prompt prefix, 3 average steps", () => {
    const wf = buildOne("guessing-game", { participants: "10", steps: "3" });
    const calls = llmSteps(wf) as LlmStepSpec[];
    expect(calls).toHaveLength(60);
    expect(new Set(calls.map((c) => c.agent))).toEqual(new Set(["player"]));
    const prompts = promptsById(wf);
    const firstKeys = new Set(calls.map((c) => prompts.get(c.id)![0].key));
    expect([...firstKeys]).toEqual([systemPromptKey(wf, "player")]);
    const averages = toolSteps(wf);
    expect(averages.map((s) => s.id)).toEqual(["average-1", "average-2", "average-3"]);
    for (const [s, avg] of averages.entries()) {
      expect(avg.after).toEqual(Array.from({ length: 10 }, (_, p) => `s${s + 1}-p${p}-guess`));
    }
  });

  it("extends the reason with the guess, and the previous guess with the announced average", () => {
    const wf = buildOne("guessing-game", { participants: "3", steps: "3" });
    const prompts = promptsById(wf);
    for (let s = 1; s <= 3; s++) {
      for (let p = 0; p < 3; p++) {
        const reason = byId(wf, `s${s}-p${p}-reason`) as LlmStepSpec;
        const guess = byId(wf, `s${s}-p${p}-guess`) as LlmStepSpec;
        expect(guess.history).toBe(reason.id);
        if (s === 1) {
          expect(reason.history).toBeUndefined();
          continue;
        }
        expect(reason.history).toBe(`s${s - 1}-p${p}-guess`);
        expect(reason.after).toContain(`average-${s - 1}`);
        const average = byId(wf, `average-${s - 1}`);
        expect(prompts.get(reason.id)!.map((x) => x.key)).toContain(stepOutputKey(wf, average));
      }
    }
  });
});

describe("qa-router", () => {
  it("routes router → expert → writer in 3 LLM calls", () => {
    for (const wf of buildMany("qa-router", {}, 20)) {
      expect(wf.steps.map((s) => s.id)).toEqual(["router", "expert", "writer"]);
      expect(llmSteps(wf)).toHaveLength(3);
      expect(byId(wf, "expert").after).toEqual(["router"]);
      const writer = byId(wf, "writer") as LlmStepSpec;
      expect(writer.after).toEqual(["expert"]);
      expect(writer.history).toBeUndefined();
      expect(writer.input_tokens).toBe(0);
      expect(["math", "history"]).toContain((byId(wf, "expert") as LlmStepSpec).agent);
    }
  });

  it("sends a math_share of the questions to the math expert", () => {
    const expertOf = (wf: WorkflowSpec) => (byId(wf, "expert") as LlmStepSpec).agent;
    expect(new Set(buildMany("qa-router", { math_share: "0" }, 50).map(expertOf))).toEqual(new Set(["history"]));
    expect(new Set(buildMany("qa-router", { math_share: "1" }, 50).map(expertOf))).toEqual(new Set(["math"]));
    const share = buildMany("qa-router", {}, 1000).filter((wf) => expertOf(wf) === "math").length / 1000;
    expect(share).toBeGreaterThan(0.45);
    expect(share).toBeLessThan(0.55);
  });

  it("scales each expert's answers by its own factor, from the same draws", () => {
    const answer = (wf: WorkflowSpec) => (byId(wf, "expert") as LlmStepSpec).output_tokens;
    const plain = buildMany("qa-router", {}, 200);
    const scaled = buildMany("qa-router", { math_output_scale: "1.5", history_output_scale: "0.2" }, 200);
    // The preset draws from its own stream: compare it with itself at scale 1.
    const hetero = buildMany("qa-router-heterogeneous", {}, 200);
    const heteroPlain = buildMany("qa-router-heterogeneous", { math_output_scale: "1", history_output_scale: "1" }, 200);
    for (let i = 0; i < plain.length; i++) {
      const factor = (wf: WorkflowSpec) => ((byId(wf, "expert") as LlmStepSpec).agent === "math" ? 1.5 : 0.2);
      expect(answer(scaled[i])).toBe(Math.max(1, Math.round(answer(plain[i]) * factor(plain[i]))));
      expect(answer(hetero[i])).toBe(Math.max(1, Math.round(answer(heteroPlain[i]) * factor(heteroPlain[i]))));
      // The other draws are untouched.
      expect((byId(scaled[i], "writer") as LlmStepSpec).output_tokens).toBe((byId(plain[i], "writer") as LlmStepSpec).output_tokens);
    }
    expect(hetero[0].id).toBe("qa-router-heterogeneous-0");
  });
});

describe("coding-agent", () => {
  it("grows the context strictly turn over turn, reusing the previous turn as a prefix", () => {
    for (const wf of buildMany("coding-agent", {}, 10)) {
      const prompts = promptsById(wf);
      const turns = llmSteps(wf) as LlmStepSpec[];
      expect(turns).toHaveLength(8);
      expect(toolSteps(wf)).toHaveLength(7);
      for (let k = 1; k < turns.length; k++) {
        const before = prompts.get(turns[k - 1].id)!;
        const now = prompts.get(turns[k].id)!;
        expect(turns[k].history).toBe(turns[k - 1].id);
        expect(promptTokens(now)).toBeGreaterThan(promptTokens(before));
        expect(now.slice(0, before.length)).toEqual(before);
      }
      expect(promptTokens(prompts.get("turn-0")!)).toBeGreaterThanOrEqual(2000 + 6000 + 1);
    }
  });
});
