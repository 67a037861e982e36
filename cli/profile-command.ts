import { appendFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import cliProgress from "cli-progress";
import { Command, InvalidArgumentError } from "commander";
import {
  DEFAULT_GATE_TOKENS,
  DEFAULT_GRID,
  expandGrid,
  parseCountList,
  parseGridFile,
  resolveGrid,
  runProfileSweep,
  sweepRequests,
  type BatchMeasurement,
  type GridFile,
  type ProfileSweepResult,
} from "../live/profile/index.ts";
import { PROFILE_CSV_HEADER, profileRowToCsv, readText } from "../sim/calibrate/index.ts";
import { InputError } from "../src/core/errors.ts";
import { nonNegativeInteger, positiveInteger, positiveNumber, runAction } from "./errors.ts";
import { commandDescription } from "./command-list.ts";

interface ProfileFlags {
  endpoint: string;
  model: string;
  out: string;
  gpu: string;
  tensorParallel: number;
  prompts?: string;
  batchSizes?: string;
  outputs?: string;
  repeats?: number;
  grid?: string;
  apiKey?: string;
  speedup?: number;
  maxNumBatchedTokens?: number;
  maxNumSeqs?: number;
  gateTokens: number;
  seed?: string;
  maxReruns: number;
  stallTolerance: number;
  warmup: boolean;
  progress: boolean;
  quiet?: boolean;
}

const list = (values: readonly number[]) => values.join(",");

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError("expected a fraction between 0 and 1 (exclusive), e.g. 0.02");
  return n;
}

export function profileCommand(): Command {
  return new Command("profile")
    .description(commandDescription("profile"))
    .requiredOption("--endpoint <url>", "server base URL, e.g. http://127.0.0.1:8000")
    .requiredOption("--model <name>", "served model name (as /v1/models lists it)")
    .option("--out <file>", "profile CSV to write", "out/profile/profile.csv")
    .option("--gpu <name>", "GPU the server runs on, recorded in every row (nvidia-smi's name is fine)", "unknown")
    .option("--tensor-parallel <n>", "the server's tensor parallelism, recorded in every row", positiveInteger, 1)
    .option("--prompts <list>", `prompt lengths in tokens (default ${list(DEFAULT_GRID.prompts)})`)
    .option("--batch-sizes <list>", `requests per static batch (default ${list(DEFAULT_GRID.batch_sizes)})`)
    .option("--outputs <list>", `output lengths in tokens (default ${list(DEFAULT_GRID.outputs)})`)
    .option("--repeats <n>", "static batches per sweep point (default 1)", positiveInteger)
    .option("--grid <file>", "sweep grid, YAML or JSON: prompts, batch_sizes, outputs, repeats, points: [{prompt, batch_size, output}]; flags win")
    .option("--api-key <key>", "bearer token (vLLM --api-key; default $VLLM_API_KEY)")
    .option("--speedup <x>", "only for a tandem emulator: its --speedup (model seconds per wall second), checked against its /metrics", positiveNumber)
    .option("--max-num-batched-tokens <n>", "the server's token budget per step (vLLM --max-num-batched-tokens), recorded for calibration", positiveInteger)
    .option("--max-num-seqs <n>", "the server's sequence limit (vLLM --max-num-seqs), recorded for calibration", positiveInteger)
    .option("--gate-tokens <n>", "prompt tokens of the gate request sent before each batch so it starts as one batch (0 = none)", nonNegativeInteger, DEFAULT_GATE_TOKENS)
    .option("--seed <s>", "seed of the prompts' token ids (default: random, so a rerun never hits the prefix cache)")
    .option("--max-reruns <n>", "re-runs of a batch whose deliveries were late before it is kept anyway", nonNegativeInteger, 3)
    .option("--stall-tolerance <f>", "a read right after a stall of this process makes the batch suspect when the stall could shift it by more than this fraction", fraction, 0.02)
    .option("--no-warmup", "skip the warm-up requests")
    .option("--no-progress", "never show the progress bar")
    .option("--quiet", "do not print the summary table")
    .action((flags: ProfileFlags) => runAction(() => runProfile(flags)));
}

async function runProfile(flags: ProfileFlags): Promise<void> {
  let file: GridFile | undefined;
  if (flags.grid !== undefined) file = parseGridFile(await readText(flags.grid), flags.grid);
  const grid = resolveGrid(
    {
      ...(flags.prompts !== undefined ? { prompts: parseCountList(flags.prompts, "--prompts") } : {}),
      ...(flags.batchSizes !== undefined ? { batch_sizes: parseCountList(flags.batchSizes, "--batch-sizes") } : {}),
      ...(flags.outputs !== undefined ? { outputs: parseCountList(flags.outputs, "--outputs") } : {}),
      ...(flags.repeats !== undefined ? { repeats: flags.repeats } : {}),
    },
    file,
  );
  const points = expandGrid(grid);
  if (points.length === 0) throw new InputError("the sweep grid is empty; expected at least one prompt length, batch size and output length");
  const partial = `${flags.out}.partial`;
  let written = 0;
  const write = (text: string) => {
    try {
      if (written === 0) {
        mkdirSync(dirname(flags.out), { recursive: true });
        writeFileSync(partial, PROFILE_CSV_HEADER + "\n");
      }
      appendFileSync(partial, text);
    } catch (error) {
      throw new InputError(`--out ${flags.out}: cannot write ${partial} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  try {
    mkdirSync(dirname(flags.out), { recursive: true });
  } catch (error) {
    throw new InputError(`--out ${flags.out}: cannot create its folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const bar = progressBar(points.length, flags.progress);
  const notes: string[] = [];
  let result: ProfileSweepResult;
  try {
    const apiKey = flags.apiKey ?? process.env.VLLM_API_KEY;
    result = await runProfileSweep({
      endpoint: flags.endpoint,
      model: flags.model,
      points,
      gpu: flags.gpu,
      tensor_parallel: flags.tensorParallel,
      ...(flags.maxNumBatchedTokens !== undefined ? { max_num_batched_tokens: flags.maxNumBatchedTokens } : {}),
      ...(flags.maxNumSeqs !== undefined ? { max_num_seqs: flags.maxNumSeqs } : {}),
      ...(apiKey !== undefined && apiKey !== "" ? { api_key: apiKey } : {}),
      ...(flags.speedup !== undefined ? { speedup: flags.speedup } : {}),
      gate_tokens: flags.gateTokens,
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      max_reruns: flags.maxReruns,
      stall_tolerance: flags.stallTolerance,
      warmup: flags.warmup,
      onBatch: (rows, batch, done) => {
        write(rows.map(profileRowToCsv).join("\n") + "\n");
        written++;
        bar.update(done, batch.point.batch_id);
      },
      onWarning: (message) => {
        bar.interrupt(`tandem profile: warning: ${message}`);
        notes.push(message);
      },
    });
  } catch (error) {
    bar.stop();
    if (error instanceof InputError && written > 0) throw new InputError(`${error.message}; the ${written} batches measured so far are in ${partial}`);
    throw error;
  }
  bar.stop();
  if (written === 0) write("");
  renameSync(partial, flags.out);
  if (flags.maxNumBatchedTokens === undefined && points.some((p) => p.batch_size * p.prompt_tokens > 2048)) {
    process.stderr.write(
      "tandem profile: note: --max-num-batched-tokens not given; calibration will assume each batch's prompts ran in one step. " +
        "Pass the server's value (vLLM logs max_num_batched_tokens at start-up) if larger batches were chunked.\n",
    );
  }
  if (!flags.quiet) process.stdout.write(summaryTable(result.batches) + "\n");
  const reruns = result.reruns + result.disturbed_reruns;
  process.stdout.write(
    `profiled ${result.batches.length} static batches (${sweepRequests(points)} requests) of ${flags.model} at ${result.server.url} in ${result.wall_s.toFixed(1)} s` +
      ` (seed ${result.seed}, gate ${result.gate_tokens} tokens${reruns > 0 ? `, ${reruns} batches re-run` : ""}${result.disturbed_kept > 0 ? `, ${result.disturbed_kept} kept disturbed` : ""}); wrote ${flags.out}\n`,
  );
}

/** Mean TTFT, TPOT and E2E per batch, in milliseconds. */
function summaryTable(batches: readonly BatchMeasurement[]): string {
  const header = ["batch", "prompt", "batch size", "output", "ttft ms", "tpot ms", "e2e ms"];
  const mean = (v: number[]) => (v.length === 0 ? NaN : v.reduce((s, x) => s + x, 0) / v.length);
  const rows = batches.map((b) => {
    const ttft = b.requests.map((r) => r.first_token_s - b.start_s);
    const e2e = b.requests.map((r) => r.last_token_s - b.start_s);
    const tpot = b.requests.filter((r) => r.output_tokens >= 2).map((r) => (r.last_token_s - r.first_token_s) / (r.output_tokens - 1));
    const ms = (v: number) => (Number.isNaN(v) ? "-" : (v * 1000).toFixed(1));
    return [b.point.batch_id, String(b.point.prompt_tokens), String(b.point.batch_size), String(b.point.output_tokens), ms(mean(ttft)), ms(mean(tpot)), ms(mean(e2e))];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** A progress bar on stderr, only on a terminal; warnings print above it. */
function progressBar(total: number, enabled: boolean) {
  const active = enabled && process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let done = 0;
  let point = "warm-up";
  const start = () => {
    bar = new cliProgress.SingleBar({ stream: process.stderr, format: "profiling [{bar}] {value}/{total} batches | {point}", hideCursor: true }, cliProgress.Presets.shades_classic);
    bar.start(total, done, { point });
  };
  if (active) start();
  return {
    update(batches: number, last: string) {
      done = batches;
      point = last;
      bar?.update(done, { point });
    },
    interrupt(line: string) {
      const running = bar !== undefined;
      bar?.stop();
      bar = undefined;
      process.stderr.write(line + "\n");
      if (running) start();
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
