// Module-resolution hooks for record-imports.mjs (they run on Node's loader thread).
import { appendFileSync } from "node:fs";

let log;

export function initialize(data) {
  log = data.file;
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, `${result.url}\n`);
  return result;
}
