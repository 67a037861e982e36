import type { ServerResponse } from "node:http";

/** Server-sent events as vLLM's (and OpenAI's) streaming endpoints write them: each event is one
 *  `data: <json>` line followed by a blank line, and the stream ends with `data: [DONE]`. */
export class SseWriter {
  constructor(private readonly res: ServerResponse) {}

  /** Sends the response headers now, so the client sees the stream open before the first token. */
  open(): void {
    this.res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    this.res.flushHeaders();
  }

  send(event: unknown): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(`data: ${JSON.stringify(event)}\n\n`);
  }

  done(): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end("data: [DONE]\n\n");
  }
}
