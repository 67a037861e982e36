import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** The names Chromium goes by on PATH: Debian's package, Ubuntu's older one, Google's build. */
const NAMES = ["chromium", "chromium-browser", "google-chrome"];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Finds Chromium as .ci/run does (`command -v chromium`): CHROMIUM_PATH when set, else the first
 *  of NAMES on PATH. Returns the executable, or `missing` saying what was looked for. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): { path?: string; missing?: string } {
  const given = env.CHROMIUM_PATH;
  if (given !== undefined && given !== "") {
    return isExecutable(given) ? { path: given } : { missing: `CHROMIUM_PATH=${given} is not an executable file` };
  }
  const dirs = (env.PATH ?? "").split(delimiter).filter((dir) => dir !== "");
  for (const name of NAMES) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (isExecutable(path)) return { path };
    }
  }
  return { missing: `no Chromium on PATH (looked for ${NAMES.join(", ")}; apt-get install chromium, or set CHROMIUM_PATH)` };
}
