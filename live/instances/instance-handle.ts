import { Pool } from "undici";
import type { InstanceSnapshot } from "../../src/core/types.ts";
import { describeError } from "../client/errors.ts";
import { clip, errorMessage } from "../client/stream-observer.ts";
import { parseBaseUrl } from "../client/transport.ts";
import { parsePrometheusText } from "./prometheus.ts";
import { VllmMetricsError, vllmSnapshot, type VllmMetrics } from "./vllm-metrics.ts";
import { engineFromMetrics, OLDEST_SUPPORTED, parseVllmVersion, traitsOf, type GenerationTraits, type VllmVersion } from "./vllm-generation.ts";

/** What the start-up probe learnt of a server: its vLLM release and that release's traits. */
export interface ServerProfile {
  version: VllmVersion;
  traits: GenerationTraits;
}

export type InstanceRequestErrorKind = "connect" | "timeout" | "http" | "parse" | "metrics" | "aborted";

/** A request to an instance's control or metrics endpoints failed. */
export class InstanceRequestError extends Error {
  constructor(
    readonly instance: string,
    readonly kind: InstanceRequestErrorKind,
    readonly reason: string,
    readonly status?: number,
  ) {
    super(`${instance}: ${reason}`);
    this.name = "InstanceRequestError";
  }
}

/** One entry of /v1/models. */
export interface ServedModel {
  id: string;
  root?: string;
  /** Set on LoRA adapters: the base model they apply to. */
  parent?: string;
  max_model_len?: number;
}

export type HealthResult = { ok: true } | { ok: false; reason: string; status?: number };

export interface InstanceHandleOptions {
  id: string;
  /** "http://host:port" (a trailing "/v1" is dropped). */
  base_url: string;
  /** The clock of snapshot times (InstanceSnapshot.at_s). */
  now_s: () => number;
  /** Served model name; omitted → learnt by discover(), or the only model_name in /metrics. */
  model?: string;
  /** Wall-clock seconds between the starts of two scrapes (default 0.5); a slow scrape delays the
   *  next, scrapes never overlap. */
  scrape_interval_s?: number;
  /** Timeout of /health, /v1/models, /metrics, /is_sleeping (default 5 s, wall clock). */
  request_timeout_s?: number;
  /** Timeout of /sleep and /wake_up, which move weights (default 300 s). */
  lifecycle_timeout_s?: number;
  api_key?: string;
  /** Each successful scrape, in order. */
  onSnapshot?: (snapshot: InstanceSnapshot, metrics: VllmMetrics) => void;
  /** Each failed scrape, with the count of failures in a row (reset by a success). */
  onScrapeError?: (error: InstanceRequestError, consecutive_failures: number) => void;
}

/** An instance's control plane: health, served models, /metrics scraping into InstanceSnapshots,
 *  and vLLM's sleep mode (the server needs VLLM_SERVER_DEV_MODE=1 and --enable-sleep-mode). */
export class InstanceHandle {
  readonly id: string;
  readonly baseUrl: string;
  private readonly prefix: string;
  private readonly pool: Pool;
  private readonly now_s: () => number;
  private readonly interval_ms: number;
  private readonly timeout_s: number;
  private readonly lifecycleTimeout_s: number;
  private readonly headers: Record<string, string>;
  private modelName: string | undefined;
  private maxModelLen: number | undefined;
  private awakeState = true;
  private serverProfile: ServerProfile | undefined;
  private loop: Promise<void> | undefined;
  private loopAbort: AbortController | undefined;
  private failures = 0;
  private last: InstanceSnapshot | undefined;
  private lastErr: InstanceRequestError | undefined;
  private closed = false;

  constructor(private readonly options: InstanceHandleOptions) {
    this.id = options.id;
    this.baseUrl = options.base_url;
    const { origin, prefix } = parseBaseUrl(options.base_url);
    this.prefix = prefix;
    this.pool = new Pool(origin, { connections: 2, headersTimeout: 0, bodyTimeout: 0 });
    this.now_s = options.now_s;
    const interval = options.scrape_interval_s ?? 0.5;
    if (!(interval > 0)) throw new Error(`${options.id}: scrape_interval_s must be > 0, got ${interval}`);
    this.interval_ms = interval * 1000;
    this.timeout_s = options.request_timeout_s ?? 5;
    this.lifecycleTimeout_s = options.lifecycle_timeout_s ?? 300;
    this.headers = options.api_key !== undefined ? { authorization: `Bearer ${options.api_key}` } : {};
    this.modelName = options.model;
  }

  /** The served model name (given, or learnt by discover()). */
  get model(): string | undefined {
    return this.modelName;
  }

  get max_model_len(): number | undefined {
    return this.maxModelLen;
  }

  /** The start-up probe's answer (undefined before probe()). */
  get profile(): ServerProfile | undefined {
    return this.serverProfile;
  }

  /** GET /version and /metrics: which vLLM release and generation the server runs (docs/live.md,
   *  "vLLM generations"). Throws an InstanceRequestError whose reason says what to change when the
   *  server is not vLLM, runs a release tandem does not know, or serves no vllm:* metrics. */
  async probe(signal?: AbortSignal): Promise<ServerProfile> {
    let text: string;
    try {
      ({ text } = await this.request("GET", "/version", this.timeout_s, signal));
    } catch (error) {
      const e = error as InstanceRequestError;
      if (e.kind !== "http") throw e;
      throw new InstanceRequestError(this.id, "parse", `not a vLLM server: GET /version answered HTTP ${e.status}; point the endpoint at vLLM's OpenAI server (vllm serve)`, e.status);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const versionText = (body as { version?: unknown } | undefined)?.version;
    if (typeof versionText !== "string") {
      throw new InstanceRequestError(
        this.id,
        "parse",
        `not a vLLM server: GET /version answered ${clip(text)}, expected {"version": "0.x.y"}; point the endpoint at vLLM's OpenAI server (vllm serve)`,
      );
    }
    const version = parseVllmVersion(versionText);
    if (version === undefined || (version.major === 0 && version.minor < 6)) {
      throw new InstanceRequestError(this.id, "parse", `unknown vLLM version "${versionText}": tandem knows vLLM ${OLDEST_SUPPORTED} and newer; upgrade the server`);
    }
    const { text: page } = await this.request("GET", "/metrics", this.timeout_s, signal);
    const expo = parsePrometheusText(page);
    const names = [...expo.byName.keys()];
    if (!names.some((n) => n.startsWith("vllm:"))) {
      throw new InstanceRequestError(
        this.id,
        "metrics",
        "/metrics serves no vllm:* metrics; a vLLM server started with --disable-log-stats serves none: restart it without --disable-log-stats",
      );
    }
    const hasEngineLabel = names.some((n) => n.startsWith("vllm:") && expo.byName.get(n)!.some((s) => s.labels.engine !== undefined));
    const engine = engineFromMetrics({ hasFamily: (n) => expo.byName.has(n), hasEngineLabel });
    this.serverProfile = { version, traits: traitsOf(version, engine) };
    return this.serverProfile;
  }

  /** What the handle believes: the last sleep()/wakeUp()/isSleeping() answer (true initially). */
  get awake(): boolean {
    return this.awakeState;
  }

  get lastSnapshot(): InstanceSnapshot | undefined {
    return this.last;
  }

  get lastError(): InstanceRequestError | undefined {
    return this.lastErr;
  }

  /** Scrapes failed in a row (0 after a success). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  get scraping(): boolean {
    return this.loop !== undefined;
  }

  /** GET /health: ok on 2xx. Never throws. */
  async health(signal?: AbortSignal): Promise<HealthResult> {
    try {
      await this.request("GET", "/health", this.timeout_s, signal);
      return { ok: true };
    } catch (error) {
      const e = error as InstanceRequestError;
      return e.status !== undefined ? { ok: false, reason: e.reason, status: e.status } : { ok: false, reason: e.reason };
    }
  }

  /** Throws (naming the instance and URL) unless /health answers and /v1/models lists `model`. */
  async checkServing(model: string, signal?: AbortSignal): Promise<void> {
    const health = await this.health(signal);
    if (!health.ok) throw new Error(`instance ${this.id} (${this.baseUrl}): /health failed: ${health.reason}`);
    const served = await this.models(signal);
    if (!served.some((m) => m.id === model)) {
      throw new Error(`instance ${this.id} (${this.baseUrl}) serves ${served.map((m) => m.id).join(", ") || "no model"}, not "${model}"`);
    }
  }

  /** GET /v1/models. */
  async models(signal?: AbortSignal): Promise<ServedModel[]> {
    const { text } = await this.request("GET", "/v1/models", this.timeout_s, signal);
    const body = this.json(text, "/v1/models");
    const data = (body as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw new InstanceRequestError(this.id, "parse", "/v1/models has no data list");
    const out: ServedModel[] = [];
    for (const entry of data) {
      if (entry === null || typeof entry !== "object" || typeof (entry as { id?: unknown }).id !== "string") {
        throw new InstanceRequestError(this.id, "parse", `/v1/models entry without an id: ${clip(JSON.stringify(entry))}`);
      }
      const e = entry as { id: string; root?: unknown; parent?: unknown; max_model_len?: unknown };
      const m: ServedModel = { id: e.id };
      if (typeof e.root === "string") m.root = e.root;
      if (typeof e.parent === "string") m.parent = e.parent;
      if (typeof e.max_model_len === "number" && Number.isInteger(e.max_model_len) && e.max_model_len > 0) {
        m.max_model_len = e.max_model_len;
      }
      out.push(m);
    }
    return out;
  }

  /** Learns the served model (the configured one, which must be served, else the only one) and
   *  its max_model_len from /v1/models. LoRA adapters (entries with a parent) are skipped when
   *  guessing. */
  async discover(signal?: AbortSignal): Promise<ServedModel> {
    const models = await this.models(signal);
    let chosen: ServedModel | undefined;
    if (this.modelName !== undefined) {
      chosen = models.find((m) => m.id === this.modelName);
      if (chosen === undefined) {
        throw new InstanceRequestError(this.id, "parse", `serves ${models.map((m) => m.id).join(", ") || "no model"}, not ${this.modelName}`);
      }
    } else {
      const bases = models.filter((m) => m.parent === undefined);
      if (bases.length !== 1) {
        throw new InstanceRequestError(this.id, "parse", `serves ${models.map((m) => m.id).join(", ") || "no model"}; name the instance's model`);
      }
      chosen = bases[0]!;
    }
    this.modelName = chosen.id;
    if (chosen.max_model_len !== undefined) this.maxModelLen = chosen.max_model_len;
    return chosen;
  }

  /** One scrape of /metrics → snapshot (does not call the callbacks). */
  async scrape(signal?: AbortSignal): Promise<VllmMetrics> {
    const { text } = await this.request("GET", "/metrics", this.timeout_s, signal);
    const at_s = this.now_s();
    const expo = parsePrometheusText(text);
    try {
      return vllmSnapshot(expo, {
        instance: this.id,
        at_s,
        awake: this.awakeState,
        ...(this.modelName !== undefined ? { model: this.modelName } : {}),
        ...(this.serverProfile?.traits.prefix_counters !== undefined ? { prefix_unit: this.serverProfile.traits.prefix_counters.unit } : {}),
      });
    } catch (error) {
      if (error instanceof VllmMetricsError) {
        const lines = expo.errors.length > 0 ? ` (${expo.errors.length} unparsable lines, first ${expo.errors[0]!.line}: ${expo.errors[0]!.message})` : "";
        throw new InstanceRequestError(this.id, "metrics", `${error.message.replace(`${this.id}: `, "")}${lines}`);
      }
      throw error;
    }
  }

  /** Scrapes every scrape_interval_s until stopScraping(); each result goes to onSnapshot or
   *  onScrapeError. A callback that throws is a host bug: it is rethrown outside the loop. */
  startScraping(): void {
    if (this.loop !== undefined) return;
    if (this.closed) throw new Error(`${this.id}: handle is closed`);
    const ac = new AbortController();
    this.loopAbort = ac;
    this.loop = this.runLoop(ac.signal);
  }

  /** Stops the loop; resolves once no scrape is in flight. No callback runs after it resolves. */
  async stopScraping(): Promise<void> {
    const loop = this.loop;
    if (loop === undefined) return;
    this.loopAbort?.abort();
    await loop;
    this.loop = undefined;
    this.loopAbort = undefined;
  }

  /** POST /sleep?level=N&mode=wait (1: offload weights to CPU, drop KV; 2: drop both). mode=wait
   *  lets requests in flight finish (vLLM's default, abort, would end them); releases without the
   *  parameter ignore it. */
  async sleep(level: 1 | 2 = 1, signal?: AbortSignal): Promise<void> {
    await this.request("POST", `/sleep?level=${level}&mode=wait`, this.lifecycleTimeout_s, signal);
    this.awakeState = false;
  }

  /** POST /wake_up (optionally only some tags, e.g. ["weights"], then ["kv_cache"]). */
  async wakeUp(tags?: readonly string[], signal?: AbortSignal): Promise<void> {
    const query = tags !== undefined && tags.length > 0 ? `?${tags.map((t) => `tags=${encodeURIComponent(t)}`).join("&")}` : "";
    await this.request("POST", `/wake_up${query}`, this.lifecycleTimeout_s, signal);
    if (query === "") this.awakeState = true;
  }

  /** GET /is_sleeping → {"is_sleeping": bool}; updates awake. */
  async isSleeping(signal?: AbortSignal): Promise<boolean> {
    const { text } = await this.request("GET", "/is_sleeping", this.timeout_s, signal);
    const body = this.json(text, "/is_sleeping") as { is_sleeping?: unknown } | null;
    if (typeof body?.is_sleeping !== "boolean") {
      throw new InstanceRequestError(this.id, "parse", `/is_sleeping answered ${clip(text)}, expected {"is_sleeping": bool}`);
    }
    this.awakeState = !body.is_sleeping;
    return body.is_sleeping;
  }

  /** Stops scraping and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopScraping();
    await this.pool.destroy();
  }

  private async runLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = performance.now();
      let result: VllmMetrics | undefined;
      let failure: InstanceRequestError | undefined;
      try {
        result = await this.scrape(signal);
      } catch (error) {
        failure = error instanceof InstanceRequestError ? error : new InstanceRequestError(this.id, "parse", `scrape failed: ${describeError(error)}`);
      }
      if (signal.aborted) break;
      try {
        if (result !== undefined) {
          this.failures = 0;
          this.last = result.snapshot;
          this.lastErr = undefined;
          this.options.onSnapshot?.(result.snapshot, result);
        } else if (failure !== undefined) {
          this.failures++;
          this.lastErr = failure;
          this.options.onScrapeError?.(failure, this.failures);
        }
      } catch (error) {
        // A throwing callback is a bug in the host: stop scraping and fail loudly.
        setImmediate(() => {
          throw error;
        });
        break;
      }
      const wait = this.interval_ms - (performance.now() - started);
      await pause(Math.max(0, wait), signal);
    }
  }

  private json(text: string, path: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw new InstanceRequestError(this.id, "parse", `${path} is not JSON: ${clip(text)}`);
    }
  }

  private async request(method: "GET" | "POST", path: string, timeout_s: number, signal: AbortSignal | undefined): Promise<{ status: number; text: string }> {
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, timeout_s * 1000);
    const onAbort = (): void => ac.abort();
    if (signal?.aborted) ac.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const res = await this.pool.request({ method, path: this.prefix + path, headers: this.headers, signal: ac.signal });
      const text = await res.body.text();
      if (res.statusCode < 200 || res.statusCode >= 300) {
        let detail = "";
        if (text.trim() !== "") {
          try {
            detail = `: ${errorMessage(JSON.parse(text))}`;
          } catch {
            detail = `: ${clip(text)}`;
          }
        }
        throw new InstanceRequestError(this.id, "http", `${method} ${path} answered HTTP ${res.statusCode}${detail}`, res.statusCode);
      }
      return { status: res.statusCode, text };
    } catch (error) {
      if (error instanceof InstanceRequestError) throw error;
      if (timedOut) throw new InstanceRequestError(this.id, "timeout", `${method} ${path}: no answer within ${timeout_s} s`);
      if (ac.signal.aborted) throw new InstanceRequestError(this.id, "aborted", `${method} ${path} cancelled`);
      throw new InstanceRequestError(this.id, "connect", `${method} ${path} failed: ${describeError(error)}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
