import { inputError } from "../../src/core/errors.ts";
import type { ExcludedRow, Measurement } from "./measurements.ts";
import { canonicalName } from "./splitwise.ts";
import type { ProfileRowAt } from "../../traces/profile-csv.ts";

export interface ProfileMeasurements {
  measurements: Measurement[];
  excluded: (ExcludedRow & { model: string; gpu: string; tensor_parallel: number })[];
}

/** Groups profile rows into their static batches and turns each row into a measurement of its own
 *  request. A batch must be complete and consistent (one row per request_index, the same model,
 *  gpu, tensor_parallel, batch_size and engine settings); rows that hit the prefix cache or were
 *  preempted are kept out of the fit (the calibration engine runs unique prompts without
 *  preemption), with their whole batch, and counted as excluded. */
export function profileMeasurements(rows: readonly ProfileRowAt[], file: string): ProfileMeasurements {
  const batches = new Map<string, ProfileRowAt[]>();
  for (const r of rows) {
    const list = batches.get(r.row.batch_id);
    if (list) list.push(r);
    else batches.set(r.row.batch_id, [r]);
  }
  const measurements: Measurement[] = [];
  const excluded: ProfileMeasurements["excluded"] = [];
  for (const [id, list] of batches) {
    const first = list[0].row;
    for (const r of list) {
      for (const column of ["model", "gpu", "tensor_parallel", "batch_size", "max_num_batched_tokens", "max_num_seqs"] as const) {
        if (r.row[column] !== first[column]) {
          throw inputError(
            `${file}:${r.line}`,
            `column "${column}": batch "${id}" has ${JSON.stringify(first[column] ?? "")} on line ${list[0].line} but ${JSON.stringify(r.row[column] ?? "")} here; expected one value per batch`,
          );
        }
      }
    }
    const byIndex = new Array<ProfileRowAt | undefined>(first.batch_size);
    for (const r of list) {
      const other = byIndex[r.row.request_index];
      if (other) throw inputError(`${file}:${r.line}`, `column "request_index": batch "${id}" has request ${r.row.request_index} on line ${other.line} too`);
      byIndex[r.row.request_index] = r;
    }
    // biome-ignore lint/complexity/useIndexOf: byIndex is sparse; indexOf skips holes, findIndex visits them.
    const missing = byIndex.findIndex((r) => r === undefined);
    if (missing >= 0) {
      throw inputError(`${file}:${list[0].line}`, `batch "${id}": batch_size ${first.batch_size} but no row for request_index ${missing}; expected one row per request`);
    }
    const ordered = byIndex as ProfileRowAt[];
    const model = canonicalName(first.model, "model");
    const gpu = canonicalName(first.gpu, "gpu");
    const tensor_parallel = first.tensor_parallel;
    const spoiled = ordered.find((r) => (r.row.cached_tokens ?? 0) > 0 || (r.row.preemptions ?? 0) > 0);
    if (spoiled) {
      const reason =
        (spoiled.row.cached_tokens ?? 0) > 0
          ? `batch "${id}": request ${spoiled.row.request_index} (line ${spoiled.line}) hit the prefix cache; calibration batches need unique prompts`
          : `batch "${id}": request ${spoiled.row.request_index} (line ${spoiled.line}) was preempted; the batch did not run as one static batch`;
      for (const r of ordered) excluded.push({ source: `${file}:${r.line}`, model, gpu, tensor_parallel, reason });
      continue;
    }
    const requests = ordered.map((r) => ({ prompt_tokens: r.row.prompt_tokens, output_tokens: r.row.output_tokens }));
    const promptTokens = requests.reduce((s, r) => s + r.prompt_tokens, 0);
    const batch = {
      requests,
      max_num_batched_tokens: first.max_num_batched_tokens ?? Math.max(promptTokens, requests.length),
      max_num_seqs: first.max_num_seqs ?? first.batch_size,
    };
    const config = `budget ${first.max_num_batched_tokens ?? "-"} seqs ${first.max_num_seqs ?? "-"}: ${requests.map((r) => `${r.prompt_tokens}x${r.output_tokens}`).join(",")}`;
    for (const r of ordered) {
      measurements.push({
        source: `${file}:${r.line}`,
        model,
        gpu,
        tensor_parallel,
        config,
        batch,
        subject: r.row.request_index,
        ttft_s: r.row.ttft_s,
        tpot_s: r.row.output_tokens >= 2 ? (r.row.e2e_s - r.row.ttft_s) / (r.row.output_tokens - 1) : undefined,
        e2e_s: r.row.e2e_s,
      });
    }
  }
  return { measurements, excluded };
}
