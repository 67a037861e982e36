import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { InputError } from "../src/core/errors.ts";
import { ClusterConfigSchema, type ClusterConfig } from "../src/model/cluster-schema.ts";
import { zodInputError } from "../src/core/zod-issue.ts";

/** Reads a cluster config in YAML or JSON (JSON is YAML, so one parser reads both) and validates it. */
export async function loadClusterConfig(path: string): Promise<ClusterConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read config (${code === "ENOENT" ? "no such file" : (code ?? String(error))})`);
  }
  return parseClusterConfig(text, path);
}

export function parseClusterConfig(text: string, file: string): ClusterConfig {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    const linePos = (error as { linePos?: { line: number }[] }).linePos;
    const line = linePos?.[0]?.line;
    const message = (error as Error).message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new InputError(`${file}${line ? `:${line}` : ""}: not valid YAML or JSON (${message})`);
  }
  const parsed = ClusterConfigSchema.safeParse(document, { jitless: true }); // once per file: zod's compiled fast path would cost more
  if (!parsed.success) throw zodInputError(file, parsed.error);
  return parsed.data;
}
