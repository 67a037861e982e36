import type { KeyEntry } from "./key-file.ts";

/** The rate limits of the API keys: a request bucket (`requests_per_s`, bursts of one second's
 *  worth) and a token bucket (`tokens_per_s`: prompt tokens charged at admission, output tokens
 *  as the call closes, so the level may go below zero and the next requests wait it out). */
export interface RateLimits {
  /** Seconds until a request of `prompt_tokens` could be admitted (0: admitted and charged). */
  admit(key: KeyEntry, prompt_tokens: number): number | Promise<number>;
  /** Tokens learnt after admission (output), charged without a check. */
  charge(key: KeyEntry, tokens: number): void;
  /** Forgets buckets of keys no longer configured (after a reload). */
  retain(keys: ReadonlySet<string>): void;
}

interface Bucket {
  requests: number;
  tokens: number;
  at_ms: number;
}

/** Buckets are full when a key is first seen. */
export function requestBurst(key: KeyEntry): number {
  return Math.max(1, key.requests_per_s ?? 1);
}

export function tokenBurst(key: KeyEntry): number {
  return key.tokens_per_s ?? 0;
}

/** Token buckets in this process (one gateway, or a replica while Redis is unreachable). */
export class LocalRateLimits implements RateLimits {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now_ms: () => number = () => performance.now()) {}

  admit(key: KeyEntry, prompt_tokens: number): number {
    if (key.requests_per_s === undefined && key.tokens_per_s === undefined) return 0;
    const b = this.refill(key);
    let wait = 0;
    if (key.requests_per_s !== undefined && b.requests < 1) wait = Math.max(wait, (1 - b.requests) / key.requests_per_s);
    // Admitted while the token bucket is above zero; the prompt may take it below.
    if (key.tokens_per_s !== undefined && b.tokens <= 0) wait = Math.max(wait, (1 - b.tokens) / key.tokens_per_s);
    if (wait > 0) return wait;
    if (key.requests_per_s !== undefined) b.requests -= 1;
    if (key.tokens_per_s !== undefined) b.tokens -= prompt_tokens;
    return 0;
  }

  charge(key: KeyEntry, tokens: number): void {
    if (key.tokens_per_s === undefined || tokens <= 0) return;
    this.refill(key).tokens -= tokens;
  }

  retain(keys: ReadonlySet<string>): void {
    for (const sha of this.buckets.keys()) if (!keys.has(sha)) this.buckets.delete(sha);
  }

  private refill(key: KeyEntry): Bucket {
    const now = this.now_ms();
    let b = this.buckets.get(key.sha256);
    if (b === undefined) {
      b = { requests: requestBurst(key), tokens: tokenBurst(key), at_ms: now };
      this.buckets.set(key.sha256, b);
      return b;
    }
    const dt = (now - b.at_ms) / 1000;
    b.at_ms = now;
    if (key.requests_per_s !== undefined) b.requests = Math.min(requestBurst(key), b.requests + dt * key.requests_per_s);
    if (key.tokens_per_s !== undefined) b.tokens = Math.min(tokenBurst(key), b.tokens + dt * key.tokens_per_s);
    return b;
  }
}
