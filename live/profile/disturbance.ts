import { performance } from "node:perf_hooks";

/** An interval during which the profiler's own process did not run (its event loop was blocked, or
 *  the OS did not schedule it), in the sweep's clock (model seconds). Whatever the server sent
 *  meanwhile was read only at its end, so a time read right after it may be late by up to its
 *  length. */
export interface Stall {
  start_s: number;
  end_s: number;
}

/** Watches the profiler's event loop with a 1 ms interval timer and records every interval it
 *  fired late by more than `threshold_ms`. With an in-process emulator this also covers the
 *  emulator (one event loop), so every late delivery shows up here. */
export class StallMonitor {
  private timer: NodeJS.Timeout | undefined;
  private last_ms = 0;
  private readonly found: Stall[] = [];

  constructor(
    /** Wall ms → the sweep's clock (model seconds). */
    private readonly toClock: (wall_ms: number) => number,
    private readonly threshold_ms = 0.3,
  ) {}

  start(): void {
    this.found.length = 0;
    this.last_ms = performance.now();
    this.timer ??= setInterval(() => {
      const now = performance.now();
      const lag = now - this.last_ms - 1;
      if (lag > this.threshold_ms) this.found.push({ start_s: this.toClock(now - lag), end_s: this.toClock(now) });
      this.last_ms = now;
    }, 1);
  }

  /** Stops watching; returns the stalls seen since start(), including one going on until now (a
   *  stall that ends with the batch's last reads is otherwise only seen at the next tick). */
  stop(): Stall[] {
    if (this.timer !== undefined) {
      const now = performance.now();
      const lag = now - this.last_ms - 1;
      if (lag > this.threshold_ms) this.found.push({ start_s: this.toClock(now - lag), end_s: this.toClock(now) });
      clearInterval(this.timer);
    }
    this.timer = undefined;
    return this.found.slice();
  }
}

/** What the disturbance check needs of one request: read times (sweep clock) and the tokens the
 *  first and last chunk carried. */
export interface DeliveredRequest {
  first_s: number;
  last_s: number;
  first_chunk_tokens: number;
  last_chunk_tokens: number;
  output_tokens: number;
}

export interface DisturbanceInput {
  /** The batch's time zero (the gate's token, or the send time without a gate). */
  start_s: number;
  /** True when start_s is a read time (the gate's token), which can be late too. */
  start_is_read: boolean;
  requests: readonly DeliveredRequest[];
  stalls: readonly Stall[];
  /** A read that follows a stall is suspect when the stall could have delayed it by more than
   *  this fraction of the time it ends (TTFT for first tokens and the gate, E2E − TTFT for last
   *  tokens). */
  tolerance: number;
  /** A stall ending this long before a read (sweep clock) still counts (the monitor's resolution). */
  slack_s: number;
}

/** Why a measured static batch cannot be trusted (a delivery was late), or undefined.
 *  - a request's first or last chunk carried several tokens: the server (or this process) held
 *    tokens back for at least one step, so that read is late (each engine step streams one token);
 *  - TTFT below half the request's own TPOT: a prefill step is never shorter than a decode step, so
 *    the gate's token was read late;
 *  - a read that came right after a stall of this process longer than `tolerance` × the time it
 *    measures. */
export function batchDisturbance(input: DisturbanceInput): string | undefined {
  const { requests, stalls, tolerance, slack_s } = input;
  const delayBefore = (t: number): number => {
    let worst = 0;
    for (const s of stalls) if (s.start_s <= t && t <= s.end_s + slack_s) worst = Math.max(worst, t - s.start_s);
    return worst;
  };
  const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
  let minTtft = Infinity;
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    const ttft = r.first_s - input.start_s;
    const e2e = r.last_s - input.start_s;
    minTtft = Math.min(minTtft, ttft);
    if (r.first_chunk_tokens > 1) return `request ${i}'s first token arrived together with ${r.first_chunk_tokens - 1} more (a delivery was held back)`;
    if (r.output_tokens >= 2) {
      if (r.last_chunk_tokens > 1) return `request ${i}'s last token arrived together with ${r.last_chunk_tokens - 1} more (a delivery was held back)`;
      const tpot = (e2e - ttft) / (r.output_tokens - 1);
      if (ttft < 0.5 * tpot) return `request ${i}'s TTFT ${ms(ttft)} is below half its TPOT ${ms(tpot)} (the batch's start was read late)`;
      const late = delayBefore(r.last_s);
      if (late > tolerance * (e2e - ttft)) return `request ${i}'s last token was read right after a ${ms(late)} stall of this process`;
    }
    const late = delayBefore(r.first_s);
    if (late > tolerance * ttft) return `request ${i}'s first token was read right after a ${ms(late)} stall of this process`;
  }
  if (input.start_is_read && requests.length > 0) {
    const late = delayBefore(input.start_s);
    if (late > tolerance * minTtft) return `the gate's token was read right after a ${ms(late)} stall of this process`;
  }
  return undefined;
}
