import { readFile } from "node:fs/promises";
import { InputError, inputError } from "../src/core/errors.ts";
import { latencyModelFromJson } from "../src/model/latency-json.ts";
import type { LatencyModel } from "../src/model/latency-model.ts";

/** Reads and parses a latency model JSON file. */
export async function loadLatencyModelFile(path: string): Promise<LatencyModel> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new InputError(`${path}: cannot read latency model: ${(error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw inputError(path, `not valid JSON: ${(error as Error).message}`);
  }
  return latencyModelFromJson(doc, path);
}
