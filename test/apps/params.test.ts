import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { APP_NAMES, APPS, appByName, parseParamPairs, resolveAppParams } from "../../traces/apps/index.ts";

describe("app registry", () => {
  it("holds the eight apps under their names", () => {
    expect(APP_NAMES).toEqual(["chain", "fanout", "supervisor", "debate", "guessing-game", "qa-router", "qa-router-heterogeneous", "coding-agent"]);
    for (const name of APP_NAMES) expect(APPS[name].name).toBe(name);
  });

  it("rejects an unknown app, listing the known ones", () => {
    expect(() => appByName("nope")).toThrow(InputError);
    expect(() => appByName("nope", "workload.app")).toThrow(/^workload\.app: unknown app "nope"; expected one of chain, fanout, .*coding-agent$/);
    expect(() => appByName("constructor")).toThrow(InputError);
  });

  it("documents every app and parameter", () => {
    for (const app of Object.values(APPS)) {
      expect(app.description.length).toBeGreaterThan(80);
      for (const [key, param] of Object.entries(app.params)) {
        expect(param.description, `${app.name}.${key}`).not.toBe("");
        expect(key).toMatch(/^[a-z][a-z0-9_]*$/);
      }
    }
  });
});

describe("resolveAppParams", () => {
  it("fills defaults and parses distributions once", () => {
    const params = resolveAppParams(appByName("chain"), {});
    expect(params.int("turns")).toBe(5);
    expect(params.length("query_tokens")).toEqual({ kind: "lognormal", mean_tokens: 150, cv: 0.5 });
    expect(params.duration("tool_s")).toEqual({ kind: "lognormal", mean_s: 1.5, cv: 1 });
    expect(params.toJSON()).toMatchObject({ turns: 5, query_tokens: "lognormal:150,0.5" });
  });

  it("applies overrides given as strings or numbers", () => {
    const params = resolveAppParams(appByName("guessing-game"), { participants: "1000", steps: 5, guess_tokens: "fixed:4" });
    expect(params.int("participants")).toBe(1000);
    expect(params.int("steps")).toBe(5);
    expect(params.length("guess_tokens")).toEqual({ kind: "fixed", tokens: 4 });
    expect(params.toJSON()).toMatchObject({ participants: "1000", steps: 5 });
  });

  it("reads a bare number as a fixed distribution", () => {
    const params = resolveAppParams(appByName("coding-agent"), { repo_tokens: "8000", run_s: "2.5" });
    expect(params.length("repo_tokens")).toEqual({ kind: "fixed", tokens: 8000 });
    expect(params.duration("run_s")).toEqual({ kind: "fixed", seconds: 2.5 });
    expect(resolveAppParams(appByName("coding-agent"), {}).length("repo_tokens")).toEqual({ kind: "fixed", tokens: 6000 });
  });

  it("parses every app's defaults", () => {
    for (const app of Object.values(APPS)) expect(() => resolveAppParams(app, {})).not.toThrow();
  });

  it("rejects an unknown key, listing the known ones", () => {
    const resolve = () => resolveAppParams(appByName("chain"), { turn: "3" });
    expect(resolve).toThrow(InputError);
    expect(resolve).toThrow(/^--param turn: unknown parameter of app "chain"; expected one of turns, system_tokens, query_tokens/);
    expect(() => resolveAppParams(appByName("chain"), { toString: "1" })).toThrow(InputError);
  });

  it.each([
    ["chain", "turns", "abc", /^--param turns: got "abc"; expected an integer ≥ 1$/],
    ["chain", "turns", "2.5", /expected an integer ≥ 1/],
    ["chain", "turns", "0", /expected an integer ≥ 1/],
    ["chain", "turns", "", /expected an integer ≥ 1/],
    ["qa-router", "math_share", "1.5", /^--param math_share: got "1.5"; expected a number in \[0, 1\]$/],
    ["qa-router", "math_share", "NaN", /expected a number in \[0, 1\]/],
    ["chain", "query_tokens", "lognormal:150", /^--param query_tokens: .*needs 2/],
    ["chain", "query_tokens", "0", /^--param query_tokens: .*expected an integer ≥ 1/],
    ["chain", "query_tokens", "12.5", /^--param query_tokens: unknown distribution/],
    ["chain", "tool_s", "normal:1,2", /^--param tool_s: unknown distribution/],
    ["chain", "tool_s", "-1", /^--param tool_s: /],
  ])("%s: rejects %s=%j naming the option", (app, key, value, message) => {
    expect(() => resolveAppParams(appByName(app), { [key]: value })).toThrow(InputError);
    expect(() => resolveAppParams(appByName(app), { [key]: value })).toThrow(message);
  });

  it("checks constraints that span parameters", () => {
    expect(() => resolveAppParams(appByName("debate"), { truthful: "1", adversarial: "1", peers: "2" })).toThrow(/^--param peers: 2 peers but only 1 other agents/);
    expect(() => resolveAppParams(appByName("debate"), { truthful: "0", adversarial: "0", peers: "0" })).toThrow(/at least one agent/);
    expect(() => resolveAppParams(appByName("supervisor"), { apps: "10" })).toThrow(/^--param apps: 10 apps exceed app_pool = 9/);
    expect(() => resolveAppParams(appByName("supervisor"), { apps: "10", app_pool: "12" })).not.toThrow();
  });

  it("uses the caller's option prefix", () => {
    expect(() => resolveAppParams(appByName("chain"), { turns: "x" }, "workload.params")).toThrow(/^workload\.params turns: /);
  });
});

describe("parseParamPairs", () => {
  it("splits key=value at the first =", () => {
    expect(parseParamPairs(["participants=1000", " steps = 5", "query_tokens=lognormal:150,0.5", "x=a=b"])).toEqual({
      participants: "1000",
      steps: "5",
      query_tokens: "lognormal:150,0.5",
      x: "a=b",
    });
  });

  it.each([["turns"], ["=3"], [" =3"]])("rejects %j", (pair) => {
    expect(() => parseParamPairs([pair])).toThrow(InputError);
    expect(() => parseParamPairs([pair])).toThrow(/^--param: .*expected key=value$/);
  });

  it("rejects a key given twice", () => {
    expect(() => parseParamPairs(["turns=1", "turns=2"])).toThrow(/^--param: "turns" is given twice/);
  });
});
