import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InputError, inputError } from "../../../src/core/errors.ts";
import { zodInputError } from "../../../src/core/zod-issue.ts";

/** A priority class as the controller knows it; `normal` in a key file means `medium`. */
export type PriorityClass = "high" | "medium" | "low";

/** Classes from the most to the least urgent: a request may move right, never left. */
export const PRIORITY_ORDER: readonly PriorityClass[] = ["high", "medium", "low"];

const rate = (name: string) => z.number().positive(`${name} must be > 0`).optional();
const ClassName = z.enum(["high", "medium", "normal", "low"], { message: "expected high, medium (or normal) or low" }).transform((c) => (c === "normal" ? "medium" : c));

const KeyEntrySchema = z.strictObject({
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "expected the key's SHA-256 as 64 hex digits (printf %s KEY | sha256sum)")
    .transform((h) => h.toLowerCase()),
  tenant: z.string().min(1, "tenant must not be empty").max(256, "tenant: at most 256 characters"),
  priority_classes: z.array(ClassName).min(1, "priority_classes: list at least one class; the first is the key's default").optional(),
  requests_per_s: rate("requests_per_s"),
  tokens_per_s: rate("tokens_per_s"),
  max_concurrency: z.number().int("max_concurrency must be an integer").min(1, "max_concurrency must be at least 1").optional(),
});

const KeyFileSchema = z.strictObject({ keys: z.array(KeyEntrySchema) });

/** One API key: who it is and what it may do. The key itself is never held, only its digest. */
export interface KeyEntry {
  /** Lower-case hex SHA-256 of the key. */
  sha256: string;
  /** A short label for logs and metrics that cannot be turned back into the key (its digest's first 8 hex digits). */
  id: string;
  tenant: string;
  /** Allowed classes; the first is the default. */
  priority_classes: PriorityClass[];
  requests_per_s: number | undefined;
  tokens_per_s: number | undefined;
  max_concurrency: number | undefined;
}

/** Reads and checks a key file (`--keys`); an InputError names the file and the field. */
export function loadKeyFile(path: string): KeyEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read the key file (${code === "ENOENT" ? "no such file" : (code ?? String(error))})`);
  }
  return parseKeyFile(text, path);
}

export function parseKeyFile(text: string, file: string): KeyEntry[] {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    const message = (error as Error).message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new InputError(`${file}${line ? `:${line}` : ""}: not valid YAML (${message})`);
  }
  const parsed = KeyFileSchema.safeParse(document);
  if (!parsed.success) throw zodInputError(file, parsed.error);
  const seen = new Map<string, number>();
  return parsed.data.keys.map((k, i) => {
    const before = seen.get(k.sha256);
    if (before !== undefined) throw inputError(`${file}: keys[${i}].sha256`, `the same key as keys[${before}]; list each key once`);
    seen.set(k.sha256, i);
    const classes = [...new Set(k.priority_classes ?? ["medium"])] as PriorityClass[];
    return {
      sha256: k.sha256,
      id: k.sha256.slice(0, 8),
      tenant: k.tenant,
      priority_classes: classes,
      requests_per_s: k.requests_per_s,
      tokens_per_s: k.tokens_per_s,
      max_concurrency: k.max_concurrency,
    };
  });
}
