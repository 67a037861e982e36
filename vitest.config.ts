import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// CLI tests start real processes (a tsx-compiled CLI takes seconds on a loaded 2-core machine),
// so tests get a generous timeout; speed is measured in bench/, never asserted here.
// fast-check's seed: one per run, pinned by FC_SEED and printed in CI (test/helpers/fast-check-seed.ts).
export default defineConfig({
  // Policy files (examples/policies) import the package by name; in tests it is the sources, as the
  // CLI maps it to the running tandem (run/policy-file.ts).
  resolve: { alias: { tandem: fileURLToPath(new URL("./sim/library.ts", import.meta.url)) } },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ["test/helpers/fast-check-seed.ts"],
    setupFiles: ["test/helpers/fast-check-setup.ts"],
  },
});
