import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { InputError } from "../../src/core/errors.ts";

/** A fresh temp directory. */
export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "tandem-workflows-"));
}

/** Writes `text` to a fresh temp directory and returns the file's path. */
export async function tempFile(name: string, text: string): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, text);
  return path;
}

/** Drains a batched stream into one array. */
export async function collect<T>(source: AsyncIterable<T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const batch of source) all.push(...batch);
  return all;
}

/** Expects `run` to fail (synchronously or not) with an InputError whose message contains each
 *  fragment; returns the message. */
export async function expectInputError(run: () => unknown, ...fragments: string[]): Promise<string> {
  let caught: unknown;
  try {
    const value = run();
    if (value && typeof value === "object" && Symbol.asyncIterator in value) await collect(value as AsyncIterable<unknown[]>);
    else await value;
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InputError);
  const message = (caught as Error).message;
  for (const fragment of fragments) expect(message).toContain(fragment);
  return message;
}
