import { describe, expect, it } from "vitest";
import { MOONCAKE_BLOCK_TOKENS, mooncakeSegments, readMooncakeTrace } from "../../traces/mooncake.ts";
import { collect, expectInputError, openFds, tempFile } from "./helpers.ts";

const row = (timestamp: number, input_length: number, output_length: number, hash_ids: unknown) => JSON.stringify({ timestamp, input_length, output_length, hash_ids });

const sum = (segments: { tokens: number }[] = []) => segments.reduce((a, s) => a + s.tokens, 0);

describe("mooncake reader", () => {
  it("turns hash ids into 512-token keyed segments, the last one partial", async () => {
    const path = await tempFile("m.jsonl", [row(0, 1100, 50, [1, 2, 3]), row(250, 1024, 7, [1, 2]), row(1500, 600, 3, [1, 9])].join("\n") + "\n");
    const requests = await collect(readMooncakeTrace(path));
    expect(requests[0]).toEqual({
      id: "0",
      arrival_s: 0,
      prompt_tokens: 1100,
      output_tokens: 50,
      segments: [
        { key: "mc:1", tokens: 512 },
        { key: "mc:2", tokens: 512 },
        { key: "mc:3", tokens: 76 },
      ],
    });
    expect(requests[1].arrival_s).toBe(0.25);
    expect(requests[1].segments).toEqual([
      { key: "mc:1", tokens: 512 },
      { key: "mc:2", tokens: 512 },
    ]);
    expect(requests[2]).toMatchObject({ id: "2", arrival_s: 1.5, prompt_tokens: 600 });
    for (const r of requests) expect(sum(r.segments)).toBe(r.prompt_tokens);
    // Shared hash ids give equal keys, hence a shareable prefix.
    expect(requests[0].segments![0].key).toBe(requests[1].segments![0].key);
    expect(requests[0].segments![1].key).toBe(requests[1].segments![1].key);
    expect(requests[2].segments![1].key).not.toBe(requests[0].segments![1].key);
  });

  it("appends an unkeyed segment when the hash ids cover less than input_length", () => {
    expect(mooncakeSegments([4], 700, "f:1")).toEqual([{ key: "mc:4", tokens: 512 }, { tokens: 188 }]);
    expect(mooncakeSegments([], 30, "f:1")).toEqual([{ tokens: 30 }]);
  });

  it("rejects hash ids covering more than input_length + 511 tokens", async () => {
    expect(() => mooncakeSegments([1, 2, 3], 2 * MOONCAKE_BLOCK_TOKENS, "f:7")).toThrow(/f:7.*3 blocks/);
    const path = await tempFile("over.jsonl", row(0, 100, 1, [1]) + "\n" + row(1, 100, 1, [1, 2]) + "\n");
    await expectInputError(() => readMooncakeTrace(path), `${path}:2`, "hash_ids");
  });

  it.each([
    ["{not json", "not valid JSON"],
    ["[1,2]", "expected a JSON object"],
    [JSON.stringify({ timestamp: 5, output_length: 1, hash_ids: [] }), "input_length is missing"],
    [JSON.stringify({ timestamp: 5, input_length: "10", output_length: 1, hash_ids: [] }), "input_length"],
    [JSON.stringify({ timestamp: "5", input_length: 10, output_length: 1, hash_ids: [] }), "timestamp"],
    [JSON.stringify({ timestamp: 5, input_length: 10, output_length: 1.5, hash_ids: [] }), "output_length"],
    [JSON.stringify({ timestamp: 5, input_length: 10, output_length: 1 }), "hash_ids"],
    [JSON.stringify({ timestamp: 5, input_length: 10, output_length: 1, hash_ids: ["a"] }), "hash_ids[0]"],
  ])("rejects the malformed line %s naming file:line", async (line, fragment) => {
    const path = await tempFile("bad.jsonl", row(0, 10, 1, []) + "\n" + line + "\n");
    await expectInputError(() => readMooncakeTrace(path), `${path}:2`, fragment);
  });

  it("skips blank lines but keeps counting them", async () => {
    const path = await tempFile("blank.jsonl", row(0, 10, 1, []) + "\n\n   \n" + "oops\n");
    await expectInputError(() => readMooncakeTrace(path), `${path}:4`);
  });

  it("rejects out-of-order timestamps and an empty file", async () => {
    const path = await tempFile("o.jsonl", row(10, 10, 1, []) + "\n" + row(9, 10, 1, []) + "\n");
    await expectInputError(() => readMooncakeTrace(path), `${path}:2`, "non-decreasing");
    const empty = await tempFile("e.jsonl", "\n\n");
    await expectInputError(() => readMooncakeTrace(empty), "no usable rows");
  });

  it("stops at `limit` and closes the file", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => row(i, 600, 1, [i, i + 1]));
    lines[3] = "garbage";
    const path = await tempFile("l.jsonl", lines.join("\n"));
    const before = await openFds();
    expect(await collect(readMooncakeTrace(path, { limit: 3 }))).toHaveLength(3);
    expect(await openFds()).toBe(before);
  });
});
