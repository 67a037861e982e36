import type { IncomingMessage, ServerResponse } from "node:http";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import type { LlmCall, PromptSegment } from "../../src/core/types.ts";
import type { GatewayContext } from "./context.ts";
import { GatewayError, badRequest } from "./errors.ts";
import { ClientExchange } from "./exchange.ts";
import { identityOf, type CallIdentity } from "./identity.ts";
import type { ModelRoute } from "./models.ts";
import { parseGenerationRequest, readBody, type GenerationKind, type GenerationRequest } from "./request.ts";
import { wakeForRequest } from "./lifecycle.ts";

/** Seconds a client is told to wait after a 429. */
export const RETRY_AFTER_S = 1;

/** A completion or chat request: read, checked, turned into a call for the controller (or turned
 *  away) and left to the transport, which answers it once the controller dispatches it. */
export async function admit(ctx: GatewayContext, kind: GenerationKind, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (ctx.draining) throw new GatewayError(503, "The gateway is shutting down; send the request elsewhere.", "shutting_down", null, { connection: "close" });
  const raw = await readBody(req, ctx.limits.max_body_bytes);
  const request = parseGenerationRequest(kind, raw);
  const route = routeOf(ctx, request);
  const key = ctx.auth?.authenticate(req);
  const identity = key === undefined ? identityOf(req.headers, request) : ctx.auth!.authorize(key, req.headers, request, identityOf(req.headers, request));
  if (res.destroyed) return; // the client left while its request was read
  const now = ctx.clock.now_s();
  const call = callOf(ctx, route, request, identity, `gw-${++ctx.seq}`, now);
  ctx.arrived++;
  if (key !== undefined) {
    const refusal = await ctx.auth!.admit(key, call.id, call.prompt_tokens);
    if (refusal !== undefined || res.destroyed) {
      ctx.host.callTurnedAway(call, refusal !== undefined ? `tenant_${refusal.code}` : "client_disconnected");
      if (refusal !== undefined) throw refusal;
      return;
    }
  }

  // Waiting: at the controller, or sent and waiting for a connection (counted only when it could matter).
  const o = ctx.occupancy.of(route.model);
  if (o.queued + o.sent >= ctx.limits.max_queue && o.queued + ctx.transport.waitingForConnection(route.instances) >= ctx.limits.max_queue) {
    ctx.host.callTurnedAway(call, "gateway_queue_full"); // counted in the report as rejected
    throw new GatewayError(429, `The gateway's queue for ${route.id} is full (${ctx.limits.max_queue} requests waiting, --max-queue); retry later.`, "queue_full", null, {
      "retry-after": String(RETRY_AFTER_S),
    });
  }

  const ex = new ClientExchange(call.id, path, request, identity, route, res);
  ctx.exchanges.set(call.id, ex);
  ctx.occupancy.move(ex, "queued");
  res.on("close", () => {
    if (res.writableFinished || ex.clientGone) return;
    ex.clientGone = true;
    ex.cancel("client_disconnected");
  });
  ctx.workflows.callArrived(identity, call.id, now);
  if (ctx.wake_on_request) wakeForRequest(ctx, route);
  ctx.host.callArrived(call);
}

/** Every call closes here once (recorder onCallClosed): the client gets its error if the answer
 *  has not begun, and the call leaves the gateway's books. */
export function callClosed(ctx: GatewayContext, row: CallRow): void {
  ctx.metrics.callClosed(row);
  ctx.auth?.callClosed(row);
  const ex = ctx.exchanges.get(row.call_id);
  if (ex === undefined) return;
  ctx.exchanges.delete(row.call_id);
  ctx.occupancy.move(ex, "closed");
  ctx.workflows.callClosed(ex.identity, row);
  if (row.status === "finished") ex.end();
  else ex.fail(errorOf(ex, row));
}

function routeOf(ctx: GatewayContext, request: GenerationRequest): ModelRoute {
  if (request.model === undefined) {
    const only = ctx.routes.only;
    if (only === undefined) throw badRequest(`model: required; the gateway serves ${ctx.routes.routes.map((r) => r.id).join(", ")}`, "model", "model_required");
    return only;
  }
  const route = ctx.routes.resolve(request.model);
  if (route === undefined) {
    throw new GatewayError(404, `The model \`${request.model}\` does not exist; the gateway serves ${ctx.routes.routes.map((r) => r.id).join(", ")}.`, "model_not_found", "model");
  }
  return route;
}

/** The call the controller sees. Its lengths are estimates (request.ts): the prompt exact for
 *  token ids, ⌈chars/4⌉ for text; the output max_tokens, else --default-max-tokens clamped to
 *  what max_model_len leaves. */
function callOf(ctx: GatewayContext, route: ModelRoute, request: GenerationRequest, identity: CallIdentity, id: string, now: number): LlmCall {
  const prompt = request.prompt_tokens;
  const output = request.max_tokens ?? Math.max(1, Math.min(ctx.limits.default_max_tokens, route.max_model_len - prompt));
  const system = request.system;
  const segments: PromptSegment[] = system === undefined || system.tokens >= prompt ? [{ tokens: prompt }] : [{ key: system.key, tokens: system.tokens }, { tokens: prompt - system.tokens }];
  const call: LlmCall = { id, arrival_s: now, prompt_tokens: prompt, output_tokens: output, segments, model: route.model };
  if (identity.tenant !== undefined) call.tenant = identity.tenant;
  if (identity.priority !== undefined) call.priority = identity.priority;
  if (identity.workflow !== undefined) {
    call.workflow_id = identity.workflow;
    call.step_id = identity.step ?? id;
  }
  if (identity.agent !== undefined) call.agent = identity.agent;
  if (identity.priority_class !== undefined) call.priority_class = identity.priority_class;
  return call;
}

function errorOf(ex: ClientExchange, row: CallRow): GatewayError {
  const reason = row.reason ?? "";
  if (reason.startsWith("exceeds_max_model_len")) {
    const r = ex.request;
    const output = r.max_tokens !== undefined ? ` + ${r.max_tokens} output (max_tokens)` : "";
    return badRequest(
      `This model's maximum context length is ${ex.route.max_model_len} tokens. However, your request has ${r.prompt_tokens} input tokens${r.kind === "completion" && Array.isArray(r.body.prompt) ? "" : " (estimated)"}${output}. Please reduce the length of the input or of max_tokens.`,
      r.kind === "chat" ? "messages" : "prompt",
      "context_length_exceeded",
    );
  }
  if (reason.startsWith("no_instance_for_model")) return new GatewayError(404, `No instance serves ${ex.route.id}.`, "model_not_found", "model");
  if (reason.startsWith("gateway_shutdown")) return new GatewayError(503, "The gateway shut down before the request was served.", "shutting_down");
  if (row.status === "rejected") return new GatewayError(400, `Rejected: ${reason}`, "rejected");
  return new GatewayError(502, `The request failed upstream: ${reason}`, "upstream_failed");
}
