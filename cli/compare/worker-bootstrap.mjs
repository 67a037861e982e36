// Worker-thread entry: worker threads do not inherit the TypeScript loader the CLI registered in
// the main thread (bin/tandem.mjs), and a bare `--import tsx` in execArgv resolves from the
// working directory, so this plain-JS bootstrap registers tsx (resolved from this file) and then
// imports the TypeScript worker.
import { register } from "tsx/esm/api";

register();
await import("./compare-worker.ts");
