#!/usr/bin/env -S node --max-semi-space-size=64
// A 64 MB young generation: the simulator allocates many short-lived objects per call, and the
// default semi-space makes big runs spend about a quarter of their time in scavenges.
// Runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs). In a checkout
// where dist/ is missing or older than the sources, runs the TypeScript through tsx instead, so
// an edit takes effect without a build.
import { existsSync, statSync } from "node:fs";
import module from "node:module";
import { distIsCurrent } from "./dist-state.mjs";

// Node ≥ 22.1 keeps V8's compiled code of the modules in a cache folder (in the temporary
// directory) for the next start; older Nodes have no such call and start as before.
module.enableCompileCache?.();

const compiled = new URL("../dist/cli/main.js", import.meta.url);
// `tandem sim` runs from the esbuild bundle (bin/build-bundle.mjs: a few files instead of ~300
// modules to load) when the build made one after the compiled CLI; other commands from dist/cli.
const bundled = new URL("../dist/bundle/cli/main.js", import.meta.url);
const current = existsSync(compiled) && distIsCurrent(compiled);
if (current) {
  const useBundle = process.argv[2] === "sim" && existsSync(bundled) && statSync(bundled).mtimeMs >= statSync(compiled).mtimeMs;
  await import((useBundle ? bundled : compiled).href);
} else {
  // A hint for a person only: scripts and tests read stderr and expect the command's own lines.
  if (process.stderr.isTTY) {
    const why = existsSync(compiled) ? "dist/ is older than the sources" : "dist/ is not built";
    process.stderr.write(`tandem: ${why}; running the TypeScript sources through tsx (npm run build starts faster)\n`);
  }
  const { register } = await import("tsx/esm/api");
  register();
  await import("../cli/main.ts");
}
