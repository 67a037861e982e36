import { LiveCallError } from "./errors.ts";
import { SseParser } from "./sse.ts";

/** Usage as the server reported it (OpenAI `usage`); `cached_tokens` is null when the server sent
 *  no `prompt_tokens_details` (vLLM sends it only with --enable-prompt-tokens-details). */
export interface ReportedUsage {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number | null;
}

/** What was seen of one response body. Times come from the injected clock. */
export interface StreamObservation {
  /** When the first chunk carrying tokens arrived; null if none did. */
  first_token_s: number | null;
  last_token_s: number | null;
  /** Arrival time of every chunk that carried tokens (the first included) and its token count. */
  chunk_times_s: number[];
  chunk_tokens: number[];
  /** Tokens delivered, counted from the stream (see docs/live-http.md). */
  tokens_streamed: number;
  /** The last `usage` object in the stream (or the JSON body), if any. */
  usage: ReportedUsage | null;
  /** The last non-null finish_reason of any choice. */
  finish_reason: string | null;
  /** `data: [DONE]` seen (SSE) or the JSON body parsed (JSON), and when. */
  done: boolean;
  done_s: number | null;
  /** SSE events (or JSON bodies) parsed. */
  events: number;
  /** How the body was read. */
  format: "sse" | "json" | "other";
}

export interface TokenCallbacks {
  /** The first chunk carrying tokens arrived (once per call). */
  onFirstToken?: (at_s: number) => void;
  /** A later chunk arrived carrying `count` ≥ 1 tokens (never for the first chunk). */
  onTokens?: (at_s: number, count: number) => void;
}

/** The body format a response's content-type announces. */
export function bodyFormat(contentType: string | undefined): "sse" | "json" | "other" {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "text/event-stream") return "sse";
  if (type === "application/json" || type.endsWith("+json")) return "json";
  return "other";
}

const MAX_JSON_BODY = 8 * 1024 * 1024;

/** Observes an OpenAI-style completion response body as its bytes arrive, whoever consumes them:
 *  the client's own calls, and the gateway's pass-through (which forwards the same bytes).
 *  Network reads are the unit of timing: the events that arrive in one read form one chunk, timed
 *  once. A chunk's token count is the sum over its events and choices of `token_ids.length` when
 *  the server sends token ids, else 1 per choice with non-empty text (`text`, `delta.content`,
 *  `delta.reasoning_content`, or a tool-call delta). After a failure (`failure`), further bytes
 *  are ignored. */
export class StreamObserver {
  readonly format: "sse" | "json" | "other";
  /** Made only once a read ends inside a UTF-8 sequence (or the body begins with a BOM): until
   *  then every read is whole text, decoded natively (a TextDecoder per response showed in the
   *  gateway's CPU profile). */
  private decoder: InstanceType<typeof TextDecoder> | undefined;
  private started = false;
  private readonly sse = new SseParser();
  private jsonText = "";
  private failed: LiveCallError | undefined;
  private readonly obs: StreamObservation;

  constructor(
    contentType: string | undefined,
    private readonly callbacks: TokenCallbacks = {},
  ) {
    this.format = bodyFormat(contentType);
    this.obs = {
      first_token_s: null,
      last_token_s: null,
      chunk_times_s: [],
      chunk_tokens: [],
      tokens_streamed: 0,
      usage: null,
      finish_reason: null,
      done: false,
      done_s: null,
      events: 0,
      format: this.format,
    };
  }

  /** The first protocol or server error the stream carried, if any. */
  get failure(): LiveCallError | undefined {
    return this.failed;
  }

  get tokensStreamed(): number {
    return this.obs.tokens_streamed;
  }

  get done(): boolean {
    return this.obs.done;
  }

  /** Bytes that arrived at `at_s`. Callbacks run synchronously from here; what they throw propagates. */
  push(bytes: Uint8Array, at_s: number): void {
    if (this.failed !== undefined) return;
    const text = this.decode(bytes);
    if (this.format === "json") {
      this.jsonText += text;
      if (this.jsonText.length > MAX_JSON_BODY) this.fail("protocol", `JSON body over ${MAX_JSON_BODY} bytes`);
      return;
    }
    if (this.format !== "sse") return;
    this.takeEvents(this.sse.push(text), at_s);
  }

  /** The body ended at `at_s` (cleanly: errors are the caller's). Returns what was observed. */
  end(at_s: number): StreamObservation {
    const tail = this.decoder?.decode() ?? "";
    if (this.failed === undefined) {
      if (this.format === "sse") {
        if (tail.length > 0) this.takeEvents(this.sse.push(tail), at_s);
        this.sse.end();
      } else if (this.format === "json") {
        this.jsonText += tail;
        this.takeJson(at_s);
      }
    }
    return this.observation();
  }

  /** The text of one read: natively while reads end on character boundaries, through a streaming
   *  decoder from the first one that does not (same text either way: invalid bytes become U+FFFD). */
  private decode(bytes: Uint8Array): string {
    const first = !this.started;
    this.started = true;
    if (this.decoder === undefined) {
      const bom = first && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
      if (!bom && endsOnCharBoundary(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
      this.decoder = new TextDecoder("utf-8", { ignoreBOM: !first }); // a BOM counts only at the start
    }
    return this.decoder.decode(bytes, { stream: true });
  }

  /** A copy of what was observed so far. */
  observation(): StreamObservation {
    return { ...this.obs, chunk_times_s: [...this.obs.chunk_times_s], chunk_tokens: [...this.obs.chunk_tokens] };
  }

  private takeEvents(events: readonly { data: string }[], at_s: number): void {
    let tokens = 0;
    for (const event of events) {
      if (this.obs.done) break; // nothing counts after [DONE]
      const data = event.data;
      if (data.trim() === "[DONE]") {
        this.obs.done = true;
        this.obs.done_s = at_s;
        continue;
      }
      let payload: unknown;
      try {
        payload = JSON.parse(data);
      } catch {
        this.fail("protocol", `stream event is not JSON: ${clip(data)}`);
        break;
      }
      this.obs.events++;
      const n = this.takePayload(payload);
      if (this.failed !== undefined) break;
      tokens += n;
    }
    if (tokens > 0) this.delivered(at_s, tokens);
  }

  private takeJson(at_s: number): void {
    if (this.jsonText.trim() === "") {
      this.fail("protocol", "empty JSON body");
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(this.jsonText);
    } catch {
      this.fail("protocol", `body is not JSON: ${clip(this.jsonText)}`);
      return;
    }
    this.obs.events++;
    this.takePayload(payload);
    if (this.failed !== undefined) return;
    this.obs.done = true;
    this.obs.done_s = at_s;
    const out = this.obs.usage?.completion_tokens ?? 0;
    if (out > 0) {
      // A non-streamed answer: every token arrives with the body.
      this.obs.tokens_streamed = out;
      this.obs.last_token_s = at_s;
    }
  }

  /** Reads one chunk object; returns the tokens it carries. */
  private takePayload(payload: unknown): number {
    if (payload === null || typeof payload !== "object") {
      this.fail("protocol", `stream event is not an object: ${clip(JSON.stringify(payload))}`);
      return 0;
    }
    const p = payload as Record<string, unknown>;
    if (p.error !== undefined && p.error !== null) {
      this.fail("server", `server error in stream: ${errorMessage(p.error)}`);
      return 0;
    }
    if (p.object === "error") {
      this.fail("server", `server error in stream: ${errorMessage(p)}`);
      return 0;
    }
    if (p.usage !== undefined && p.usage !== null) {
      const usage = readUsage(p.usage);
      if (usage === undefined) {
        this.fail("protocol", `malformed usage: ${clip(JSON.stringify(p.usage))}`);
        return 0;
      }
      this.obs.usage = usage;
    }
    let tokens = 0;
    if (Array.isArray(p.choices)) {
      for (const choice of p.choices) {
        if (choice === null || typeof choice !== "object") continue;
        const c = choice as Record<string, unknown>;
        tokens += choiceTokens(c);
        if (typeof c.finish_reason === "string") this.obs.finish_reason = c.finish_reason;
      }
    }
    return tokens;
  }

  private delivered(at_s: number, tokens: number): void {
    const o = this.obs;
    const first = o.first_token_s === null;
    o.tokens_streamed += tokens;
    o.chunk_times_s.push(at_s);
    o.chunk_tokens.push(tokens);
    o.last_token_s = at_s;
    if (first) {
      o.first_token_s = at_s;
      this.callbacks.onFirstToken?.(at_s);
    } else {
      this.callbacks.onTokens?.(at_s, tokens);
    }
  }

  private fail(kind: "protocol" | "server", reason: string): void {
    if (this.failed !== undefined) return;
    this.failed = new LiveCallError({
      kind,
      reason,
      // A server error before any token may go elsewhere; a garbled stream is the server's fault too.
      retryable: true,
      tokens_streamed: this.obs.tokens_streamed,
    });
  }
}

/** Whether `bytes` end after a complete UTF-8 sequence (or an invalid byte, which decodes alone). */
function endsOnCharBoundary(bytes: Uint8Array): boolean {
  const n = bytes.length;
  // The lead byte of the last sequence lies within the last four bytes.
  for (let back = 1; back <= 4 && back <= n; back++) {
    const b = bytes[n - back]!;
    if (b < 0x80) return back === 1;
    if (b >= 0xc0) {
      const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return back >= length;
    }
  }
  return true; // only continuation bytes: invalid whatever follows
}

function choiceTokens(c: Record<string, unknown>): number {
  const ids = c.token_ids;
  if (Array.isArray(ids) && ids.length > 0) return ids.length;
  if (typeof c.text === "string" && c.text.length > 0) return 1;
  const delta = c.delta;
  if (delta !== null && typeof delta === "object") {
    const d = delta as Record<string, unknown>;
    if (Array.isArray(d.token_ids) && d.token_ids.length > 0) return d.token_ids.length;
    if (typeof d.content === "string" && d.content.length > 0) return 1;
    if (typeof d.reasoning_content === "string" && d.reasoning_content.length > 0) return 1;
    if (typeof d.reasoning === "string" && d.reasoning.length > 0) return 1;
    if (Array.isArray(d.tool_calls) && d.tool_calls.length > 0) return 1;
  }
  return 0;
}

function readUsage(u: unknown): ReportedUsage | undefined {
  if (typeof u !== "object" || u === null) return undefined;
  const r = u as Record<string, unknown>;
  const prompt = r.prompt_tokens;
  const completion = r.completion_tokens ?? 0;
  if (!isCount(prompt) || !isCount(completion)) return undefined;
  let cached: number | null = null;
  const details = r.prompt_tokens_details;
  if (details !== null && typeof details === "object") {
    const c = (details as Record<string, unknown>).cached_tokens;
    if (isCount(c)) cached = c;
  }
  return { prompt_tokens: prompt, completion_tokens: completion, cached_tokens: cached };
}

function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 0;
}

/** The message of an OpenAI/vLLM error object ({error: {message}}, {message}, or a string). */
export function errorMessage(e: unknown): string {
  if (typeof e === "string") return clip(e);
  if (e !== null && typeof e === "object") {
    const r = e as Record<string, unknown>;
    if (typeof r.message === "string") return clip(r.message);
    if (r.error !== undefined) return errorMessage(r.error);
  }
  return clip(JSON.stringify(e));
}

export function clip(s: string, max = 300): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length <= max ? one : `${one.slice(0, max)}…`;
}

/** An observer for a response: its content-type header decides the format; only the token
 *  callbacks of `request` are kept (it may be a whole request object). */
export function observeResponse(contentType: string | string[] | undefined, request: TokenCallbacks): StreamObserver {
  const callbacks: TokenCallbacks = {
    ...(request.onFirstToken !== undefined ? { onFirstToken: request.onFirstToken } : {}),
    ...(request.onTokens !== undefined ? { onTokens: request.onTokens } : {}),
  };
  return new StreamObserver(Array.isArray(contentType) ? contentType[0] : contentType, callbacks);
}
