// `npm run build`, after tsc: bundles the CLI with esbuild into dist/bundle/ (cli/main.js, the
// library at sim/library.js for policy files, shared chunks under chunks/), so that `tandem sim`
// starts from a few files instead of ~300 modules (resolving, reading and linking them is most of
// its start-up). Code splitting keeps each command in its own chunk, loaded only when it runs.
// The pure-JavaScript packages the simulator path uses are bundled; the rest (native, large, or
// run-time-resolved) stay external. bin/tandem.mjs runs `sim` from the bundle when it is current,
// every other command from dist/cli. Writes dist/bundle/meta.json: which sources each file holds.
// Without esbuild (a devDependency), says so and leaves the CLI to run from dist/cli.
import { rmSync, writeFileSync } from "node:fs";

const ROOT = new URL("../", import.meta.url);
const OUT = new URL("dist/bundle/", ROOT);

let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  process.stderr.write("build-bundle: esbuild is not installed; tandem runs every command from dist/cli (slower start-up)\n");
  process.exit(0);
}

rmSync(OUT, { recursive: true, force: true }); // chunk names carry content hashes: drop the old ones

const BUNDLED_PACKAGES = ["zod", "commander", "csv-parse", "yaml", "seedrandom", "cli-progress"];

const result = await esbuild.build({
  absWorkingDir: ROOT.pathname,
  entryPoints: ["cli/main.ts", "sim/library.ts"],
  outbase: ".",
  outdir: OUT.pathname,
  // Chunks one folder down, as run/ and sim/ are in dist/: relative URLs built from import.meta.url
  // (run/policy-file.ts's "../sim/library.js") land on the bundle's own files.
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Bundled CommonJS packages (commander, seedrandom) call require() for Node built-ins.
  banner: { js: 'import { createRequire as __tandemRequire } from "node:module"; const require = __tandemRequire(import.meta.url);' },
  plugins: [
    {
      name: "external-packages",
      setup(build) {
        // Bare specifiers other than the bundled packages resolve at run time from node_modules.
        build.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith("node:")) return { external: true };
          const name = args.path.startsWith("@") ? args.path.split("/").slice(0, 2).join("/") : args.path.split("/")[0];
          return BUNDLED_PACKAGES.includes(name) ? undefined : { external: true };
        });
      },
    },
  ],
  metafile: true,
  // A third fewer bytes for V8 to read and pre-parse at start-up; names are kept (stack traces
  // and messages that show a function or class name read as in the sources).
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  logLevel: "warning",
});

const files = {};
for (const [output, { inputs }] of Object.entries(result.metafile.outputs)) {
  files[output.replace(/^dist\/bundle\//, "")] = Object.keys(inputs).sort();
}
writeFileSync(new URL("meta.json", OUT), `${JSON.stringify(files, null, 1)}\n`);
