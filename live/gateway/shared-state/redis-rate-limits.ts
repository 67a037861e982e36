import type { KeyEntry } from "../auth/key-file.ts";
import { LocalRateLimits, requestBurst, tokenBurst, type RateLimits } from "../auth/limits.ts";
import type { RedisLink } from "./redis-link.ts";

/** The token buckets of limits.ts as one atomic script over a Redis hash per key, timed by Redis's
 *  own clock (replicas' clocks may differ): ARGV = request rate, request burst, token rate, token
 *  burst (rates 0 = no such limit), tokens, mode (admit | charge). Returns the wait in seconds. */
const BUCKET_LUA = `
local b = redis.call('HMGET', KEYS[1], 'r', 't', 'at')
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local rr, rb, tr, tb = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local cost = tonumber(ARGV[5])
local r, t, at = tonumber(b[1]), tonumber(b[2]), tonumber(b[3])
if at == nil then r = rb; t = tb; at = now end
local dt = math.max(0, now - at) / 1000
if rr > 0 then r = math.min(rb, r + dt * rr) end
if tr > 0 then t = math.min(tb, t + dt * tr) end
local wait = 0
if ARGV[6] == 'admit' then
  if rr > 0 and r < 1 then wait = math.max(wait, (1 - r) / rr) end
  if tr > 0 and t <= 0 then wait = math.max(wait, (1 - t) / tr) end
  if wait == 0 then
    if rr > 0 then r = r - 1 end
    if tr > 0 then t = t - cost end
  end
elseif tr > 0 then
  t = t - cost
end
redis.call('HSET', KEYS[1], 'r', tostring(r), 't', tostring(t), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 600000)
return tostring(wait)
`;

/** Rate limits shared by the replicas: the buckets live in Redis, so N replicas admit a key's
 *  `requests_per_s` between them, not N times it. While Redis is unreachable each replica falls
 *  back to its own buckets (a key may then get up to N times its rate until Redis returns). */
export class RedisRateLimits implements RateLimits {
  private readonly local = new LocalRateLimits();
  fallbacks = 0;

  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
  ) {
    link.commands.defineCommand("tandemBucket", { numberOfKeys: 1, lua: BUCKET_LUA });
  }

  async admit(key: KeyEntry, prompt_tokens: number): Promise<number> {
    if (key.requests_per_s === undefined && key.tokens_per_s === undefined) return 0;
    if (!this.link.up) return this.fallback(key, prompt_tokens);
    try {
      return Number(await this.run(key, prompt_tokens, "admit"));
    } catch {
      return this.fallback(key, prompt_tokens);
    }
  }

  charge(key: KeyEntry, tokens: number): void {
    if (key.tokens_per_s === undefined || tokens <= 0) return;
    if (!this.link.up) {
      this.local.charge(key, tokens);
      return;
    }
    this.run(key, tokens, "charge").catch(() => this.local.charge(key, tokens));
  }

  retain(keys: ReadonlySet<string>): void {
    this.local.retain(keys);
  }

  private fallback(key: KeyEntry, prompt_tokens: number): number {
    this.fallbacks++;
    return this.local.admit(key, prompt_tokens);
  }

  private run(key: KeyEntry, tokens: number, mode: "admit" | "charge"): Promise<string> {
    const c = this.link.commands as unknown as { tandemBucket(...args: string[]): Promise<string> };
    return c.tandemBucket(
      `${this.prefix}bucket:${key.sha256}`,
      String(key.requests_per_s ?? 0),
      String(requestBurst(key)),
      String(key.tokens_per_s ?? 0),
      String(tokenBurst(key)),
      String(tokens),
      mode,
    );
  }
}
