import { describe, expect, it } from "vitest";
import { lineChunks } from "../../traces/lines.ts";
import { tempFile } from "./helpers.ts";

async function allLines(path: string, buffer_bytes: number): Promise<[number, string][]> {
  const out: [number, string][] = [];
  for await (const { lines, first_line } of lineChunks(path, buffer_bytes)) {
    lines.forEach((text, i) => out.push([first_line + i, text]));
  }
  return out;
}

describe("lineChunks", () => {
  it("numbers lines across reads, strips CR and BOM, handles long lines and multi-byte characters", async () => {
    const long = "x".repeat(100);
    const text = "\ufeffé1\r\n" + long + "\n\n€€€\nlast";
    const path = await tempFile("l.txt", text);
    const expected: [number, string][] = [
      [1, "é1"],
      [2, long],
      [3, ""],
      [4, "€€€"],
      [5, "last"],
    ];
    // Tiny buffers split lines and multi-byte characters between reads.
    for (const buffer_bytes of [1, 2, 3, 7, 64, 1 << 16]) expect(await allLines(path, buffer_bytes)).toEqual(expected);
  });

  it("does not invent a line after a final newline", async () => {
    const path = await tempFile("n.txt", "a\nb\n");
    expect(await allLines(path, 1 << 16)).toEqual([
      [1, "a"],
      [2, "b"],
    ]);
  });
});
