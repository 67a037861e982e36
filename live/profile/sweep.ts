import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { InputError } from "../../src/core/errors.ts";
import type { ProfileRow } from "../../traces/profile-csv.ts";
import { CompletionClient, completionBody, COMPLETIONS_PATH, LiveCallError, parseBaseUrl, type PassThroughResponse, type StreamResult } from "../client/index.ts";
import { InstanceHandle, InstanceRequestError, parsePrometheusText, samplesOf } from "../instances/index.ts";
import type { InstanceSnapshot } from "../../src/core/types.ts";
import { checkSweep, type SweepPoint } from "./grid.ts";
import { batchDisturbance, StallMonitor, type DeliveredRequest } from "./disturbance.ts";
import { UniquePrompts } from "./prompts.ts";
import { batchRows, type BatchMeasurement, type RequestMeasurement, type RowContext } from "./rows.ts";

/** Prompt length of the gate request (see ProfileSweepOptions.gate_tokens). */
export const DEFAULT_GATE_TOKENS = 2048;
/** A batch with requests that reached the server too late is run again (its gate doubled, within
 *  the cap) at most this many times; then the sweep stops with an error. */
export const GATE_RETRIES = 3;

export interface ProfileSweepOptions {
  /** Base URL of an OpenAI-compatible server (vLLM or `tandem emulate`), e.g. http://127.0.0.1:8000. */
  endpoint: string;
  /** Served model name (must be listed by /v1/models). */
  model: string;
  /** The static batches, in order (grid.ts expandGrid). */
  points: readonly SweepPoint[];
  /** Recorded in every row; default "unknown" and 1. */
  gpu?: string;
  tensor_parallel?: number;
  /** The server's --max-num-batched-tokens and --max-num-seqs, recorded in every row (calibration
   *  replays each batch under them); undefined = not known (calibration then assumes the batch's
   *  prompts ran in one step and max_num_seqs = batch size). */
  max_num_batched_tokens?: number;
  max_num_seqs?: number;
  api_key?: string;
  /** Model seconds per wall second of the server: only for a tandem emulator running with
   *  --speedup X (checked against its tandem_emulator_speedup gauge). Default 1. */
  speedup?: number;
  /** Prompt tokens of the gate request that runs before each batch so that the whole batch reaches
   *  the server while the gate's prefill step runs and the engine takes it in one step (0 = no
   *  gate: times count from sending). Capped by max_num_batched_tokens and max_model_len − 1;
   *  doubled (within the cap) when a batch's requests arrived too late. Default 2048. */
  gate_tokens?: number;
  /** Seed of the prompts' random ids; default random (a rerun against the same server must not
   *  hit the prefix cache with the previous run's prompts). */
  seed?: string;
  /** Send warm-up requests first (default true). */
  warmup?: boolean;
  /** Wall seconds to wait for the server to become idle before a batch (default 600). */
  idle_timeout_s?: number;
  /** Wall seconds between /metrics polls while waiting for idle (default 0.01). */
  poll_interval_s?: number;
  /** A batch whose deliveries were late (disturbance.ts) is run again, at most this many times
   *  (then kept, with a warning). Default 3. */
  max_reruns?: number;
  /** A read right after a stall of this process is late when the stall could have shifted it by
   *  more than this fraction of what it measures. Default 0.02. */
  stall_tolerance?: number;
  /** Watch this process for stalls (a 1 ms timer); default true. */
  stall_monitor?: boolean;
  /** After each batch: its rows, its measurement, batches done and total. */
  onBatch?: (rows: ProfileRow[], batch: BatchMeasurement, done: number, total: number) => void | Promise<void>;
  /** Something the user should know (late requests and gate growth, prefix-cache hits, preemptions,
   *  a disturbed batch kept). */
  onWarning?: (message: string) => void;
  /** A batch is run again because a delivery was late (the reason). */
  onRerun?: (point: SweepPoint, reason: string) => void;
}

/** What the sweep learnt about the server before it started. */
export interface ServerInfo {
  url: string;
  model: string;
  max_model_len: number | undefined;
  engine_version: string | undefined;
  /** tandem_emulator_speedup when the server is a tandem emulator. */
  emulator_speedup: number | undefined;
}

export interface ProfileSweepResult {
  rows: ProfileRow[];
  batches: BatchMeasurement[];
  server: ServerInfo;
  seed: string;
  /** Gate prompt length in use at the end (after any growth). */
  gate_tokens: number;
  /** Batches re-run because requests reached the server after the gate finished. */
  reruns: number;
  /** Batches re-run because a delivery was late (a stall). */
  disturbed_reruns: number;
  /** Batches kept although still disturbed after max_reruns. */
  disturbed_kept: number;
  /** Wall seconds the sweep took (warm-up included). */
  wall_s: number;
}

/** Checks the endpoint before anything is sent: reachable, serves the model, exposes vLLM's
 *  /metrics, and (for an emulator) runs at the speedup `speedup` says. Failures are one-line
 *  InputErrors. */
export async function probeServer(handle: InstanceHandle, options: Pick<ProfileSweepOptions, "endpoint" | "model" | "api_key" | "speedup">): Promise<ServerInfo> {
  const where = `--endpoint ${options.endpoint}`;
  let models;
  try {
    models = await handle.models();
  } catch (error) {
    throw new InputError(`${where}: ${describe(error)}; expected a running vLLM-compatible server`);
  }
  const served = models.find((m) => m.id === options.model);
  if (served === undefined) {
    throw new InputError(`--model ${options.model}: the server at ${options.endpoint} serves ${models.map((m) => m.id).join(", ") || "no model"}; expected one of them`);
  }
  let metricsText: string;
  try {
    await handle.scrape();
    metricsText = await getText(options.endpoint, "/metrics", options.api_key);
  } catch (error) {
    throw new InputError(`${where}: /metrics: ${describe(error)}; the profiler waits for running = waiting = 0 there between batches`);
  }
  const emulatorSpeedup = samplesOf(parsePrometheusText(metricsText), "tandem_emulator_speedup")[0]?.value;
  const speedup = options.speedup ?? 1;
  if (emulatorSpeedup !== undefined && Math.abs(emulatorSpeedup - speedup) > 1e-9 * emulatorSpeedup) {
    throw new InputError(
      options.speedup === undefined
        ? `${where} is a tandem emulator running at speedup ${emulatorSpeedup}; pass --speedup ${emulatorSpeedup} so that times are recorded in model seconds`
        : `--speedup ${speedup}: the emulator at ${options.endpoint} runs at speedup ${emulatorSpeedup} (tandem_emulator_speedup); expected the same value`,
    );
  }
  if (emulatorSpeedup === undefined && speedup !== 1) {
    throw new InputError(`--speedup ${speedup}: only for a tandem emulator (it reports tandem_emulator_speedup in /metrics); ${options.endpoint} does not`);
  }
  let engine_version: string | undefined;
  try {
    const v = (JSON.parse(await getText(options.endpoint, "/version", options.api_key)) as { version?: unknown }).version;
    if (typeof v === "string" && v !== "") engine_version = /^\d/.test(v) ? `vllm ${v}` : v;
    // The emulator answers /version as the vLLM release it imitates; a profile says what measured it.
    if (emulatorSpeedup !== undefined && engine_version !== undefined) engine_version = `tandem-emulator (${engine_version})`;
  } catch {
    engine_version = undefined; // /version is optional
  }
  return { url: options.endpoint, model: options.model, max_model_len: served.max_model_len, engine_version, emulator_speedup: emulatorSpeedup };
}

/** Runs a profiling sweep of static batches against a live server (docs/calibration.md
 *  "Profiling"). For each point: wait until the server is idle (/metrics running = waiting = 0),
 *  scrape its state, send a gate request (a unique prompt of `gate_tokens`, one output token) and,
 *  once its response headers arrive (it is in the engine), the batch's `batch_size` requests at
 *  once: unique token-id prompts, `max_tokens` = the output length and `ignore_eos`, streamed.
 *  They queue behind the gate's prefill step and start together when it ends, so the server runs
 *  them as one static batch, and their times count from the gate's completion. A batch whose
 *  requests did not all reach the server before the gate finished is run again with a gate twice
 *  as long. */
export async function runProfileSweep(options: ProfileSweepOptions): Promise<ProfileSweepResult> {
  const began = performance.now();
  const speedup = options.speedup ?? 1;
  if (!(speedup > 0 && Number.isFinite(speedup))) throw new InputError(`--speedup: expected a number > 0, got ${speedup}`);
  try {
    parseBaseUrl(options.endpoint);
  } catch (error) {
    throw new InputError(`--endpoint: ${(error as Error).message}`);
  }
  const now_s = () => (performance.now() / 1000) * speedup;
  const handle = new InstanceHandle({ id: "endpoint", base_url: options.endpoint, now_s, model: options.model, ...(options.api_key !== undefined ? { api_key: options.api_key } : {}) });
  const maxBatch = Math.max(1, ...options.points.map((p) => p.batch_size));
  const client = new CompletionClient({ now_s, max_in_flight_per_instance: maxBatch + 1, ...(options.api_key !== undefined ? { api_key: options.api_key } : {}) });
  client.addInstance("endpoint", options.endpoint);
  try {
    const server = await probeServer(handle, options);
    checkSweep(options.points, { max_model_len: server.max_model_len, max_num_seqs: options.max_num_seqs });
    const cap = Math.min(options.max_num_batched_tokens ?? Infinity, (server.max_model_len ?? Infinity) - 1);
    let gate = Math.min(options.gate_tokens ?? DEFAULT_GATE_TOKENS, cap);
    if (!(gate >= 0 && Number.isInteger(gate))) throw new InputError(`--gate-tokens: expected an integer ≥ 0, got ${options.gate_tokens}`);
    const seed = options.seed ?? randomBytes(8).toString("hex");
    const prompts = new UniquePrompts(seed);
    const ctx: RowContext = {
      model: options.model,
      gpu: options.gpu ?? "unknown",
      tensor_parallel: options.tensor_parallel ?? 1,
      ...(options.max_num_batched_tokens !== undefined ? { max_num_batched_tokens: options.max_num_batched_tokens } : {}),
      ...(options.max_num_seqs !== undefined ? { max_num_seqs: options.max_num_seqs } : {}),
      ...(server.engine_version !== undefined ? { engine_version: server.engine_version } : {}),
    };
    const io: SweepIo = { client, handle, model: options.model, prompts, now_s, idle_timeout_s: options.idle_timeout_s ?? 600, poll_s: options.poll_interval_s ?? 0.01 };
    const longest = Math.max(gate, ...options.points.map((p) => p.prompt_tokens));
    if (options.warmup ?? true) await warmUp(io, Math.max(16, Math.min(longest, (server.max_model_len ?? Infinity) - 2)), maxBatch);
    let state = await waitIdle(io);
    const rows: ProfileRow[] = [];
    const batches: BatchMeasurement[] = [];
    let reruns = 0;
    let disturbed_reruns = 0;
    let disturbed_kept = 0;
    const maxReruns = options.max_reruns ?? 3;
    const monitor = options.stall_monitor === false ? undefined : new StallMonitor((ms) => (ms / 1000) * speedup);
    for (const point of options.points) {
      let measured: BatchMeasurement | undefined;
      let disturbedTries = 0;
      let gateTries = 0;
      while (measured === undefined) {
        monitor?.start();
        const run = await runBatch(io, point, gate, state);
        const stalls = monitor?.stop() ?? [];
        const after = await waitIdle(io);
        const preemptions = after.preemptions - state.preemptions;
        state = after;
        if (run.late > 0) {
          const grown = Math.min(gate * 2, cap);
          gateTries++;
          if (gateTries > GATE_RETRIES) {
            throw new InputError(
              `batch ${point.batch_id}: ${run.late} of ${point.batch_size} requests reached the server after the ${gate}-token gate request had finished, ${gateTries} times; ` +
                `the batch would not run as one static batch (raise --gate-tokens${Number.isFinite(cap) ? `, at most ${cap} here` : ""}, or lower the batch size)`,
            );
          }
          const what = `batch ${point.batch_id}: ${run.late} of ${point.batch_size} requests reached the server after the ${gate}-token gate request had finished`;
          options.onWarning?.(grown > gate ? `${what}; running it again with a ${grown}-token gate` : `${what}; running it again`);
          gate = grown;
          reruns++;
          continue;
        }
        const reason = batchDisturbance({
          start_s: run.batch.start_s,
          start_is_read: gate > 0,
          requests: run.deliveries,
          stalls,
          tolerance: options.stall_tolerance ?? 0.02,
          slack_s: (2 / 1000) * speedup,
        });
        if (reason !== undefined && disturbedTries < maxReruns) {
          disturbedTries++;
          disturbed_reruns++;
          options.onRerun?.(point, reason);
          continue;
        }
        if (reason !== undefined) {
          disturbed_kept++;
          options.onWarning?.(`batch ${point.batch_id}: kept after ${maxReruns} re-runs although ${reason}; its times may be off`);
        }
        measured = { ...run.batch, preemptions: preemptions > 0 ? preemptions : undefined };
      }
      const batch = measured;
      const cached = batch.requests.filter((r) => (r.cached_tokens ?? 0) > 0).length;
      if (cached > 0) options.onWarning?.(`batch ${point.batch_id}: ${cached} requests hit the prefix cache (a rerun with the same --seed?); calibration leaves the batch out`);
      if (batch.preemptions !== undefined)
        options.onWarning?.(`batch ${point.batch_id}: the server preempted ${batch.preemptions} times while it ran (too little KV cache); calibration leaves the batch out`);
      const produced = batch.requests.filter((r) => r.output_tokens !== point.output_tokens).length;
      if (produced > 0)
        options.onWarning?.(
          `batch ${point.batch_id}: ${produced} requests generated another number of tokens than max_tokens ${point.output_tokens} (is ignore_eos honoured?); rows record what they generated`,
        );
      const batchRowsOut = batchRows(batch, ctx);
      rows.push(...batchRowsOut);
      batches.push(batch);
      await options.onBatch?.(batchRowsOut, batch, batches.length, options.points.length);
    }
    return { rows, batches, server, seed, gate_tokens: gate, reruns, disturbed_reruns, disturbed_kept, wall_s: (performance.now() - began) / 1000 };
  } finally {
    await client.close(true);
    await handle.close();
  }
}

interface SweepIo {
  client: CompletionClient;
  handle: InstanceHandle;
  model: string;
  prompts: UniquePrompts;
  now_s: () => number;
  idle_timeout_s: number;
  poll_s: number;
}

/** A streamed completion request's body, serialised ahead of sending. */
function requestBody(io: SweepIo, promptTokens: number, outputTokens: number): string {
  return JSON.stringify(completionBody({ model: io.model, prompt: io.prompts.next(promptTokens), max_tokens: outputTokens }));
}

/** Opens a request; resolves at its response headers. */
async function open(io: SweepIo, body: string): Promise<PassThroughResponse> {
  try {
    return await io.client.passThrough("endpoint", { path: COMPLETIONS_PATH, body });
  } catch (error) {
    throw new InputError(`${COMPLETIONS_PATH}: ${describe(error)}`);
  }
}

/** Reads a response to its end: the streamed call's timing, or a one-line error with the server's
 *  message for an HTTP error status. */
async function finish(response: PassThroughResponse): Promise<StreamResult> {
  if (response.status < 200 || response.status >= 300) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of response.body) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString("utf8");
    let message = text.trim().slice(0, 300);
    try {
      const body = JSON.parse(text) as { error?: { message?: unknown }; message?: unknown; detail?: unknown };
      const m = body.error?.message ?? body.message ?? body.detail;
      if (typeof m === "string") message = m;
    } catch {
      // not JSON: keep the text
    }
    throw new InputError(`${COMPLETIONS_PATH}: the server answered HTTP ${response.status}: ${message}`);
  }
  for await (const chunk of response.body) void chunk;
  const outcome = await response.outcome;
  if (!outcome.ok) throw new InputError(`${COMPLETIONS_PATH}: ${outcome.error.reason}`);
  if (outcome.result.first_token_s === null) throw new InputError(`${COMPLETIONS_PATH}: the server streamed no token; expected max_tokens tokens`);
  return outcome.result;
}

/** Warm-up: a few requests as long as the longest prompt the sweep sends (the server's, and an
 *  emulator's, code paths for long prompts get compiled and cached), then `concurrency` small ones
 *  at once (which also opens the connections the largest batch needs, so no batch pays for
 *  connection set-up). */
async function warmUp(io: SweepIo, longest: number, concurrency: number): Promise<void> {
  for (let i = 0; i < 3; i++) await finish(await open(io, requestBody(io, longest, 2)));
  const bodies = Array.from({ length: concurrency }, () => requestBody(io, 16, 2));
  await Promise.all(bodies.map(async (b) => finish(await open(io, b))));
}

/** Polls /metrics until nothing runs or waits; returns that snapshot. */
async function waitIdle(io: SweepIo): Promise<InstanceSnapshot> {
  const deadline = performance.now() + io.idle_timeout_s * 1000;
  for (;;) {
    let snapshot: InstanceSnapshot;
    try {
      snapshot = (await io.handle.scrape()).snapshot;
    } catch (error) {
      throw new InputError(`/metrics: ${describe(error)}`);
    }
    if (snapshot.running === 0 && snapshot.waiting === 0) return snapshot;
    if (performance.now() > deadline) {
      throw new InputError(`the server did not become idle within ${io.idle_timeout_s} s (running ${snapshot.running}, waiting ${snapshot.waiting}); is someone else using it?`);
    }
    await sleep(io.poll_s * 1000);
  }
}

/** One static batch (after a gate request when gate > 0). `late` counts requests whose response
 *  headers came only after the gate's token: they may have missed the batch's first step. */
async function runBatch(
  io: SweepIo,
  point: SweepPoint,
  gate: number,
  state: InstanceSnapshot,
): Promise<{ batch: Omit<BatchMeasurement, "preemptions">; late: number; deliveries: DeliveredRequest[] }> {
  const bodies = Array.from({ length: point.batch_size }, () => requestBody(io, point.prompt_tokens, point.output_tokens));
  const gateBody = gate > 0 ? requestBody(io, gate, 1) : undefined;
  const started_at = new Date().toISOString();
  let gateDone: Promise<StreamResult> | undefined;
  if (gateBody !== undefined) {
    gateDone = finish(await open(io, gateBody));
    // Awaited below; if the batch fails first, the sweep's error is the batch's, not this one.
    gateDone.catch(() => {});
  }
  const sent_s = io.now_s();
  const opened = bodies.map((b) => open(io, b));
  const results = await Promise.all(opened.map(async (p) => finish(await p)));
  const heads = await Promise.all(opened);
  let start_s = sent_s;
  let late = 0;
  if (gateDone !== undefined) {
    const g = await gateDone;
    start_s = g.first_token_s ?? g.finish_s;
    late = heads.filter((h) => h.headers_s >= start_s).length;
  }
  const requests: RequestMeasurement[] = results.map((r) => ({
    prompt_tokens: r.usage_reported && r.usage.prompt_tokens > 0 ? r.usage.prompt_tokens : point.prompt_tokens,
    output_tokens: r.usage.output_tokens,
    cached_tokens: r.cached_tokens_reported ? r.usage.cached_tokens : undefined,
    first_token_s: r.first_token_s!,
    last_token_s: r.chunk_times_s.length > 0 ? r.chunk_times_s[r.chunk_times_s.length - 1]! : r.finish_s,
  }));
  const deliveries: DeliveredRequest[] = results.map((r, i) => ({
    first_s: requests[i]!.first_token_s,
    last_s: requests[i]!.last_token_s,
    first_chunk_tokens: r.chunk_tokens[0] ?? 1,
    last_chunk_tokens: r.chunk_tokens.length > 1 ? r.chunk_tokens[r.chunk_tokens.length - 1]! : 1,
    output_tokens: requests[i]!.output_tokens,
  }));
  return { batch: { point, start_s, requests, server: { running: state.running, waiting: state.waiting, kv_usage: state.kv_usage }, started_at }, late, deliveries };
}

async function getText(endpoint: string, path: string, apiKey: string | undefined): Promise<string> {
  const { origin, prefix } = parseBaseUrl(endpoint);
  const res = await fetch(origin + prefix + path, { headers: apiKey !== undefined ? { authorization: `Bearer ${apiKey}` } : {}, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return text;
}

function describe(error: unknown): string {
  if (error instanceof InstanceRequestError || error instanceof LiveCallError) return error.reason;
  if (error instanceof InputError) return error.message;
  const cause = (error as { cause?: { code?: string } })?.cause?.code;
  return cause ?? (error instanceof Error ? error.message : String(error));
}
