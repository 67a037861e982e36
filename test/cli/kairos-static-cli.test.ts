import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";

describe("tandem sim --scheduling kairos-static --scheduling-param profile=DIR", () => {
  it("computes each agent's priority from an earlier run's calls.csv and records it in the report", () => {
    const { tandem, scratch } = cliSandbox("kairos-static-");
    const app = ["--app", "qa-router", "--param", "math_output_scale=1.5", "--param", "history_output_scale=0.2"];
    expect(tandem("sim", ...app, "--rate", "2", "--count", "40", "--out", "first").code).toBe(0);
    const header = readFileSync(join(scratch, "first/calls.csv"), "utf8").split("\n")[0];
    expect(header.split(",").at(-1)).toBe("agent");
    const second = tandem("sim", ...app, "--rate", "2", "--count", "10", "--scheduling", "kairos-static", "--scheduling-param", "profile=first", "--out", "second");
    expect(second.code, second.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(scratch, "second/report.json"), "utf8"));
    const p = report.run.policies.scheduling_params.priorities as Record<string, number>;
    expect(Object.keys(p).sort()).toEqual(["qa-router/history", "qa-router/math", "qa-router/router", "qa-router/writer"]);
    // The router's short calls sit nearest zero latency, the long math answers farthest.
    expect(p["qa-router/router"]).toBeLessThan(p["qa-router/history"]);
    expect(p["qa-router/history"]).toBeLessThan(p["qa-router/math"]);
  });

  it("a missing profile folder, a folder without calls.csv, or no profile at all: one line, exit 2", () => {
    const { tandem, file } = cliSandbox("kairos-static-bad-");
    const run = (...extra: string[]) => tandem("sim", "--app", "qa-router", "--rate", "1", "--count", "2", "--scheduling", "kairos-static", ...extra, "--out", "o");
    expectInputError(run("--scheduling-param", "profile=nowhere"), /--scheduling: kairos-static params\.profile: profile folder "[^"]*nowhere" not found/);
    file("empty.txt", "");
    expectInputError(run("--scheduling-param", "profile=."), /calls\.csv not found; expected an earlier run's report folder/);
    expectInputError(run(), /kairos-static params\.profile: expected profile=DIR/);
  });
});
