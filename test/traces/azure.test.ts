import { describe, expect, it } from "vitest";
import { readAzureTrace } from "../../traces/azure.ts";
import { parseAzureTimestamp } from "../../traces/azure-timestamp.ts";
import { emptyStats } from "../../traces/rows.ts";
import { collect, expectInputError, openFds, tempFile } from "./helpers.ts";

const HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens\n";

describe("azure reader", () => {
  it("parses rows with ids, token counts and arrival_s relative to the first row", async () => {
    const path = await tempFile(
      "a.csv",
      HEADER + "2023-11-16 18:15:46.6805900,374,44\n" + "2023-11-16 18:15:50.9951690,396,109\n" + "2023-11-16 18:15:50.9951691,879,55\n" + "2023-11-17 00:00:00.0000000,91,16\n",
    );
    const requests = await collect(readAzureTrace(path));
    expect(requests.map((r) => r.id)).toEqual(["0", "1", "2", "3"]);
    expect(requests.map((r) => [r.prompt_tokens, r.output_tokens])).toEqual([
      [374, 44],
      [396, 109],
      [879, 55],
      [91, 16],
    ]);
    expect(requests[0].arrival_s).toBe(0);
    expect(requests[1].arrival_s).toBeCloseTo(4.314579, 9);
    // A 100 ns step survives: whole seconds are subtracted before fractions are added.
    expect(requests[2].arrival_s - requests[1].arrival_s).toBeCloseTo(1e-7, 12);
    // Crossing midnight: 5 h 44 min 13.31941 s after the first row.
    expect(requests[3].arrival_s).toBeCloseTo(5 * 3600 + 44 * 60 + 13.31941, 9);
    expect(requests[0].segments).toBeUndefined();
  });

  it("accepts CRLF endings, a BOM, blank lines, quoted cells and columns in any order", async () => {
    const path = await tempFile("b.csv", '\ufeffGeneratedTokens,TIMESTAMP,ContextTokens\r\n10,2023-11-16 18:15:46.5,100\r\n\r\n"20","2023-11-16 18:15:47",200\r\n');
    const requests = await collect(readAzureTrace(path));
    expect(requests).toEqual([
      { id: "0", arrival_s: 0, prompt_tokens: 100, output_tokens: 10 },
      { id: "1", arrival_s: 0.5, prompt_tokens: 200, output_tokens: 20 },
    ]);
  });

  it("clamps 0-token rows to 1 token and counts them", async () => {
    const path = await tempFile("z.csv", HEADER + "2023-11-16 18:15:46.0,0,5\n2023-11-16 18:15:47.0,7,0\n2023-11-16 18:15:48.0,0,0\n");
    const stats = emptyStats();
    const requests = await collect(readAzureTrace(path, { stats }));
    expect(requests.map((r) => [r.prompt_tokens, r.output_tokens])).toEqual([
      [1, 5],
      [7, 1],
      [1, 1],
    ]);
    expect(stats).toEqual({ rows: 3, clamped_prompt_rows: 2, clamped_output_rows: 2 });
  });

  it.each([
    ["2023-11-16 18:15:47.0,abc,5", "ContextTokens"],
    ["2023-11-16 18:15:47.0,12.5,5", "ContextTokens"],
    ["2023-11-16 18:15:47.0,-3,5", "ContextTokens"],
    ["2023-11-16 18:15:47.0,3,", "GeneratedTokens"],
    ["2023-11-16 18:15:47.0,3", "GeneratedTokens"],
    ["2023-13-16 18:15:47.0,3,5", "TIMESTAMP"],
    ["2023-02-30 18:15:47.0,3,5", "TIMESTAMP"],
    ["16/11/2023 18:15:47,3,5", "TIMESTAMP"],
  ])("rejects the malformed row %j naming file:line and %s", async (row, column) => {
    const path = await tempFile("bad.csv", HEADER + "2023-11-16 18:15:46.0,1,1\n" + row + "\n");
    await expectInputError(() => readAzureTrace(path), `${path}:3`, column);
  });

  it("rejects a header without the needed columns", async () => {
    const path = await tempFile("h.csv", "time,in,out\n2023-11-16 18:15:46.0,1,1\n");
    await expectInputError(() => readAzureTrace(path), `${path}:1`, "TIMESTAMP");
  });

  it("rejects a row earlier than the one before", async () => {
    const path = await tempFile("o.csv", HEADER + "2023-11-16 18:15:46.0,1,1\n2023-11-16 18:15:47.0,1,1\n2023-11-16 18:15:46.9,1,1\n");
    await expectInputError(() => readAzureTrace(path), `${path}:4`, "non-decreasing");
  });

  it("rejects an empty file and a header-only file", async () => {
    const empty = await tempFile("e.csv", "");
    await expectInputError(() => readAzureTrace(empty), empty, "no usable rows");
    const header = await tempFile("e2.csv", HEADER);
    await expectInputError(() => readAzureTrace(header), header, "no usable rows");
  });

  it("stops reading at `limit`: later bad rows are never parsed and the file is closed", async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => `2023-11-16 18:15:46.${String(i).padStart(7, "0")},10,10`);
    rows[10] = "not a timestamp,x,y";
    const path = await tempFile("l.csv", HEADER + rows.join("\n") + "\n");
    const before = await openFds();
    const requests = await collect(readAzureTrace(path, { limit: 10 }));
    expect(requests.map((r) => r.id)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(await openFds()).toBe(before);
    await expectInputError(() => readAzureTrace(path), `${path}:12`);
  });

  it("yields batches of at most batch_size", async () => {
    const rows = Array.from({ length: 25 }, () => "2023-11-16 18:15:46.0,10,10");
    const path = await tempFile("bs.csv", HEADER + rows.join("\n"));
    const sizes: number[] = [];
    for await (const batch of readAzureTrace(path, { batch_size: 10 })) sizes.push(batch.length);
    expect(sizes).toEqual([10, 10, 5]);
  });
});

describe("azure timestamps", () => {
  it("parses 7 fractional digits exactly and accepts fewer or none", () => {
    expect(parseAzureTimestamp("2023-11-16 18:15:46.6805900")).toEqual({
      whole_s: Date.UTC(2023, 10, 16, 18, 15, 46) / 1000,
      fraction_s: 0.68059,
    });
    expect(parseAzureTimestamp("2023-11-16T18:15:46Z")?.fraction_s).toBe(0);
    expect(parseAzureTimestamp("2023-11-16 18:15:46.")).toBeUndefined();
    expect(parseAzureTimestamp("2023-11-16 24:00:00")).toBeUndefined();
  });
});
