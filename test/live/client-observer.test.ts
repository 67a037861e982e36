import { describe, expect, it } from "vitest";
import { StreamObserver } from "../../live/client/stream-observer.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const ev = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;

describe("StreamObserver", () => {
  it("times a network read once: events arriving together are one chunk", () => {
    const calls: string[] = [];
    const o = new StreamObserver("text/event-stream", {
      onFirstToken: (at) => calls.push(`first@${at}`),
      onTokens: (at, n) => calls.push(`tokens@${at}:${n}`),
    });
    o.push(enc(ev({ choices: [{ index: 0, text: "a" }] }) + ev({ choices: [{ index: 0, text: "b" }] })), 1);
    o.push(enc(ev({ choices: [{ index: 0, text: "c" }] }) + ev({ choices: [{ index: 0, text: "" }] })), 2);
    o.push(enc(ev({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 3 } }) + "data: [DONE]\n\n"), 3);
    const obs = o.end(4);
    expect(calls).toEqual(["first@1", "tokens@2:1"]);
    expect(obs).toMatchObject({ first_token_s: 1, last_token_s: 2, chunk_times_s: [1, 2], chunk_tokens: [2, 1], tokens_streamed: 3, done: true });
    expect(obs.usage).toEqual({ prompt_tokens: 3, completion_tokens: 3, cached_tokens: null });
  });

  it("counts token_ids when the server sends them (several tokens per chunk)", () => {
    const o = new StreamObserver("text/event-stream; charset=utf-8");
    o.push(enc(ev({ choices: [{ index: 0, text: "abc", token_ids: [5, 6, 7] }] })), 1);
    o.push(enc(ev({ choices: [{ index: 0, delta: { content: "", token_ids: [8] } }] })), 2);
    expect(o.end(3)).toMatchObject({ chunk_tokens: [3, 1], tokens_streamed: 4, done: false });
  });

  it("counts chat deltas with content, reasoning or tool calls, not the role chunk", () => {
    const o = new StreamObserver("text/event-stream");
    o.push(enc(ev({ choices: [{ index: 0, delta: { role: "assistant", content: "" } }] })), 1);
    o.push(enc(ev({ choices: [{ index: 0, delta: { reasoning_content: "hm" } }] })), 2);
    o.push(enc(ev({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: "{" } }] } }] })), 3);
    o.push(enc(ev({ choices: [{ index: 0, delta: { content: "ok" }, finish_reason: "stop" }] })), 4);
    expect(o.end(5)).toMatchObject({ first_token_s: 2, chunk_times_s: [2, 3, 4], finish_reason: "stop" });
  });

  it("fails on an error payload or a non-JSON event, and ignores what follows", () => {
    const o = new StreamObserver("text/event-stream");
    o.push(enc(ev({ choices: [{ index: 0, text: "a" }] })), 1);
    o.push(enc(ev({ object: "error", message: "boom" }) + ev({ choices: [{ index: 0, text: "b" }] })), 2);
    expect(o.failure).toMatchObject({ kind: "server", retryable: false, tokens_streamed: 1 });
    expect(o.failure!.reason).toContain("boom");
    expect(o.end(3).tokens_streamed).toBe(1);

    const p = new StreamObserver("text/event-stream");
    p.push(enc("data: {not json\n\n"), 1);
    expect(p.failure).toMatchObject({ kind: "protocol", retryable: true });
  });

  it("reads a non-streamed JSON completion at the end of its body", () => {
    const o = new StreamObserver("application/json");
    const body = JSON.stringify({
      choices: [{ index: 0, text: "abc", finish_reason: "length" }],
      usage: { prompt_tokens: 7, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4 } },
    });
    o.push(enc(body.slice(0, 10)), 1);
    o.push(enc(body.slice(10)), 2);
    expect(o.end(3)).toMatchObject({ done: true, first_token_s: null, tokens_streamed: 3, usage: { prompt_tokens: 7, completion_tokens: 3, cached_tokens: 4 } });
  });

  it("decodes text split inside a UTF-8 character across reads, and drops a BOM only at the start", () => {
    const text = "añ€😀"; // read back through finish_reason, which the observation keeps as it came
    const bytes = enc(JSON.stringify({ choices: [{ index: 0, text, finish_reason: text }], usage: { prompt_tokens: 1, completion_tokens: 1 } }));
    // Every cut point, so that each of the 2-, 3- and 4-byte characters is split once.
    for (let cut = 1; cut < bytes.length; cut++) {
      const o = new StreamObserver("application/json");
      o.push(bytes.subarray(0, cut), 1);
      o.push(bytes.subarray(cut), 2);
      expect(o.end(3), `cut at ${cut}`).toMatchObject({ done: true, finish_reason: text });
    }
    const seen: string[] = [];
    const s = new StreamObserver("text/event-stream", { onFirstToken: () => seen.push("first") });
    const event = enc(ev({ choices: [{ index: 0, text: "😀", finish_reason: "😀" }] }));
    const split = event.indexOf(0xf0) + 2;
    s.push(Uint8Array.of(0xef, 0xbb, 0xbf), 1); // a BOM first: dropped
    s.push(event.subarray(0, split), 2);
    s.push(event.subarray(split), 3);
    expect(s.failure).toBeUndefined();
    expect(s.end(4)).toMatchObject({ first_token_s: 3, tokens_streamed: 1, finish_reason: "😀" });

    const j = new StreamObserver("application/json");
    j.push(Uint8Array.of(0xef, 0xbb, 0xbf, ...bytes), 1);
    expect(j.end(2)).toMatchObject({ done: true, finish_reason: text });
    expect(j.failure).toBeUndefined();
  });
});
