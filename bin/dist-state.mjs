// Whether dist/ reflects the sources beside it. An installed package ships no sources, so its
// dist/ is current by definition; in a checkout, dist/ is stale once any source file is newer
// than the compiled entry (an edit, a checkout, a pull), and running it would run old code.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SOURCE_DIRS = ["src", "traces", "run", "sim", "live", "cli"];
const SOURCE_FILE = /\.(ts|mjs)$/;

/** @param {URL} compiledEntry dist/cli/main.js */
export function distIsCurrent(compiledEntry) {
  const root = new URL("../", import.meta.url);
  const builtAt = statSync(compiledEntry).mtimeMs;
  for (const dir of SOURCE_DIRS) {
    const path = fileURLToPath(new URL(dir, root));
    if (!existsSync(path)) continue;
    for (const file of readdirSync(path, { recursive: true })) {
      if (SOURCE_FILE.test(file) && statSync(`${path}/${file}`).mtimeMs > builtAt) return false;
    }
  }
  return true;
}
