import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { shellLine } from "./template.ts";

/** How an engine process ended: an exit code, a signal, or a spawn failure (ENOENT: no such command). */
export type EngineExit = { code: number | null; signal: NodeJS.Signals | null; spawn_error?: string };

/** One engine process in its own process group (vLLM forks its engine core and workers: stopping
 *  the group stops them all), its output appended to its log file. */
export class EngineProcess {
  readonly exited: Promise<EngineExit>;
  private readonly child: ChildProcess;
  private done = false;

  constructor(
    readonly argv: readonly string[],
    env: Record<string, string>,
    readonly log_file: string,
    attempt: number,
  ) {
    mkdirSync(dirname(log_file), { recursive: true });
    const fd = openSync(log_file, "a");
    writeSync(fd, `=== tandem launch: start ${attempt} at ${new Date().toISOString()}: ${shellLine(argv)}\n`);
    this.child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, detached: true, stdio: ["ignore", fd, fd] });
    closeSync(fd); // the child holds its own copy
    this.exited = new Promise((resolve) => {
      this.child.once("error", (error: NodeJS.ErrnoException) => {
        // A spawn failure emits no exit event.
        if (this.child.pid === undefined) this.finish(resolve, { code: null, signal: null, spawn_error: error.code ?? error.message });
      });
      this.child.once("exit", (code, signal) => this.finish(resolve, { code, signal }));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  /** SIGTERM to the group, SIGKILL after `timeout_s` if the leader is still there; then SIGKILL
   *  whatever of the group is left (a worker that outlived its parent would hold GPU memory). */
  async stop(timeout_s: number): Promise<EngineExit> {
    if (!this.done) {
      this.signalGroup("SIGTERM");
      const timer = setTimeout(() => this.signalGroup("SIGKILL"), timeout_s * 1000);
      await this.exited;
      clearTimeout(timer);
    }
    this.signalGroup("SIGKILL");
    return this.exited;
  }

  /** Kills the whole group at once, synchronously (the launcher's own exit: no time to wait). */
  killNow(): void {
    this.signalGroup("SIGKILL");
  }

  /** What the process wrote last: the log's last non-empty line (for a one-line error). */
  lastLogLine(): string | undefined {
    try {
      const lines = readFileSync(this.log_file, "utf8")
        .split("\n")
        .map((line) => line.trim());
      const last = lines.filter((line) => line !== "" && !line.startsWith("=== tandem launch:")).at(-1);
      return last === undefined ? undefined : last.length > 200 ? `${last.slice(0, 200)}…` : last;
    } catch {
      return undefined;
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is gone already.
    }
  }

  private finish(resolve: (exit: EngineExit) => void, exit: EngineExit): void {
    if (this.done) return;
    this.done = true;
    resolve(exit);
  }
}

/** "exited with code 1", "was killed by SIGKILL", "could not start (ENOENT)". */
export function describeExit(exit: EngineExit): string {
  if (exit.spawn_error !== undefined) return `could not start (${exit.spawn_error})`;
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}
