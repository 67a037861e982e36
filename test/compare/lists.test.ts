import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { parsePolicyList, parseRateList, policyFolderNames, safePolicyName, validatePolicyCombos } from "../../cli/compare/policy-list.ts";
import { buildJobs, seedRange, withWorkloadSeed } from "../../cli/compare/jobs.ts";
import type { Workload } from "../../run/workload.ts";

describe("--policies", () => {
  it("parses SCHEDULING+DISPATCH combinations in order", () => {
    expect(parsePolicyList("fcfs+round-robin, fcfs+least-kv")).toEqual([
      { label: "fcfs+round-robin", scheduling: "fcfs", dispatch: "round-robin" },
      { label: "fcfs+least-kv", scheduling: "fcfs", dispatch: "least-kv" },
    ]);
  });

  it("takes params in braces, with parsePolicyParams semantics (numbers, booleans, dotted keys)", () => {
    const [combo] = parsePolicyList("plas{levels=3; strict=true;weights.queue=2}+prefix-affinity{name=x}");
    expect(combo.label).toBe("plas{levels=3;strict=true;weights.queue=2}+prefix-affinity{name=x}");
    expect(combo.scheduling).toEqual({ name: "plas", params: { levels: 3, strict: true, weights: { queue: 2 } } });
    expect(combo.dispatch).toEqual({ name: "prefix-affinity", params: { name: "x" } });
  });

  it("empty braces are the bare name", () => {
    expect(parsePolicyList("fcfs{}+least-kv")[0]).toEqual({ label: "fcfs+least-kv", scheduling: "fcfs", dispatch: "least-kv" });
  });

  it.each([
    ["", /empty list/],
    ["  ", /empty list/],
    ["fcfs+round-robin,,fcfs+least-kv", /empty entry/],
    ["fcfs", /"fcfs" is not SCHEDULING\+DISPATCH/],
    ["fcfs+", /is not SCHEDULING\+DISPATCH/],
    ["fcfs+round-robin+least-kv", /is not SCHEDULING\+DISPATCH/],
    ["fcfs{levels=3+round-robin", /unclosed "\{"/],
    ["fcfs}+round-robin", /unbalanced "\}"/],
    ["fcfs{levels}+round-robin", /expected key=value/],
    ["fcfs+round-robin,fcfs+round-robin", /listed twice/],
    ["fc fs+round-robin", /is not NAME or NAME\{key=value;…\}/],
  ])("rejects %j", (text, message) => {
    expect(() => parsePolicyList(text)).toThrow(InputError);
    expect(() => parsePolicyList(text)).toThrow(message);
  });

  it("validation creates every policy: unknown names and bad params are input errors", () => {
    expect(() => validatePolicyCombos(parsePolicyList("fcfs+round-robin,fcfs+least-outstanding"))).not.toThrow();
    expect(() => validatePolicyCombos(parsePolicyList("fcfs+fastest"))).toThrow(/--policies: fcfs\+fastest: unknown dispatch policy "fastest"; expected one of round-robin/);
    expect(() => validatePolicyCombos(parsePolicyList("nope+round-robin"))).toThrow(/unknown scheduling policy "nope"/);
    expect(() => validatePolicyCombos(parsePolicyList("round-robin+fcfs"))).toThrow(/"round-robin" is a dispatch policy; expected SCHEDULING\+DISPATCH/);
    expect(() => validatePolicyCombos(parsePolicyList("fcfs{x=1}+round-robin"))).toThrow(InputError);
  });

  it("folder names are file-safe", () => {
    expect(safePolicyName("plas{levels=3;x=a/b}+least-kv")).toBe("plas_levels=3_x=a_b_+least-kv");
    expect(safePolicyName("fcfs+prefix-affinity{prefill_weight=2}")).toBe("fcfs+prefix-affinity_prefill_weight=2");
  });
});

describe("--rates", () => {
  it("parses positive rates in the order given", () => {
    expect(parseRateList("1, 2,0.5,1e1")).toEqual([1, 2, 0.5, 10]);
  });

  it.each([
    ["", /empty list/],
    ["1,,2", /"" in "1,,2"/],
    ["1,x", /"x" in "1,x"; expected a rate > 0/],
    ["0", /"0"/],
    ["-1", /"-1"/],
    ["Infinity", /"Infinity"/],
    ["0x10", /"0x10"/],
    ["1,1.0", /1\.0 is listed twice/],
  ])("rejects %j", (text, message) => {
    expect(() => parseRateList(text)).toThrow(InputError);
    expect(() => parseRateList(text)).toThrow(message);
  });
});

describe("jobs", () => {
  const workload: Workload = { kind: "generated", options: { count: 10, rate: 1, seed: 7 } as never };

  it("one per (rate, policy, seed), rate-major, with unique folders", () => {
    const combos = parsePolicyList("fcfs+round-robin,fcfs+least-kv");
    const jobs = buildJobs({ combos, rates: [1, 2], seeds: seedRange(5, 2), workloadAt: (_rate, seed) => withWorkloadSeed(workload, seed) });
    expect(jobs.map((j) => [j.index, j.policy, j.rate, j.seed])).toEqual([
      [0, "fcfs+round-robin", 1, 5],
      [1, "fcfs+round-robin", 1, 6],
      [2, "fcfs+least-kv", 1, 5],
      [3, "fcfs+least-kv", 1, 6],
      [4, "fcfs+round-robin", 2, 5],
      [5, "fcfs+round-robin", 2, 6],
      [6, "fcfs+least-kv", 2, 5],
      [7, "fcfs+least-kv", 2, 6],
    ]);
    expect(jobs[3].dir).toBe("runs/fcfs+least-kv__r1__s6");
    expect(new Set(jobs.map((j) => j.dir)).size).toBe(jobs.length);
    expect((jobs[3].workload as { options: { seed: number } }).options.seed).toBe(6);
    // jobs travel to worker threads: plain JSON
    expect(JSON.parse(JSON.stringify(jobs))).toEqual(jobs);
  });

  it("labels that sanitise alike get distinct folders", () => {
    const combos = parsePolicyList("a:x+b,a?x+b,a/x+b");
    expect(policyFolderNames(combos)).toEqual(["a_x+b", "a_x+b_2", "a_x+b_3"]);
  });
});
