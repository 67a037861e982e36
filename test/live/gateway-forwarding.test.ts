import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { ClientExchange } from "../../live/gateway/exchange.ts";
import { identityOf } from "../../live/gateway/identity.ts";
import type { ModelRoute } from "../../live/gateway/models.ts";
import { parseGenerationRequest } from "../../live/gateway/request.ts";

const route = { id: "llama-3-8b", model: "llama-3-8b", names: [], instances: [], max_model_len: 8192 } as unknown as ModelRoute;

function bodyFor(json: string, served = "llama-3-8b", priority?: number, priorityScheduling = false): string | Buffer {
  const request = parseGenerationRequest("completion", Buffer.from(json));
  const ex = new ClientExchange("gw-1", "/v1/completions", request, identityOf({}, request), route, {} as ServerResponse);
  return ex.upstreamBody(served, priority, priorityScheduling);
}

describe("gateway forwarding: the client's bytes, re-encoded only when a field must change", () => {
  it("forwards the client's own bytes when nothing changes (same served name, no priority, no tandem metadata)", () => {
    const json = '{ "model": "llama-3-8b",  "prompt": [1, 2, 3], "max_tokens": 4, "metadata": {"trace": "x"} }';
    const out = bodyFor(json);
    expect(Buffer.isBuffer(out)).toBe(true);
    expect(out.toString()).toBe(json); // spacing kept: not re-encoded
  });

  it("appends the usage option to a stream that did not ask for it, keeping the rest byte for byte", () => {
    const json = '{"model":"llama-3-8b","prompt":"hi","stream":true}\n';
    const out = bodyFor(json).toString();
    expect(out).toBe('{"model":"llama-3-8b","prompt":"hi","stream":true,"stream_options":{"include_usage":true}}');
    expect(JSON.parse(out).stream_options).toEqual({ include_usage: true });
  });

  it("re-encodes when the model name, the priority, the client's stream options or tandem's metadata keys must change", () => {
    expect(JSON.parse(bodyFor('{"model":"meta-llama/Meta-Llama-3-8B","prompt":"hi"}').toString()).model).toBe("llama-3-8b");
    expect(JSON.parse(bodyFor('{"model":"llama-3-8b","prompt":"hi","priority":5}').toString())).not.toHaveProperty("priority");
    expect(JSON.parse(bodyFor('{"model":"llama-3-8b","prompt":"hi"}', "llama-3-8b", 2, true).toString()).priority).toBeTypeOf("number");
    const options = JSON.parse(bodyFor('{"model":"llama-3-8b","prompt":"hi","stream":true,"stream_options":{"continuous_usage_stats":true}}').toString());
    expect(options.stream_options).toEqual({ continuous_usage_stats: true, include_usage: true });
    const meta = JSON.parse(bodyFor('{"model":"llama-3-8b","prompt":"hi","metadata":{"tenant":"a","trace":"x"}}').toString());
    expect(meta.metadata).toEqual({ trace: "x" });
    expect(JSON.parse(bodyFor('{"model":"llama-3-8b","prompt":"hi","metadata":{"tenant":"a"}}').toString())).not.toHaveProperty("metadata");
    expect(JSON.parse(bodyFor('{"model":"llama-3-8b","prompt":"hi","metadata":{}}').toString())).not.toHaveProperty("metadata");
  });
});
