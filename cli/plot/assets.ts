/** Files tandem plot reads from node_modules at run time: the browser bundles of vega, vega-lite
 *  and vega-embed (inlined into HTML pages) and the DejaVu fonts (for PNG rendering). Found the
 *  way Node finds packages: the nearest node_modules folder up from this file. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The folder of an installed package. */
export function packageDir(name: string): string {
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) throw new Error(`package ${name} is not installed (run npm ci)`);
  }
}

/** The browser bundles, in load order (vega-embed needs the globals `vega` and `vegaLite`). */
export const BROWSER_BUNDLES = [
  { name: "vega", file: "build/vega.min.js" },
  { name: "vega-lite", file: "build/vega-lite.min.js" },
  { name: "vega-embed", file: "build/vega-embed.min.js" },
] as const;

export interface BrowserBundle {
  name: string;
  version: string;
  code: string;
}

let bundles: BrowserBundle[] | undefined;

export function browserBundles(): BrowserBundle[] {
  bundles ??= BROWSER_BUNDLES.map(({ name, file }) => {
    const dir = packageDir(name);
    const version = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
    return { name, version, code: readFileSync(join(dir, file), "utf8") };
  });
  return bundles;
}

/** TrueType files for resvg: the same fonts on every machine, so PNGs do not depend on what the
 *  system has installed. */
export function fontFiles(): string[] {
  const dir = join(packageDir("dejavu-fonts-ttf"), "ttf");
  return ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf"].map((f) => join(dir, f));
}
