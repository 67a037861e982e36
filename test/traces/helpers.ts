import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { RequestSpec } from "../../src/core/types.ts";
import { InputError } from "../../src/core/errors.ts";

/** Writes `text` to a fresh temp directory and returns the file's path. */
export async function tempFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-traces-"));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Drains a batched stream into one array. */
export async function collect(source: AsyncIterable<RequestSpec[]>): Promise<RequestSpec[]> {
  const all: RequestSpec[] = [];
  for await (const batch of source) all.push(...batch);
  return all;
}

/** Expects draining `source` to fail with an InputError whose message contains each fragment. */
export async function expectInputError(source: () => AsyncIterable<RequestSpec[]>, ...fragments: string[]): Promise<InputError> {
  let caught: unknown;
  try {
    await collect(source());
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InputError);
  for (const fragment of fragments) expect((caught as Error).message).toContain(fragment);
  return caught as InputError;
}

/** Open file descriptors of this process (Linux), to prove a reader closed its file; undefined
 *  where /proc is missing. */
export async function openFds(): Promise<number | undefined> {
  if (!existsSync("/proc/self/fd")) return undefined;
  return (await readdir("/proc/self/fd")).length;
}
