/** `kairos-static`'s profile: an earlier run's report folder → per-agent static priorities. The
 *  policy (src/policies/scheduling/kairos-static.ts) does no I/O; this reads the folder's calls.csv
 *  (finished calls' e2e_s grouped by the `agent` column) and hands it the computed priorities. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { inputError } from "../src/core/errors.ts";
import type { PolicyChoice } from "../src/policies/registry.ts";
import { kairosStaticPriorities } from "../src/policies/scheduling/kairos-static-profile.ts";
import { parseCsvTable } from "../traces/csv-table.ts";

/** Per-agent end-to-end latencies of the finished calls in `dir`/calls.csv. */
export function readAgentLatencies(dir: string, where: string): Map<string, number[]> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw inputError(where, `profile folder ${JSON.stringify(dir)} not found; expected an earlier run's report folder (with calls.csv)`);
  }
  const file = join(dir, "calls.csv");
  if (!existsSync(file)) throw inputError(where, `${file} not found; expected an earlier run's report folder (with calls.csv)`);
  const table = parseCsvTable(readFileSync(file, "utf8"), file);
  const col = (name: string) => {
    const i = table.header.indexOf(name);
    if (i < 0) throw inputError(`${file}:1`, `header has no column "${name}"; expected calls.csv of a tandem run (its agent column: tandem 0.1 or later)`);
    return i;
  };
  const [agentCol, statusCol, e2eCol] = [col("agent"), col("status"), col("e2e_s")];
  const out = new Map<string, number[]>();
  for (const row of table.rows) {
    const agent = row.cells[agentCol];
    if (!agent || row.cells[statusCol] !== "finished") continue;
    const e2e = Number(row.cells[e2eCol]);
    if (row.cells[e2eCol] === "" || !Number.isFinite(e2e) || e2e < 0) {
      throw inputError(`${file}:${row.line}`, `e2e_s ${JSON.stringify(row.cells[e2eCol])}; expected seconds ≥ 0 for a finished call`);
    }
    let list = out.get(agent);
    if (!list) out.set(agent, (list = []));
    list.push(e2e);
  }
  if (out.size === 0) throw inputError(file, "no finished call names an agent; expected the calls.csv of a workflow run (--app, --workflows, --appworld)");
  return out;
}

/** A `kairos-static` choice with `profile` but no `priorities` gets them computed from the folder
 *  (relative to `baseDir`); every other choice is returned unchanged. The result still names the
 *  profile, and carries the priorities, so the report and event log say what the run used. */
export function resolveKairosProfile(choice: PolicyChoice, baseDir: string, where: string): PolicyChoice {
  if (typeof choice === "string" || choice.name !== "kairos-static") return choice;
  const params = choice.params ?? {};
  if (params.priorities !== undefined || typeof params.profile !== "string") return choice;
  const dir = isAbsolute(params.profile) ? params.profile : resolve(baseDir, params.profile);
  const priorities = kairosStaticPriorities(readAgentLatencies(dir, `${where}: kairos-static params.profile`));
  return { name: choice.name, params: { ...params, priorities } };
}
