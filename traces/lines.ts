import { closeTraceFile, fileError, openTraceFile } from "./io.ts";

/** Consecutive lines of a file; `lines[i]` is line `first_line + i` (1-based). */
export interface LineChunk {
  lines: string[];
  first_line: number;
}

/** Streams a text file as chunks of whole lines (\n or \r\n endings, a leading BOM dropped), never
 *  holding more than one read buffer. One await per chunk instead of one per line: on the Azure
 *  trace this is about 2× faster than readline's async iterator and 7× faster than csv-parse. */
export async function* lineChunks(path: string, buffer_bytes = 1 << 18): AsyncGenerator<LineChunk> {
  const stream = await openTraceFile(path, buffer_bytes);
  stream.setEncoding("utf8"); // decodes multi-byte characters split across reads correctly
  let carry = "";
  let next_line = 1;
  let first = true;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let text = chunk;
      if (first) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      // A read inside one long line: append and wait, rather than re-splitting a growing string.
      if (text.indexOf("\n") < 0) {
        carry += text;
        continue;
      }
      const lines = (carry + text).split("\n");
      carry = lines.pop()!;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (line.charCodeAt(line.length - 1) === 13) lines[i] = line.slice(0, -1);
      }
      yield { lines, first_line: next_line };
      next_line += lines.length;
    }
    if (carry.endsWith("\r")) carry = carry.slice(0, -1);
    if (carry !== "") yield { lines: [carry], first_line: next_line };
  } catch (err) {
    throw fileError(path, err);
  } finally {
    await closeTraceFile(stream);
  }
}

/** True for a line holding nothing but whitespace (skipped by every reader). */
export function isBlank(line: string): boolean {
  return line.length === 0 || line.trim() === "";
}
