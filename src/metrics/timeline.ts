/** Per-instance timelines: running, waiting, KV usage and awake/asleep over time, sampled from the
 *  snapshots the hosts report (`instanceObserved`), bounded in size whatever the run's length.
 *
 *  Sampling rule (deterministic, no allocation per snapshot):
 *  - a snapshot is *taken* when it comes at least `interval_s` after the last taken one of its
 *    instance (scraped mode: every scrape; oracle mode, where snapshots follow every engine step:
 *    the first one of each interval). Later snapshots that arrive out of order are never taken, so
 *    the samples are strictly time-ordered;
 *  - taken snapshots are numbered k = 0, 1, 2, …; while the buffer has room every one with
 *    k % stride = 0 is kept (stride starts at 1). When the buffer is full, every other kept sample
 *    is dropped (those with k % (2·stride) ≠ 0) and the stride doubles. So the kept samples are
 *    always evenly spaced in k, one per `interval_s × stride`;
 *  - the instance's latest snapshot (the final scrape at the end of the run) is always the last
 *    point; when the buffer is full it replaces the last kept sample.
 *  At most `max_points` points per instance come out. */
import type { InstanceSnapshot } from "../core/types.ts";

/** What the report holds for one instance (columns of equal length, time-ordered). */
export interface InstanceTimelineData {
  instance: string;
  /** Nominal spacing of the kept samples: the observation interval × the decimation stride. */
  sample_interval_s: number;
  t_s: number[];
  running: number[];
  waiting: number[];
  kv_usage: number[];
  awake: boolean[];
}

export interface TimelineOptions {
  /** Minimum spacing of taken snapshots, in seconds (the observation interval). */
  interval_s: number;
  /** Most points per instance (even, ≥ 4). */
  max_points: number;
}

/** Points over all instances the default budget allows: about 4,096 samples in a report. */
export const TIMELINE_TOTAL_POINTS = 4096;
export const TIMELINE_MAX_POINTS_PER_INSTANCE = 512;
export const TIMELINE_MIN_POINTS_PER_INSTANCE = 32;

/** The per-instance point budget for a cluster of `instances`: 4,096 over all of them, at least
 *  32 and at most 512 per instance, rounded down to an even number. */
export function timelinePointsPerInstance(instances: number): number {
  const share = Math.floor(TIMELINE_TOTAL_POINTS / Math.max(1, instances));
  const points = Math.min(TIMELINE_MAX_POINTS_PER_INSTANCE, Math.max(TIMELINE_MIN_POINTS_PER_INSTANCE, share));
  return points - (points % 2);
}

/** Allowance for float drift of scrape times (now + interval repeated). */
const INTERVAL_SLACK = 1e-9;

export class InstanceTimeline {
  private readonly t_s: Float64Array;
  private readonly running: Int32Array;
  private readonly waiting: Int32Array;
  private readonly kv: Float64Array;
  private readonly awake: Uint8Array;
  private size = 0;
  private stride = 1;
  private taken = 0;
  private nextAt_s = -Infinity;
  // The latest snapshot seen (by at_s), for the final point.
  private lastAt_s = -Infinity;
  private lastRunning = 0;
  private lastWaiting = 0;
  private lastKv = 0;
  private lastAwake = 1;

  constructor(
    readonly instance: string,
    private readonly options: TimelineOptions,
  ) {
    const cap = options.max_points;
    if (!(Number.isInteger(cap) && cap >= 4 && cap % 2 === 0)) throw new Error(`timeline: max_points must be an even integer ≥ 4, got ${cap}`);
    if (!(options.interval_s > 0)) throw new Error(`timeline: interval_s must be > 0, got ${options.interval_s}`);
    this.t_s = new Float64Array(cap);
    this.running = new Int32Array(cap);
    this.waiting = new Int32Array(cap);
    this.kv = new Float64Array(cap);
    this.awake = new Uint8Array(cap);
  }

  /** Hot path: a few comparisons and typed-array writes, no allocation. */
  observe(s: InstanceSnapshot): void {
    if (s.at_s >= this.lastAt_s) {
      this.lastAt_s = s.at_s;
      this.lastRunning = s.running;
      this.lastWaiting = s.waiting;
      this.lastKv = s.kv_usage;
      this.lastAwake = s.awake ? 1 : 0;
    }
    if (!(s.at_s >= this.nextAt_s)) return;
    this.nextAt_s = s.at_s + this.options.interval_s * (1 - INTERVAL_SLACK);
    const k = this.taken++;
    if (k % this.stride !== 0) return;
    if (this.size === this.t_s.length) {
      this.halve();
      if (k % this.stride !== 0) return;
    }
    const i = this.size++;
    this.t_s[i] = s.at_s;
    this.running[i] = s.running;
    this.waiting[i] = s.waiting;
    this.kv[i] = s.kv_usage;
    this.awake[i] = s.awake ? 1 : 0;
  }

  /** Keeps kept samples 0, 2, 4, … (those with k a multiple of the doubled stride). */
  private halve(): void {
    let j = 0;
    for (let i = 0; i < this.size; i += 2, j++) {
      this.t_s[j] = this.t_s[i];
      this.running[j] = this.running[i];
      this.waiting[j] = this.waiting[i];
      this.kv[j] = this.kv[i];
      this.awake[j] = this.awake[i];
    }
    this.size = j;
    this.stride *= 2;
  }

  /** The kept points, the latest snapshot last. */
  data(): InstanceTimelineData {
    const n = this.size;
    const out: InstanceTimelineData = {
      instance: this.instance,
      sample_interval_s: this.options.interval_s * this.stride,
      t_s: Array.from(this.t_s.subarray(0, n)),
      running: Array.from(this.running.subarray(0, n)),
      waiting: Array.from(this.waiting.subarray(0, n)),
      kv_usage: Array.from(this.kv.subarray(0, n)),
      awake: Array.from(this.awake.subarray(0, n), (a) => a === 1),
    };
    if (n === 0 || this.lastAt_s > this.t_s[n - 1]) {
      if (this.lastAt_s === -Infinity) return out;
      if (n === this.t_s.length) {
        for (const column of [out.t_s, out.running, out.waiting, out.kv_usage, out.awake]) column.pop();
      }
      out.t_s.push(this.lastAt_s);
      out.running.push(this.lastRunning);
      out.waiting.push(this.lastWaiting);
      out.kv_usage.push(this.lastKv);
      out.awake.push(this.lastAwake === 1);
    }
    return out;
  }
}
