/** `tandem gateway` as its own process (bin/tandem.mjs), for tests that signal or kill it. */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./shared-data.ts";

export class GatewayProcess {
  private err = "";

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  /** Starts `tandem gateway ARGS` and resolves with its URL once it prints its listening line. */
  static async start(args: readonly string[], cwd: string): Promise<GatewayProcess> {
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/tandem.mjs"), "gateway", "--port", "0", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (d) => {
        stdout += d;
        const m = /listening on (http:\/\/\S+)/.exec(stdout);
        if (m !== null) resolve(m[1]);
      });
      child.once("exit", (code) => reject(new Error(`tandem gateway exited ${code} before listening: ${stderr}`)));
    });
    const gw = new GatewayProcess(child, url);
    gw.err = stderr;
    child.stderr!.on("data", (d) => (gw.err += d));
    return gw;
  }

  /** What it wrote to stderr so far. */
  get stderr(): string {
    return this.err;
  }

  /** Sends `signal` and waits for the exit (SIGKILL: a crash). */
  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once("exit", (code) => resolve(code)));
    this.child.kill(signal);
    return exited;
  }
}
