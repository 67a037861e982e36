import type { WorkflowSpec } from "../workflow/types.ts";
import type { LlmCall, RequestSpec } from "./types.ts";

/** What arrives: a single request (request traces) or a whole workflow. */
export type Arrival = RequestSpec | WorkflowSpec;

export function isWorkflow(arrival: Arrival): arrival is WorkflowSpec {
  return (arrival as WorkflowSpec).steps !== undefined;
}

/** Requests in a trace as calls for the controller: one unique segment unless the trace gave some. */
export function callFromRequest(request: RequestSpec): LlmCall {
  return {
    id: request.id,
    arrival_s: request.arrival_s,
    prompt_tokens: request.prompt_tokens,
    output_tokens: request.output_tokens,
    segments: request.segments ?? [{ tokens: request.prompt_tokens }],
    model: request.model,
    tenant: request.tenant,
    priority: request.priority,
  };
}
