import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConfiguredInstance } from "../../src/model/instance.ts";
import { modelSpec } from "../../src/model/models.ts";
import { DEFAULT_WAKE_LATENCY_S, resolveEmulatedInstance, type EmulatedInstanceOptions } from "./config.ts";
import { EngineLoop } from "./engine-loop.ts";
import { EmulatorMetrics } from "./metrics.ts";
import { requestListener, type ServerContext } from "./server.ts";
import { SleepControl } from "./sleep.ts";
import { InputError } from "../../src/core/errors.ts";
import { DEFAULT_EMULATED_VERSION, OLDEST_SUPPORTED, parseVllmVersion, traitsOf } from "../instances/vllm-generation.ts";

export { DEFAULT_WAKE_LATENCY_S, resolveEmulatedInstance, type EmulatedInstance, type EmulatedInstanceOptions } from "./config.ts";
export { TokenIdIdentity } from "./token-identity.ts";
export { tokenizeText, renderChat } from "./tokenize.ts";

/** Output tokens of a request that gives no max_tokens (OpenAI's completions default). */
export const DEFAULT_MAX_TOKENS = 16;
/** Largest request body accepted (413 beyond): 32 MiB, room for a 1M-token id array. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface EmulatorOptions extends EmulatedInstanceOptions {
  /** A ready instance (e.g. one of `buildInstances`' results): used as is, instead of building
   *  one from model/gpu/configFile/latencyFile/engine. */
  instance?: ConfiguredInstance;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = a free port, chosen by the OS. */
  port?: number;
  /** Model seconds per wall second (default 1): 10 runs 10× faster than real time. */
  speedup?: number;
  /** Waiting requests beyond this get 429 (engine max_waiting). Only this option sets it: vLLM
   *  has no such bound, so a config's `max_waiting` is ignored by the emulator. */
  maxWaiting?: number;
  /** The vLLM release to imitate (default 0.11.0, current V1): metric names, priority handling,
   *  error texts and endpoint parameters follow its generation (docs/live.md, "vLLM generations"). */
  vllmVersion?: string;
  /** The name clients use in `model` and /v1/models lists; default the model preset's name. */
  servedModelName?: string;
  /** Output tokens when a request gives no max_tokens (default 16). */
  defaultMaxTokens?: number;
  /** Model seconds `/wake_up` takes; default the config's lifecycle.sleep.wake_latency_s, else 2. */
  wakeLatency_s?: number;
  maxBodyBytes?: number;
  /** See EngineLoopOptions.spinMs (default 1). */
  spinMs?: number;
}

export interface Emulator {
  /** `http://HOST:PORT`, no trailing slash. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly servedModelName: string;
  readonly speedup: number;
  /** The vLLM release imitated (`/version`). */
  readonly vllmVersion: string;
  readonly instance: ConfiguredInstance;
  /** The engine loop (its `engine` for state and stats; `now_s()` for model time). */
  readonly loop: EngineLoop;
  /** Sleep mode state (`state`: awake, draining, asleep or waking). */
  readonly sleep: SleepControl;
  readonly server: Server;
  /** Model seconds since the emulator started. */
  modelTime_s(): number;
  /** Stops the clock, drops open connections (in-flight streams end abruptly) and closes the port. */
  close(): Promise<void>;
}

/** Starts a vLLM-compatible HTTP server whose engine is the simulator's engine model running in
 *  wall-clock time (docs/emulator.md). Resolves once it is listening. Bad settings (unknown model,
 *  unreadable config) reject with an InputError. */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  let instance: ConfiguredInstance;
  let vocabSize: number;
  let configWake_s: number | undefined;
  if (options.instance !== undefined) {
    instance = options.instance;
    vocabSize = vocabularyOf(instance.spec.model);
  } else {
    const resolved = await resolveEmulatedInstance(options);
    ({ instance, vocabSize } = resolved);
    configWake_s = resolved.wakeLatency_s;
  }
  if (instance.engine.max_waiting !== options.maxWaiting) instance = { ...instance, engine: { ...instance.engine, max_waiting: options.maxWaiting } };
  const version = options.vllmVersion ?? DEFAULT_EMULATED_VERSION;
  const parsedVersion = parseVllmVersion(version);
  if (parsedVersion === undefined || (parsedVersion.major === 0 && parsedVersion.minor < 6)) {
    throw new InputError(`--vllm-version ${version}: expected a vLLM release ${OLDEST_SUPPORTED} or newer, e.g. 0.6.3, 0.8.5 or 0.11.0`);
  }
  const traits = traitsOf(parsedVersion);
  const speedup = options.speedup ?? 1;
  if (!(speedup > 0 && Number.isFinite(speedup))) throw new RangeError(`speedup must be a finite number > 0, got ${speedup}`);
  const servedModelName = options.servedModelName ?? instance.spec.model;
  const loop = new EngineLoop(instance, { speedup, spinMs: options.spinMs ?? 1 });
  const sleep = new SleepControl(loop, options.wakeLatency_s ?? configWake_s ?? DEFAULT_WAKE_LATENCY_S, speedup);
  const context: ServerContext = {
    servedModelName,
    maxModelLen: instance.spec.max_model_len,
    maxWaiting: instance.engine.max_waiting,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    parse: {
      vocabSize,
      maxModelLen: instance.spec.max_model_len,
      defaultMaxTokens: options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
      maxTokensErrorText: traits.max_tokens_error_text,
    },
    loop,
    metrics: new EmulatorMetrics(servedModelName, instance, version),
    sleep,
    speedup,
    started: Math.floor(Date.now() / 1000),
    version,
    traits,
    priorityScheduling: instance.engine.scheduling_policy === "priority",
    open: new Set(),
  };
  const server = createServer({ noDelay: true, keepAliveTimeout: 60_000 }, requestListener(context));
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    host,
    port,
    servedModelName,
    speedup,
    vllmVersion: version,
    instance,
    loop,
    sleep,
    server,
    modelTime_s: () => loop.now_s(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        loop.stop();
        sleep.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Token ids must be below the model's vocabulary; a model that is not a preset accepts any 31-bit id. */
function vocabularyOf(model: string): number {
  try {
    return modelSpec(model).vocab_size;
  } catch {
    return 2 ** 31;
  }
}
