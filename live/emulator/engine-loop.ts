import { performance } from "node:perf_hooks";
import type { TokenIdentity } from "../../src/core/prefix-identity.ts";
import type { LlmCall } from "../../src/core/types.ts";
import { Engine, type EngineListener } from "../../sim/engine/engine.ts";
import type { EngineRequest } from "../../sim/engine/request.ts";
import type { ConfiguredInstance } from "../../src/model/instance.ts";

/** What a job's owner (an HTTP response) hears from the loop. Times are model seconds. */
export interface JobSink {
  /** The engine took the job into its waiting queue (it was not rejected). */
  accepted(job: Job): void;
  /** `count` new output tokens (usually 1) sampled at the end of the step ending `at_s`. */
  tokens(job: Job, count: number, at_s: number): void;
  /** The job produced its last token at `at_s` (after the `tokens` call for it). */
  finished(job: Job, at_s: number): void;
  /** The engine refused the job at enqueue (reason: an engine REJECT_* code). */
  rejected(job: Job, reason: string): void;
}

/** One request inside the emulator. */
export class Job {
  /** Model time the request arrived (set by `EngineLoop.submit`). */
  arrival_s = NaN;
  first_s = NaN;
  finish_s = NaN;
  /** Tokens handed to the sink so far. */
  sent = 0;
  request: EngineRequest | undefined;
  /** Finished, rejected or aborted: the loop will not call the sink again. */
  closed = false;
  aborted = false;

  constructor(
    readonly call: LlmCall,
    readonly priority: number,
    readonly identity: TokenIdentity,
    readonly sink: JobSink,
  ) {}

  get id(): string {
    return this.call.id;
  }
}

export interface EngineLoopOptions {
  /** Model seconds per wall second: 10 runs the engine 10× faster than real time. */
  speedup: number;
  /** Wall milliseconds before a deadline from which the loop polls (setImmediate) instead of
   *  sleeping in a timer, which fires up to ~1 ms early or late; 0 = timers only. */
  spinMs: number;
}

/** Runs a sim Engine in wall-clock time. The engine's own timeline is exact: a step that starts
 *  at model time t ends at t + d (its latency-model duration), and the next starts then; arrivals
 *  are stamped with the model time they reached the server and fed to the engine in time order with
 *  the step boundaries, exactly as the simulator's event loop does (arrivals win ties, a step
 *  starts when work arrives at an idle engine). Wall time only decides when the loop gets to run:
 *  each step end is scheduled against an absolute deadline (performance.now), so timer jitter
 *  delays the delivery of a step's tokens a little but never accumulates, and a late wake-up
 *  catches up every event already due, in order. Model time = wall elapsed × speedup. */
export class EngineLoop {
  readonly engine: Engine;
  private readonly jobs = new Map<string, Job>();
  /** Jobs that have produced their first token and not yet finished. */
  private readonly producing = new Set<Job>();
  private readonly arrivals: Job[] = [];
  private readonly pendingAborts: Job[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private stepEnd_s: number | undefined;
  private startAt_s: number | undefined;
  private readonly epoch_ms = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private pumpScheduled = false;
  private stopped = false;
  /** Latest model time an event was processed at (arrival stamps never go below it). */
  private lastEvent_s = 0;

  constructor(
    instance: ConfiguredInstance,
    private readonly options: EngineLoopOptions,
  ) {
    const listener: EngineListener = {
      firstToken: (at_s, request) => {
        const job = this.jobs.get(request.id);
        if (job === undefined) return;
        job.first_s = at_s;
        this.producing.add(job);
      },
      tokenGaps: () => {},
      finished: (at_s, request) => {
        const job = this.jobs.get(request.id);
        if (job !== undefined) job.finish_s = at_s;
      },
      rejected: (_at_s, request, reason) => {
        const job = this.jobs.get(request.id);
        if (job === undefined) return;
        this.jobs.delete(job.id);
        job.closed = true;
        job.sink.rejected(job, reason);
      },
    };
    this.engine = new Engine(instance.spec.id, instance.engine, instance.spec.max_model_len, instance.num_gpu_blocks, instance.latency, listener);
  }

  /** Model seconds since the loop started. */
  now_s(): number {
    return ((performance.now() - this.epoch_ms) / 1000) * this.options.speedup;
  }

  /** Jobs submitted and not yet finished, rejected or aborted. */
  get openJobs(): number {
    return this.jobs.size;
  }

  /** Hands a request to the engine, arriving at model time `arrival_s` (default now; never before
   *  an event already processed). The sink hears of it from the next pump on (a rejection
   *  included), never synchronously. */
  submit(job: Job, arrival_s = this.now_s()): void {
    if (this.stopped) throw new Error("invariant violated: submit to a stopped engine loop");
    job.arrival_s = Math.max(arrival_s, this.lastEvent_s);
    this.jobs.set(job.id, job);
    // Keep arrivals in time order (a request stamped earlier may finish parsing later).
    let at = this.arrivals.length;
    while (at > 0 && this.arrivals[at - 1].arrival_s > job.arrival_s) at--;
    this.arrivals.splice(at, 0, job);
    this.schedulePump();
  }

  /** The client went away: the request leaves the engine (its KV blocks are freed) at once when
   *  no step is running, else at the end of the current step. The sink is not called again. */
  abort(job: Job): void {
    if (job.closed) return;
    job.closed = true;
    job.aborted = true;
    this.jobs.delete(job.id);
    this.producing.delete(job);
    const waiting = this.arrivals.indexOf(job);
    if (waiting >= 0) {
      this.arrivals.splice(waiting, 1);
    } else if (this.engine.busy) {
      this.pendingAborts.push(job);
    } else {
      this.engine.abort(job.id);
      this.notifyIfIdle();
    }
  }

  /** Resolves once nothing is queued, running or arriving (immediately if so now). */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get idle(): boolean {
    return this.arrivals.length === 0 && !this.engine.busy && !this.engine.hasWork && this.startAt_s === undefined;
  }

  /** Stops the clock; the engine keeps its state but never steps again. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // setImmediate: arrivals read in the same I/O phase are all stamped before the loop runs.
    this.immediate = setImmediate(this.pump);
  }

  /** Processes every event due by now, in model-time order, then sleeps until the next one. */
  private readonly pump = (): void => {
    this.pumpScheduled = false;
    this.immediate = undefined;
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.now_s();
    for (;;) {
      const arrival = this.arrivals.length > 0 ? this.arrivals[0].arrival_s : Infinity;
      const end = this.stepEnd_s ?? Infinity;
      const start = this.startAt_s ?? Infinity;
      const next = Math.min(arrival, end, start);
      if (next > now) break;
      this.lastEvent_s = next;
      if (arrival <= end && arrival <= start) {
        this.enqueue(this.arrivals.shift()!, arrival);
      } else if (start <= end) {
        this.startAt_s = undefined;
        if (!this.engine.busy) this.startStep(start);
      } else {
        this.stepEnd_s = undefined;
        this.engine.finishStep(end);
        this.deliver(end);
        for (const job of this.pendingAborts) this.engine.abort(job.id);
        this.pendingAborts.length = 0;
        if (this.engine.hasWork) this.startStep(end);
      }
    }
    this.notifyIfIdle();
    this.sleepUntil(Math.min(this.stepEnd_s ?? Infinity, this.startAt_s ?? Infinity));
  };

  private enqueue(job: Job, at_s: number): void {
    job.request = this.engine.enqueue(at_s, job.call, job.priority, job.identity);
    if (!job.closed) job.sink.accepted(job);
    // As the simulator does: work arriving at an idle engine starts a step at the same time,
    // after every other arrival stamped with that time.
    if (!job.closed && !this.engine.busy && this.startAt_s === undefined && this.engine.hasWork) this.startAt_s = at_s;
  }

  private startStep(at_s: number): void {
    const duration = this.engine.startStep(at_s);
    if (duration === undefined) {
      if (this.engine.hasWork) throw new Error(`invariant violated: engine ${this.engine.id} has work but cannot schedule any of it`);
      return;
    }
    if (!(duration > 0 && duration < Infinity)) throw new Error(`invariant violated: step time must be positive, got ${duration}`);
    this.stepEnd_s = at_s + duration;
  }

  /** Hands each producing job its new tokens, and closes the ones that finished. */
  private deliver(at_s: number): void {
    for (const job of this.producing) {
      const request = job.request!;
      const fresh = request.output_done - job.sent;
      if (fresh > 0) {
        job.sent += fresh;
        job.sink.tokens(job, fresh, at_s);
        if (job.closed) continue; // the sink aborted it
      }
      if (!Number.isNaN(job.finish_s)) {
        this.producing.delete(job);
        this.jobs.delete(job.id);
        job.closed = true;
        job.sink.finished(job, job.finish_s);
      }
    }
  }

  private sleepUntil(due_s: number): void {
    if (due_s === Infinity || this.stopped || this.pumpScheduled) return;
    const wait_ms = ((due_s - this.now_s()) / this.options.speedup) * 1000;
    if (wait_ms > this.options.spinMs) {
      this.timer = setTimeout(this.pump, Math.max(1, wait_ms - this.options.spinMs));
    } else {
      this.pumpScheduled = true;
      this.immediate = setImmediate(this.pump);
    }
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length === 0 || !this.idle) return;
    const waiters = this.idleWaiters.splice(0);
    for (const resolve of waiters) resolve();
  }
}
