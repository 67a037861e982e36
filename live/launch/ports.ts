import { createServer } from "node:net";
import { InputError } from "../../src/core/errors.ts";

/** A port the OS calls free on `host` now (listening on port 0 and closing again). The engine binds
 *  it a moment later; another process could take it first, in which case the engine fails to start
 *  and its log says so. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Refuses a fixed port that something already listens on, naming the instance: the engine would
 *  die at start-up with "address already in use" otherwise. */
export function checkPortFree(host: string, port: number, instance: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", (error: NodeJS.ErrnoException) => {
      const code = error.code ?? String(error);
      const why = code === "EADDRINUSE" ? "is taken" : `cannot be used (${code})`;
      reject(new InputError(`launch: instance ${instance}: port ${port} on ${host} ${why}; free it, or set launch.port to another base (0 picks free ports)`));
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}
