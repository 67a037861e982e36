/** Sharded sweeps merged back, resume from earlier reports, and --dry-run. */
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseShard, shardJobs } from "../../cli/compare/shard.ts";
import { sweepEta } from "../../cli/compare/sweep-progress.ts";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";

const { scratch, tandem } = cliSandbox("tandem-compare-sweep-");
const GRID = ["--app", "qa-router", "--count", "10", "--rates", "1,2", "--policies", "fcfs+round-robin,fcfs+least-kv", "--seeds", "2", "--jobs", "2", "--quiet"];
const FILES = ["compare.csv", "compare-means.csv", "compare.json"];
const read = (dir: string, name: string) => readFileSync(join(scratch, dir, name), "utf8");

describe("shards", () => {
  it("--shard I/N takes grid positions I, I+N, …; bad specs are refused", () => {
    const jobs = Array.from({ length: 10 }, (_, index) => ({ index }));
    expect(shardJobs(jobs, parseShard("1/4")).map((j) => j.index)).toEqual([1, 5, 9]);
    const all = [0, 1, 2, 3].flatMap((i) => shardJobs(jobs, parseShard(`${i}/4`)).map((j) => j.index));
    expect(all.sort((a, b) => a - b)).toEqual(jobs.map((j) => j.index));
    for (const bad of ["4/4", "1", "-1/3", "1/0", "a/b"]) expect(() => parseShard(bad), bad).toThrow(/--shard/);
  });

  it("the ETA counts runs that ran, not reused ones", () => {
    expect(sweepEta(10_000, 0, 5)).toBe("…");
    expect(sweepEta(10_000, 2, 3)).toBe("15s");
    expect(sweepEta(10_000, 2, 0)).toBe("0s");
  });
});

describe("tandem compare: sharded, merged, resumed", { timeout: 300_000 }, () => {
  it("3 shards in separate folders merge into the unsharded run's files and run folders", () => {
    expect(tandem("compare", ...GRID, "--out", "whole").code).toBe(0);
    for (let i = 0; i < 3; i++) {
      const shard = tandem("compare", ...GRID, "--shard", `${i}/3`, "--out", `part${i}`);
      expect(shard.code, shard.stderr).toBe(0);
      expect(shard.stdout).toMatch(new RegExp(`^shard ${i}/3: wrote \\d of 8 runs`));
    }
    const merged = tandem("compare", "merge", "part0", "part1", "part2", "--out", "merged");
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toMatch(/merged 3 shards, 8 runs/);
    for (const name of FILES) expect(read("merged", name), name).toBe(read("whole", name));
    expect(readdirSync(join(scratch, "merged/runs")).sort()).toEqual(readdirSync(join(scratch, "whole/runs")).sort());

    rmSync(join(scratch, "part1/compare-shard-1-of-3.json"));
    expectInputError(tandem("compare", "merge", "part0", "part1", "part2", "--out", "m2"), /shard 1\/3 not found/);
    const other = tandem("compare", ...GRID.map((a) => (a === "1,2" ? "1,3" : a)), "--shard", "1/3", "--out", "other");
    expect(other.code).toBe(0);
    expectInputError(tandem("compare", "merge", "part0", "other", "part2", "--out", "m3"), /of another comparison/);
  });

  it("a second sweep reuses finished runs, reruns a missing or stale one, and writes the same files", () => {
    expect(tandem("compare", ...GRID, "--out", "r").code).toBe(0);
    const before = FILES.map((name) => read("r", name));
    const kept = join(scratch, "r/runs/fcfs+round-robin__r1__s1/report.json");
    const keptTime = statSync(kept).mtimeMs;
    rmSync(join(scratch, "r/runs/fcfs+least-kv__r2__s2/report.json")); // as if killed before this run ended
    const stale = join(scratch, "r/runs/fcfs+least-kv__r1__s1/report.json");
    writeFileSync(stale, read("r", "runs/fcfs+least-kv__r1__s1/report.json").replace(/"inputs_sha256": "[0-9a-f]+"/, `"inputs_sha256": "${"0".repeat(64)}"`));

    const dry = tandem("compare", ...GRID, "--out", "r", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^#\s+action\s+policy\s+rate\s+seed\s+folder\n/);
    expect(dry.stdout).toMatch(/\n7\s+run\s+fcfs\+least-kv\s+2\s+2\s+runs\/fcfs\+least-kv__r2__s2\n/);
    expect(dry.stdout).toMatch(/\n0\s+reuse\s+fcfs\+round-robin\s+1\s+1\s+/);
    expect(dry.stdout).toMatch(/8 runs; 2 to run, 6 already done \(reused\)/);

    const again = tandem("compare", ...GRID, "--out", "r");
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/wrote 8 runs \(6 reused from an earlier sweep\)/);
    expect(statSync(kept).mtimeMs).toBe(keptTime);
    expect(FILES.map((name) => read("r", name))).toEqual(before);
    expect(read("r", "runs/fcfs+least-kv__r1__s1/report.json")).not.toContain("0".repeat(64));

    const forced = tandem("compare", ...GRID, "--out", "r", "--no-resume");
    expect(forced.stdout).not.toMatch(/reused/);
    expect(statSync(kept).mtimeMs).toBeGreaterThan(keptTime);
  });
});
