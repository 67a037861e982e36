import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";

const { scratch, tandem } = cliSandbox("tandem-compare-");

const SMALL = ["--app", "qa-router", "--count", "20", "--rates", "1,2", "--policies", "fcfs+round-robin,fcfs+least-outstanding", "--seeds", "2", "--jobs", "2"];

describe("tandem compare", { timeout: 120_000 }, () => {
  it("runs every (policy, rate, seed) and writes the same files on a second run", () => {
    const first = tandem("compare", ...SMALL, "--out", "c1");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const csv = readFileSync(join(scratch, "c1/compare.csv"), "utf8").trim().split("\n");
    expect(csv).toHaveLength(1 + 8);
    expect(csv[0]).toMatch(/^policy,scheduling,dispatch,rate,seed,/);
    expect(csv.slice(1).map((l) => l.split(",").slice(0, 5).join(","))).toEqual([
      "fcfs+round-robin,fcfs,round-robin,1,1",
      "fcfs+round-robin,fcfs,round-robin,1,2",
      "fcfs+least-outstanding,fcfs,least-outstanding,1,1",
      "fcfs+least-outstanding,fcfs,least-outstanding,1,2",
      "fcfs+round-robin,fcfs,round-robin,2,1",
      "fcfs+round-robin,fcfs,round-robin,2,2",
      "fcfs+least-outstanding,fcfs,least-outstanding,2,1",
      "fcfs+least-outstanding,fcfs,least-outstanding,2,2",
    ]);
    const doc = JSON.parse(readFileSync(join(scratch, "c1/compare.json"), "utf8"));
    expect(doc.schema).toBe("tandem.compare/v1");
    expect(doc.runs).toHaveLength(8);
    expect(doc.means).toHaveLength(4);
    expect(doc.means[0]).toMatchObject({ policy: "fcfs+round-robin", rate: 1, seed: null, runs: 2, workflows_completed: 20 });
    expect(readdirSync(join(scratch, "c1/runs"))).toHaveLength(8);
    const report = JSON.parse(readFileSync(join(scratch, "c1/runs/fcfs+least-outstanding__r2__s2/report.json"), "utf8"));
    expect(report.run).toMatchObject({ seed: 2, policies: { scheduling: "fcfs", dispatch: "least-outstanding" }, trace: { rate: 2, rows: 20 } });
    expect(first.stdout).toMatch(/^rate 1 workflows\/s \(mean of 2 seeds\)/);
    expect(first.stdout).toMatch(/\nrate 2 workflows\/s/);
    expect(first.stdout).toMatch(/\*/);

    const second = tandem("compare", ...SMALL, "--jobs", "3", "--out", "c2");
    expect(second.code).toBe(0);
    expect(second.stdout.replaceAll("c2", "c1")).toBe(first.stdout);
    for (const name of ["compare.csv", "compare-means.csv", "compare.json", "runs/fcfs+round-robin__r1__s2/report.json"]) {
      expect(readFileSync(join(scratch, "c2", name), "utf8")).toBe(readFileSync(join(scratch, "c1", name), "utf8"));
    }
  }, 120_000);

  it("an unknown policy exits 2 before running anything", () => {
    const result = tandem("compare", ...SMALL.slice(0, 6), "--policies", "fcfs+round-robin,fcfs+fastest", "--out", "c3");
    expectInputError(result, /--policies: fcfs\+fastest: unknown dispatch policy "fastest"; expected one of /);
    expect(existsSync(join(scratch, "c3"))).toBe(false);
  });

  it.each([
    [["--policies", "fcfs", "--rates", "1"], /"fcfs" is not SCHEDULING\+DISPATCH/],
    [["--policies", "", "--rates", "1"], /--policies: empty list/],
    [["--policies", "fcfs+round-robin", "--rates", "1,fast"], /--rates: "fast" in "1,fast"/],
    [["--policies", "fcfs+round-robin", "--rates", "0"], /--rates: "0"/],
    [["--rates", "1"], /--policies is required/],
    [["--policies", "fcfs+round-robin"], /--app: generated workflows need arrival times: give --rates/],
    [["--policies", "fcfs+round-robin", "--rates", "1", "--rate", "2"], /--rate: compare takes a list, --rates/],
    [["--policies", "fcfs+round-robin", "--rates", "1", "--interval", "2"], /--rates and --interval/],
    [["--policies", "fcfs{levels=x}+round-robin", "--rates", "1"], /--policies: fcfs\{levels=x\}\+round-robin: fcfs params/],
  ])("bad input %j is one line and exit 2", (args, pattern) => {
    expectInputError(tandem("compare", "--app", "qa-router", "--count", "5", ...args, "--out", "c4"), pattern);
    expect(existsSync(join(scratch, "c4"))).toBe(false);
  });

  it("--rates does not apply to a workflow trace, which keeps its own arrival times", () => {
    expectInputError(tandem("compare", "--workflows", "w.jsonl", "--policies", "fcfs+round-robin", "--rates", "1"), /--rates does not apply to --workflows/);
  });

  it("a failing run (missing trace) fails the command with its message", () => {
    expectInputError(tandem("compare", "--trace", "missing.csv", "--trace-format", "azure", "--rates", "1,2", "--policies", "fcfs+round-robin", "--out", "c5"), /missing\.csv/);
  });

  it("a request trace without --rates replays its own times; the table shows E2E", () => {
    writeFileSync(join(scratch, "t.jsonl"), [0, 0.1, 0.2, 0.3, 0.4].map((t, i) => JSON.stringify({ arrival_s: t, prompt_tokens: 200 + i, output_tokens: 20 })).join("\n") + "\n");
    const result = tandem("compare", "--trace", "t.jsonl", "--trace-format", "tandem", "--policies", "fcfs+round-robin,fcfs+least-kv", "--out", "c6", "--jobs", "1");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^arrivals: the workload's own times \(1 seed\)/);
    expect(result.stdout).toMatch(/E2E mean s/);
    const csv = readFileSync(join(scratch, "c6/compare.csv"), "utf8").trim().split("\n");
    expect(csv).toHaveLength(3);
    expect(csv[1]).toMatch(/^fcfs\+round-robin,fcfs,round-robin,,1,1,5,5,0,0,,,/);
    expect(existsSync(join(scratch, "c6/runs/fcfs+least-kv__rown__s1/report.json"))).toBe(true);
  }, 60_000);

  it("--help documents the flags", () => {
    const result = tandem("compare", "--help");
    expect(result.code).toBe(0);
    for (const flag of ["--policies", "--rates", "--seeds", "--jobs", "--out", "--config", "--app", "--trace"]) expect(result.stdout).toContain(flag);
  });
});
