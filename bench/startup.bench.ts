/** Start-up benchmark (`npm run bench:startup`); prints its figures. Wall time of whole processes:
 *  `tandem --help` (target ≤ 150 ms), `tandem sim --limit 1` on the built-in workload (target
 *  ≤ 400 ms) and the Vidur-comparable run of bench:sim from the command line, start-up included
 *  (target ≤ 300 ms; needs ../shared/data; the command is printed), each run through
 *  bin/tandem.mjs (the compiled dist/; `sim` from its esbuild bundle) and the old way, tsx on the
 *  sources (`node --import tsx cli/main.ts`), interleaved so that both see the same machine, over
 *  STARTUP_BENCH_RUNS (default 7) runs after one warm-up each; min / median / max. Then what
 *  `npm pack` would publish: file count and sizes. Needs a current dist/ (`npm run build`). */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { distIsCurrent } from "../bin/dist-state.mjs";
import { sharedDataFile } from "../test/helpers/shared-data.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const RUNS = Number(process.env.STARTUP_BENCH_RUNS ?? 7);
const DIST_MAIN = new URL("../dist/cli/main.js", import.meta.url);

if (!distIsCurrent(DIST_MAIN)) {
  process.stderr.write("bench:startup: dist/ is missing or older than the sources; run npm run build first\n");
  process.exit(2);
}

const out = mkdtempSync(join(tmpdir(), "tandem-startup-"));
const COMMANDS: { name: string; args: string[]; target_ms: number }[] = [
  { name: "tandem --help", args: ["--help"], target_ms: 150 },
  { name: "tandem sim --limit 1", args: ["sim", "--limit", "1", "--quiet", "--no-progress", "--out", out], target_ms: 400 },
];
// bench:sim's Vidur-comparable run (8,192 Azure conversation rows re-timed as Poisson 8 req/s on
// 4 × Llama-2-7B / A100-80GB, 512-token budget, least-outstanding) as a user runs it.
const azure = sharedDataFile("traces/azure-llm-2023-conv.csv");
const VIDUR_ARGS = [
  "sim",
  "--config",
  "examples/vidur-comparable.yaml",
  "--trace",
  azure ? relative(ROOT, azure) : "",
  "--trace-format",
  "azure",
  "--limit",
  "8192",
  "--rate",
  "8",
  "--dispatch",
  "least-outstanding",
];
if (azure) COMMANDS.push({ name: `Vidur-comparable run: tandem ${VIDUR_ARGS.join(" ")}`, args: [...VIDUR_ARGS, "--quiet", "--no-progress", "--out", out], target_ms: 300 });
else console.log("Vidur-comparable run from the command line: skipped (../shared/data is absent)");
const LAUNCHES = [
  { name: "dist (bin/tandem.mjs)", prefix: ["--max-semi-space-size=64", join(ROOT, "bin/tandem.mjs")] },
  { name: "tsx on the sources", prefix: ["--max-semi-space-size=64", "--import", "tsx", join(ROOT, "cli/main.ts")] },
];

function wallMs(args: string[]): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`node ${args.join(" ")} exited ${run.status}: ${run.stderr}`);
  return ms;
}

const spread = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const fmt = (ms: number) => `${ms.toFixed(0).padStart(5)} ms`;

for (const command of COMMANDS) {
  const times = LAUNCHES.map(() => [] as number[]);
  LAUNCHES.forEach((launch) => wallMs([...launch.prefix, ...command.args]));
  for (let i = 0; i < RUNS; i++) LAUNCHES.forEach((launch, j) => times[j].push(wallMs([...launch.prefix, ...command.args])));
  console.log(`${command.name} (target ≤ ${command.target_ms} ms from dist), ${RUNS} runs, min / median / max:`);
  LAUNCHES.forEach((launch, j) => {
    const { min, median, max } = spread(times[j]);
    console.log(`  ${launch.name.padEnd(22)} ${fmt(min)} ${fmt(median)} ${fmt(max)}`);
  });
  const ratio = spread(times[0]).median / spread(times[1]).median;
  console.log(`  dist / tsx (medians): ${ratio.toFixed(2)}`);
}

const [pack] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" })) as {
  size: number;
  unpackedSize: number;
  entryCount: number;
}[];
console.log(`npm pack: ${pack.entryCount} files, ${(pack.size / 1024).toFixed(0)} KiB packed, ${(pack.unpackedSize / 1024).toFixed(0)} KiB unpacked`);
