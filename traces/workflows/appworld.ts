import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { inputError } from "../../src/core/errors.ts";
import type { AgentSpec, StepSpec, WorkflowSpec } from "../../src/workflow/types.ts";
import { validateWorkflow } from "../../src/workflow/validate.ts";
import { RngStreams, type Random } from "../../src/core/rng.ts";
import { durationSampler, parseDurationDistribution, type DurationDistribution } from "../durations.ts";
import { fileError } from "../io.ts";
import { ancestorsAndSelf, ancestorsExcept, contractedPredecessors, nodeGraph, type NodeGraph } from "./appworld-graph.ts";
import { parseAppWorldDag, type AppWorldDag, type AppWorldNode } from "./appworld-schema.ts";
import { responseContexts } from "./appworld-sessions.ts";

/** Token estimate from text when no tokenizer is given (the usual rule of thumb for English). */
export const CHARS_PER_TOKEN = 4;
export const DEFAULT_APPWORLD_SYSTEM_TOKENS = 1024;
/** Default tool durations: running agent code takes longer than returning an API reply. */
export const DEFAULT_APPWORLD_TOOL_DURATIONS = {
  code_execution: "lognormal:0.5,0.5",
  api_response: "lognormal:0.3,0.5",
} as const;

export interface AppWorldImportOptions {
  /** System prompt length of every agent (default 1024). */
  system_tokens?: number;
  /** Tool duration distribution for both tool kinds, or per kind; defaults as above. */
  tool_duration?: string | Partial<Record<ToolNodeType, string>>;
  /** Seeds the duration draws (default 0); each file draws from its own stream. */
  seed?: number;
}

type ToolNodeType = keyof typeof DEFAULT_APPWORLD_TOOL_DURATIONS;

const tokensOf = (chars: number) => Math.ceil(chars / CHARS_PER_TOKEN);
const charsOf = (node: AppWorldNode) => node.content?.length ?? 0;

/** Checked options with defaults applied. */
interface ImportPlan {
  system_tokens: number;
  durations: Record<ToolNodeType, DurationDistribution>;
  /** The duration distributions as written, kept on the steps so each arrival redraws them. */
  specs: Record<ToolNodeType, string>;
  seed: number;
}

function importPlan(options: AppWorldImportOptions): ImportPlan {
  const { system_tokens = DEFAULT_APPWORLD_SYSTEM_TOKENS, tool_duration, seed = 0 } = options;
  if (!(Number.isInteger(system_tokens) && system_tokens >= 0)) {
    throw inputError("appworld.system_tokens", `got ${system_tokens}; expected an integer ≥ 0`);
  }
  if (!Number.isFinite(seed)) throw inputError("appworld.seed", `got ${seed}; expected a number`);
  const given = typeof tool_duration === "string" ? { code_execution: tool_duration, api_response: tool_duration } : (tool_duration ?? {});
  const specs = { ...DEFAULT_APPWORLD_TOOL_DURATIONS, ...given };
  const durations = {
    code_execution: parseDurationDistribution(specs.code_execution, "appworld.tool_duration (code_execution)"),
    api_response: parseDurationDistribution(specs.api_response, "appworld.tool_duration (api_response)"),
  };
  return { system_tokens, durations, specs, seed };
}

/** Maps one parsed AppWorld DAG to a workflow template (arrival 0, id = task_id, app "appworld"):
 *  - agent_response → an LLM step of its agent; output = the response text's tokens;
 *  - code_execution, api_response → tool steps with drawn durations and no output tokens (their
 *    result reaches the next agent through the agent_message that follows);
 *  - agent_message, agent_entry, agent_exit, agent_reply → dependencies only (contracted away);
 *  - each response continues (`history`) its agent's previous response in the same session, and
 *    its input is the messages (and replies addressed to it) that reached it since then; a
 *    session's first response with no message gets the task description.
 *  `file` prefixes errors; `random` supplies the duration draws, in node order. */
export function appWorldWorkflow(dag: AppWorldDag, file: string, options: AppWorldImportOptions, random: Random): WorkflowSpec {
  const plan = importPlan(options);
  const graph = nodeGraph(dag, file);
  const { nodes } = dag;
  const isStep = (i: number) => nodes[i].type === "agent_response" || nodes[i].type === "code_execution" || nodes[i].type === "api_response";
  const after = contractedPredecessors(graph, isStep);
  const contexts = responseContexts(dag, graph);
  const samplers = {
    code_execution: durationSampler(plan.durations.code_execution, random),
    api_response: durationSampler(plan.durations.api_response, random),
  };
  const task_chars = dag.metadata.task_description?.length ?? 0;

  const agents: Record<string, AgentSpec> = {};
  for (const node of nodes) {
    for (const name of [node.agent, node.from_agent, node.to_agent]) {
      if (name && !Object.hasOwn(agents, name)) agents[name] = { system_tokens: plan.system_tokens };
    }
  }

  const steps: StepSpec[] = [];
  nodes.forEach((node, i) => {
    if (!isStep(i)) return;
    const ids = after[i].map((p) => nodes[p].id);
    if (node.type !== "agent_response") {
      const type = node.type as ToolNodeType;
      const tool = type === "api_response" ? `api:${node.api ?? "unknown"}` : "code_execution";
      steps.push({ kind: "tool", id: node.id, after: ids, tool, duration_s: samplers[type](), duration_dist: plan.specs[type], output_tokens: 0 });
      return;
    }
    const context = contexts.get(i)!;
    const chars = messageChars(dag, graph, i, context.since);
    const input_tokens = chars === 0 && context.previous === undefined ? tokensOf(task_chars) : tokensOf(chars);
    steps.push({
      kind: "llm",
      id: node.id,
      after: ids,
      agent: node.agent!,
      ...(context.previous !== undefined && { history: nodes[context.previous].id }),
      input_tokens,
      output_tokens: Math.max(1, tokensOf(charsOf(node))),
    });
  });

  const workflow: WorkflowSpec = { id: String(dag.metadata.task_id), arrival_s: 0, app: "appworld", agents, steps };
  validateWorkflow(workflow, file);
  return workflow;
}

/** Characters of the messages that reached response `r` after node `since`: agent_message nodes
 *  addressed to its agent. An agent_reply is not counted: in AppWorld its text reaches the
 *  receiving agent again as the agent_message carrying the send_message result, and counting
 *  both would put it into the prompt twice. */
function messageChars(dag: AppWorldDag, graph: NodeGraph, r: number, since: number | undefined): number {
  const agent = dag.nodes[r].agent;
  const stop = since === undefined ? new Set<number>() : ancestorsAndSelf(graph, since);
  let chars = 0;
  for (const m of ancestorsExcept(graph, r, stop)) {
    const node = dag.nodes[m];
    if (node.type === "agent_message" && node.agent === agent) chars += charsOf(node);
  }
  return chars;
}

/** Imports one AppWorld DAG file as a workflow template. A missing, unreadable or malformed file
 *  is an InputError naming it. Durations come from the stream "tool-durations:FILENAME" of the
 *  seed, so a file imports the same alone or within its folder. */
export async function importAppWorld(file: string, options: AppWorldImportOptions = {}): Promise<WorkflowSpec> {
  const plan = importPlan(options); // bad options fail before any file is read
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw fileError(file, err);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw inputError(file, `not valid JSON (${(err as Error).message}); expected an AppWorld DAG JSON file`);
  }
  const random = new RngStreams(plan.seed).stream(`tool-durations:${basename(file)}`);
  return appWorldWorkflow(parseAppWorldDag(value, file), file, options, random);
}

/** Imports every `.json` file of a folder, sorted by file name. A folder without any is an error. */
export async function importAppWorldFolder(dir: string, options: AppWorldImportOptions = {}): Promise<WorkflowSpec[]> {
  importPlan(options);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw inputError(dir, "is not a folder; expected a folder of AppWorld DAG .json files");
    if (code === "ENOENT") throw inputError(dir, "folder not found");
    throw fileError(dir, err);
  }
  const files = names.filter((name) => name.toLowerCase().endsWith(".json")).sort();
  if (files.length === 0) throw inputError(dir, "no .json files; expected a folder of AppWorld DAG .json files");
  const templates: WorkflowSpec[] = [];
  for (const name of files) templates.push(await importAppWorld(join(dir, name), options));
  return templates;
}
