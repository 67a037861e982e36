import { z } from "zod";
import { inputError } from "../../src/core/errors.ts";
import { fieldName } from "./issues.ts";

/** An AppWorld agent-interaction DAG as the MAST dataset's visualisations store it. Extra fields
 *  (label, line_number, context, edge_type) are allowed and ignored: they describe the log, not the
 *  workload. */

export const APPWORLD_NODE_TYPES = ["agent_response", "code_execution", "api_response", "agent_message", "agent_entry", "agent_exit", "agent_reply"] as const;
export type AppWorldNodeType = (typeof APPWORLD_NODE_TYPES)[number];

const text = z.string().min(1);

export const AppWorldNodeSchema = z.object({
  id: text,
  type: z.enum(APPWORLD_NODE_TYPES),
  agent: text.nullish(),
  from_agent: text.nullish(),
  to_agent: text.nullish(),
  api: text.nullish(),
  content: z.string().nullish(),
});

export const AppWorldDagSchema = z.object({
  metadata: z.object({
    task_id: z.union([text, z.number()]),
    task_description: z.string().nullish(),
  }),
  nodes: z.array(AppWorldNodeSchema).min(1),
  edges: z.array(z.object({ source: text, target: text })),
});

export type AppWorldNode = z.infer<typeof AppWorldNodeSchema>;
export type AppWorldDag = z.infer<typeof AppWorldDagSchema>;

/** Which nodes name an agent, and in which field: without it the node cannot be attributed. */
const AGENT_FIELD: Partial<Record<AppWorldNodeType, "agent" | "to_agent">> = {
  agent_response: "agent",
  agent_message: "agent",
  agent_entry: "agent",
  agent_exit: "agent",
  agent_reply: "to_agent",
};

/** Parses the file's JSON value; errors name the file and the field, e.g. `f.json: nodes[3].type`. */
export function parseAppWorldDag(value: unknown, file: string): AppWorldDag {
  const parsed = AppWorldDagSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw inputError(
      `${file}: ${fieldName(issue.path)}`,
      `${issue.message}; expected an AppWorld DAG {metadata: {task_id, task_description}, nodes: [{id, type, agent?, content}], edges: [{source, target}]}`,
    );
  }
  parsed.data.nodes.forEach((node, i) => {
    const field = AGENT_FIELD[node.type];
    if (field && !node[field]) {
      throw inputError(`${file}: nodes[${i}].${field}`, `missing on a ${node.type} node ("${node.id}"); expected the agent's name`);
    }
  });
  return parsed.data;
}
