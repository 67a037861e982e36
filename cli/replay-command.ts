import { Command } from "commander";
import type { ControllerState } from "../src/core/controller.ts";
import { formatSummaryTable } from "../src/metrics/summary-table.ts";
import { readEventLogHeader, replayEventLog } from "../run/replay.ts";
import { nonNegativeNumber, runAction } from "./errors.ts";
import { commandDescription } from "./command-list.ts";
import { RunOutput } from "./run-output.ts";

interface ReplayFlags {
  out: string;
  until?: number;
  json?: boolean;
  quiet?: boolean;
  decisions?: string;
}

/** Workload formats whose runs write workflows.csv (as `tandem sim` does for them). */
const WORKFLOW_FORMATS = new Set(["workflows", "appworld", "app", "openai-http"]);

export function replayCommand(): Command {
  return new Command("replay")
    .description(commandDescription("replay"))
    .argument("<file>", "an event log (JSONL) written with --events")
    .option("--out <dir>", "where report.json, calls.csv (and workflows.csv) go", "out/replay")
    .option("--until <t>", "stop before the first event after model time T (seconds) and print the controller's state", nonNegativeNumber)
    .option("--json", "with --until: print the state as JSON")
    .option("--quiet", "do not print the summary table")
    .option("--decisions <file>", "write the replayed decisions to FILE (the run's own decision trace, docs/decisions.md)")
    .action((file: string, flags: ReplayFlags) => runAction(() => replay(file, flags)));
}

async function replay(file: string, flags: ReplayFlags): Promise<void> {
  if (flags.until !== undefined) {
    const result = await replayEventLog(file, { until_s: flags.until });
    if (result.kind !== "state") throw new Error("replay with --until returned a report");
    process.stdout.write(flags.json ? JSON.stringify(result.state, null, 2) + "\n" : formatState(result.state, result.events));
    return;
  }
  const header = await readEventLogHeader(file);
  const output = new RunOutput(flags.out, WORKFLOW_FORMATS.has(header.trace.format));
  try {
    const result = await replayEventLog(file, {
      onCallClosed: output.onCallClosed,
      onWorkflowClosed: output.onWorkflowClosed,
      ...(flags.decisions !== undefined ? { decisions: flags.decisions } : {}),
    });
    if (result.kind !== "report") throw new Error("replay without --until returned a state");
    const files = output.commit(result.report);
    if (!flags.quiet) process.stdout.write(formatSummaryTable(result.report.summary, result.report.instances, result.report.agents) + "\n");
    process.stdout.write(`replayed ${result.events} events; wrote ${files.join(", ")}\n`);
  } catch (error) {
    output.abort();
    throw error;
  }
}

/** The controller's state as text: one block per section. */
export function formatState(state: ControllerState, events: number): string {
  const lines = [`at model time ${state.now_s.toFixed(6)} s, after ${events} events; ${state.workflows_running} workflows running`];
  lines.push("", "instances (as the router sees them):");
  for (const i of state.instances) {
    const o = i.observed;
    const seen = o ? `observed ${o.age_s.toFixed(3)} s ago: running ${o.running}, waiting ${o.waiting}, KV ${(100 * o.kv_usage).toFixed(1)}%` : "never observed";
    lines.push(`  ${i.id} (${i.model}) ${i.state}: ${i.outstanding} calls outstanding (${i.outstanding_tokens} tokens); ${seen}`);
  }
  const waitingCount = state.waiting.reduce((n, q) => n + q.calls.length, 0);
  lines.push("", `waiting at the controller: ${waitingCount}`);
  for (const q of state.waiting) {
    lines.push(`  ${q.model}:`);
    for (const c of q.calls) {
      const who = c.workflow_id !== undefined ? ` (workflow ${c.workflow_id}${c.agent !== undefined ? `, agent ${c.agent}` : ""})` : "";
      lines.push(`    ${c.id}${who} since ${c.enqueued_s.toFixed(6)} s, rank ${c.rank}`);
    }
  }
  lines.push("", `in flight at instances: ${state.in_flight.length}`);
  for (const c of state.in_flight) {
    lines.push(`  ${c.id} → ${c.instance} since ${c.dispatched_s.toFixed(6)} s (attempt ${c.attempts})${c.workflow_id !== undefined ? `, workflow ${c.workflow_id}` : ""}`);
  }
  return lines.join("\n") + "\n";
}
