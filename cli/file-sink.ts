import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** Appends text to a file through a fixed buffer with synchronous writes: memory stays bounded
 *  however many rows a run produces, and rows land in the order they were written. */
export class BufferedFileWriter {
  private readonly fd: number;
  private chunks: string[] = [];
  private size = 0;

  constructor(
    readonly path: string,
    private readonly flushAt = 1 << 16,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, "w");
  }

  write(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size >= this.flushAt) this.flush();
  }

  flush(): void {
    if (this.chunks.length === 0) return;
    writeSync(this.fd, this.chunks.join(""));
    this.chunks = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
