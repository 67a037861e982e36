import { Command } from "commander";
import { join } from "node:path";
import { InputError } from "../src/core/errors.ts";
import { readDecisions, readRows } from "./explain/read.ts";
import { callStory } from "./explain/story.ts";
import { runAction } from "./errors.ts";
import { commandDescription } from "./command-list.ts";

interface ExplainFlags {
  call?: string;
  workflow?: string;
  decisions?: string;
}

export function explainCommand(): Command {
  return new Command("explain")
    .description(commandDescription("explain"))
    .argument("<dir>", "a run's output folder (calls.csv, workflows.csv)")
    .option("--call <id>", "the call to explain")
    .option("--workflow <id>", "explain every call of this workflow")
    .option("--decisions <file>", "the run's decision trace (default DIR/decisions.jsonl)")
    .action((dir: string, flags: ExplainFlags) => runAction(() => explain(dir, flags)));
}

async function explain(dir: string, flags: ExplainFlags): Promise<void> {
  if ((flags.call === undefined) === (flags.workflow === undefined)) throw new InputError("explain: give --call ID or --workflow ID (one of them)");
  const decisions = flags.decisions ?? join(dir, "decisions.jsonl");
  const records = await readDecisions(decisions, flags.call !== undefined ? { call: flags.call } : { workflow: flags.workflow });
  const callIds = flags.call !== undefined ? [flags.call] : [...new Set(records.map((r) => r.call))];
  const rows = await readRows(join(dir, "calls.csv"), "call_id", new Set(callIds));
  const lines: string[] = [];
  if (flags.workflow !== undefined) {
    const workflow = (await readRows(join(dir, "workflows.csv"), "workflow_id", new Set([flags.workflow]))).get(flags.workflow);
    if (!workflow && callIds.length === 0) throw new InputError(`--workflow ${flags.workflow}: not in ${decisions} nor ${join(dir, "workflows.csv")}`);
    lines.push(
      workflow
        ? `workflow ${flags.workflow} (${workflow.app}): arrived ${workflow.arrival_s} s, ${workflow.status} at ${workflow.finished_s} s, makespan ${workflow.makespan_s} s (critical path ${workflow.critical_path_s} s; ${workflow.llm_steps} LLM calls)`
        : `workflow ${flags.workflow}`,
      "",
    );
  } else if (records.length === 0 && !rows.has(flags.call!)) {
    throw new InputError(`--call ${flags.call}: not in ${decisions} nor ${join(dir, "calls.csv")}`);
  }
  // Calls in the order they arrived.
  const ordered = callIds.sort((a, b) => Number(rows.get(a)?.arrival_s ?? Infinity) - Number(rows.get(b)?.arrival_s ?? Infinity));
  for (const id of ordered) {
    lines.push(
      ...callStory(
        id,
        records.filter((r) => r.call === id),
        rows.get(id),
      ),
      "",
    );
  }
  process.stdout.write(lines.join("\n"));
}
