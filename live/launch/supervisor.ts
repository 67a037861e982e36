import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../src/core/errors.ts";
import { describeExit, EngineProcess, type EngineExit } from "./engine-process.ts";
import { waitHealthy } from "./health.ts";
import type { LaunchPlan, PlannedInstance } from "./plan.ts";

/** What the supervisor reports as it goes (the CLI prints them; tests and the bench time them). */
export type LaunchEvent =
  | { kind: "started"; instance: string; attempt: number; pid: number | undefined }
  | { kind: "healthy"; instance: string; attempt: number; after_start_s: number; after_exit_s?: number }
  | { kind: "exited"; instance: string; exit: EngineExit; description: string }
  | { kind: "restarting"; instance: string; restart: number; backoff_s: number }
  | { kind: "gave_up"; instance: string; restarts: number }
  | { kind: "stopped"; instance: string };

export type EngineState = "starting" | "healthy" | "restarting" | "failed" | "stopped";

export interface EngineStatus {
  id: string;
  url: string;
  state: EngineState;
  pid: number | undefined;
  restarts: number;
  log_file: string;
}

interface Engine {
  plan: PlannedInstance;
  process: EngineProcess | undefined;
  state: EngineState;
  attempt: number;
  restarts: number;
  /** Restarts since the engine last stayed healthy reset_after_s: sets the backoff. */
  inARow: number;
  healthySince_ms: number | undefined;
  exitedAt_ms: number | undefined;
  timer: NodeJS.Timeout | undefined;
  health: AbortController | undefined;
}

/** Starts every engine of a plan, waits for each to answer /health, then keeps them up: an engine
 *  that dies is restarted with exponential backoff. `stop()` ends every process group. */
export class Supervisor {
  private readonly engines: Engine[];
  private supervising = false;
  private stopping = false;
  private readonly killAllNow = () => {
    for (const engine of this.engines) engine.process?.killNow();
  };

  private readonly onEvent: (event: LaunchEvent) => void;

  constructor(
    readonly plan: LaunchPlan,
    onEvent: (event: LaunchEvent) => void = () => {},
  ) {
    // Every event also rewrites launch.json, so that other tools (and tests) see pids and states.
    this.onEvent = (event) => {
      this.writeState();
      onEvent(event);
    };
    this.engines = plan.instances.map((p) => ({
      plan: p,
      process: undefined,
      state: "starting",
      attempt: 0,
      restarts: 0,
      inARow: 0,
      healthySince_ms: undefined,
      exitedAt_ms: undefined,
      timer: undefined,
      health: undefined,
    }));
  }

  /** Starts every engine and waits until all are healthy. An engine that exits or stays unhealthy
   *  past the timeout stops them all and throws an InputError naming it and its log file. */
  async start(): Promise<void> {
    // Whatever happens to the launcher, no engine outlives it (an exit handler must be synchronous).
    process.on("exit", this.killAllNow);
    mkdirSync(this.plan.log_dir, { recursive: true });
    try {
      for (const engine of this.engines) {
        const config = engine.plan.instance_config;
        if (config) writeFileSync(config.path, `${JSON.stringify(config.document, null, 2)}\n`);
        this.spawn(engine);
      }
      await Promise.all(this.engines.map((engine) => this.firstHealth(engine)));
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.supervising = true;
  }

  /** Stops every engine (SIGTERM to its process group, SIGKILL after stop_timeout_s). Once. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.all(
      this.engines.map(async (engine) => {
        clearTimeout(engine.timer);
        engine.health?.abort();
        const running = engine.process;
        if (running) await running.stop(this.plan.stop_timeout_s);
        if (engine.state !== "stopped") {
          engine.state = "stopped";
          this.onEvent({ kind: "stopped", instance: engine.plan.id });
        }
      }),
    );
    process.off("exit", this.killAllNow);
  }

  status(): EngineStatus[] {
    return this.engines.map((e) => ({ id: e.plan.id, url: e.plan.url, state: e.state, pid: e.process?.pid, restarts: e.restarts, log_file: e.plan.log_file }));
  }

  /** LOG_DIR/launch.json: every engine's id, URL, state, pid, restarts and log file, now. */
  private writeState(): void {
    const file = join(this.plan.log_dir, "launch.json");
    try {
      writeFileSync(`${file}.tmp`, `${JSON.stringify({ engines: this.status() }, null, 2)}\n`);
      renameSync(`${file}.tmp`, file); // readers never see half a file
    } catch {
      // The log folder went away: the state file is a convenience, the engines carry on.
    }
  }

  private spawn(engine: Engine): EngineProcess {
    engine.attempt++;
    const proc = new EngineProcess(engine.plan.argv, engine.plan.env, engine.plan.log_file, engine.attempt);
    engine.process = proc;
    this.onEvent({ kind: "started", instance: engine.plan.id, attempt: engine.attempt, pid: proc.pid });
    void proc.exited.then((exit) => this.exited(engine, proc, exit));
    return proc;
  }

  private async firstHealth(engine: Engine): Promise<void> {
    const proc = engine.process!;
    const { id, url, log_file } = engine.plan;
    const health = new AbortController();
    engine.health = health;
    void proc.exited.then(() => health.abort());
    const outcome = await waitHealthy(url, this.plan.health_timeout_s, health.signal);
    if (outcome.ok) {
      this.healthy(engine, outcome.after_s);
      return;
    }
    if (this.stopping) return;
    if (outcome.why === "timeout") {
      throw new InputError(
        `launch: instance ${id} did not answer GET ${url}/health within ${this.plan.health_timeout_s} s; read its log ${log_file}, or raise launch.health_timeout_s (--health-timeout)`,
      );
    }
    const exit = await proc.exited;
    if (exit.spawn_error === "ENOENT") {
      throw new InputError(`launch: instance ${id}: cannot run "${proc.argv[0]}" (no such command); install it or set launch.command (log ${log_file})`);
    }
    const last = proc.lastLogLine();
    throw new InputError(`launch: instance ${id} ${describeExit(exit)} during start-up; see its log ${log_file}${last !== undefined ? ` (last line: ${last})` : ""}`);
  }

  private healthy(engine: Engine, after_start_s: number): void {
    const now = performance.now();
    engine.state = "healthy";
    engine.healthySince_ms = now;
    const after_exit_s = engine.exitedAt_ms !== undefined ? (now - engine.exitedAt_ms) / 1000 : undefined;
    this.onEvent({ kind: "healthy", instance: engine.plan.id, attempt: engine.attempt, after_start_s, ...(after_exit_s !== undefined ? { after_exit_s } : {}) });
  }

  /** An engine ended. While starting, firstHealth reports it; once supervising, it is restarted. */
  private exited(engine: Engine, proc: EngineProcess, exit: EngineExit): void {
    if (engine.process !== proc) return;
    // While starting, firstHealth reports an engine that never came up; one that did is restarted.
    if (this.stopping || (!this.supervising && engine.state !== "healthy")) return;
    proc.killNow(); // what the engine forked dies with it, before its successor wants the GPUs
    engine.process = undefined;
    engine.health?.abort();
    const now = performance.now();
    // The first exit after a spell of health starts the kill → healthy clock; a failed restart keeps it.
    if (engine.state === "healthy") engine.exitedAt_ms = now;
    this.onEvent({ kind: "exited", instance: engine.plan.id, exit, description: describeExit(exit) });
    const { max_restarts, initial_backoff_s, max_backoff_s, reset_after_s } = this.plan.restart;
    if (engine.healthySince_ms !== undefined && now - engine.healthySince_ms >= reset_after_s * 1000) engine.inARow = 0;
    engine.healthySince_ms = undefined;
    if (engine.inARow >= max_restarts) {
      engine.state = "failed";
      this.onEvent({ kind: "gave_up", instance: engine.plan.id, restarts: engine.inARow });
      return;
    }
    const backoff_s = Math.min(max_backoff_s, initial_backoff_s * 2 ** engine.inARow);
    engine.inARow++;
    engine.restarts++;
    engine.state = "restarting";
    this.onEvent({ kind: "restarting", instance: engine.plan.id, restart: engine.restarts, backoff_s });
    engine.timer = setTimeout(() => void this.restart(engine), backoff_s * 1000);
  }

  private async restart(engine: Engine): Promise<void> {
    if (this.stopping) return;
    const proc = this.spawn(engine);
    const health = new AbortController();
    engine.health = health;
    void proc.exited.then(() => health.abort());
    const outcome = await waitHealthy(engine.plan.url, this.plan.health_timeout_s, health.signal);
    if (outcome.ok && engine.process === proc && !this.stopping) this.healthy(engine, outcome.after_s);
    // Alive but never healthy: end it; its exit schedules the next try.
    else if (!outcome.ok && outcome.why === "timeout" && !this.stopping) void proc.stop(this.plan.stop_timeout_s);
  }
}
