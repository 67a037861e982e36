import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { workloadFromFlags, type WorkloadFlags } from "../../cli/workload-options.ts";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";

const { scratch, tandem } = cliSandbox("tandem-users-cli-", 60_000);

const flags = (extra: Partial<WorkloadFlags>): WorkloadFlags => ({ param: [], ...extra });

describe("--users and --think-time", () => {
  it("sim --app --users runs the --count workflows as closed-loop users and records them in run.trace", () => {
    const out = join(scratch, "users");
    const result = tandem("sim", "--app", "qa-router", "--users", "3", "--think-time", "lognormal:1,0.5", "--count", "12", "--out", out, "--quiet");
    expect(result.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.run.trace).toMatchObject({ arrival: "closed-loop", users: 3, think_time: "lognormal:1,0.5", rows: 12 });
    expect(report.summary.workflows.completed).toBe(12);
  });

  it("the workload gets users, a think time (default fixed:0) and --count workflows", () => {
    const w = workloadFromFlags(flags({ app: "chain", users: 4, count: 30 }));
    expect(w).toMatchObject({ kind: "app", closed_loop: { users: 4, think_time: "fixed:0" }, timing: { kind: "fixed", count: 30, interval_s: 0 } });
    expect(workloadFromFlags(flags({ app: "chain", users: 2, thinkTime: "exp:3" }))).toMatchObject({ closed_loop: { users: 2, think_time: "exp:3" }, timing: { count: 100 } });
    expect(workloadFromFlags(flags({ app: "chain", rate: 1 }))).not.toHaveProperty("closed_loop", expect.anything());
  });

  it("misplaced or conflicting flags and a bad think time are one-line errors naming the flag", () => {
    const error = (extra: Partial<WorkloadFlags>, pattern: RegExp) => {
      expect(() => workloadFromFlags(flags(extra))).toThrow(InputError);
      expect(() => workloadFromFlags(flags(extra))).toThrow(pattern);
    };
    error({ app: "chain", thinkTime: "exp:1", rate: 1 }, /--think-time applies with --users only/);
    error({ app: "chain", users: 2, rate: 1 }, /--rate does not apply with --users/);
    error({ app: "chain", users: 2, arrivals: "a.csv" }, /--arrivals does not apply with --users/);
    error({ trace: "t.csv", traceFormat: "azure", users: 2 }, /--users applies to generated workflows/);
    error({ app: "chain", users: 2, thinkTime: "gauss:1" }, /--think-time.*unknown distribution "gauss"/);
    error({ app: "chain", users: 2, thinkTime: "uniform:3,1" }, /--think-time.*A > B/);
    expectInputError(tandem("sim", "--app", "chain", "--users", "0"), /--users/);
  });

  it("compare runs closed-loop users for every policy, and refuses --rates with --users", () => {
    const out = join(scratch, "cmp");
    const result = tandem("compare", "--app", "chain", "--users", "2", "--count", "6", "--seeds", "1", "--policies", "fcfs+round-robin,fcfs+least-kv", "--out", out);
    expect(result.code).toBe(0);
    const compared = JSON.parse(readFileSync(join(out, "compare.json"), "utf8"));
    expect(JSON.stringify(compared)).toContain('"closed-loop"');
    expectInputError(tandem("compare", "--app", "chain", "--users", "2", "--rates", "1,2", "--policies", "fcfs+round-robin"), /--rates and --users both set/);
  });

  it("live refuses closed-loop users with one line naming --users", () => {
    expectInputError(tandem("live", "--emulate", "--app", "chain", "--users", "2", "--out", join(scratch, "live")), /--users: closed-loop users run in `tandem sim` only/);
  });
});
