import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RequestSpec } from "../../src/core/types.ts";
import { InputError } from "../../src/core/errors.ts";
import { readTandemTrace } from "../../traces/tandem.ts";
import { writeTandemTrace } from "../../traces/tandem-writer.ts";
import { batchesOf } from "../../traces/batches.ts";
import { collect, expectInputError, openFds, tempFile } from "./helpers.ts";

const line = (fields: Record<string, unknown>) => JSON.stringify(fields);

describe("tandem reader", () => {
  it("reads every field, defaults ids to the row index and keeps explicit ids", async () => {
    const path = await tempFile(
      "t.jsonl",
      [
        line({ arrival_s: 0, prompt_tokens: 10, output_tokens: 2 }),
        line({ id: "req-a", arrival_s: 0.5, prompt_tokens: 30, output_tokens: 3, segments: [{ key: "sys:0", tokens: 20 }, { tokens: 10 }], model: "llama", tenant: "t1", priority: -1 }),
        line({ arrival_s: 0.5, prompt_tokens: 5, output_tokens: 1 }),
      ].join("\n"),
    );
    expect(await collect(readTandemTrace(path))).toEqual([
      { id: "0", arrival_s: 0, prompt_tokens: 10, output_tokens: 2 },
      {
        id: "req-a",
        arrival_s: 0.5,
        prompt_tokens: 30,
        output_tokens: 3,
        segments: [{ key: "sys:0", tokens: 20 }, { tokens: 10 }],
        model: "llama",
        tenant: "t1",
        priority: -1,
      },
      { id: "2", arrival_s: 0.5, prompt_tokens: 5, output_tokens: 1 },
    ]);
  });

  it.each([
    ["{", "not valid JSON"],
    [line({ arrival_s: 0, prompt_tokens: 10 }), "output_tokens"],
    [line({ arrival_s: -1, prompt_tokens: 10, output_tokens: 1 }), "arrival_s"],
    [line({ arrival_s: 1, prompt_tokens: 0, output_tokens: 1 }), "prompt_tokens"],
    [line({ arrival_s: 1, prompt_tokens: 2.5, output_tokens: 1 }), "prompt_tokens"],
    [line({ arrival_s: "1", prompt_tokens: 2, output_tokens: 1 }), "arrival_s"],
    [line({ arrival_s: 1, prompt_tokens: 2, output_tokens: 1, tenent: "x" }), "tenent"],
    [line({ arrival_s: 1, prompt_tokens: 2, output_tokens: 1, segments: [{ tokens: 0 }] }), "segments[0].tokens"],
    [line({ arrival_s: 1, prompt_tokens: 9, output_tokens: 1, segments: [{ key: "a", tokens: 5 }] }), "sum"],
    [line({ arrival_s: 1, prompt_tokens: 9, output_tokens: 1, priority: 0.5 }), "priority"],
  ])("rejects the malformed line %s naming file:line", async (bad, fragment) => {
    const path = await tempFile("bad.jsonl", line({ arrival_s: 0, prompt_tokens: 1, output_tokens: 1 }) + "\n" + bad + "\n");
    await expectInputError(() => readTandemTrace(path), `${path}:2`, fragment);
  });

  it("rejects out-of-order rows, an empty file and a missing file", async () => {
    const path = await tempFile("o.jsonl", line({ arrival_s: 2, prompt_tokens: 1, output_tokens: 1 }) + "\n" + line({ arrival_s: 1, prompt_tokens: 1, output_tokens: 1 }));
    await expectInputError(() => readTandemTrace(path), `${path}:2`, "non-decreasing");
    const empty = await tempFile("e.jsonl", "");
    await expectInputError(() => readTandemTrace(empty), "no usable rows");
    const missing = join(dirname(empty), "nope.jsonl");
    await expectInputError(() => readTandemTrace(missing), missing, "not found");
  });

  it("stops at `limit` and closes the file", async () => {
    const path = await tempFile("l.jsonl", line({ arrival_s: 0, prompt_tokens: 1, output_tokens: 1 }) + "\nbroken\n");
    const before = await openFds();
    expect(await collect(readTandemTrace(path, { limit: 1 }))).toHaveLength(1);
    expect(await openFds()).toBe(before);
  });
});

describe("tandem writer", () => {
  const requests: RequestSpec[] = [
    { id: "a", arrival_s: 0, prompt_tokens: 12, output_tokens: 3, segments: [{ key: "sys:1", tokens: 8 }, { tokens: 4 }] },
    { id: "b", arrival_s: 0.1 + 0.2, prompt_tokens: 7, output_tokens: 1, model: "m", tenant: "t", priority: 2 },
  ];

  it("round-trips requests exactly, from a plain iterable or a batched stream", async () => {
    const path = await tempFile("w.jsonl", "");
    expect(await writeTandemTrace(path, requests)).toBe(2);
    expect(await collect(readTandemTrace(path))).toEqual(requests);
    const text = await readFile(path, "utf8");
    expect(text.split("\n")[0]).toBe('{"id":"a","arrival_s":0,"prompt_tokens":12,"output_tokens":3,"segments":[{"key":"sys:1","tokens":8},{"tokens":4}]}');
    expect(await writeTandemTrace(path, batchesOf(requests, 1))).toBe(2);
    expect(await readFile(path, "utf8")).toBe(text);
  });

  it("reports an unwritable path as an InputError", async () => {
    const dir = dirname(await tempFile("x", ""));
    const target = join(dir, "no-such-dir", "out.jsonl");
    await expect(writeTandemTrace(target, requests)).rejects.toThrow(InputError);
    await expect(writeTandemTrace(target, requests)).rejects.toThrow(target);
  });
});
