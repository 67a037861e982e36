import { describe, expect, it } from "vitest";
import { GatewayError } from "../../live/gateway/errors.ts";
import { identityOf } from "../../live/gateway/identity.ts";
import { reasonCode } from "../../live/gateway/metrics.ts";
import { parseGenerationRequest } from "../../live/gateway/request.ts";
import { UsageChunkFilter } from "../../live/gateway/usage-filter.ts";

const parse = (kind: "completion" | "chat", body: unknown) => parseGenerationRequest(kind, Buffer.from(typeof body === "string" ? body : JSON.stringify(body)));

function errorOf(f: () => unknown): GatewayError {
  try {
    f();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected a GatewayError");
}

describe("gateway request parsing", () => {
  it("estimates prompt tokens: exact for token ids, ⌈chars/4⌉ for text, per message for chat", () => {
    expect(parse("completion", { model: "m", prompt: [1, 2, 3] }).prompt_tokens).toBe(3);
    expect(parse("completion", { model: "m", prompt: [[1, 2, 3, 4]] }).prompt_tokens).toBe(4);
    expect(parse("completion", { model: "m", prompt: "abcdefghi" }).prompt_tokens).toBe(3);
    expect(parse("completion", { model: "m", prompt: ["abcd"] }).prompt_tokens).toBe(1);
    const chat = parse("chat", {
      model: "m",
      messages: [
        { role: "system", content: "12345678" },
        { role: "user", content: [{ type: "text", text: "abcd" }] },
      ],
    });
    expect(chat.prompt_tokens).toBe(3 + (4 + 2) + (4 + 1));
    expect(chat.system).toEqual({ key: expect.stringMatching(/^sys:[0-9a-f]+:6$/), tokens: 6 });
    const same = parse("chat", {
      model: "m",
      messages: [
        { role: "system", content: "12345678" },
        { role: "user", content: "other" },
      ],
    });
    expect(same.system!.key).toBe(chat.system!.key);
  });

  it("reads stream, usage, max_tokens (chat: max_completion_tokens first), metadata and user", () => {
    const r = parse("chat", {
      model: "m",
      messages: [{ role: "user", content: "x" }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 9,
      max_completion_tokens: 5,
      metadata: { agent: "a" },
      user: "u",
    });
    expect(r).toMatchObject({ stream: true, include_usage: true, max_tokens: 5, metadata: { agent: "a" }, user: "u", model: "m" });
    expect(parse("completion", { prompt: "x" }).model).toBeUndefined();
  });

  it("refuses what it cannot serve with a 400 naming the field", () => {
    expect(errorOf(() => parse("completion", "{nope")).code).toBe("invalid_json");
    expect(errorOf(() => parse("completion", "[1]")).code).toBe("invalid_json");
    expect(errorOf(() => parse("completion", { prompt: ["a", "b"] })).param).toBe("prompt");
    expect(errorOf(() => parse("completion", { prompt: [1, -2] })).message).toMatch(/prompt\[1\]/);
    expect(errorOf(() => parse("completion", { prompt: "" })).message).toMatch(/empty/);
    expect(errorOf(() => parse("completion", { prompt: "x", n: 2 })).param).toBe("n");
    expect(errorOf(() => parse("completion", { prompt: "x", max_tokens: 1.5 })).param).toBe("max_tokens");
    expect(errorOf(() => parse("completion", { prompt: "x", stream_options: { include_usage: true } })).param).toBe("stream_options");
    expect(errorOf(() => parse("chat", { messages: [{ content: "x" }] })).message).toMatch(/messages\[0\]\.role/);
  });
});

describe("gateway identity", () => {
  const request = (body: Record<string, unknown> = {}) => parse("completion", { model: "m", prompt: "x", ...body });

  it("takes headers first, then metadata, then the body's user as tenant", () => {
    const id = identityOf(
      { "x-tandem-workflow": "w", "x-tandem-agent": "planner", "x-tandem-priority-class": "high", "x-tandem-priority": "-3", "x-tandem-workflow-end": "yes" },
      request({ metadata: { agent: "ignored", tenant: "t", step: "s1", slo_s: 30 }, user: "u" }),
    );
    expect(id).toEqual({ workflow: "w", agent: "planner", step: "s1", parent: undefined, tenant: "t", priority_class: "high", priority: -3, app: undefined, slo_s: 30, workflow_end: true });
    expect(identityOf({}, request({ user: "u", priority: 2 }))).toMatchObject({ tenant: "u", priority: 2, workflow: undefined, workflow_end: false });
  });

  it("refuses bad values, and workflow ids reserved for one-call workflows", () => {
    expect(errorOf(() => identityOf({ "x-tandem-priority-class": "urgent" }, request())).param).toBe("x-tandem-priority-class");
    expect(errorOf(() => identityOf({ "x-tandem-priority": "high" }, request())).param).toBe("x-tandem-priority");
    expect(errorOf(() => identityOf({ "x-tandem-slo": "-1" }, request())).param).toBe("x-tandem-slo");
    expect(errorOf(() => identityOf({ "x-tandem-workflow": "gw-12" }, request())).param).toBe("x-tandem-workflow");
    expect(errorOf(() => identityOf({}, request({ metadata: { workflow: { nested: true } } }))).param).toBe("metadata.workflow");
    expect(errorOf(() => identityOf({ "x-tandem-agent": "a".repeat(300) }, request())).param).toBe("x-tandem-agent");
  });
});

describe("usage chunk filter", () => {
  const usage = 'data: {"id":"x","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n';
  const token = (t: string) => `data: {"id":"x","choices":[{"index":0,"text":"${t}"}],"usage":null}\n\n`;

  it("drops only the usage-only chunk, whatever the read boundaries", () => {
    const stream = token("a") + token("b") + usage + "data: [DONE]\n\n";
    const expected = token("a") + token("b") + "data: [DONE]\n\n";
    for (const size of [1, 3, 7, 50, stream.length]) {
      const f = new UsageChunkFilter();
      let out = "";
      const bytes = Buffer.from(stream);
      for (let i = 0; i < bytes.length; i += size) out += f.push(bytes.subarray(i, i + size));
      out += f.end();
      expect(out).toBe(expected);
    }
  });

  it("keeps multi-byte characters split across reads intact", () => {
    const text = token("é😀") + "data: [DONE]\n\n";
    const bytes = Buffer.from(text);
    const f = new UsageChunkFilter();
    let out = "";
    for (let i = 0; i < bytes.length; i++) out += f.push(bytes.subarray(i, i + 1));
    expect(out + f.end()).toBe(text);
  });
});

describe("metric reason codes", () => {
  it("keeps the stable code at the start of a reason", () => {
    expect(reasonCode("upstream_stream: connection broke (after 3 tokens)")).toBe("upstream_stream");
    expect(reasonCode("client_disconnected")).toBe("client_disconnected");
    expect(reasonCode("HTTP 500 from x")).toBe("other");
    expect(reasonCode(null)).toBe("none");
  });
});
