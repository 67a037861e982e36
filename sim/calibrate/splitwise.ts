import { z } from "zod";
import { gpuNames, normaliseGpuName } from "../../src/model/gpus.ts";
import { modelNames, normaliseModelName } from "../../src/model/models.ts";
import { checkColumns, numberCell, optionalNumberCell, parseCsvTable, parseRow, rowObject, textCell } from "../../traces/csv-table.ts";
import type { ExcludedRow, Measurement } from "./measurements.ts";

/** Splitwise's profiling data (the Splitwise simulator's `data/perf_model.csv`): static batches of
 *  `batch_size` identical requests of `prompt_size` prompt tokens and `token_size` output tokens;
 *  `prompt_time` is the batch's prompt phase (TTFT), `token_time` the time per output token after
 *  it, `e2e_time` the whole batch — all in milliseconds. Power columns are ignored. */
export const SPLITWISE_REQUIRED_COLUMNS = ["model", "hardware", "tensor_parallel", "prompt_size", "batch_size", "token_size", "prompt_time", "token_time", "e2e_time"] as const;
export const SPLITWISE_COLUMNS = [...SPLITWISE_REQUIRED_COLUMNS, "peak_power", "average_power"] as const;

const ms = () => numberCell({ min: 0, exclusive: true });

export const splitwiseRowSchema = z.object({
  model: textCell(),
  hardware: textCell(),
  tensor_parallel: numberCell({ integer: true, min: 1 }),
  prompt_size: numberCell({ integer: true, min: 1 }),
  batch_size: numberCell({ integer: true, min: 1 }),
  token_size: numberCell({ integer: true, min: 1 }),
  prompt_time: ms(),
  token_time: ms(),
  e2e_time: ms(),
  peak_power: optionalNumberCell({ min: 0 }),
  average_power: optionalNumberCell({ min: 0 }),
});

export type SplitwiseRow = z.output<typeof splitwiseRowSchema> & { line: number };

/** True when a CSV header looks like Splitwise's (for format detection). */
export function isSplitwiseHeader(header: readonly string[]): boolean {
  return header.includes("prompt_time") && header.includes("token_time") && header.includes("prompt_size");
}

export function parseSplitwiseCsv(text: string, file: string): SplitwiseRow[] {
  const table = parseCsvTable(text, file);
  checkColumns(table, SPLITWISE_REQUIRED_COLUMNS, SPLITWISE_COLUMNS);
  return table.rows.map((row) => ({ ...parseRow(splitwiseRowSchema, rowObject(table, row), file, row.line), line: row.line }));
}

/** A preset's canonical name when the name resolves to one (`llama2-70b` → `llama-2-70b`), else
 *  the name as written (`h100-80gb-pcap`, a power-capped H100, is not a preset). */
export function canonicalName(name: string, kind: "model" | "gpu"): string {
  const key = kind === "model" ? normaliseModelName(name) : normaliseGpuName(name);
  return (kind === "model" ? modelNames() : gpuNames()).includes(key) ? key : name;
}

export interface SplitwiseOptions {
  /** Relative tolerance of the consistency check e2e ≈ prompt + token × (token_size − 1). Default 0.02. */
  tolerance?: number;
}

export interface SplitwiseMeasurements {
  measurements: Measurement[];
  excluded: (ExcludedRow & { model: string; gpu: string; tensor_parallel: number })[];
  /** Sources of rows whose output length was inferred (shorter than token_size). */
  adjusted: Set<string>;
}

/** Turns Splitwise rows into static-batch measurements.
 *
 *  The calibration engine runs each batch with a token budget of at least the batch's prompt tokens,
 *  so its prompt phase is one prefill step of batch_size × prompt_size tokens, as in Splitwise's own
 *  simulator (which times a prompt batch as one iteration of that many tokens), followed by decode
 *  steps whose context grows from prompt_size + 1.
 *
 *  Each row is checked against e2e_time ≈ prompt_time + token_time × (token_size − 1):
 *  - within `tolerance`: used as is;
 *  - e2e shorter: generation stopped before token_size tokens (end of sequence; many long-output
 *    rows end after a few hundred tokens). The row is used with the output length its own times
 *    imply, round(1 + (e2e − prompt) / token), which is what its token_time averages over;
 *  - e2e longer: the batch did not run as one static batch (too little KV memory: it was split or
 *    preempted, so prompt_time and token_time describe something else). Excluded, with the reason. */
export function splitwiseMeasurements(rows: readonly SplitwiseRow[], file: string, options: SplitwiseOptions = {}): SplitwiseMeasurements {
  const tolerance = options.tolerance ?? 0.02;
  const measurements: Measurement[] = [];
  const excluded: SplitwiseMeasurements["excluded"] = [];
  const adjusted = new Set<string>();
  for (const row of rows) {
    const source = `${file}:${row.line}`;
    const model = canonicalName(row.model, "model");
    const gpu = canonicalName(row.hardware, "gpu");
    const tensor_parallel = row.tensor_parallel;
    const p = row.prompt_size;
    const b = row.batch_size;
    const pt = row.prompt_time / 1000;
    const tt = row.token_time / 1000;
    const e2e = row.e2e_time / 1000;
    let n = row.token_size;
    const expected = pt + tt * (n - 1);
    const ratio = e2e / expected;
    if (ratio > 1 + tolerance) {
      excluded.push({
        source,
        model,
        gpu,
        tensor_parallel,
        reason: `e2e_time is ${ratio.toFixed(2)}× prompt_time + token_time × (token_size − 1): the batch did not run as one static batch`,
      });
      continue;
    }
    if (ratio < 1 - tolerance) {
      n = Math.max(1, Math.min(n, Math.round(1 + (e2e - pt) / tt)));
      adjusted.add(source);
    }
    measurements.push({
      source,
      model,
      gpu,
      tensor_parallel,
      config: `p${p} b${b} n${row.token_size}`,
      batch: {
        requests: Array.from({ length: b }, () => ({ prompt_tokens: p, output_tokens: n })),
        max_num_batched_tokens: Math.max(b * p, b),
        max_num_seqs: b,
      },
      subject: "batch",
      ttft_s: pt,
      tpot_s: n >= 2 ? tt : undefined,
      e2e_s: e2e,
    });
  }
  return { measurements, excluded, adjusted };
}
