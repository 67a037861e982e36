// Worker-thread entry for an emulator: worker threads do not inherit the TypeScript loader the CLI
// registered in the main thread, so this plain-JS bootstrap registers tsx and imports the worker.
import { register } from "tsx/esm/api";

register();
await import("./emulator-worker.ts");
