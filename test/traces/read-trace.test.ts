import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { readTrace, TRACE_FORMATS } from "../../traces/index.ts";
import { collect, expectInputError, tempFile } from "./helpers.ts";

describe("readTrace", () => {
  it("lists the formats and dispatches to each reader", async () => {
    expect(TRACE_FORMATS).toEqual(["azure", "vidur", "mooncake", "tandem"]);
    const files = {
      azure: await tempFile("a.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.0,5,6\n"),
      vidur: await tempFile("v.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,5,6\n"),
      mooncake: await tempFile("m.jsonl", '{"timestamp":0,"input_length":5,"output_length":6,"hash_ids":[]}\n'),
      tandem: await tempFile("t.jsonl", '{"arrival_s":0,"prompt_tokens":5,"output_tokens":6}\n'),
    };
    for (const format of TRACE_FORMATS) {
      const [request] = await collect(readTrace(files[format], format, { limit: 1 }));
      expect(request).toMatchObject({ id: "0", arrival_s: 0, prompt_tokens: 5, output_tokens: 6 });
    }
  });

  it("rejects an unknown format at the call, listing the known ones", () => {
    expect(() => readTrace("x.csv", "sharegpt")).toThrow(InputError);
    expect(() => readTrace("x.csv", "sharegpt")).toThrow("azure, vidur, mooncake, tandem");
  });

  it("reports a missing file or a directory with its path", async () => {
    await expectInputError(() => readTrace("/nonexistent/trace.csv", "azure"), "/nonexistent/trace.csv", "not found");
    const dir = (await tempFile("f", "")).replace(/\/f$/, "");
    await expectInputError(() => readTrace(dir, "mooncake"), dir, "directory");
  });

  it("rejects a bad limit", async () => {
    const path = await tempFile("t.jsonl", '{"arrival_s":0,"prompt_tokens":5,"output_tokens":6}\n');
    await expectInputError(() => readTrace(path, "tandem", { limit: 0 }), "limit");
  });
});
