import { InputError } from "../../src/core/errors.ts";
import type { ProfileRow } from "../../traces/profile-csv.ts";
import type { SweepPoint } from "./grid.ts";

/** What the sweep measured for one request of a static batch. Times are model seconds on the
 *  sweep's clock (any origin); `BatchMeasurement.start_s` is the batch's time zero. */
export interface RequestMeasurement {
  prompt_tokens: number;
  /** Tokens generated (usage.completion_tokens, else the tokens streamed). */
  output_tokens: number;
  /** Prompt tokens the server served from its prefix cache; undefined when it does not say. */
  cached_tokens: number | undefined;
  first_token_s: number;
  /** Arrival of the chunk carrying the last token. */
  last_token_s: number;
}

/** Server state scraped from /metrics just before the batch. */
export interface ServerState {
  running: number;
  waiting: number;
  kv_usage: number;
}

export interface BatchMeasurement {
  point: SweepPoint;
  /** The batch's time zero: when the server began on it (the gate request's completion), or when
   *  the first request was sent (no gate). */
  start_s: number;
  /** In submission order (request_index). */
  requests: RequestMeasurement[];
  server: ServerState | undefined;
  /** Wall-clock time the batch was sent (ISO 8601). */
  started_at: string;
  /** Preemptions the server counted while the batch ran (its counter's increase); undefined when
   *  unknown. The server does not say which request was preempted. */
  preemptions: number | undefined;
}

/** What every row of the sweep shares. */
export interface RowContext {
  model: string;
  gpu: string;
  tensor_parallel: number;
  max_num_batched_tokens?: number;
  max_num_seqs?: number;
  engine_version?: string;
}

/** Significant digits kept for times (nanoseconds on a second). */
const round = (v: number): number => Number(v.toPrecision(9));

/** One profile-CSV row per request of the batch (docs/calibration.md "tandem's profile CSV"):
 *  ttft = first token − start, e2e = last token − start, tpot = (e2e − ttft) / (output − 1).
 *  Preemptions the server counted during the batch are written on every row (the server does not
 *  say which request they hit; any > 0 keeps the batch out of a fit). */
export function batchRows(batch: BatchMeasurement, ctx: RowContext): ProfileRow[] {
  const n = batch.requests.length;
  if (n !== batch.point.batch_size) throw new Error(`invariant violated: batch ${batch.point.batch_id} has ${n} measurements for ${batch.point.batch_size} requests`);
  return batch.requests.map((r, i) => {
    const ttft = round(r.first_token_s - batch.start_s);
    const e2e = round(Math.max(r.last_token_s - batch.start_s, ttft));
    if (!(ttft > 0)) throw new InputError(`batch ${batch.point.batch_id}: request ${i} got its first token ${ttft} s after the batch started; expected a time > 0`);
    if (r.output_tokens >= 2 && !(e2e > ttft)) {
      throw new InputError(`batch ${batch.point.batch_id}: request ${i}'s ${r.output_tokens} tokens all arrived at once; expected the server to stream them as they are generated`);
    }
    const row: ProfileRow = {
      model: ctx.model,
      gpu: ctx.gpu,
      tensor_parallel: ctx.tensor_parallel,
      batch_id: batch.point.batch_id,
      batch_size: n,
      request_index: i,
      prompt_tokens: r.prompt_tokens,
      output_tokens: r.output_tokens,
      ttft_s: ttft,
      tpot_s: r.output_tokens >= 2 ? round((e2e - ttft) / (r.output_tokens - 1)) : undefined,
      e2e_s: e2e,
      max_num_batched_tokens: ctx.max_num_batched_tokens,
      max_num_seqs: ctx.max_num_seqs,
      cached_tokens: r.cached_tokens,
      preemptions: batch.preemptions,
      server_running: batch.server?.running,
      server_waiting: batch.server?.waiting,
      server_kv_usage: batch.server === undefined ? undefined : round(Math.min(1, Math.max(0, batch.server.kv_usage))),
      started_at: batch.started_at,
      engine_version: ctx.engine_version,
    };
    return row;
  });
}
