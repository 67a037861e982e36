import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InputError } from "../../src/core/errors.ts";

/** A profiling sweep's grid: every combination of prompt length × batch size × output length
 *  (`repeats` times each), plus any explicit points. Pure data; no I/O here. */
export interface ProfileGrid {
  prompts: number[];
  batch_sizes: number[];
  outputs: number[];
  /** Extra points outside the product (e.g. a long prompt only at small batch sizes). */
  points: GridPoint[];
  /** Each point is measured this many times, each time as its own static batch. */
  repeats: number;
}

export interface GridPoint {
  prompt: number;
  batch_size: number;
  output: number;
}

/** One static batch of the sweep: `batch_size` requests of `prompt_tokens` each generating
 *  `output_tokens`. `batch_id` is unique in the sweep (it names the batch in the profile CSV). */
export interface SweepPoint {
  /** 0-based position in the sweep. */
  index: number;
  batch_id: string;
  prompt_tokens: number;
  batch_size: number;
  output_tokens: number;
  /** 1-based: the n-th batch with this (prompt, batch size, output). */
  repeat: number;
}

/** The default sweep (docs/calibration.md "Profiling"): 4 prompt lengths × 4 batch sizes × 2
 *  output lengths = 32 static batches. */
export const DEFAULT_GRID: ProfileGrid = {
  prompts: [128, 512, 1024, 2048],
  batch_sizes: [1, 4, 16, 32],
  outputs: [32, 128],
  points: [],
  repeats: 1,
};

/** Parses a flag's list: comma-separated integers ≥ 1, no duplicates ("128,512,1024"). */
export function parseCountList(text: string, flag: string): number[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length === 0 || parts.every((p) => p === "")) throw new InputError(`${flag}: empty list; expected comma-separated integers ≥ 1, e.g. 128,512`);
  const out: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(n) || n < 1) {
      throw new InputError(`${flag}: ${JSON.stringify(p)} is not an integer ≥ 1; expected comma-separated integers ≥ 1, e.g. 128,512`);
    }
    if (out.includes(n)) throw new InputError(`${flag}: ${n} appears twice; expected each value once`);
    out.push(n);
  }
  return out;
}

const count = z.number().int().min(1);
const list = z
  .array(count)
  .min(1)
  .refine((v) => new Set(v).size === v.length, { message: "expected each value once" });

/** A grid file (YAML or JSON); every field optional: what it leaves out comes from the flags or
 *  the defaults. `batch-sizes` and `batch_sizes` are both accepted (as are prompt/output singular). */
const gridFileSchema = z.strictObject({
  prompts: list.optional(),
  batch_sizes: list.optional(),
  outputs: list.optional(),
  repeats: count.optional(),
  points: z.array(z.strictObject({ prompt: count, batch_size: count, output: count })).optional(),
});

export type GridFile = z.output<typeof gridFileSchema>;

const ALIASES: Record<string, string> = {
  "batch-sizes": "batch_sizes",
  batch: "batch_sizes",
  batches: "batch_sizes",
  prompt: "prompts",
  output: "outputs",
};

/** Parses a grid file's text (YAML, of which JSON is a subset). Errors name the file and field. */
export function parseGridFile(text: string, file: string): GridFile {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new InputError(`${file}: not YAML or JSON (${(error as Error).message.split("\n")[0]})`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new InputError(`${file}: expected a mapping with prompts, batch_sizes, outputs, repeats and/or points`);
  }
  const renamed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) renamed[ALIASES[k] ?? k] = v;
  const parsed = gridFileSchema.safeParse(renamed);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join(".") || "(top level)";
    const unknown = issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}; expected prompts, batch_sizes, outputs, repeats, points` : issue.message;
    throw new InputError(`${file}: ${field}: ${unknown}`);
  }
  return parsed.data;
}

/** Flags win over the file, the file over the defaults. Explicit points come only from a file. */
export function resolveGrid(flags: Partial<Pick<ProfileGrid, "prompts" | "batch_sizes" | "outputs" | "repeats">>, file?: GridFile): ProfileGrid {
  const fromFile = file ?? {};
  // A file listing only explicit points does not also get the default product.
  const onlyPoints = file?.points !== undefined && file.prompts === undefined && file.batch_sizes === undefined && file.outputs === undefined;
  const anyFlagList = flags.prompts !== undefined || flags.batch_sizes !== undefined || flags.outputs !== undefined;
  const product = !onlyPoints || anyFlagList;
  return {
    prompts: product ? (flags.prompts ?? fromFile.prompts ?? DEFAULT_GRID.prompts) : [],
    batch_sizes: product ? (flags.batch_sizes ?? fromFile.batch_sizes ?? DEFAULT_GRID.batch_sizes) : [],
    outputs: product ? (flags.outputs ?? fromFile.outputs ?? DEFAULT_GRID.outputs) : [],
    points: fromFile.points ?? [],
    repeats: flags.repeats ?? fromFile.repeats ?? DEFAULT_GRID.repeats,
  };
}

/** The sweep's static batches in the order they run: for each prompt length, batch size and
 *  output length (in the order given) `repeats` batches, then the explicit points. */
export function expandGrid(grid: ProfileGrid): SweepPoint[] {
  const configs: GridPoint[] = [];
  for (const prompt of grid.prompts) {
    for (const batch_size of grid.batch_sizes) {
      for (const output of grid.outputs) configs.push({ prompt, batch_size, output });
    }
  }
  configs.push(...grid.points);
  const seen = new Map<string, number>();
  const out: SweepPoint[] = [];
  for (const c of configs) {
    for (let r = 0; r < grid.repeats; r++) {
      const key = `p${c.prompt}-b${c.batch_size}-o${c.output}`;
      const repeat = (seen.get(key) ?? 0) + 1;
      seen.set(key, repeat);
      out.push({ index: out.length, batch_id: `${key}-r${repeat}`, prompt_tokens: c.prompt, batch_size: c.batch_size, output_tokens: c.output, repeat });
    }
  }
  return out;
}

/** What the server allows, as far as it is known. */
export interface ServerLimits {
  max_model_len?: number;
  max_num_seqs?: number;
}

/** Refuses a sweep the server cannot run as static batches: a request longer than max_model_len
 *  (vLLM would answer 400), or a batch larger than max_num_seqs (it would not run as one batch). */
export function checkSweep(points: readonly SweepPoint[], limits: ServerLimits): void {
  if (points.length === 0) throw new InputError("the sweep grid is empty; expected at least one prompt length, batch size and output length");
  for (const p of points) {
    if (limits.max_model_len !== undefined && p.prompt_tokens + p.output_tokens > limits.max_model_len) {
      throw new InputError(
        `sweep point ${p.batch_id}: prompt ${p.prompt_tokens} + output ${p.output_tokens} tokens exceed the server's max_model_len ${limits.max_model_len}; shorten --prompts or --outputs`,
      );
    }
    if (limits.max_num_seqs !== undefined && p.batch_size > limits.max_num_seqs) {
      throw new InputError(`sweep point ${p.batch_id}: batch size ${p.batch_size} exceeds --max-num-seqs ${limits.max_num_seqs}; the requests would not run as one batch`);
    }
  }
}

/** Total requests the sweep sends (without the warm-up and the gate requests). */
export function sweepRequests(points: readonly SweepPoint[]): number {
  return points.reduce((s, p) => s + p.batch_size, 0);
}
