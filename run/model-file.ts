import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { InputError, inputError } from "../src/core/errors.ts";
import { modelSpecFromHfConfig } from "../src/model/hf-config.ts";
import { modelSpec, type ModelSpec } from "../src/model/models.ts";

/** A model as a config names it, resolved: `spec`, and `file` when it came from a config.json. */
export interface ResolvedModel {
  spec: ModelSpec;
  /** The config.json read (absolute); undefined for a preset. */
  file?: string;
}

/** `model` as an instance group gives it: a path to a HuggingFace config.json (ends in `.json`), a
 *  folder holding one (anything that is a directory, relative to `base_dir`), or a preset name.
 *  A folder with a config.json wins over a preset of the same spelling: a downloaded checkpoint is
 *  what the user means.
 *  `where` names the field for error messages. */
export async function resolveModel(model: string, base_dir: string, where: string): Promise<ResolvedModel> {
  const path = resolve(base_dir, model);
  if (model.toLowerCase().endsWith(".json")) return { spec: await loadHfConfig(path, basename(dirname(path))), file: path };
  if (await isDirectory(path)) {
    const file = join(path, "config.json");
    if (await exists(file)) return { spec: await loadHfConfig(file, basename(path)), file };
    if (!isPreset(model)) throw inputError(where, `model "${model}": the folder ${path} holds no config.json`);
  }
  try {
    return { spec: modelSpec(model, where) };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new InputError(`${error.message}, or a path to a config.json (or a folder holding one)`);
  }
}

/** Reads and parses a config.json; the model is named after `folder` unless the file names it. */
export async function loadHfConfig(file: string, folder: string): Promise<ModelSpec> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read model config (${code === "ENOENT" ? "no such file" : (code ?? String(error))})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw inputError(file, `not valid JSON: ${(error as Error).message}`);
  }
  return modelSpecFromHfConfig(doc, file, folder);
}

function isPreset(model: string): boolean {
  try {
    modelSpec(model);
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
