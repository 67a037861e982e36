import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseParser, type SseEvent } from "../../live/client/sse.ts";

function parseAll(pieces: readonly string[]): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const piece of pieces) out.push(...p.push(piece));
  p.end();
  return out;
}

/** Decodes bytes split anywhere (inside multi-byte characters too), as the client does. */
function parseBytes(bytes: Uint8Array, cuts: readonly number[]): SseEvent[] {
  const decoder = new TextDecoder();
  const p = new SseParser();
  const out: SseEvent[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...p.push(decoder.decode(bytes.subarray(at, cut), { stream: true })));
    at = cut;
  }
  out.push(...p.push(decoder.decode()));
  p.end();
  return out;
}

describe("SseParser", () => {
  it("parses data, multi-line data, comments, event names, ids and retry", () => {
    const text =
      ": a comment\n" +
      "data: one\n\n" +
      "event: usage\ndata: line 1\ndata:line 2\ndata\nid: 7\nretry: 1500\n\n" +
      ":another\n\n" + // comment-only block: no event
      "data: [DONE]\n\n";
    expect(parseAll([text])).toEqual([
      { event: "message", data: "one" },
      { event: "usage", data: "line 1\nline 2\n", id: "7", retry: 1500 },
      { event: "message", data: "[DONE]", id: "7" },
    ]);
  });

  it("accepts CRLF, CR and LF line ends and a leading BOM; removes only one space after the colon", () => {
    expect(parseAll(["\uFEFFdata:  two spaces\r\n\r\ndata: cr\r\rdata: lf\n\n"])).toEqual([
      { event: "message", data: " two spaces" },
      { event: "message", data: "cr" },
      { event: "message", data: "lf" },
    ]);
  });

  it("treats a CR at the end of one piece and LF at the start of the next as one line end", () => {
    // Counted as two line ends, the split CRLF would be a blank line: it would dispatch "a" alone,
    // then "b", and drop the event name (reset by that blank line) from the second event.
    expect(parseAll(["data: a\r", "\ndata: b\r\n\r\n"])).toEqual([{ event: "message", data: "a\nb" }]);
    expect(parseAll(["event: usage\r", "\ndata: x\r", "\n\r", "\n"])).toEqual([{ event: "usage", data: "x" }]);
    // An empty piece between the CR and the LF changes nothing.
    expect(parseAll(["data: a\r", "", "\ndata: b\r\n\r\n"])).toEqual([{ event: "message", data: "a\nb" }]);
    // A CR at the end of a piece followed by anything but LF is a line end of its own: the next
    // piece's first character is kept.
    expect(parseAll(["data: a\r", "data: b\r", "\r"])).toEqual([{ event: "message", data: "a\nb" }]);
  });

  it("drops events without data and discards an unterminated last event", () => {
    const p = new SseParser();
    expect(p.push('event: ping\n\nid: 3\n\ndata: {"x":1}\n\ndata: partial')).toEqual([{ event: "message", data: '{"x":1}', id: "3" }]);
    expect(p.end()).toBe(true);
  });

  it("yields the same events however the byte stream is split (property)", () => {
    const dataLine = fc.string({ unit: fc.constantFrom("a", "b", " ", ":", "{", "}", '"', "é", "😀", "\u00a0"), maxLength: 12 });
    const eventArb = fc.record({
      name: fc.option(fc.constantFrom("message", "usage", "x"), { nil: undefined }),
      lines: fc.array(dataLine, { minLength: 1, maxLength: 3 }),
      comment: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 8 }), fc.constantFrom("\n", "\r\n", "\r"), fc.array(fc.nat(), { maxLength: 12 }), (events, eol, rawCuts) => {
        let text = "";
        for (const e of events) {
          if (e.comment) text += `: keep-alive${eol}`;
          if (e.name !== undefined) text += `event: ${e.name}${eol}`;
          for (const line of e.lines) text += `data: ${line}${eol}`;
          text += eol;
        }
        const bytes = new TextEncoder().encode(text);
        const cuts = [...new Set(rawCuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b);
        const expected = events.map((e) => ({ event: e.name ?? "message", data: e.lines.join("\n") }));
        expect(parseBytes(bytes, cuts)).toEqual(expected);
        expect(parseBytes(bytes, [])).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
