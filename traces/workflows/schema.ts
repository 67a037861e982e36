import { z } from "zod";
import type { PriorityClass } from "../../src/workflow/types.ts";

/** One line of a tandem workflow trace (JSONL). Objects are strict: a misspelt optional field
 *  (`histroy`) is reported rather than silently dropped. Cross-step rules (references, cycles,
 *  agents, history ancestry) are validateWorkflow's job, after this schema. */

const name = z.string().min(1);

export const AgentLineSchema = z.strictObject({
  system_tokens: z.number().int().min(0),
  model: name.optional(),
});

export const LlmStepLineSchema = z.strictObject({
  id: name,
  kind: z.literal("llm"),
  agent: name,
  after: z.array(name).default([]),
  history: name.optional(),
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(1),
});

/** A tool gives exactly one of `duration_s` (concrete) or `duration` (a distribution drawn at read
 *  time); the reader checks that pairing, so the message can say which field is at fault. */
export const ToolStepLineSchema = z.strictObject({
  id: name,
  kind: z.literal("tool"),
  after: z.array(name).default([]),
  tool: name.optional(),
  duration_s: z.number().min(0).optional(),
  duration: name.optional(),
  output_tokens: z.number().int().min(0).default(0),
});

export const WorkflowLineSchema = z.strictObject({
  id: name,
  arrival_s: z.number().min(0),
  app: name.optional(),
  tenant: name.optional(),
  priority_class: z.enum(["high", "medium", "low"] as const satisfies readonly PriorityClass[]).optional(),
  slo_s: z.number().positive().optional(),
  agents: z.record(name, AgentLineSchema),
  steps: z.array(z.discriminatedUnion("kind", [LlmStepLineSchema, ToolStepLineSchema])).min(1),
});

export type WorkflowLine = z.infer<typeof WorkflowLineSchema>;
export type ToolStepLine = z.infer<typeof ToolStepLineSchema>;
