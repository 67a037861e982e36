import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { CallRow } from "../../../src/metrics/calls-csv.ts";
import type { Exposition } from "../../emulator/prometheus.ts";
import { GatewayError } from "../errors.ts";
import type { CallIdentity } from "../identity.ts";
import type { GenerationRequest } from "../request.ts";
import { PRIORITY_ORDER, loadKeyFile, type KeyEntry, type PriorityClass } from "./key-file.ts";
import type { RateLimits } from "./limits.ts";
import { TenantUsage, type RejectReason } from "./usage.ts";

/** max_concurrency's slots shared by replicas (shared-state/redis-concurrency.ts). */
export interface SharedConcurrency {
  /** true: a slot taken; false: the key is at its limit; undefined: unreachable (count locally). */
  acquire(key: KeyEntry, limit: number): Promise<boolean | undefined>;
  release(key: KeyEntry): void;
}

/** API keys for the gateway (`--keys FILE`, docs/gateway-auth.md): who a request is, what tenant and
 *  priority it may claim, and its rate and concurrency limits. Keys are looked up by the SHA-256 of
 *  the presented key and the digests compared with timingSafeEqual, so neither the lookup nor the
 *  comparison depends on how much of a guess is right; keys never reach a log or a metric (a key's
 *  label is its digest's first 8 hex digits). */
export class GatewayAuth {
  private keys: Map<string, KeyEntry>;
  private readonly byRequest = new WeakMap<IncomingMessage, KeyEntry>();
  /** Calls admitted and not yet closed: their key (for output tokens and concurrency). */
  private readonly open = new Map<string, KeyEntry>();
  private readonly inFlight = new Map<string, number>();
  readonly usage = new TenantUsage();
  /** With --redis: slots across replicas; without, the calls in flight here are all there are. */
  sharedConcurrency: SharedConcurrency | undefined;

  constructor(
    readonly file: string,
    keys: readonly KeyEntry[],
    private readonly limits: RateLimits,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.keys = indexKeys(keys);
  }

  get size(): number {
    return this.keys.size;
  }

  /** Reads the key file again (SIGHUP). A bad file keeps the keys in force and logs one line;
   *  calls in flight keep the key they were admitted with. */
  reload(): boolean {
    let keys: KeyEntry[];
    try {
      keys = loadKeyFile(this.file);
    } catch (error) {
      this.log(`tandem gateway: keys not reloaded, keeping the ${this.keys.size} in force: ${(error as Error).message}`);
      return false;
    }
    this.keys = indexKeys(keys);
    this.limits.retain(new Set(this.keys.keys()));
    this.log(`tandem gateway: reloaded ${this.keys.size} keys from ${this.file}`);
    return true;
  }

  /** The key of a request (`Authorization: Bearer KEY`), remembered for the request; 401 if absent or unknown. */
  authenticate(req: IncomingMessage): KeyEntry {
    const known = this.byRequest.get(req);
    if (known !== undefined) return known;
    const key = this.keyOf(req.headers);
    this.byRequest.set(req, key);
    return key;
  }

  private keyOf(headers: IncomingHttpHeaders): KeyEntry {
    const header = headers.authorization;
    const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (match === null) {
      this.usage.rejected("", "missing_api_key");
      throw unauthorized("You didn't provide an API key. Send it as `Authorization: Bearer KEY`.", "missing_api_key");
    }
    const digest = createHash("sha256").update(match[1], "utf8").digest();
    const entry = this.keys.get(digest.toString("hex"));
    if (entry === undefined || !timingSafeEqual(digest, Buffer.from(entry.sha256, "hex"))) {
      this.usage.rejected("", "invalid_api_key");
      throw unauthorized("Incorrect API key provided.", "invalid_api_key");
    }
    return entry;
  }

  /** The identity the call runs under: the key's tenant, and the priority class asked for (the
   *  key's default when none is). 403 when the request names another tenant or a class more urgent
   *  than the key allows; a class less urgent than the key's default is always allowed. A numeric
   *  vLLM priority below 0 (ahead of the default) needs a key that may use `high`. */
  authorize(key: KeyEntry, headers: IncomingHttpHeaders, request: GenerationRequest, identity: CallIdentity): CallIdentity {
    const named = headerValue(headers["x-tandem-tenant"]) ?? metadataValue(request.metadata?.tenant);
    if (named !== undefined && named !== key.tenant) {
      this.usage.rejected(key.tenant, "forbidden_tenant");
      throw forbidden(`This API key belongs to tenant "${key.tenant}"; it cannot send requests for "${named}".`, "forbidden_tenant", "x-tandem-tenant");
    }
    const asked = identity.priority_class;
    const priority_class: PriorityClass = asked ?? key.priority_classes[0];
    if (!allowedClass(key, priority_class)) {
      this.usage.rejected(key.tenant, "forbidden_priority");
      throw forbidden(
        `This API key may use priority classes ${key.priority_classes.join(", ")} (or lower); it cannot ask for "${priority_class}".`,
        "forbidden_priority",
        "x-tandem-priority-class",
      );
    }
    if (identity.priority !== undefined && identity.priority < 0 && !key.priority_classes.includes("high")) {
      this.usage.rejected(key.tenant, "forbidden_priority");
      throw forbidden(`This API key cannot raise its requests' priority (priority ${identity.priority} < 0).`, "forbidden_priority", "priority");
    }
    return { ...identity, tenant: key.tenant, priority_class };
  }

  /** Rate and concurrency limits for a call about to be admitted: undefined when it may go (it is
   *  then counted as in flight until `callClosed`), else the 429 to answer with. */
  async admit(key: KeyEntry, callId: string, prompt_tokens: number): Promise<GatewayError | undefined> {
    let slot: boolean | undefined;
    if (key.max_concurrency !== undefined) {
      slot = await this.sharedConcurrency?.acquire(key, key.max_concurrency);
      if (slot === false || (slot === undefined && (this.inFlight.get(key.sha256) ?? 0) >= key.max_concurrency)) {
        this.usage.rejected(key.tenant, "concurrency_limited");
        return tooMany(`This API key has ${key.max_concurrency} requests in flight (max_concurrency); retry when one ends.`, "concurrency_limited", 1);
      }
    }
    const wait_s = await this.limits.admit(key, prompt_tokens);
    if (wait_s > 0) {
      if (slot === true) this.sharedConcurrency!.release(key);
      this.usage.rejected(key.tenant, "rate_limited");
      const what = [key.requests_per_s !== undefined ? `${key.requests_per_s} requests/s` : "", key.tokens_per_s !== undefined ? `${key.tokens_per_s} tokens/s` : ""]
        .filter(Boolean)
        .join(", ");
      return tooMany(`Rate limit reached for this API key (${what}); retry after ${Math.ceil(wait_s)} s.`, "rate_limited", Math.ceil(wait_s));
    }
    this.open.set(callId, key);
    this.inFlight.set(key.sha256, (this.inFlight.get(key.sha256) ?? 0) + 1);
    this.usage.admitted(key.tenant);
    return undefined;
  }

  /** A call closed: its output tokens go to the key's bucket and its tenant's usage. */
  callClosed(row: CallRow): void {
    const key = this.open.get(row.call_id);
    if (key === undefined) return;
    this.open.delete(row.call_id);
    const n = (this.inFlight.get(key.sha256) ?? 1) - 1;
    if (n > 0) this.inFlight.set(key.sha256, n);
    else this.inFlight.delete(key.sha256);
    if (key.max_concurrency !== undefined) this.sharedConcurrency?.release(key);
    const output = row.output_tokens ?? 0;
    this.usage.closed(key.tenant, row.status, row.prompt_tokens, output);
    this.limits.charge(key, output);
  }

  /** Calls in flight per key label (for replicas to share). */
  inFlightByKey(): Map<string, number> {
    const out = new Map<string, number>();
    for (const key of this.keys.values()) {
      const n = this.inFlight.get(key.sha256);
      if (n !== undefined) out.set(key.id, n);
    }
    return out;
  }

  /** Calls in flight per key digest. */
  inFlightBySha(): ReadonlyMap<string, number> {
    return this.inFlight;
  }

  render(x: Exposition): void {
    this.usage.render(x);
  }
}

function indexKeys(keys: readonly KeyEntry[]): Map<string, KeyEntry> {
  return new Map(keys.map((k) => [k.sha256, k]));
}

function allowedClass(key: KeyEntry, c: PriorityClass): boolean {
  if (key.priority_classes.includes(c)) return true;
  return PRIORITY_ORDER.indexOf(c) > PRIORITY_ORDER.indexOf(key.priority_classes[0]);
}

function headerValue(h: string | string[] | undefined): string | undefined {
  const v = (Array.isArray(h) ? h[0] : h)?.trim();
  return v === undefined || v === "" ? undefined : v;
}

function metadataValue(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

function unauthorized(message: string, code: string): GatewayError {
  return new GatewayError(401, message, code, null, { "www-authenticate": 'Bearer realm="tandem"' });
}

function forbidden(message: string, code: string, param: string): GatewayError {
  return new GatewayError(403, message, code, param);
}

function tooMany(message: string, code: string, retry_s: number): GatewayError {
  return new GatewayError(429, message, code, null, { "retry-after": String(Math.max(1, retry_s)) });
}

export type { RejectReason };
