/** docs/writing-policies.md's walkthrough runs as written: every `tandem` command of its "Running it
 *  everywhere" block, in order, in a folder holding the example policy as `least-work.ts` — with
 *  `--count 10` and `--seeds 1` so that it stays short — and ends with compared and plotted results,
 *  the decision timeline included. */
import { copyFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliSandbox } from "../helpers/cli.ts";
import { REPO_ROOT } from "../helpers/shared-data.ts";

const DOC = join(REPO_ROOT, "docs/writing-policies.md");

/** The `tandem …` commands of the sh block under `heading`: continuations joined, comments dropped. */
function docCommands(heading: string): string[][] {
  const text = readFileSync(DOC, "utf8");
  const section = text.slice(text.indexOf(heading));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1];
  return block
    .replace(/\\\n\s*/g, "")
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line.startsWith("tandem "))
    .map((line) => shellWords(line).slice(1));
}

/** Words of a command line: spaces separate, single quotes group (all the doc uses). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/** Smaller runs, same commands. */
function shorter(args: string[]): string[] {
  return args.map((arg, i) => (args[i - 1] === "--count" ? "10" : args[i - 1] === "--seeds" ? "1" : arg));
}

describe("docs/writing-policies.md walkthrough", () => {
  it("every command of 'Running it everywhere' runs, ending with compared and plotted results and the decision timeline", () => {
    const commands = docCommands("## Running it everywhere");
    expect(commands.map((c) => c[0])).toEqual(["compare", "plot", "sim", "plot", "explain", "live", "replay", "plot"]);
    const box = cliSandbox("tandem-writing-policies-", 300_000);
    copyFileSync(join(REPO_ROOT, "examples/policies/least-work.ts"), join(box.scratch, "least-work.ts"));
    box.file("package.json", '{ "type": "module" }\n'); // a .ts policy loads as an ES module (the doc says so)
    const outputs: string[] = [];
    for (const args of commands) {
      const result = box.tandem(...shorter(args));
      expect(result.code, `tandem ${args.join(" ")}\n${result.stderr}`).toBe(0);
      outputs.push(result.stdout);
    }
    const at = (path: string) => join(box.scratch, path);
    // Compared: the file policy (twice, with its param) beside the built-in one, plotted against rate.
    expect(readFileSync(at("cmp/compare.csv"), "utf8")).toContain("least-work.ts{waiting_penalty_tokens=8000}");
    expect(readdirSync(at("cmp/figures"))).toEqual(["plots.html"]);
    expect(readFileSync(at("cmp/figures/plots.html"), "utf8")).toContain("Mean workflow makespan vs load");
    // Plotted, the decision timeline included, for the sim run and the live run.
    expect(readFileSync(at("run/figures/plots.html"), "utf8")).toContain("Decisions over time: fcfs+least-work");
    expect(readFileSync(at("runs/live/figures/plots.html"), "utf8")).toContain("Decisions over time: fcfs+least-work");
    // Explained, and replayed to the same decisions.
    expect(outputs[4]).toMatch(/^call qa-router-7\/writer /);
    expect(outputs[4]).toMatch(/dispatched to \S+ by least-work/);
    expect(existsSync(at("replayed.jsonl"))).toBe(true);
    expect(readFileSync(at("replayed.jsonl"), "utf8")).toBe(readFileSync(at("live-decisions.jsonl"), "utf8"));
  }, 300_000);
});
