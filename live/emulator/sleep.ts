import type { EngineLoop } from "./engine-loop.ts";

export type SleepState = "awake" | "draining" | "asleep" | "waking";

/** vLLM sleep mode (`POST /sleep`, `POST /wake_up`, `GET /is_sleeping`) over the engine's
 *  sleep/wake (KV cache discarded, capacity 0 while asleep). Transitions run one after another:
 *
 *  - sleep: new generation requests are refused (503) at once; the engine finishes what it holds
 *    ("draining"), then sleeps; the /sleep response comes when it is asleep.
 *  - wake_up: takes the wake latency (model seconds, so wall = latency / speedup) to reload
 *    weights; requests are refused until it is done; the /wake_up response comes when awake.
 *  Sleeping while asleep and waking while awake are no-ops. */
/** What /wake_up?tags= may name: the weights, then the KV cache (vLLM's two allocator tags). */
export const WAKE_TAGS = ["weights", "kv_cache"] as const;
export type WakeTag = (typeof WAKE_TAGS)[number];

export class SleepControl {
  private current: SleepState = "awake";
  /** Sleep level of the last /sleep (1: weights offloaded, 2: discarded). */
  private sleepLevel: 1 | 2 = 1;
  /** Tags still asleep while asleep (both after /sleep; a tagged /wake_up removes some). */
  private readonly asleepTags = new Set<WakeTag>();
  private chain: Promise<void> = Promise.resolve();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; done: () => void }>();

  constructor(
    private readonly loop: EngineLoop,
    private readonly wakeLatency_s: number,
    private readonly speedup: number,
  ) {}

  get state(): SleepState {
    return this.current;
  }

  /** Generation requests are served only when awake. */
  get accepting(): boolean {
    return this.current === "awake";
  }

  /** What `GET /is_sleeping` says: true from the moment the engine sleeps until it is awake again. */
  get isSleeping(): boolean {
    return this.current === "asleep" || this.current === "waking";
  }

  get level(): 1 | 2 {
    return this.sleepLevel;
  }

  /** `abortInFlight` runs once new work is refused (vLLM's mode=abort); then the engine drains
   *  what it still holds (mode=wait) and sleeps. */
  sleep(level: 1 | 2 = 1, abortInFlight?: () => void): Promise<void> {
    if (this.current === "awake") this.current = "draining"; // refuse new work from now on
    return this.enqueue(async () => {
      if (this.current === "asleep") return;
      this.current = "draining";
      abortInFlight?.();
      await this.loop.whenIdle();
      if (!this.loop.engine.sleep()) throw new Error(`invariant violated: engine ${this.loop.engine.id} idle but would not sleep`);
      this.sleepLevel = level;
      for (const tag of WAKE_TAGS) this.asleepTags.add(tag);
      this.current = "asleep";
    });
  }

  /** Wakes the given tags (all when none): reloading the weights takes the wake latency, the KV
   *  cache is reallocated at once; the engine serves again once both are awake. */
  wakeUp(tags: readonly WakeTag[] = WAKE_TAGS): Promise<void> {
    return this.enqueue(async () => {
      if (this.current === "awake") return;
      const waking = tags.filter((t) => this.asleepTags.has(t));
      if (waking.includes("weights")) {
        this.current = "waking";
        await this.delay((this.wakeLatency_s / this.speedup) * 1000);
      }
      for (const t of waking) this.asleepTags.delete(t);
      if (this.asleepTags.size > 0) {
        this.current = "asleep";
        return;
      }
      this.loop.engine.wake();
      this.current = "awake";
    });
  }

  /** Ends pending waits at once (server shutdown). */
  stop(): void {
    for (const entry of this.timers) {
      clearTimeout(entry.timer);
      entry.done();
    }
    this.timers.clear();
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    const run = this.chain.then(operation);
    this.chain = run.catch(() => {});
    return run;
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
        done: resolve,
      };
      this.timers.add(entry);
    });
  }
}
