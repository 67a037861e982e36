import { describe, expect, it } from "vitest";
import { readVidurTrace } from "../../traces/vidur.ts";
import { emptyStats } from "../../traces/rows.ts";
import { collect, expectInputError, openFds, tempFile } from "./helpers.ts";

const HEADER = "arrived_at,num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\n";

describe("vidur reader", () => {
  it("finds columns by header name, ignores the others, keeps arrived_at as written", async () => {
    const path = await tempFile("v.csv", HEADER + "1.5,100,20,120,5.0\n1.75,200,40,240,5.0\n3,300,0,300,inf\n");
    const stats = emptyStats();
    const requests = await collect(readVidurTrace(path, { stats }));
    expect(requests).toEqual([
      { id: "0", arrival_s: 1.5, prompt_tokens: 100, output_tokens: 20 },
      { id: "1", arrival_s: 1.75, prompt_tokens: 200, output_tokens: 40 },
      { id: "2", arrival_s: 3, prompt_tokens: 300, output_tokens: 1 },
    ]);
    expect(stats.clamped_output_rows).toBe(1);
  });

  it("accepts integer-valued floats such as 2048.0", async () => {
    const path = await tempFile("f.csv", "num_decode_tokens,arrived_at,num_prefill_tokens\n16.0,0.0,2048.0\n");
    expect(await collect(readVidurTrace(path))).toEqual([{ id: "0", arrival_s: 0, prompt_tokens: 2048, output_tokens: 16 }]);
  });

  it.each([
    ["x,1,1,2,1", "arrived_at"],
    ["-1,1,1,2,1", "arrived_at"],
    ["2,1.5,1,2,1", "num_prefill_tokens"],
    ["2,1,,2,1", "num_decode_tokens"],
    ["2,1", "num_decode_tokens"],
  ])("rejects the malformed row %j naming file:line and %s", async (row, column) => {
    const path = await tempFile("bad.csv", HEADER + "1,1,1,2,1\n" + row + "\n");
    await expectInputError(() => readVidurTrace(path), `${path}:3`, column);
  });

  it("rejects rows out of arrival order, an empty file and a missing column", async () => {
    const back = await tempFile("o.csv", HEADER + "2,1,1,2,1\n1.9,1,1,2,1\n");
    await expectInputError(() => readVidurTrace(back), `${back}:3`, "non-decreasing");
    const empty = await tempFile("e.csv", HEADER);
    await expectInputError(() => readVidurTrace(empty), "no usable rows");
    const noColumn = await tempFile("c.csv", "arrived_at,num_prefill_tokens\n1,1\n");
    await expectInputError(() => readVidurTrace(noColumn), `${noColumn}:1`, "num_decode_tokens");
  });

  it("stops at `limit` and closes the file", async () => {
    const path = await tempFile("l.csv", HEADER + "1,1,1,2,1\n2,2,2,4,1\nbroken\n");
    const before = await openFds();
    const requests = await collect(readVidurTrace(path, { limit: 2 }));
    expect(requests).toHaveLength(2);
    expect(await openFds()).toBe(before);
  });
});
