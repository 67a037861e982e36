// Worker-thread entry. Built (dist/), the compiled worker sits next to this file: import it. From
// the sources, worker threads do not inherit the TypeScript loader the main thread registered, and
// a bare `--import tsx` in execArgv resolves from the working directory, so register tsx (resolved
// from this file) and import the TypeScript worker.
import { existsSync } from "node:fs";

const compiled = new URL("./compare-worker.js", import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("./compare-worker.ts");
}
