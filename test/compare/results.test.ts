import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { buildJobs, seedRange } from "../../cli/compare/jobs.ts";
import { parsePolicyList } from "../../cli/compare/policy-list.ts";
import { runJobsInWorkers } from "../../cli/compare/pool.ts";
import { compareCsv, meanRows, rowFromReport, type CompareRow } from "../../cli/compare/results.ts";
import { formatCompareTable } from "../../cli/compare/table.ts";
import type { Workload } from "../../run/workload.ts";

function row(policy: string, rate: number, seed: number, over: Partial<CompareRow> = {}): CompareRow {
  return {
    policy,
    scheduling: policy.split("+")[0],
    dispatch: policy.split("+")[1],
    rate,
    seed,
    runs: 1,
    calls_arrived: 30,
    calls_completed: 30,
    workflows_arrived: 10,
    workflows_completed: 10,
    makespan_mean_s: 5,
    makespan_p99_s: 9,
    e2e_mean_s: 2,
    e2e_p99_s: 4,
    ttft_p50_s: 0.01,
    ttft_p99_s: 0.05,
    throughput_requests_per_s: 3,
    throughput_output_tokens_per_s: 700,
    goodput_requests_per_s: 3,
    prefix_hit_rate: 0.5,
    preemptions: 0,
    dir: `runs/${policy}__r${rate}__s${seed}`,
    ...over,
  };
}

describe("compare results", () => {
  it("means over seeds per (policy, rate), in first-appearance order", () => {
    const rows = [
      row("a+x", 1, 1, { makespan_mean_s: 4 }),
      row("a+x", 1, 2, { makespan_mean_s: 6 }),
      row("b+x", 1, 1, { makespan_mean_s: 3, preemptions: 1 }),
      row("b+x", 1, 2, { makespan_mean_s: 5, preemptions: 2 }),
    ];
    const means = meanRows(rows);
    expect(means.map((m) => [m.policy, m.rate, m.seed, m.runs, m.makespan_mean_s, m.preemptions, m.dir])).toEqual([
      ["a+x", 1, null, 2, 5, 0, null],
      ["b+x", 1, null, 2, 4, 1.5, null],
    ]);
  });

  it("makespan stays null for request traces", () => {
    const means = meanRows([row("a+x", 1, 1, { makespan_mean_s: null, makespan_p99_s: null, workflows_arrived: 0 })]);
    expect(means[0].makespan_mean_s).toBeNull();
    expect(compareCsv(means).split("\n")[1]).toMatch(/^a\+x,a,x,1,,1,30,30,0,10,,,2,4,/);
  });

  it("CSV has a header and one line per row, quoting where needed", () => {
    const csv = compareCsv([row("p{a=1;b=2}+x", 2, 1)]);
    const lines = csv.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "policy,scheduling,dispatch,rate,seed,runs,calls_arrived,calls_completed,workflows_arrived,workflows_completed," +
        "makespan_mean_s,makespan_p99_s,e2e_mean_s,e2e_p99_s,ttft_p50_s,ttft_p99_s,throughput_requests_per_s," +
        "throughput_output_tokens_per_s,goodput_requests_per_s,prefix_hit_rate,preemptions,dir",
    );
    expect(lines).toHaveLength(2);
  });

  it("the table groups by rate and marks the best per column (lower latency, higher throughput)", () => {
    const means = [
      row("a+x", 1, 1, { makespan_mean_s: 4, throughput_requests_per_s: 3 }),
      row("b+x", 1, 1, { makespan_mean_s: 6, throughput_requests_per_s: 3.5 }),
      row("a+x", 2, 1, { makespan_mean_s: 9 }),
      row("b+x", 2, 1, { makespan_mean_s: 8 }),
    ];
    const table = formatCompareTable(means, 1);
    const blocks = table.split("\n\n");
    expect(blocks[0]).toMatch(/^rate 1 workflows\/s \(1 seed\)/);
    expect(blocks[1]).toMatch(/^rate 2 workflows\/s/);
    const line = (block: string, policy: string) => block.split("\n").find((l) => l.startsWith(policy + " "))!;
    expect(line(blocks[0], "a+x")).toMatch(/4\.000\*/);
    expect(line(blocks[0], "b+x")).toMatch(/6\.000 /);
    expect(line(blocks[0], "b+x")).toMatch(/3\.500\*/);
    expect(line(blocks[1], "b+x")).toMatch(/8\.000\*/);
    // columns where every policy prints alike are not marked
    expect(line(blocks[0], "a+x")).not.toMatch(/50\.0%\*/);
    expect(blocks[2]).toMatch(/^\* best/);
  });

  it("request traces show E2E instead of makespan", () => {
    const table = formatCompareTable([row("a+x", 1, 1, { workflows_arrived: 0, makespan_mean_s: null, makespan_p99_s: null })], 3);
    expect(table).toMatch(/rate 1 requests\/s \(mean of 3 seeds\)/);
    expect(table).toMatch(/E2E mean s/);
    expect(table).not.toMatch(/makespan/);
  });
});

describe("worker pool (under vitest: workers load TypeScript through worker-bootstrap.mjs)", () => {
  const workload: Workload = { kind: "app", name: "qa-router", params: {}, timing: { kind: "poisson", rate: 1, count: 5 } };

  it("runs jobs on worker threads and returns results in job order", async () => {
    const out = mkdtempSync(join(tmpdir(), "tandem-pool-"));
    const jobs = buildJobs({ combos: parsePolicyList("fcfs+round-robin,fcfs+least-kv"), rates: [1], seeds: seedRange(1, 2), workloadAt: () => workload });
    const done: number[] = [];
    const results = await runJobsInWorkers(jobs, { concurrency: 3, out, runCsv: true, onDone: (r) => done.push(r.index) });
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    expect(done.sort()).toEqual([0, 1, 2, 3]);
    const rows = results.map((r) => rowFromReport(jobs[r.index], r.report));
    expect(rows.map((r) => [r.policy, r.seed, r.workflows_completed])).toEqual([
      ["fcfs+round-robin", 1, 5],
      ["fcfs+round-robin", 2, 5],
      ["fcfs+least-kv", 1, 5],
      ["fcfs+least-kv", 2, 5],
    ]);
    const report = JSON.parse(readFileSync(join(out, jobs[2].dir, "report.json"), "utf8"));
    expect(report.run.policies).toMatchObject({ scheduling: "fcfs", dispatch: "least-kv" });
    expect(report.run.seed).toBe(1);
    expect(
      readFileSync(join(out, jobs[2].dir, "workflows.csv"), "utf8")
        .trim()
        .split("\n"),
    ).toHaveLength(6);
  }, 60_000);

  it("an input error in a run rejects with that InputError", async () => {
    const out = mkdtempSync(join(tmpdir(), "tandem-pool-"));
    const bad: Workload = { kind: "trace", path: join(out, "missing.csv"), format: "azure", arrival: "poisson", rate: 1 };
    const jobs = buildJobs({ combos: parsePolicyList("fcfs+round-robin"), rates: [1], seeds: [1, 2], workloadAt: () => bad });
    const run = runJobsInWorkers(jobs, { concurrency: 2, out, runCsv: false });
    await expect(run).rejects.toBeInstanceOf(InputError);
    await expect(run).rejects.toThrow(/missing\.csv/);
  }, 60_000);
});
