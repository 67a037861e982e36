import { defineConfig } from "vitest/config";

// CLI tests start real processes (a tsx-compiled CLI takes seconds on a loaded 2-core machine),
// so tests get a generous timeout; speed is measured in bench/, never asserted here.
// fast-check's seed: one per run, pinned by FC_SEED and printed in CI (test/helpers/fast-check-seed.ts).
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ["test/helpers/fast-check-seed.ts"],
    setupFiles: ["test/helpers/fast-check-setup.ts"],
  },
});
