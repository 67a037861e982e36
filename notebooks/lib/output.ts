/** Where notebooks write, and how: PNG figures from vega-lite specs (the plot module's renderer),
 *  Markdown results, and the "run me directly" guard that keeps notebook modules importable. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TopLevelSpec } from "vega-lite";
import { renderSvg, svgToPng } from "../../cli/plot/render.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Figures the README embeds. */
export const FIGURES_DIR = join(REPO_ROOT, "docs/figures");
/** Each notebook's measured table, as Markdown. */
export const RESULTS_DIR = join(REPO_ROOT, "notebooks/results");

/** A figure a notebook writes: its file stem under docs/figures and its vega-lite spec. */
export interface Figure {
  name: string;
  spec: TopLevelSpec;
}

/** Renders a vega-lite spec to `DIR/NAME.png` (SVG by vega's headless view, PNG by resvg with the
 *  bundled fonts: the same spec gives the same bytes on every machine). Returns the path. */
export async function writeFigure(name: string, spec: TopLevelSpec, dir = FIGURES_DIR): Promise<string> {
  const path = join(dir, `${name}.png`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, svgToPng(await renderSvg(spec)));
  return path;
}

/** Writes `DIR/NAME.md`. Returns the path. */
export function writeResults(name: string, markdown: string, dir = RESULTS_DIR): string {
  const path = join(dir, `${name}.md`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, markdown.endsWith("\n") ? markdown : markdown + "\n");
  return path;
}

/** A path relative to the repository root, for messages and Markdown links. */
export function repoRelative(path: string): string {
  return path.startsWith(REPO_ROOT + "/") ? path.slice(REPO_ROOT.length + 1) : path;
}

/** True when the module at `moduleUrl` is the script node (or tsx) was started with, so a notebook
 *  runs its study when executed and only exports its pieces when imported (tests). */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && resolve(script) === fileURLToPath(moduleUrl);
}

/** Seconds since `start` (a performance.now() value), for the runtime line a notebook prints. */
export function elapsed_s(start: number): number {
  return (performance.now() - start) / 1000;
}
