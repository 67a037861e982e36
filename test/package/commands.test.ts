import { Help } from "commander";
import { describe, expect, it } from "vitest";
import { COMMANDS, requestedCommand } from "../../cli/commands.ts";
import { DEFAULT_WORKLOAD } from "../../traces/index.ts";

// `tandem --help` lists stand-ins built from cli/commands.ts; these hold the list equal to what the
// full commands would show, so the lazy loading changes no help text.
describe("the command table", { timeout: 60_000 }, () => {
  it.each(COMMANDS.map((entry) => [entry.name, entry] as const))("%s: name, term and description are the full command's", async (_, entry) => {
    const command = await entry.load();
    expect(command.name()).toBe(entry.name);
    expect(new Help().subcommandTerm(command)).toBe(entry.term);
    expect(command.description()).toBe(entry.description);
  });

  it("states the built-in workload's figures in sim's description", () => {
    const sim = COMMANDS.find((c) => c.name === "sim")!;
    expect(sim.description).toContain(`(${DEFAULT_WORKLOAD.count} synthetic requests, Poisson ${DEFAULT_WORKLOAD.rate} req/s)`);
  });

  it("finds the command to load: the first word, or the one after help", () => {
    expect(requestedCommand(["sim", "--limit", "1"])).toBe("sim");
    expect(requestedCommand(["help", "plot"])).toBe("plot");
    expect(requestedCommand(["--help"])).toBe("--help");
    expect(requestedCommand([])).toBeUndefined();
  });
});
