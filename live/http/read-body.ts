import type { IncomingMessage } from "node:http";

/** How a body read fails: the error for a body over the limit, and for a broken read. */
export interface BodyErrors {
  tooLarge(): Error;
  unreadable(error: Error): Error;
}

/** The whole request body, refused as soon as it is known to be longer than `limit` bytes (by its
 *  Content-Length, else while it streams in), without buffering the rest. */
export function readBodyLimited(req: IncomingMessage, limit: number, errors: BodyErrors): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(errors.tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(errors.tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    req.on("error", (error) => {
      if (!failed) reject(errors.unreadable(error));
      failed = true;
    });
  });
}
