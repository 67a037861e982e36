/** A throwaway redis-server for tests (Debian's /usr/bin/redis-server): a free loopback port (redis
 *  has no `--port 0`), no persistence. Tests gate on `redisServer.gate` and skip with a message
 *  where the binary is absent. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { required } from "./requirements.ts";

export const REDIS_SERVER = process.env.TANDEM_REDIS_SERVER ?? "/usr/bin/redis-server";

export const redisGate = required(existsSync(REDIS_SERVER) ? undefined : `${REDIS_SERVER} not found (apt-get install redis-server)`);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export class RedisProcess {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(port?: number): Promise<RedisProcess> {
    const r = new RedisProcess(port ?? (await freePort()));
    await r.restart();
    return r;
  }

  /** Starts it (again) on the same port; resolves once it accepts connections. */
  async restart(): Promise<void> {
    const child = spawn(REDIS_SERVER, ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("Ready to accept connections")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
    });
  }

  /** SIGKILL, as a crash. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
}
