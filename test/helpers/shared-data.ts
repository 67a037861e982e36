import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SHARED_DATA = resolve(REPO_ROOT, "../shared/data");

/** Path to a file of ../shared/data, or undefined (with a message) when the shared data is not
 *  beside the project, as on a user's fresh clone. For the notebooks and benchmarks; tests use
 *  `sharedData` (requirements.ts), which fails instead under TANDEM_REQUIRE_ALL=1. */
export function sharedDataFile(relative: string): string | undefined {
  const path = resolve(SHARED_DATA, relative);
  if (existsSync(path)) return path;
  console.warn(`${path} not found (../shared/data is absent beside the project)`);
  return undefined;
}
