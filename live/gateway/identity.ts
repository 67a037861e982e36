import type { IncomingHttpHeaders } from "node:http";
import { badRequest } from "./errors.ts";
import type { GenerationRequest } from "./request.ts";

/** Who a call belongs to, as the client says: workflow, agent, step, tenant, priority. */
export interface CallIdentity {
  workflow: string | undefined;
  agent: string | undefined;
  step: string | undefined;
  /** The step this one follows (recorded; the gateway cannot build a DAG from it ahead of time). */
  parent: string | undefined;
  tenant: string | undefined;
  priority_class: "high" | "medium" | "low" | undefined;
  /** vLLM-style priority (lower first), for policies that read `call.priority`. */
  priority: number | undefined;
  /** The workflow's application name (workflows.csv `app`). */
  app: string | undefined;
  /** The workflow's SLO in seconds (its first call's value counts). */
  slo_s: number | undefined;
  /** This is the workflow's last call: the workflow closes when it does. */
  workflow_end: boolean;
}

/** Identity fields: header `x-tandem-<name>` or the body's `metadata.<key>` (headers win). */
export const IDENTITY_FIELDS = [
  ["workflow", "x-tandem-workflow"],
  ["agent", "x-tandem-agent"],
  ["step", "x-tandem-step"],
  ["parent", "x-tandem-parent"],
  ["tenant", "x-tandem-tenant"],
  ["priority_class", "x-tandem-priority-class"],
  ["priority", "x-tandem-priority"],
  ["app", "x-tandem-app"],
  ["slo_s", "x-tandem-slo"],
  ["workflow_end", "x-tandem-workflow-end"],
] as const;

/** Metadata keys the gateway consumes (removed from the body it forwards). */
export const IDENTITY_METADATA_KEYS: ReadonlySet<string> = new Set(IDENTITY_FIELDS.map(([key]) => key));

const MAX_LENGTH = 256;

/** The identity of a request from its headers and `metadata`; `user` stands in for a missing
 *  tenant. Bad values are 400s naming the header. */
export function identityOf(headers: IncomingHttpHeaders, request: GenerationRequest): CallIdentity {
  const meta = request.metadata;
  const field = (key: (typeof IDENTITY_FIELDS)[number][0], header: string): string | undefined => {
    const h = headers[header];
    let value: unknown = Array.isArray(h) ? h[0] : h;
    let where = header;
    if (value === undefined && meta !== undefined && meta[key] !== undefined && meta[key] !== null) {
      value = meta[key];
      where = `metadata.${key}`;
      if (typeof value === "number" || typeof value === "boolean") value = String(value);
      if (typeof value !== "string") throw badRequest(`${where}: expected a string`, where);
    }
    if (value === undefined) return undefined;
    const text = (value as string).trim();
    if (text === "") return undefined;
    if (text.length > MAX_LENGTH) throw badRequest(`${where}: longer than ${MAX_LENGTH} characters`, where);
    return text;
  };
  // Most requests carry no identity at all: skip the per-field work.
  if (meta === undefined && !hasTandemHeader(headers)) {
    return {
      workflow: undefined,
      agent: undefined,
      step: undefined,
      parent: undefined,
      tenant: request.user,
      priority_class: undefined,
      priority: request.priority,
      app: undefined,
      slo_s: undefined,
      workflow_end: false,
    };
  }
  const priorityClass = field("priority_class", "x-tandem-priority-class");
  if (priorityClass !== undefined && priorityClass !== "high" && priorityClass !== "medium" && priorityClass !== "low") {
    throw badRequest(`x-tandem-priority-class: expected high, medium or low, got "${priorityClass}"`, "x-tandem-priority-class");
  }
  const priorityText = field("priority", "x-tandem-priority");
  const priority = priorityText === undefined ? request.priority : Number(priorityText);
  if (priority !== undefined && !Number.isInteger(priority)) throw badRequest(`x-tandem-priority: expected an integer, got "${priorityText}"`, "x-tandem-priority");
  const sloText = field("slo_s", "x-tandem-slo");
  const slo_s = sloText === undefined ? undefined : Number(sloText);
  if (slo_s !== undefined && !(slo_s > 0 && Number.isFinite(slo_s))) throw badRequest(`x-tandem-slo: expected seconds > 0, got "${sloText}"`, "x-tandem-slo");
  const end = field("workflow_end", "x-tandem-workflow-end");
  if (end !== undefined && !/^(1|0|true|false|yes|no)$/i.test(end)) throw badRequest(`x-tandem-workflow-end: expected true or false, got "${end}"`, "x-tandem-workflow-end");
  const workflow = field("workflow", "x-tandem-workflow");
  if (workflow !== undefined && /^gw-\d+$/.test(workflow)) {
    throw badRequest(`x-tandem-workflow: "${workflow}" is reserved (the ids of one-call workflows are their call ids, gw-N)`, "x-tandem-workflow");
  }
  return {
    workflow,
    agent: field("agent", "x-tandem-agent"),
    step: field("step", "x-tandem-step"),
    parent: field("parent", "x-tandem-parent"),
    tenant: field("tenant", "x-tandem-tenant") ?? request.user,
    priority_class: priorityClass as CallIdentity["priority_class"],
    priority,
    app: field("app", "x-tandem-app"),
    slo_s,
    workflow_end: end !== undefined && /^(1|true|yes)$/i.test(end),
  };
}

function hasTandemHeader(headers: IncomingHttpHeaders): boolean {
  for (const name in headers) if (name.startsWith("x-tandem-")) return true;
  return false;
}
