import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { RngStreams } from "../../src/core/rng.ts";
import { validateWorkflow } from "../../src/workflow/validate.ts";
import { APP_NAMES, APPS, MAX_APP_TOKENS, resolveAppParams } from "../../traces/apps/index.ts";
import { buildMany } from "./helpers.ts";

/** Smallest shapes and edge cases of every app. */
const SMALL: Record<string, Record<string, string>[]> = {
  chain: [{ turns: "1" }, { turns: "2", system_tokens: "0" }],
  fanout: [{ workers: "1" }, { workers: "2", planner_system_tokens: "0", worker_system_tokens: "0", aggregator_system_tokens: "0" }],
  supervisor: [
    { apps: "1", app_turns: "1", app_pool: "1" },
    { apps: "2", app_turns: "3", app_system_tokens: "0" },
  ],
  debate: [
    { truthful: "1", adversarial: "0", rounds: "1", peers: "0" },
    { truthful: "0", adversarial: "2", rounds: "2", peers: "1" },
    { truthful: "1", adversarial: "1", rounds: "3", peers: "0", truthful_system_tokens: "0" },
  ],
  "guessing-game": [
    { participants: "1", steps: "1" },
    { participants: "2", steps: "2", system_tokens: "0" },
  ],
  "qa-router": [{ math_share: "0" }, { math_share: "1", writer_system_tokens: "0" }],
  "qa-router-heterogeneous": [{ math_share: "1" }, { history_output_scale: "0" }],
  "coding-agent": [{ turns: "1" }, { turns: "2", repo_tokens: "1", task_tokens: "fixed:1", system_tokens: "0" }],
};

describe.each(APP_NAMES)("app %s", (name) => {
  it("builds valid workflows with its defaults", () => {
    for (const wf of buildMany(name, {}, 20)) expect(() => validateWorkflow(wf, `app ${name}`)).not.toThrow();
  });

  it("builds valid workflows with small parameters", () => {
    for (const overrides of SMALL[name]) {
      for (const wf of buildMany(name, overrides, 5)) expect(() => validateWorkflow(wf, `app ${name}`)).not.toThrow();
    }
  });

  it("fills the workflow envelope and keeps token counts in range", () => {
    const [wf] = buildMany(name, {}, 1);
    expect(wf.id).toBe(`${name}-0`);
    expect(wf.app).toBe(name);
    expect(wf.arrival_s).toBe(0);
    expect(wf.tenant).toBeUndefined();
    expect(wf.priority_class).toBeUndefined();
    for (const agent of Object.values(wf.agents)) expect(agent.model).toBeUndefined();
    for (const step of wf.steps) {
      expect(Number.isInteger(step.output_tokens)).toBe(true);
      expect(step.output_tokens).toBeLessThanOrEqual(MAX_APP_TOKENS);
      if (step.kind === "llm") {
        expect(step.output_tokens).toBeGreaterThanOrEqual(1);
        expect(Number.isInteger(step.input_tokens) && step.input_tokens >= 0).toBe(true);
      } else {
        expect(step.duration_s).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it("is deterministic: same seed and params give identical JSON", () => {
    const a = JSON.stringify(buildMany(name, {}, 5, 7));
    const b = JSON.stringify(buildMany(name, {}, 5, 7));
    expect(a).toBe(b);
  });

  it("gives each index its own workflow id", () => {
    const ids = buildMany(name, {}, 5).map((wf) => wf.id);
    expect(ids).toEqual([0, 1, 2, 3, 4].map((i) => `${name}-${i}`));
  });

  it("builds valid workflows for any small integer parameters (property)", () => {
    const app = APPS[name];
    const ints = Object.entries(app.params).filter(([, p]) => p.kind === "int");
    const overrides = fc.record(Object.fromEntries(ints.map(([key, p]) => [key, fc.integer({ min: p.min ?? 0, max: (p.min ?? 0) + 4 })])));
    fc.assert(
      fc.property(overrides, fc.integer({ min: 0, max: 1000 }), fc.nat(100), (values, seed, index) => {
        let params;
        try {
          params = resolveAppParams(app, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])));
        } catch (error) {
          if (error instanceof InputError) return; // a combination the app rejects (e.g. peers ≥ agents)
          throw error;
        }
        const wf = app.build(index, params, new RngStreams(seed).stream(name));
        expect(wf.id).toBe(`${name}-${index}`);
        validateWorkflow(wf, `app ${name}`);
      }),
      { numRuns: 60 },
    );
  });
});
