import { join } from "node:path";
import { InputError } from "../../src/core/errors.ts";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import type { ConfiguredInstance } from "../../src/model/instance.ts";
import type { StepInfo } from "../../src/model/latency-info.ts";
import { StepLatencyModel, type StepCoefficients } from "../../src/model/step-model.ts";
import { stepModel } from "../../src/model/step-presets.ts";
import { buildInstances } from "../../run/instances.ts";
import { nelderMead } from "./nelder-mead.ts";
import type { RecordedRun, RunCall } from "./run-record.ts";
import { replayInstance } from "./run-replay.ts";

/** The coefficients `--from-run` scales (each by its own factor on the shipped preset): what a
 *  run's TTFTs and inter-token times can tell apart — weight streaming and GEMM compute, the two
 *  attention kernels, and the CPU's per-step and per-sequence costs. The rest keep their preset. */
export const FROM_RUN_PARAMETERS = [
  "gemm_memory_efficiency",
  "gemm_compute_efficiency",
  "prefill_attention_efficiency",
  "decode_attention_memory_efficiency",
  "step_overhead_s",
  "per_seq_overhead_s",
] as const satisfies readonly (keyof StepCoefficients)[];

const MIN_API_LATENCY_S = 0.001;
const EFFICIENCIES = new Set<string>(["gemm_memory_efficiency", "gemm_compute_efficiency", "prefill_attention_efficiency", "decode_attention_memory_efficiency"]);

export interface FromRunOptions {
  /** Every k-th call (calls.csv order) is held out of the fit and scores it (default 5; 0 = none). */
  holdout_every?: number;
  /** Nelder–Mead iterations per restart (default 300). */
  iterations?: number;
}

/** Errors of one latency model on a set of calls: mean absolute percentage errors (fractions) of
 *  TTFT (first token − dispatch) and TPOT, simulated against measured. */
export interface CallErrors {
  calls: number;
  ttft_mape: number;
  tpot_mape: number;
}

export interface FromRunFit {
  model: string;
  gpu: string;
  tensor_parallel: number;
  /** Instances whose calls were fitted. */
  instances: string[];
  /** The one-way delay between router and engine the fit found (model seconds; per instance,
   *  the measured API latency times one common factor): the API server's own per-request cost
   *  lands here, not in the step time. Use it as the config's `engine.api_latency_s`. */
  api_latency_s: Record<string, number>;
  /** Scale factor of each fitted coefficient over the preset. */
  scales: Record<(typeof FROM_RUN_PARAMETERS)[number], number>;
  coefficients: StepCoefficients;
  /** The preset's and the fit's errors, on the fitted calls and on the held-out ones. */
  errors: { preset: { fit: CallErrors; heldout: CallErrors | null }; fitted: { fit: CallErrors; heldout: CallErrors | null } };
  /** The fitted model as a tandem.latency/v1 document. */
  document: StepInfo;
}

interface Group {
  key: string;
  instances: ConfiguredInstance[];
  base: StepLatencyModel;
}

/** Fits the step-time model to a recorded run, per (model, GPU, TP) group: searches scale factors
 *  of FROM_RUN_PARAMETERS and of the API latency (log space, Nelder–Mead, two restarts) that make the simulator's engine,
 *  replaying each instance's recorded calls (run-replay.ts), reproduce their measured TTFTs and
 *  TPOTs — the loss is the mean squared log ratio of simulated to measured, TTFT (a low quantile, see pinball) and TPOT (the
 *  median) weighted alike — and scores the fit on the held-out calls. */
export async function calibrateFromRun(run: RecordedRun, options: FromRunOptions = {}): Promise<FromRunFit[]> {
  const every = options.holdout_every ?? 5;
  const iterations = options.iterations ?? 300;
  const instances = await buildInstances(withoutLatency(run.cluster), join(run.dir, "report.json"));
  const groups = new Map<string, Group>();
  for (const instance of instances) {
    const s = instance.spec;
    const key = `${s.model}|${s.gpu}|${s.tensor_parallel}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = { key, instances: [], base: stepModel(instance.model_file?.spec ?? s.model, s.gpu, s.tensor_parallel) };
      groups.set(key, g);
    }
    g.instances.push(instance);
  }
  const byInstance = new Map<string, RunCall[]>();
  for (const c of run.calls) {
    if (!instances.some((i) => i.spec.id === c.instance)) throw new InputError(`${run.dir}/calls.csv: call ${c.id} ran on "${c.instance}", which the report's config does not define`);
    const list = byInstance.get(c.instance);
    if (list === undefined) byInstance.set(c.instance, [c]);
    else list.push(c);
  }
  const fits: FromRunFit[] = [];
  for (const g of groups.values()) {
    const served = g.instances.filter((i) => byInstance.has(i.spec.id));
    if (served.length === 0) continue;
    const calls = served.flatMap((i) => byInstance.get(i.spec.id)!);
    const heldOut = (c: RunCall) => every > 0 && c.row % every === every - 1;
    const fitCalls = calls.filter((c) => !heldOut(c));
    const testCalls = calls.filter(heldOut);
    // The measured API latency (half a /health round trip) misses the server's own per-request
    // cost, which adds to every TTFT alike: one more factor scales it (from at least 1 ms).
    const apiLatency = (i: ConfiguredInstance, x: readonly number[]) => Math.max(MIN_API_LATENCY_S, run.api_latency_s.get(i.spec.id) ?? 0) * Math.exp(x[FROM_RUN_PARAMETERS.length]);
    const simulate = (coefficients: StepCoefficients, x: readonly number[]) => {
      const latency = new StepLatencyModel(g.base.model, g.base.gpu, g.base.tensor_parallel, coefficients);
      const times = new Map<string, { first_token_s: number; finished_s: number }>();
      for (const i of served) for (const [id, t] of replayInstance(i, latency, byInstance.get(i.spec.id)!, apiLatency(i, x))) times.set(id, t);
      return times;
    };
    const base = g.base.coefficients;
    const loss = (x: number[]): number => {
      const times = simulate(scaled(base, x), x);
      let sum = 0;
      let n = 0;
      for (const c of fitCalls) {
        const t = times.get(c.id);
        if (t === undefined || !Number.isFinite(t.finished_s)) return 1e6;
        sum += pinball(Math.log(Math.max(1e-9, c.first_token_s - c.dispatched_s) / (t.first_token_s - c.dispatched_s)));
        n++;
        if (c.output_tokens > 1) {
          sum += Math.abs(Math.log((t.finished_s - t.first_token_s) / Math.max(1e-9, c.finished_s - c.first_token_s)));
          n++;
        }
      }
      return sum / Math.max(1, n);
    };
    const start = [...FROM_RUN_PARAMETERS.map(() => 0), 0];
    let best = nelderMead(loss, start, { step: 0.4, iterations });
    best = nelderMead(loss, best.x, { step: 0.15, iterations }); // a restart escapes a collapsed simplex
    const coefficients = scaled(base, best.x);
    const score = (co: StepCoefficients, x: readonly number[]) => {
      const times = simulate(co, x);
      return { fit: callErrors(fitCalls, times), heldout: testCalls.length > 0 ? callErrors(testCalls, times) : null };
    };
    const errors = { preset: score(base, start), fitted: score(coefficients, best.x) };
    const error: Record<string, number> = { from_run_ttft_mape: errors.fitted.fit.ttft_mape, from_run_tpot_mape: errors.fitted.fit.tpot_mape };
    if (errors.fitted.heldout !== null) {
      error.from_run_ttft_mape_heldout = errors.fitted.heldout.ttft_mape;
      error.from_run_tpot_mape_heldout = errors.fitted.heldout.tpot_mape;
    }
    const fitted_on = `tandem calibrate --from-run ${run.dir}: ${calls.length} calls on ${served.map((i) => i.spec.id).join(", ")} (${testCalls.length} held out), scaling the ${g.base.gpu.name} preset`;
    const model = new StepLatencyModel(g.base.model, g.base.gpu, g.base.tensor_parallel, coefficients, { fitted_on, error });
    fits.push({
      model: g.base.model.name,
      gpu: g.base.gpu.name,
      tensor_parallel: g.base.tensor_parallel,
      instances: served.map((i) => i.spec.id),
      api_latency_s: Object.fromEntries(served.map((i) => [i.spec.id, apiLatency(i, best.x)])),
      scales: Object.fromEntries(FROM_RUN_PARAMETERS.map((p, i) => [p, Math.exp(best.x[i])])) as FromRunFit["scales"],
      coefficients,
      errors,
      document: model.info,
    });
  }
  return fits;
}

/** TTFT residuals (log measured / simulated) are skewed: a live host's own delays (a busy event
 *  loop, the client's parsing) only ever make a first token arrive late. A quantile loss at
 *  TTFT_QUANTILE fits the lower envelope — the engine's own time — instead of the mean. */
const TTFT_QUANTILE = 0.25;
function pinball(r: number): number {
  return r >= 0 ? TTFT_QUANTILE * r : (TTFT_QUANTILE - 1) * r;
}

/** The preset with each fitted coefficient scaled by exp(x); efficiencies stay fractions (≤ 1). */
export function scaled(base: StepCoefficients, x: readonly number[]): StepCoefficients {
  const out = { ...base };
  FROM_RUN_PARAMETERS.forEach((p, i) => {
    const v = base[p] * Math.exp(x[i]);
    out[p] = EFFICIENCIES.has(p) ? Math.min(1, v) : v;
  });
  return out;
}

function callErrors(calls: readonly RunCall[], times: Map<string, { first_token_s: number; finished_s: number }>): CallErrors {
  let ttft = 0;
  let tpot = 0;
  let tpots = 0;
  for (const c of calls) {
    const t = times.get(c.id)!;
    const measured = c.first_token_s - c.dispatched_s;
    ttft += Math.abs(t.first_token_s - c.dispatched_s - measured) / measured;
    if (c.output_tokens > 1) {
      const m = (c.finished_s - c.first_token_s) / (c.output_tokens - 1);
      tpot += Math.abs((t.finished_s - t.first_token_s) / (c.output_tokens - 1) - m) / m;
      tpots++;
    }
  }
  return { calls: calls.length, ttft_mape: ttft / Math.max(1, calls.length), tpot_mape: tpot / Math.max(1, tpots) };
}

/** The run's config with its latency models dropped: they are what is being fitted (and a fitted
 *  file they name may not be at hand). */
function withoutLatency(cluster: ClusterConfig): ClusterConfig {
  const { latency: _latency, ...rest } = cluster;
  return { ...rest, instances: cluster.instances.map(({ latency: _l, ...group }) => group) };
}
