/** Per-model traffic statistics, as kvcached's router keeps them: request rate, latency, success,
 *  and how long the model has been idle — the signals sleep decisions and dashboards use. */
export interface ModelTraffic {
  model: string;
  requests: number;
  completed: number;
  failed: number;
  rejected: number;
  /** Mean arrival-to-finish latency of completed calls. */
  mean_latency_s: number;
  /** Requests per second between the model's first and last request. */
  rate_per_s: number;
  /** Requests per second over the last `window_s` before `at_s`. */
  recent_rate_per_s: number;
  /** completed / (completed + failed + rejected). */
  success_rate: number;
  /** Time since the model's last request. */
  idle_s: number;
  /** Lifecycle transitions of the model's instances. */
  sleeps: number;
  wakes: number;
}

class Counter {
  requests = 0;
  completed = 0;
  failed = 0;
  rejected = 0;
  latency_sum_s = 0;
  first_s = Infinity;
  last_s = -Infinity;
  sleeps = 0;
  wakes = 0;
  /** Arrival times, oldest first from `recentHead`; entries older than the window are dropped
   *  from the front (amortised O(1) per arrival). */
  recent: number[] = [];
  recentHead = 0;
}

export class ModelTrafficStats {
  private readonly models = new Map<string, Counter>();

  constructor(private readonly window_s = 60) {}

  private of(model: string): Counter {
    let c = this.models.get(model);
    if (!c) {
      c = new Counter();
      this.models.set(model, c);
    }
    return c;
  }

  arrived(model: string, at_s: number): void {
    const c = this.of(model);
    c.requests++;
    if (at_s < c.first_s) c.first_s = at_s;
    c.last_s = at_s;
    c.recent.push(at_s);
    this.prune(c, at_s);
  }

  private prune(c: Counter, at_s: number): void {
    while (c.recentHead < c.recent.length && c.recent[c.recentHead] < at_s - this.window_s) c.recentHead++;
    if (c.recentHead > 1024 && c.recentHead * 2 > c.recent.length) {
      c.recent = c.recent.slice(c.recentHead);
      c.recentHead = 0;
    }
  }

  closed(model: string, status: "finished" | "failed" | "rejected", latency_s: number): void {
    const c = this.of(model);
    if (status === "finished") {
      c.completed++;
      c.latency_sum_s += latency_s;
    } else if (status === "failed") c.failed++;
    else c.rejected++;
  }

  transition(model: string, kind: "sleep" | "wake"): void {
    const c = this.of(model);
    if (kind === "sleep") c.sleeps++;
    else c.wakes++;
  }

  snapshot(at_s: number): ModelTraffic[] {
    return [...this.models.entries()].map(([model, c]) => {
      const span = c.last_s - c.first_s;
      const closed = c.completed + c.failed + c.rejected;
      return {
        model,
        requests: c.requests,
        completed: c.completed,
        failed: c.failed,
        rejected: c.rejected,
        mean_latency_s: c.completed > 0 ? c.latency_sum_s / c.completed : 0,
        rate_per_s: span > 0 ? (c.requests - 1) / span : 0,
        recent_rate_per_s: c.recent.slice(c.recentHead).filter((t) => t >= at_s - this.window_s).length / this.window_s,
        success_rate: closed > 0 ? c.completed / closed : 0,
        idle_s: c.requests > 0 ? Math.max(0, at_s - c.last_s) : 0,
        sleeps: c.sleeps,
        wakes: c.wakes,
      };
    });
  }
}
