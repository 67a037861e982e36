// The layer rules `npm run lint:layers` enforces (docs/architecture.md, "Layers and the rules lint enforces").
// Layers only import downward:
//   src (the sans-I/O core) <- traces <- run <- sim, live <- cli <- bin
// test/, bench/ and notebooks/ sit beside the top and may import anything; nothing imports them.
// Type-only imports count too (tsPreCompilationDeps): a circle of types is still a circle.

/** Node built-ins that do I/O, spawn work or read the host: the core library must do none of it. */
const IO_BUILTINS = (
  "fs fs/promises http https http2 net tls dgram dns dns/promises child_process worker_threads cluster " +
  "readline readline/promises repl inspector os process v8 vm perf_hooks stream stream/promises timers timers/promises"
).split(" ");

/** npm packages src/ may use: pure computation only (schemas, a seeded RNG). Add one here only if it does no I/O. */
const SRC_NPM_ALLOWED = ["zod", "seedrandom"];

/** Paths of project code that is not production: may import anything, and nothing may import it. */
const OUTSIDE_PRODUCTION = "^(test|bench|notebooks)/";

module.exports = {
  forbidden: [
    {
      name: "src-imports-only-src",
      comment: "src/ is the core library: it imports nothing outside src/ (only the npm packages allowed below).",
      severity: "error",
      from: { path: "^src/" },
      to: { pathNot: ["^src/", "^node_modules/"], dependencyTypesNot: ["core"] },
    },
    {
      name: "src-does-no-io",
      comment: "src/ is sans-I/O: no Node built-ins that touch files, sockets, processes or threads. The hosts (sim/, live/) and run/ do the I/O.",
      severity: "error",
      from: { path: "^src/" },
      to: { dependencyTypes: ["core"], path: `^(node:)?(${IO_BUILTINS.join("|")})$` },
    },
    {
      name: "src-npm-allowlist",
      comment: `src/ may use only these npm packages: ${SRC_NPM_ALLOWED.join(", ")} (pure computation). Extend SRC_NPM_ALLOWED in .dependency-cruiser.cjs only for a package that does no I/O.`,
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^node_modules/", pathNot: `^node_modules/(${SRC_NPM_ALLOWED.join("|")})/` },
    },
    {
      name: "traces-imports-only-src",
      comment: "traces/ (trace formats and generators) imports only src/ and itself.",
      severity: "error",
      from: { path: "^traces/" },
      to: { pathNot: ["^src/", "^traces/", "^node_modules/"], dependencyTypesNot: ["core"] },
    },
    {
      name: "run-imports-only-src-and-traces",
      comment: "run/ (the run setup shared by sim and live) imports only src/, traces/ and itself.",
      severity: "error",
      from: { path: "^run/" },
      to: { pathNot: ["^src/", "^traces/", "^run/", "^node_modules/"], dependencyTypesNot: ["core"] },
    },
    {
      name: "sim-not-live",
      comment: "sim/ (the simulator host) never imports live/: the hosts are siblings; only cli/ joins them.",
      severity: "error",
      from: { path: "^sim/" },
      to: { path: "^live/" },
    },
    {
      name: "live-not-sim",
      comment: "live/ never imports sim/, except live/emulator/, which wraps the simulator's engine as a fake vLLM server.",
      severity: "error",
      from: { path: "^live/", pathNot: "^live/emulator/" },
      to: { path: "^sim/" },
    },
    {
      name: "only-the-top-imports-cli",
      comment: "cli/ is the top layer: only cli/, bin/, tests, benches and notebooks import it (sim/, live/, run/, traces/, src/ never do).",
      severity: "error",
      from: { pathNot: ["^cli/", "^bin/", OUTSIDE_PRODUCTION] },
      to: { path: "^cli/" },
    },
    {
      name: "nothing-imports-bin",
      comment: "bin/tandem.mjs is the entry point; no code imports it (tests run it as a process). Its helper bin/dist-state.mjs may be imported (the start-up bench uses it).",
      severity: "error",
      from: {},
      to: { path: "^bin/tandem\\.mjs$" },
    },
    {
      name: "production-not-tests",
      comment: "Production code never imports test/, bench/ or notebooks/.",
      severity: "error",
      from: { pathNot: OUTSIDE_PRODUCTION },
      to: { path: OUTSIDE_PRODUCTION },
    },
    {
      name: "no-circular",
      comment: "No import circles, type-only imports included: move what both sides share into a small module below them.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment: "Every import resolves to a file or an installed package.",
      severity: "error",
      from: {},
      // undici's types are imported as undici/types/*.js, which TypeScript maps to .d.ts files that a resolver does not look for.
      to: { couldNotResolve: true, pathNot: "^undici/types/" },
    },
  ],
  options: {
    // Type-only imports are dependencies too (a circle of types is still a circle).
    tsPreCompilationDeps: true,
    // node_modules may be a symlink to a shared install; keep its paths as node_modules/... so the rules match.
    preserveSymlinks: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^notebooks/results/" },
    enhancedResolveOptions: {
      extensions: [".ts", ".mjs", ".js", ".json"],
      conditionNames: ["import", "require", "node", "default", "types"],
      exportsFields: ["exports"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
