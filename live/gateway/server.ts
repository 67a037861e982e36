import type { IncomingMessage, ServerResponse } from "node:http";
import { admit } from "./admission.ts";
import { gauges, health, instanceNamed, modelEntry, modelHealth, modelList, routeNamed, traffic } from "./admin.ts";
import type { GatewayContext } from "./context.ts";
import { GatewayError, sendError, sendJson } from "./errors.ts";
import { isSleeping, sleepModel, wakeModel } from "./lifecycle.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./metrics.ts";
import { PUBLIC_ROUTES } from "./auth/public-routes.ts";

type Handler = (ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => Promise<void> | void;

interface Route {
  /** Label of the route in tandem_gateway_http_requests_total. */
  name: string;
  method: "GET" | "POST";
  handler: Handler;
}

const EXACT: Record<string, Route> = {
  "/v1/completions": { name: "/v1/completions", method: "POST", handler: (ctx, req, res) => admit(ctx, "completion", "/v1/completions", req, res) },
  "/v1/chat/completions": { name: "/v1/chat/completions", method: "POST", handler: (ctx, req, res) => admit(ctx, "chat", "/v1/chat/completions", req, res) },
  "/v1/models": { name: "/v1/models", method: "GET", handler: (ctx, _req, res) => sendJson(res, 200, modelList(ctx)) },
  "/health": {
    name: "/health",
    method: "GET",
    handler: (ctx, _req, res, _path, query) => {
      if (query.has("model")) return modelHealthResponse(ctx, res, query.get("model"));
      const h = health(ctx);
      sendJson(res, h.status, h.body);
    },
  },
  "/metrics": {
    name: "/metrics",
    method: "GET",
    handler: async (ctx, _req, res) => {
      const text = await ctx.metrics.render(gauges(ctx));
      res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE, "content-length": Buffer.byteLength(text) }).end(text);
    },
  },
  "/v1/traffic": { name: "/v1/traffic", method: "GET", handler: (ctx, _req, res, _path, query) => sendJson(res, 200, traffic(ctx, query.get("model"))) },
  "/stats": { name: "/stats", method: "GET", handler: (ctx, _req, res, _path, query) => sendJson(res, 200, traffic(ctx, query.get("model"))) },
  "/sleep": {
    name: "/sleep",
    method: "POST",
    handler: async (ctx, req, res, _path, query) => {
      req.resume();
      const level = query.get("level") ?? "1";
      if (level !== "1" && level !== "2") throw new GatewayError(400, `level must be 1 or 2, got ${JSON.stringify(level)}`, "invalid_request", "level");
      const route = routeNamed(ctx, query.get("model"));
      await sleepModel(ctx, route, instanceNamed(route, query.get("instance")));
      sendJson(res, 200, { model: route.id, is_sleeping: isSleeping(ctx, route) });
    },
  },
  "/wake_up": {
    name: "/wake_up",
    method: "POST",
    handler: async (ctx, req, res, _path, query) => {
      req.resume();
      const route = routeNamed(ctx, query.get("model"));
      await wakeModel(ctx, route, instanceNamed(route, query.get("instance")));
      sendJson(res, 200, { model: route.id, is_sleeping: isSleeping(ctx, route) });
    },
  },
  "/is_sleeping": {
    name: "/is_sleeping",
    method: "GET",
    handler: (ctx, _req, res, _path, query) => {
      const route = routeNamed(ctx, query.get("model"));
      sendJson(res, 200, { model: route.id, is_sleeping: isSleeping(ctx, route) });
    },
  },
};

/** Routes with a model name after the prefix (a name may contain "/"). */
const PREFIXED: [string, Route][] = [
  ["/health/", { name: "/health/{model}", method: "GET", handler: (ctx, _req, res, path) => modelHealthResponse(ctx, res, decodePathPart(path.slice(8))) }],
  [
    "/v1/models/",
    {
      name: "/v1/models/{model}",
      method: "GET",
      handler: (ctx, _req, res, path) => {
        const route = routeNamed(ctx, decodePathPart(path.slice(11)));
        sendJson(res, 200, modelEntry(route));
      },
    },
  ],
];

/** A percent-encoded path segment; a malformed escape is the client's mistake (400), not a 500. */
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new GatewayError(400, `malformed percent-encoding in the path: ${JSON.stringify(part.slice(0, 100))}`, "invalid_request");
  }
}

function modelHealthResponse(ctx: GatewayContext, res: ServerResponse, name: string | null): void {
  const h = modelHealth(ctx, routeNamed(ctx, name));
  sendJson(res, h.healthy ? 200 : 503, h.body);
}

function find(path: string): Route | undefined {
  const exact = EXACT[path];
  if (exact !== undefined) return exact;
  for (const [prefix, route] of PREFIXED) if (path.startsWith(prefix) && path.length > prefix.length) return route;
  return undefined;
}

const NO_QUERY = new URLSearchParams();

/** The gateway's request listener: routes, runs the handler, turns errors into OpenAI-style JSON
 *  errors (the server keeps serving), and counts every answer by route and status. */
export function gatewayListener(ctx: GatewayContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const route = find(path);
    const name = route?.name ?? "other";
    res.on("close", () => ctx.metrics.httpRequest(name, res.headersSent ? res.statusCode : 499)); // "close" comes once: no once() wrapper
    if (route === undefined || route.method !== req.method) {
      req.resume();
      const error =
        route === undefined
          ? new GatewayError(404, `Not found: ${req.method} ${path}`, "not_found")
          : new GatewayError(405, `Method not allowed: ${req.method} ${path} (use ${route.method})`, "method_not_allowed", null, { allow: route.method });
      sendError(res, error);
      return;
    }
    let result: Promise<void> | void;
    try {
      if (ctx.auth !== undefined && !PUBLIC_ROUTES.has(route.name)) ctx.auth.authenticate(req);
      result = route.handler(ctx, req, res, path, q < 0 ? NO_QUERY : new URLSearchParams(url.slice(q + 1)));
    } catch (error) {
      fail(res, error);
      return;
    }
    if (result !== undefined) result.catch((error: unknown) => fail(res, error));
  };
}

function fail(res: ServerResponse, error: unknown): void {
  if (error instanceof GatewayError) {
    sendError(res, error);
    return;
  }
  process.stderr.write(`tandem gateway: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
  if (!res.headersSent) sendError(res, new GatewayError(500, `internal error: ${(error as Error)?.message ?? String(error)}`, "internal_error"));
  else res.destroy();
}
