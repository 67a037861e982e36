/** `tandem plot` as a user runs it: real processes, real files. */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/shared-data.ts";
import { pngSize, svgSize } from "../../cli/plot/render.ts";
import { compareRun, scratchDir, simRun, workflowWorkload } from "./fixtures.ts";

const BIN = join(REPO_ROOT, "bin/tandem.mjs");
const scratch = scratchDir("tandem-plot-cli-");
const run = join(scratch, "run");
const cmp = join(scratch, "cmp");

function tandem(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: scratch, encoding: "utf8", timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Bad input: exit 2, one line on stderr, no stack trace. */
function expectInputError(result: ReturnType<typeof tandem>, pattern: RegExp) {
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  await simRun(run, workflowWorkload());
  await compareRun(cmp);
});

describe("tandem plot", () => {
  it("writes one SVG per chart for a run folder", () => {
    const result = tandem("plot", "run", "--out", "tmp", "--format", "svg");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const files = readdirSync(join(scratch, "tmp")).sort();
    expect(files).toEqual(["cdf-e2e", "cdf-makespan", "cdf-tpot", "cdf-ttft", "gantt-fcfs-least-outstanding", "summary", "timeline-fcfs-least-outstanding"].map((f) => `${f}.svg`));
    expect(result.stdout).toMatch(/^wrote 7 charts to tmp: cdf-ttft\.svg, /);
    for (const f of files) expect(readFileSync(join(scratch, "tmp", f), "utf8").startsWith("<svg")).toBe(true);
  });

  it("writes PNGs for a compare folder and a report.json given directly", () => {
    const result = tandem("plot", join(cmp, "compare.json"), join(run, "report.json"), "--out", "png", "--format", "png", "--scale", "1");
    expect(result.code).toBe(0);
    const files = readdirSync(join(scratch, "png"));
    expect(files).toEqual(expect.arrayContaining(["sweep-ttft.png", "sweep-makespan.png", "compare-summary.png", "cdf-ttft.png"]));
    const png = readFileSync(join(scratch, "png", "cdf-ttft.png"));
    const size = pngSize(png);
    expect(size.width).toBeGreaterThan(300);
    expect(size.height).toBeGreaterThan(200);
  });

  it("writes one self-contained HTML page by default, and vega-lite specs with --format json", () => {
    expect(tandem("plot", "run", "--out", "html").code).toBe(0);
    const page = readFileSync(join(scratch, "html", "plots.html"), "utf8");
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).not.toMatch(/<script[^>]*\ssrc=/);
    expect(tandem("plot", "run", "--out", "json", "--format", "json", "--workflow", "supervisor-1").code).toBe(0);
    const spec = JSON.parse(readFileSync(join(scratch, "json", "gantt-fcfs-least-outstanding.vl.json"), "utf8"));
    expect(spec.title.text).toBe("Workflow supervisor-1: steps over time");
  });

  it("is deterministic: the same inputs give the same files", () => {
    tandem("plot", "run", "--out", "d1", "--format", "svg");
    tandem("plot", "run", "--out", "d2", "--format", "svg");
    for (const f of readdirSync(join(scratch, "d1"))) {
      expect(readFileSync(join(scratch, "d2", f), "utf8")).toBe(readFileSync(join(scratch, "d1", f), "utf8"));
      expect(svgSize(readFileSync(join(scratch, "d1", f), "utf8")).width).toBeGreaterThan(0);
    }
  });

  it("bad input: exit 2 with one line", () => {
    expectInputError(tandem("plot", "missing-dir", "--out", "x"), /missing-dir: no such file or folder; expected a report\.json/);
    writeFileSync(join(scratch, "other.json"), JSON.stringify({ schema: "something/v1" }));
    expectInputError(tandem("plot", "other.json", "--out", "x"), /other\.json: not a tandem\.report\/v1 report: /);
    writeFileSync(join(scratch, "notes.txt"), "hello\n");
    expectInputError(tandem("plot", "notes.txt", "--out", "x"), /notes\.txt: not valid JSON/);
    expectInputError(tandem("plot", scratch, "--out", "x"), /folder holds neither report\.json nor compare\.json/);
    expectInputError(tandem("plot", "run", "--workflow", "nope", "--out", "x"), /--workflow nope: no such workflow/);
    expect(tandem("plot", "run", "--format", "gif").code).toBe(2);
    expect(tandem("plot").code).toBe(2);
    expect(existsSync(join(scratch, "x"))).toBe(false);
  });
});
