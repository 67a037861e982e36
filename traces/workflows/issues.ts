import type { z } from "zod";
import { AgentLineSchema, LlmStepLineSchema, ToolStepLineSchema, WorkflowLineSchema } from "./schema.ts";

/** What each field must hold, in the words an error message uses. */
const EXPECTED: Record<string, string> = {
  id: "a non-empty string",
  arrival_s: "a number of seconds ≥ 0",
  app: "a non-empty string",
  tenant: "a non-empty string",
  priority_class: `one of "high", "medium", "low"`,
  slo_s: "a number of seconds > 0",
  agents: "an object mapping agent names to {system_tokens, model?}",
  system_tokens: "an integer ≥ 0",
  model: "a non-empty string",
  steps: "a non-empty array of steps",
  kind: `"llm" or "tool"`,
  agent: "the name of an agent in `agents`",
  after: "an array of step ids",
  history: "the id of an earlier LLM step",
  input_tokens: "an integer ≥ 0",
  tool: "a non-empty string",
  duration_s: "a number of seconds ≥ 0",
  duration: "a distribution string such as lognormal:1.2,0.5",
};

/** `steps[2].after[0]` from zod's path. */
export function fieldName(path: readonly PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "") || "line"
  );
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const step of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[step];
  return value;
}

/** The keys a strict object at `path` accepts, for "unknown field" messages. */
function knownKeys(path: readonly PropertyKey[], input: unknown): string[] {
  if (path.length === 0) return Object.keys(WorkflowLineSchema.shape);
  if (path[0] === "agents") return Object.keys(AgentLineSchema.shape);
  const kind = (valueAt(input, path) as { kind?: unknown } | undefined)?.kind;
  return Object.keys((kind === "tool" ? ToolStepLineSchema : LlmStepLineSchema).shape);
}

/** The first problem zod found in `input`, as "field: problem; expected …". */
export function describeWorkflowIssue(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  const field = fieldName(issue.path);
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    return `${field}: unknown field ${keys}; expected only ${knownKeys(issue.path, input).join(", ")}`;
  }
  const value = valueAt(input, issue.path);
  const shown = value === undefined ? "missing" : shorten(typeof value === "number" ? String(value) : JSON.stringify(value));
  return `${field}: ${shown}; expected ${expectedAt(issue.path, input) ?? issue.message}`;
}

function expectedAt(path: readonly PropertyKey[], input: unknown): string | undefined {
  const last = [...path].reverse().find((p) => typeof p === "string");
  if (last !== "output_tokens") return EXPECTED[String(last)];
  // A tool may return nothing; an LLM call generates at least one token.
  const step = valueAt(input, path.slice(0, -1)) as { kind?: unknown } | undefined;
  return step?.kind === "tool" ? "an integer ≥ 0" : "an integer ≥ 1";
}

/** Keeps a message to one readable line when the offending value is a whole array or object. */
function shorten(text: string, max_chars = 80): string {
  return text.length <= max_chars ? text : `${text.slice(0, max_chars - 1)}…`;
}
