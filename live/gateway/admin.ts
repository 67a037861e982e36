import type { GatewayContext } from "./context.ts";
import { GatewayError, badRequest } from "./errors.ts";
import type { GatewayGauges } from "./metrics.ts";
import type { GatewayInstance, ModelRoute } from "./models.ts";

/** The read-only and control endpoints: /v1/models, health, traffic, metrics, sleep mode. */

const CREATED = Math.floor(Date.now() / 1000);

export function modelList(ctx: GatewayContext): unknown {
  return { object: "list", data: ctx.routes.routes.map((r) => modelEntry(r)) };
}

export function modelEntry(route: ModelRoute): unknown {
  return {
    id: route.id,
    object: "model",
    created: CREATED,
    owned_by: "tandem",
    root: route.model,
    parent: null,
    max_model_len: route.max_model_len,
    aliases: route.names.filter((n) => n !== route.id),
    instances: route.instances.length,
  };
}

/** The model a `?model=` parameter or path names (or the only one). */
export function routeNamed(ctx: GatewayContext, name: string | null): ModelRoute {
  if (name === null || name === "") {
    const only = ctx.routes.only;
    if (only === undefined) throw badRequest(`model: required (?model=NAME); the gateway serves ${ctx.routes.routes.map((r) => r.id).join(", ")}`, "model", "model_required");
    return only;
  }
  const route = ctx.routes.resolve(name);
  if (route === undefined) throw new GatewayError(404, `The model \`${name}\` does not exist.`, "model_not_found", "model");
  return route;
}

/** `?instance=ID` narrows a sleep or wake to one instance of the model. */
export function instanceNamed(route: ModelRoute, id: string | null): GatewayInstance | undefined {
  if (id === null || id === "") return undefined;
  const instance = route.instances.find((i) => i.id === id);
  if (instance === undefined) throw new GatewayError(404, `instance ${id} does not serve ${route.id}`, "instance_not_found", "instance");
  return instance;
}

/** An instance's state as the controller sees it. */
function stateOf(ctx: GatewayContext, id: string): string {
  if (ctx.control.isDown(id)) return "stopped";
  const sleep = ctx.control.sleepState(id);
  return sleep === "going_to_sleep" ? "asleep" : sleep;
}

export function modelHealth(ctx: GatewayContext, route: ModelRoute): { healthy: boolean; body: unknown } {
  const instances = route.instances.map((i) => ({
    id: i.id,
    up: !ctx.control.isDown(i.id),
    state: stateOf(ctx, i.id),
    ...(ctx.control.isDown(i.id) ? { reason: ctx.control.downReason(i.id) } : {}),
  }));
  const healthy = instances.some((i) => i.up);
  return { healthy, body: { model: route.id, healthy, sleeping: instances.every((i) => i.state === "asleep"), instances } };
}

/** 200 while serving and every model has a reachable instance; 503 otherwise (or when draining). */
export function health(ctx: GatewayContext): { status: number; body: unknown } {
  const models = ctx.routes.routes.map((r) => modelHealth(ctx, r));
  const healthy = models.every((m) => m.healthy);
  const status = ctx.draining ? "draining" : healthy ? "ok" : "degraded";
  return { status: status === "ok" ? 200 : 503, body: { status, models: models.map((m) => m.body) } };
}

export function traffic(ctx: GatewayContext, model: string | null): unknown {
  const now = ctx.clock.now_s();
  let data = ctx.host.controller.trafficSnapshot(now);
  if (model !== null && model !== "") {
    const route = routeNamed(ctx, model);
    data = data.filter((m) => m.model === route.model);
  }
  return { object: "list", at_s: now, data };
}

export function gauges(ctx: GatewayContext): GatewayGauges {
  return {
    models: ctx.routes.routes.map((r) => {
      const o = ctx.occupancy.of(r.model);
      return { model: r.model, queued: o.queued + ctx.transport.waitingForConnection(r.instances), in_flight: o.sent, max_queue: ctx.limits.max_queue };
    }),
    instances: ctx.routes.instances.map((i) => {
      const load = ctx.transport.load(i.id);
      return { instance: i.id, model: i.model, up: !ctx.control.isDown(i.id), state: stateOf(ctx, i.id), outstanding: load.in_flight + load.queued };
    }),
    draining: ctx.draining,
  };
}
