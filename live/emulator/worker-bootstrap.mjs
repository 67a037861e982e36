// Worker-thread entry for an emulator. Built (dist/), the compiled worker sits next to this file:
// import it. From the sources, worker threads do not inherit the TypeScript loader the main thread
// registered, so register tsx and import the TypeScript worker.
import { existsSync } from "node:fs";

const compiled = new URL("./emulator-worker.js", import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("./emulator-worker.ts");
}
