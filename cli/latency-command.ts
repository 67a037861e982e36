import { Command } from "commander";
import { resolveModel } from "../run/model-file.ts";
import { InputError } from "../src/core/errors.ts";
import { addDecode, addPrefillChunk, emptyBatchShape, type BatchShape, type LatencyModel } from "../src/model/latency-model.ts";
import { RooflineLatencyModel } from "../src/model/roofline.ts";
import { StepLatencyModel, type StepBreakdown } from "../src/model/step-model.ts";
import { stepModel } from "../src/model/step-presets.ts";
import { loadLatencyModelFile } from "../run/latency-file.ts";
import { commandDescription } from "./command-list.ts";
import { positiveInteger, runAction } from "./errors.ts";

interface LatencyFlags {
  model?: string;
  gpu?: string;
  tp: number;
  latency?: string;
  prefillTokens?: string;
  decodeSeqs?: string;
  context?: string;
  json?: boolean;
  grid?: boolean;
}

export function latencyCommand(): Command {
  return new Command("latency")
    .description(commandDescription("latency"))
    .option("--model <name>", "model preset (tandem presets lists them), or a Hugging Face config.json (or a folder holding one)")
    .option("--gpu <name>", "GPU preset")
    .option("--tp <n>", "tensor-parallel GPUs", positiveInteger, 1)
    .option("--latency <file>", "a tandem.latency/v1 file instead of the shipped step-time preset")
    .option("--prefill-tokens <P>", "one prompt of P tokens prefilled in the step (with --grid: a comma list)")
    .option("--decode-seqs <B>", "B sequences decoding one token each (with --grid: a comma list)")
    .option("--context <C>", "tokens in each decoding sequence's KV (with --grid: a comma list)")
    .option("--json", 'print {"step_s", "breakdown": {gemm_s, attention_s, communication_s, overhead_s}}')
    .option("--grid", "print a CSV: one prefill step per P, one decode step per (B, C)")
    .action((flags: LatencyFlags) => runAction(() => runLatency(flags)));
}

function counts(flag: string, value: string | undefined, list: boolean): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(",");
  if (parts.length > 1 && !list) throw new InputError(`--${flag} ${value}: a list needs --grid; expected one integer ≥ 1`);
  return parts.map((p) => {
    const n = Number(p.trim());
    if (!/^\d+$/.test(p.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InputError(`--${flag} ${value}: expected ${list ? "integers" : "an integer"} ≥ 1`);
    return n;
  });
}

/** The four parts the CLI prints, for any model that can say where its time goes. */
function breakdownOf(latency: LatencyModel, batch: BatchShape): StepBreakdown {
  if (latency instanceof StepLatencyModel) return latency.breakdown(batch);
  if (latency instanceof RooflineLatencyModel) {
    const b = latency.breakdown(batch);
    return {
      gemm_s: Math.max(b.linear_compute_s, b.linear_memory_s),
      attention_s: Math.max(b.attention_compute_s, b.attention_memory_s),
      communication_s: b.allreduce_s,
      overhead_s: b.overhead_s,
      step_s: b.total_s,
    };
  }
  throw new InputError(`--latency: a "${latency.info.kind}" model has no breakdown; expected a "step" or "roofline" model`);
}

async function loadModel(flags: LatencyFlags): Promise<LatencyModel> {
  if (flags.latency) {
    if (flags.model || flags.gpu) throw new InputError("--latency names the model and GPU itself; drop --model and --gpu");
    return loadLatencyModelFile(flags.latency);
  }
  if (!flags.model) throw new InputError("--model: required (a preset name, or a config.json path or folder; tandem presets lists the presets)");
  if (!flags.gpu) throw new InputError("--gpu: required (a preset name; tandem presets lists them)");
  const { spec } = await resolveModel(flags.model, process.cwd(), "--model");
  return stepModel(spec, flags.gpu, flags.tp);
}

function shape(prefill: number, decode_seqs: number, context: number): BatchShape {
  const batch = emptyBatchShape();
  if (prefill > 0) addPrefillChunk(batch, prefill, 0);
  for (let i = 0; i < decode_seqs; i++) addDecode(batch, context);
  return batch;
}

async function runLatency(flags: LatencyFlags): Promise<void> {
  const grid = flags.grid === true;
  const prefill = counts("prefill-tokens", flags.prefillTokens, grid);
  const decode = counts("decode-seqs", flags.decodeSeqs, grid);
  const context = counts("context", flags.context, grid);
  if ((decode === undefined) !== (context === undefined)) throw new InputError("--decode-seqs and --context go together; give both");
  if (prefill === undefined && decode === undefined) throw new InputError("expected --prefill-tokens P, or --decode-seqs B with --context C");
  if (grid && flags.json) throw new InputError("--grid prints CSV; drop --json");
  const latency = await loadModel(flags);
  if (grid) {
    const lines = ["prefill_tokens,decode_seqs,context,step_s,gemm_s,attention_s,communication_s,overhead_s"];
    const row = (p: number, b: number, c: number) => {
      const x = breakdownOf(latency, shape(p, b, c));
      lines.push([p, b, c, x.step_s, x.gemm_s, x.attention_s, x.communication_s, x.overhead_s].join(","));
    };
    for (const p of prefill ?? []) row(p, 0, 0);
    for (const b of decode ?? []) for (const c of context!) row(0, b, c);
    process.stdout.write(lines.join("\n") + "\n");
    return;
  }
  const x = breakdownOf(latency, shape(prefill?.[0] ?? 0, decode?.[0] ?? 0, context?.[0] ?? 0));
  if (flags.json) {
    const out = { step_s: x.step_s, breakdown: { gemm_s: x.gemm_s, attention_s: x.attention_s, communication_s: x.communication_s, overhead_s: x.overhead_s } };
    process.stdout.write(JSON.stringify(out) + "\n");
    return;
  }
  const info = latency.info;
  const ms = (s: number) => `${(s * 1e3).toFixed(3)} ms`;
  const lines = [
    `${info.model} on ${info.gpu} × TP${info.tensor_parallel} (${info.kind} model${info.kind === "step" ? `; ${info.fitted_on}` : ""})`,
    `step           ${ms(x.step_s)}`,
    `  gemm         ${ms(x.gemm_s)}`,
    `  attention    ${ms(x.attention_s)}`,
    `  all-reduce   ${ms(x.communication_s)}`,
    `  overhead     ${ms(x.overhead_s)}`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
}
