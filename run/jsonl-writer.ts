import { closeSync, openSync, writeSync } from "node:fs";
import { InputError } from "../src/core/errors.ts";

const FLUSH_BYTES = 1 << 16;

/** Whether a value holds a number JSON cannot hold. Walking it is far cheaper than a replacer, which
 *  takes JSON.stringify off its fast path for every value. */
function hasNonFinite(value: unknown): boolean {
  if (typeof value === "number") return !Number.isFinite(value);
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) {
    for (const item of value) if (hasNonFinite(item)) return true;
    return false;
  }
  for (const key in value) if (hasNonFinite((value as Record<string, unknown>)[key])) return true;
  return false;
}

/** JSON with the numbers JSON cannot hold (Infinity, NaN) kept as tagged strings (`{"$number": "Infinity"}`). */
export function encodeJson(value: unknown): string {
  if (!hasNonFinite(value)) return JSON.stringify(value);
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? { $number: String(v) } : v));
}

/** A JSONL file written line by line through a buffer with synchronous writes: the file is complete
 *  up to the last flush if the process is killed (the event log and the decision trace). */
export class JsonlFileWriter {
  private readonly fd: number;
  private buffer: string[] = [];
  private bytes = 0;
  closed = false;

  /** `flag` and `what` name the file in the error when it cannot be opened (`--events`, "the event log"). */
  constructor(
    readonly path: string,
    flag: string,
    what: string,
  ) {
    try {
      this.fd = openSync(path, "w");
    } catch (error) {
      throw new InputError(`${flag} ${path}: cannot write ${what} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }

  push(line: string): void {
    this.buffer.push(line);
    this.bytes += line.length + 1;
    if (this.bytes >= FLUSH_BYTES) this.flush();
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join("\n") + "\n");
    this.buffer = [];
    this.bytes = 0;
  }
}
