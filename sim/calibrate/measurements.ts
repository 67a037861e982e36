import type { StaticBatch } from "./static-batch.ts";

/** The three times a profiling run measures per request (or per batch). */
export type Quantity = "ttft" | "tpot" | "e2e";
export const QUANTITIES: readonly Quantity[] = ["ttft", "tpot", "e2e"];

/** One measured row of a profile, reduced to what calibration needs: which static batch ran, whose
 *  times were measured, and the times (seconds). Readers of every profile format produce these. */
export interface Measurement {
  /** "file:line" of the row. */
  source: string;
  model: string;
  gpu: string;
  tensor_parallel: number;
  /** The configuration the row measured; repeats share it, and cross-validation never splits it. */
  config: string;
  batch: StaticBatch;
  /** The request (index into `batch.requests`) the times describe, or `batch`: the batch's prompt
   *  phase (its last first token), the mean TPOT of its requests and its last finish. */
  subject: number | "batch";
  ttft_s: number;
  /** Undefined when the request produced a single token. */
  tpot_s: number | undefined;
  e2e_s: number;
}

/** A row the reader kept out of the fit, and why. */
export interface ExcludedRow {
  source: string;
  reason: string;
}

/** Rows of one (model, gpu, tensor_parallel) — one latency model is fitted per group. */
export interface ProfileGroup {
  model: string;
  gpu: string;
  tensor_parallel: number;
  measurements: Measurement[];
  excluded: ExcludedRow[];
  /** Rows used with an output length other than the profile's nominal one (see the reader). */
  adjusted: number;
  /** Rows the file holds for this group, used or not. */
  rows: number;
}

export function groupKey(m: { model: string; gpu: string; tensor_parallel: number }): string {
  return `${m.model}|${m.gpu}|${m.tensor_parallel}`;
}

/** Groups measurements and exclusions by (model, gpu, tensor_parallel), in order of first appearance. */
export function groupMeasurements(
  measurements: readonly Measurement[],
  excluded: readonly (ExcludedRow & { model: string; gpu: string; tensor_parallel: number })[] = [],
  adjusted: ReadonlySet<string> = new Set(),
): ProfileGroup[] {
  const groups = new Map<string, ProfileGroup>();
  const get = (m: { model: string; gpu: string; tensor_parallel: number }) => {
    const key = groupKey(m);
    let g = groups.get(key);
    if (!g) {
      g = { model: m.model, gpu: m.gpu, tensor_parallel: m.tensor_parallel, measurements: [], excluded: [], adjusted: 0, rows: 0 };
      groups.set(key, g);
    }
    return g;
  };
  for (const m of measurements) {
    const g = get(m);
    g.measurements.push(m);
    g.rows++;
    if (adjusted.has(m.source)) g.adjusted++;
  }
  for (const e of excluded) {
    const g = get(e);
    g.excluded.push({ source: e.source, reason: e.reason });
    g.rows++;
  }
  return [...groups.values()];
}
