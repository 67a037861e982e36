import type { KeyEntry } from "../auth/key-file.ts";
import type { RedisLink } from "./redis-link.ts";

/** Takes a slot of a key's max_concurrency across the replicas, atomically: a hash per key holds
 *  each replica's calls in flight; the fields of replicas whose heartbeat key is gone (dead) are
 *  dropped, the live ones summed, and a slot taken only below the limit. KEYS[1] = the key's hash;
 *  ARGV = this replica, the limit, the heartbeat keys' prefix. Returns 1 (taken) or 0. */
const ACQUIRE_LUA = `
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  local replica = fields[i]
  if replica == ARGV[1] or redis.call('EXISTS', ARGV[3] .. replica) == 1 then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], replica)
  end
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[1], 3600000)
return 1
`;

/** Gives a slot back (never below zero: Redis may have restarted empty meanwhile). */
const RELEASE_LUA = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n
`;

type Scripts = {
  tandemSlotAcquire(key: string, replica: string, limit: string, beats: string): Promise<number>;
  tandemSlotRelease(key: string, replica: string): Promise<number>;
};

/** `max_concurrency` shared by the replicas (docs/gateway-auth.md): every admission takes a slot in
 *  Redis, so N replicas never have more than the limit in flight under one key between them, and a
 *  dead replica's slots are freed once its heartbeat expires. While Redis is unreachable `acquire`
 *  answers undefined and the gateway counts its own calls only; when Redis is back, `resync` sets
 *  this replica's fields to its calls in flight (the releases lost meanwhile, or a Redis that
 *  restarted empty). */
export class RedisConcurrency {
  /** Keys this replica has held slots of (their fields are rewritten on resync). */
  private readonly touched = new Set<string>();

  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
    private readonly replica: string,
  ) {
    link.commands.defineCommand("tandemSlotAcquire", { numberOfKeys: 1, lua: ACQUIRE_LUA });
    link.commands.defineCommand("tandemSlotRelease", { numberOfKeys: 1, lua: RELEASE_LUA });
  }

  /** true: a slot was taken; false: the key is at its limit; undefined: Redis unreachable. */
  async acquire(key: KeyEntry, limit: number): Promise<boolean | undefined> {
    if (!this.link.up) return undefined;
    this.touched.add(key.sha256);
    try {
      return (await this.scripts().tandemSlotAcquire(this.hash(key.sha256), this.replica, String(limit), `${this.prefix}replica:`)) === 1;
    } catch {
      return undefined;
    }
  }

  release(key: KeyEntry): void {
    if (!this.link.up) return; // resync sets the field when Redis is back
    this.scripts()
      .tandemSlotRelease(this.hash(key.sha256), this.replica)
      .catch(() => {});
  }

  /** After an outage: this replica's field of every key it used = its calls in flight now. */
  async resync(inFlight: ReadonlyMap<string, number>): Promise<void> {
    const multi = this.link.commands.multi();
    for (const sha of new Set([...this.touched, ...inFlight.keys()])) {
      const n = inFlight.get(sha) ?? 0;
      if (n > 0) multi.hset(this.hash(sha), this.replica, n).pexpire(this.hash(sha), 3_600_000);
      else multi.hdel(this.hash(sha), this.replica);
    }
    await multi.exec().catch(() => {});
  }

  private hash(sha: string): string {
    return `${this.prefix}slots:${sha}`;
  }

  private scripts(): Scripts {
    return this.link.commands as unknown as Scripts;
  }
}
