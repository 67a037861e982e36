import { renameSync, writeFileSync } from "node:fs";

/** Writes `text` to `path` so that a reader (or a killed process) sees the whole file or none. */
export function writeFileAtomic(path: string, text: string): void {
  const temporary = `${path}.partial`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}
