import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { inputError } from "../../src/core/errors.ts";
import { parseCsvTable, rowObject } from "../../traces/csv-table.ts";

/** Vidur's kernel profiles (README of ../shared/data): per-layer op times by token count and TP,
 *  attention kernels, CPU overheads and all-reduce timings. Times are read as medians, in seconds. */

/** The model shape columns every mlp.csv row carries. */
export interface VidurShape {
  heads: number;
  kv_heads: number;
  hidden: number;
  intermediate: number;
  vocab: number;
  gated: boolean;
}

export interface VidurLinearRow {
  source: string;
  /** The directory under compute/ (a100, a40). */
  gpu_dir: string;
  model: string;
  shape: VidurShape;
  tokens: number;
  tensor_parallel: number;
  /** The four GEMMs of a layer: fused QKV, output projection, (gate+)up, down. */
  qkv_s: number;
  out_s: number;
  up_s: number;
  down_s: number;
  /** Activation, both norms, residual add and rotary together. */
  elementwise_s: number;
}

export interface VidurAttentionRow {
  source: string;
  prefill: boolean;
  batch_size: number;
  /** Prefill: the chunk's new tokens; decode: 0. */
  chunk: number;
  /** Tokens already in KV per sequence. */
  kv_tokens: number;
  tensor_parallel: number;
  q_heads: number;
  kv_heads: number;
  hidden: number;
  time_s: number;
}

export interface VidurCpuRow {
  source: string;
  model: string;
  batch_size: number;
  tensor_parallel: number;
  /** schedule + prepare_inputs + sampler + process_model_outputs medians. */
  cpu_s: number;
}

export interface VidurAllReduceRow {
  source: string;
  topology: string;
  gpus: number;
  bytes: number;
  time_s: number;
}

export interface VidurProfiles {
  linear: VidurLinearRow[];
  attention: VidurAttentionRow[];
  cpu: VidurCpuRow[];
  allreduce: VidurAllReduceRow[];
}

const MS = 1e-3;

function readTable(file: string): Record<string, string>[] {
  const table = parseCsvTable(readFileSync(file, "utf8"), file);
  return table.rows.map((row) => rowObject(table, row));
}

function num(row: Record<string, string>, column: string, file: string): number {
  const v = Number(row[column]);
  if (row[column] === undefined || row[column] === "" || !Number.isFinite(v)) throw inputError(file, `column ${column}: expected a number, got ${JSON.stringify(row[column])}`);
  return v;
}

function median(row: Record<string, string>, op: string, file: string): number {
  return num(row, `time_stats.${op}.median`, file) * MS;
}

function findFiles(dir: string, name: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...findFiles(path, name));
    else if (entry === name) out.push(path);
  }
  return out;
}

/** Every Vidur profile under `profiles/vidur` (empty lists where a file is absent). */
export function readVidurProfiles(profiles_dir: string): VidurProfiles {
  const root = join(profiles_dir, "vidur");
  const linear: VidurLinearRow[] = [];
  for (const file of findFiles(join(root, "compute"), "mlp.csv")) {
    const rel = relative(join(root, "compute"), file).split(/[\\/]/);
    const gpu_dir = rel[0];
    const model = rel.slice(1, -1).join("/");
    for (const [i, r] of readTable(file).entries()) {
      const source = `${file}:${i + 2}`;
      linear.push({
        source,
        gpu_dir,
        model,
        shape: {
          heads: num(r, "n_head", file),
          kv_heads: num(r, "n_kv_head", file),
          hidden: num(r, "n_embd", file),
          intermediate: num(r, "n_expanded_embd", file),
          vocab: num(r, "vocab_size", file),
          gated: r.use_gated_mlp === "True",
        },
        tokens: num(r, "num_tokens", file),
        tensor_parallel: num(r, "num_tensor_parallel_workers", file),
        qkv_s: median(r, "attn_pre_proj", file),
        out_s: median(r, "attn_post_proj", file),
        up_s: median(r, "mlp_up_proj", file),
        down_s: median(r, "mlp_down_proj", file),
        elementwise_s: ["mlp_act", "input_layernorm", "post_attention_layernorm", "add", "attn_rope"]
          .map((op) => (r[`time_stats.${op}.median`] ? median(r, op, file) : 0))
          .reduce((a, b) => a + b, 0),
      });
    }
  }
  const attention: VidurAttentionRow[] = [];
  const attention_files = existsSync(join(root, "compute")) ? findAttentionFiles(join(root, "compute")) : [];
  for (const file of attention_files) {
    for (const [i, r] of readTable(file).entries()) {
      const prefill = r.is_prefill === "True";
      attention.push({
        source: `${file}:${i + 2}`,
        prefill,
        batch_size: num(r, "batch_size", file),
        chunk: prefill ? num(r, "prefill_chunk_size", file) : 0,
        kv_tokens: num(r, "kv_cache_size", file),
        tensor_parallel: num(r, "num_tensor_parallel_workers", file),
        q_heads: num(r, "n_q_head", file),
        kv_heads: num(r, "n_kv_head", file),
        hidden: num(r, "n_embd", file),
        time_s: median(r, prefill ? "attn_prefill" : "attn_decode", file),
      });
    }
  }
  const cpu: VidurCpuRow[] = [];
  for (const file of findFiles(join(root, "compute"), "cpu_overheads.csv")) {
    for (const [i, r] of readTable(file).entries()) {
      cpu.push({
        source: `${file}:${i + 2}`,
        model: r.model_name,
        batch_size: num(r, "batch_size", file),
        tensor_parallel: num(r, "tensor_parallel_degree", file),
        cpu_s: ["schedule", "prepare_inputs_e2e", "sampler_e2e", "process_model_outputs"].map((op) => num(r, `${op}_median`, file) * MS).reduce((a, b) => a + b, 0),
      });
    }
  }
  const allreduce: VidurAllReduceRow[] = [];
  for (const file of findFiles(join(root, "network"), "all_reduce.csv")) {
    const topology = relative(join(root, "network"), file).split(/[\\/]/)[0];
    for (const [i, r] of readTable(file).entries()) {
      const gpus = num(r, "num_workers", file);
      // Within one node only: tensor parallelism never spans nodes.
      if (num(r, "devices_per_node", file) !== gpus) continue;
      allreduce.push({ source: `${file}:${i + 2}`, topology, gpus, bytes: num(r, "size", file), time_s: median(r, "all_reduce", file) });
    }
  }
  return { linear, attention, cpu, allreduce };
}

function findAttentionFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...findAttentionFiles(path));
    else if (/^attention.*\.csv$/.test(entry)) out.push(path);
  }
  return out;
}
