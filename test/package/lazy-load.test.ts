import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/shared-data.ts";

const BIN = join(REPO_ROOT, "bin/tandem.mjs");
const RECORDER = join(REPO_ROOT, "test/package/record-imports.mjs");
const PLOT_PACKAGES = /\/node_modules\/(vega|vega-lite|vega-embed|@resvg)\//;

/** Runs the CLI as a user does (dist/ when built and current, else the sources through tsx) and
 *  returns every module URL it resolved. */
function importsOf(...args: string[]): string[] {
  const scratch = mkdtempSync(join(tmpdir(), "tandem-lazy-"));
  const log = join(scratch, "imports.log");
  const run = spawnSync(process.execPath, ["--import", RECORDER, BIN, ...args], {
    cwd: scratch,
    encoding: "utf8",
    env: { ...process.env, TANDEM_IMPORT_LOG: log },
    timeout: 120_000,
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return readFileSync(log, "utf8").trim().split("\n").flatMap(sourcesBehind);
}

const BUNDLE = join(REPO_ROOT, "dist/bundle/");
const BUNDLE_MAIN = join(BUNDLE, "cli/main.js");
/** Whether bin/tandem.mjs runs `sim` from the esbuild bundle (built after the compiled CLI). */
const simIsBundled = () =>
  existsSync(BUNDLE_MAIN) && existsSync(join(REPO_ROOT, "dist/cli/main.js")) && statSync(BUNDLE_MAIN).mtimeMs >= statSync(join(REPO_ROOT, "dist/cli/main.js")).mtimeMs;

/** A file of the bundle stands for the sources it holds (its meta.json, written by bin/build-bundle.mjs), as file URLs. */
function sourcesBehind(url: string): string[] {
  const path = url.startsWith("file://") ? new URL(url).pathname : "";
  if (!path.startsWith(BUNDLE)) return [url];
  const meta = JSON.parse(readFileSync(join(BUNDLE, "meta.json"), "utf8")) as Record<string, string[]>;
  return [url, ...(meta[path.slice(BUNDLE.length)] ?? []).map((source) => `file://${join(REPO_ROOT, source)}`)];
}

describe("each subcommand is loaded only when it runs", { timeout: 150_000 }, () => {
  it("tandem --help loads no command module and no plot renderer", () => {
    const urls = importsOf("--help");
    expect(urls.some((u) => /\/cli\/main\.(ts|js)$/.test(u))).toBe(true);
    expect(urls.filter((u) => /-command\.(ts|js)$/.test(u))).toEqual([]);
    expect(urls.filter((u) => PLOT_PACKAGES.test(u) || /\/node_modules\/zod\//.test(u))).toEqual([]);
  });

  it("tandem sim loads the simulator but not vega, vega-lite or resvg, nor the live host", () => {
    const urls = importsOf("sim", "--limit", "1", "--quiet", "--no-progress", "--out", "out");
    if (simIsBundled()) expect(urls).toContain(`file://${BUNDLE_MAIN}`);
    expect(urls.some((u) => /\/sim\/run\.(ts|js)$/.test(u))).toBe(true);
    expect(urls.filter((u) => PLOT_PACKAGES.test(u))).toEqual([]);
    expect(urls.filter((u) => /\/(live|cli\/plot)\//.test(u) || /\/node_modules\/undici\//.test(u))).toEqual([]);
  });
});
