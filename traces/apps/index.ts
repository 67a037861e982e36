/** Agent-application workflow generators: see docs/apps.md. */
export type { AppGenerator, AppParam, AppParamKind, ResolvedValue } from "./app.ts";
export { ResolvedParams } from "./app.ts";
export { parseParamPairs, resolveAppParams } from "./params.ts";
export { APPS, APP_NAMES, appByName } from "./registry.ts";
export { MAX_APP_TOKENS } from "./steps.ts";
