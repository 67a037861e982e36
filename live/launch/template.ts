import { inputError } from "../../src/core/errors.ts";
import type { CommandTemplate } from "../../src/model/launch-schema.ts";

/** What a command template may name; `{engine_args}` alone in a word expands to several words
 *  (the engine knobs as flags), every other placeholder fills in one value. */
export interface TemplateValues {
  model: string;
  model_name: string;
  served_model_name: string;
  host: string;
  port: number;
  tp: number;
  gpu: string;
  gpus: string;
  instance: string;
  index: number;
  config: string;
  engine_args: readonly string[];
}

export const PLACEHOLDERS: readonly (keyof TemplateValues)[] = [
  "model",
  "model_name",
  "served_model_name",
  "host",
  "port",
  "tp",
  "gpu",
  "gpus",
  "instance",
  "index",
  "config",
  "engine_args",
];

/** Splits a command string into words as a POSIX shell would — whitespace separates, '…' and "…"
 *  keep spaces, a backslash escapes the next character — without expanding anything (no $VAR, no
 *  globs: the engine is spawned directly, never through a shell). A list is taken as its words. */
export function commandWords(template: CommandTemplate, where: string): string[] {
  if (Array.isArray(template)) return [...template];
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < template.length) word += template[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < template.length) {
      word += template[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw inputError(where, `unclosed ${quote} quote in the command`);
  if (inWord) words.push(word);
  if (words.length === 0) throw inputError(where, "the command is empty");
  return words;
}

/** Checks every `{name}` in the words is a known placeholder (`{{` and `}}` are literal braces). */
export function checkTemplate(words: readonly string[], where: string): void {
  for (const word of words) {
    for (const match of word.replace(/\{\{|\}\}/g, "").matchAll(/\{([^{}]*)\}/g)) {
      const name = match[1];
      if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
        throw inputError(where, `unknown placeholder {${name}}; expected one of ${PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}`);
      }
      if (name === "engine_args" && word !== "{engine_args}") {
        throw inputError(where, "{engine_args} expands to several words: write it as a word of its own");
      }
    }
  }
}

/** The words with every placeholder filled in for one instance. */
export function renderCommand(words: readonly string[], values: TemplateValues): string[] {
  const out: string[] = [];
  for (const word of words) {
    if (word === "{engine_args}") {
      out.push(...values.engine_args);
      continue;
    }
    out.push(
      word.replace(/\{\{|\}\}|\{([a-z_]+)\}/g, (all, name: string | undefined) => {
        if (name === undefined) return all[0];
        return String(values[name as Exclude<keyof TemplateValues, "engine_args">]);
      }),
    );
  }
  return out;
}

/** A command as one line a person can paste into a shell: words quoted where needed. */
export function shellLine(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}

export function shellQuote(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
