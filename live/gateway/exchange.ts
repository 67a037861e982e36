import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { IncomingHttpHeaders } from "undici/types/header.js";
import { vllmPriority } from "../host/http-transport.ts";
import { type GatewayError, sendError } from "./errors.ts";
import { IDENTITY_METADATA_KEYS, type CallIdentity } from "./identity.ts";
import type { ModelRoute } from "./models.ts";
import type { GenerationRequest } from "./request.ts";

/** Where a request is: not yet admitted, waiting at the controller (or for another try), sent to
 *  an instance, closed. */
export type ExchangeState = "new" | "queued" | "sent" | "closed";

/** Upstream response headers the client gets (hop-by-hop ones and the length of a body the
 *  gateway may change are dropped). */
const FORWARDED_HEADERS = ["content-type", "cache-control", "x-request-id"];

/** One client request and its response: what the gateway transport forwards to an instance and
 *  writes back. The response head is written with the first body bytes, so a call whose instance
 *  failed before answering can still go to another instance unseen by the client. */
export class ClientExchange {
  state: ExchangeState = "new";
  /** The instance of the current (last) attempt. */
  instance: string | undefined;
  attempts = 0;
  /** The client closed its connection before the response ended. */
  clientGone = false;
  /** Set when the gateway gave up on the request (the client left, shutdown): the call's failure. */
  cancelled: string | undefined;
  /** The attempt under way at an instance, to abort on cancel. */
  upstream: { abort(reason: string): void } | undefined;
  private ended = false;
  /** The response under way is an event stream. */
  private sse = false;
  private corked = false;

  constructor(
    readonly id: string,
    readonly path: string,
    readonly request: GenerationRequest,
    readonly identity: CallIdentity,
    readonly route: ModelRoute,
    readonly res: ServerResponse,
  ) {}

  /** Gives up on the request: the attempt in flight is aborted and the call fails with `reason`. */
  cancel(reason: string): void {
    if (this.cancelled !== undefined) return;
    this.cancelled = reason;
    this.upstream?.abort(reason);
  }

  get headWritten(): boolean {
    return this.res.headersSent;
  }

  get finished(): boolean {
    return this.ended || this.clientGone;
  }

  /** The client's body for one instance: `model` its served name, `priority` only for an instance
   *  running priority scheduling, usage asked for on a stream, tandem's metadata keys removed.
   *  The client's own bytes when none of that changes anything (the common case: no re-encoding),
   *  or with only the usage option appended; a re-encoded copy otherwise. */
  upstreamBody(served_model: string, enginePriority: number | undefined, priorityScheduling: boolean): string | Buffer {
    const r = this.request;
    const b = r.body;
    const setPriority = priorityScheduling && enginePriority !== undefined;
    const needsUsage = r.stream && !r.include_usage;
    if (b.model === served_model && !setPriority && b.priority === undefined && !metadataChanges(r.metadata)) {
      if (!needsUsage) return r.raw;
      if (b.stream_options === undefined) {
        const appended = appendMember(r.raw, ASK_USAGE);
        if (appended !== undefined) return appended;
      }
    }
    const out: Record<string, unknown> = { ...b, model: served_model };
    if (setPriority) out.priority = vllmPriority(enginePriority);
    else delete out.priority;
    if (needsUsage) out.stream_options = { ...(b.stream_options as object | null | undefined), include_usage: true };
    if (r.metadata !== undefined) {
      const kept: Record<string, unknown> = {};
      let any = false;
      for (const key in r.metadata) {
        if (IDENTITY_METADATA_KEYS.has(key)) continue;
        kept[key] = r.metadata[key];
        any = true;
      }
      if (any) out.metadata = kept;
      else delete out.metadata;
    }
    return JSON.stringify(out);
  }

  /** Starts the response with the instance's status and content headers. */
  writeHead(status: number, upstream: IncomingHttpHeaders, keepLength: boolean): void {
    if (this.res.headersSent || this.finished) return;
    const headers: OutgoingHttpHeaders = { "x-tandem-call-id": this.id };
    if (this.instance !== undefined) headers["x-tandem-instance"] = this.instance;
    for (const name of FORWARDED_HEADERS) {
      const value = upstream[name];
      if (value !== undefined) headers[name] = value;
    }
    const length = upstream["content-length"];
    if (keepLength && typeof length === "string") headers["content-length"] = length;
    const retryAfter = upstream["retry-after"];
    if (status === 429 && typeof retryAfter === "string") headers["retry-after"] = retryAfter;
    const type = headers["content-type"];
    this.sse = typeof type === "string" && type.startsWith("text/event-stream");
    this.res.writeHead(status, headers);
  }

  /** Writes body bytes; false when the client's socket is full (wait for drained()). Writes are
   *  corked until the end of the event-loop turn, so that what arrives together (a stream's last
   *  tokens, its [DONE] and the end of the chunked body) leaves in one system call. */
  writeChunk(chunk: Uint8Array | string): boolean {
    if (this.finished) return true;
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      setImmediate(uncork, this);
    }
    return this.res.write(chunk);
  }

  /** Ends the corked batch (the end of the loop turn). */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.res.uncork();
  }

  /** Resolves once the client has taken what was buffered (or left). */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off("drain", done);
        this.res.off("close", done);
        resolve();
      };
      this.res.on("drain", done);
      this.res.on("close", done);
    });
  }

  /** A whole answer at once (a JSON body held until complete): head, body and end leave in one
   *  write, with no cork held to the end of the loop turn. */
  endWith(status: number, upstream: IncomingHttpHeaders, chunks: readonly Buffer[]): void {
    if (this.finished) return;
    this.writeHead(status, upstream, true);
    this.ended = true;
    this.res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    this.uncork();
  }

  end(): void {
    if (this.finished) return;
    this.ended = true;
    this.res.end();
    this.uncork();
  }

  /** The call ended without a complete answer. Before the head: an error response; on a stream
   *  already under way: an SSE error event, then the end (no `[DONE]`); a JSON body already under
   *  way: the connection is cut. */
  fail(error: GatewayError): void {
    if (this.finished) return;
    this.ended = true;
    if (!this.res.headersSent) {
      sendError(this.res, error);
      return;
    }
    if (this.sse) {
      this.res.end(`data: ${JSON.stringify(error.body())}\n\n`);
      this.uncork();
      return;
    }
    this.res.destroy();
  }
}

const ASK_USAGE = Buffer.from(',"stream_options":{"include_usage":true}}');
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Whether forwarding would change `metadata`: it holds one of tandem's identity keys (removed),
 *  or nothing at all (dropped). */
function metadataChanges(metadata: Record<string, unknown> | undefined): boolean {
  if (metadata === undefined) return false;
  for (const key in metadata) if (IDENTITY_METADATA_KEYS.has(key)) return true;
  for (const _ in metadata) return false;
  return true;
}

/** A non-empty JSON object's bytes with `member` (`,"key":value}`) in place of its closing brace;
 *  undefined if they do not end that way. */
function appendMember(raw: Buffer, member: Buffer): Buffer | undefined {
  const end = lastNonSpace(raw, raw.length - 1);
  if (end < 1 || raw[end] !== CLOSE_BRACE || raw[lastNonSpace(raw, end - 1)] === OPEN_BRACE) return undefined;
  return Buffer.concat([raw.subarray(0, end), member]);
}

function lastNonSpace(raw: Buffer, from: number): number {
  let i = from;
  while (i >= 0 && (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09)) i--;
  return i;
}

function uncork(ex: ClientExchange): void {
  ex.uncork();
}

/** Requests per model by state: what `--max-queue` bounds and `/metrics` shows. */
export class Occupancy {
  private readonly byModel = new Map<string, { queued: number; sent: number }>();

  of(model: string): { queued: number; sent: number } {
    let o = this.byModel.get(model);
    if (o === undefined) {
      o = { queued: 0, sent: 0 };
      this.byModel.set(model, o);
    }
    return o;
  }

  /** Moves an exchange to `state`, keeping the counts. */
  move(ex: ClientExchange, state: ExchangeState): void {
    if (ex.state === state) return;
    const o = this.of(ex.route.model);
    if (ex.state === "queued") o.queued--;
    else if (ex.state === "sent") o.sent--;
    if (state === "queued") o.queued++;
    else if (state === "sent") o.sent++;
    ex.state = state;
  }
}
