import type { ServerResponse } from "node:http";

/** OpenAI's error `type` for each status the gateway answers with. */
const TYPES: Record<number, string> = {
  400: "invalid_request_error",
  404: "not_found_error",
  405: "invalid_request_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
  500: "internal_error",
  502: "upstream_error",
  503: "service_unavailable",
};

/** A request the gateway answers with an OpenAI-style error: `{"error": {message, type, param, code}}`.
 *  `code` is a short stable string (`model_not_found`, `context_length_exceeded`, …). */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GatewayError";
  }

  body(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: TYPES[this.status] ?? "invalid_request_error", param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code = "invalid_request"): GatewayError => new GatewayError(400, message, code, param);

/** Writes a JSON body with its length (nothing if the client is gone or a response already started). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}

export function sendError(res: ServerResponse, error: GatewayError): void {
  sendJson(res, error.status, error.body(), error.headers);
}
