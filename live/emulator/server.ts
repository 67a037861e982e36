import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LlmCall } from "../../src/core/types.ts";
import { REJECT_KV_CAPACITY, REJECT_QUEUE_FULL, REJECT_TOO_LONG } from "../../sim/engine/engine.ts";
import { ApiError, badRequest } from "./errors.ts";
import { Job, type EngineLoop, type JobSink } from "./engine-loop.ts";
import type { EmulatorMetrics } from "./metrics.ts";
import { chatChunk, chatResponse, completionChunk, completionResponse, modelList, TOKEN_TEXT, usage, usageChunk, type TokenIds } from "./openai-responses.ts";
import type { GenerationTraits } from "../instances/vllm-generation.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";
import { parseChatRequest, parseCompletionRequest, type GenerationRequest, type ParseContext } from "./requests.ts";
import { WAKE_TAGS, type SleepControl, type WakeTag } from "./sleep.ts";
import { SseWriter } from "./sse.ts";
import { TokenIdIdentity } from "./token-identity.ts";
import { readBodyLimited } from "../http/read-body.ts";
import { segmentTokenIds } from "../client/token-prompt.ts";

/** Everything the HTTP handlers act on. */
export interface ServerContext {
  servedModelName: string;
  maxModelLen: number;
  maxWaiting: number | undefined;
  maxBodyBytes: number;
  parse: ParseContext;
  loop: EngineLoop;
  metrics: EmulatorMetrics;
  sleep: SleepControl;
  speedup: number;
  /** Unix seconds the server started (`created` of /v1/models). */
  started: number;
  /** The vLLM release imitated (`/version`) and its generation's traits (vllm-generation.ts). */
  version: string;
  traits: GenerationTraits;
  /** The engine runs --scheduling-policy priority. */
  priorityScheduling: boolean;
  /** Responses of generation requests in progress (aborted by /sleep?mode=abort). */
  open: Set<ServerResponse>;
}

/** `arrival_s`: model time the request's headers arrived. */
type Handler = (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, url: URL, arrival_s: number) => Promise<void> | void;

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  "/health": { GET: (_ctx, _req, res) => void res.writeHead(200).end() },
  "/version": { GET: (ctx, _req, res) => sendJson(res, 200, { version: ctx.version }) },
  "/v1/models": { GET: (ctx, _req, res) => sendJson(res, 200, modelList(ctx.servedModelName, ctx.maxModelLen, ctx.started)) },
  "/metrics": {
    GET: (ctx, _req, res) => {
      const text = ctx.metrics.render(ctx.loop.engine, ctx.loop.now_s(), ctx.speedup, { awake: !ctx.sleep.isSleeping, level: ctx.sleep.level });
      res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE }).end(text);
    },
  },
  "/is_sleeping": { GET: (ctx, _req, res) => sendJson(res, 200, { is_sleeping: ctx.sleep.isSleeping }) },
  "/sleep": {
    POST: async (ctx, req, res, url) => {
      await readBody(req, ctx.maxBodyBytes);
      const level = url.searchParams.get("level") ?? "1";
      if (level !== "1" && level !== "2") throw badRequest(`level must be 1 or 2, got ${JSON.stringify(level)}`, "level");
      // mode (newer vLLM): abort (its default) ends the requests in flight; wait lets them finish;
      // keep is served as wait. Releases without it ignore the parameter: the emulator then drains.
      const mode = ctx.traits.sleep_mode ? (url.searchParams.get("mode") ?? "abort") : "wait";
      if (mode !== "abort" && mode !== "wait" && mode !== "keep") throw badRequest(`mode must be abort, wait or keep, got ${JSON.stringify(mode)}`, "mode");
      const abort = mode === "abort" ? () => abortOpen(ctx) : undefined;
      await ctx.sleep.sleep(level === "2" ? 2 : 1, abort);
      res.writeHead(200).end();
    },
  },
  "/wake_up": {
    POST: async (ctx, req, res, url) => {
      await readBody(req, ctx.maxBodyBytes);
      const tags = ctx.traits.wake_up_tags ? url.searchParams.getAll("tags") : [];
      for (const tag of tags) {
        if (!(WAKE_TAGS as readonly string[]).includes(tag)) throw badRequest(`tags: unknown tag ${JSON.stringify(tag)}; expected ${WAKE_TAGS.join(" or ")}`, "tags");
      }
      await ctx.sleep.wakeUp(tags.length > 0 ? (tags as WakeTag[]) : undefined);
      res.writeHead(200).end();
    },
  },
  "/v1/completions": { POST: (ctx, req, res, _url, arrival_s) => generate(ctx, req, res, "completion", arrival_s) },
  "/v1/chat/completions": { POST: (ctx, req, res, _url, arrival_s) => generate(ctx, req, res, "chat", arrival_s) },
};

/** The request listener of the emulator's node:http server. Errors become vLLM-style JSON
 *  bodies; an unknown path or method gets FastAPI's `{"detail": ...}` as vLLM's server does. */
export function requestListener(ctx: ServerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const arrival_s = ctx.loop.now_s();
    const url = URL.parse(req.url ?? "/", "http://emulator"); // null for a target like "//" (a client's mistake, not a crash)
    if (url === null) {
      req.resume();
      sendJson(res, 404, { detail: "Not Found" });
      return;
    }
    const route = ROUTES[url.pathname];
    const handler = route?.[req.method ?? "GET"];
    if (handler === undefined) {
      req.resume();
      sendJson(res, route === undefined ? 404 : 405, { detail: route === undefined ? "Not Found" : "Method Not Allowed" });
      return;
    }
    Promise.resolve()
      .then(() => handler(ctx, req, res, url, arrival_s))
      .catch((error: unknown) => {
        const apiError = error instanceof ApiError ? error : new ApiError(500, `internal error: ${(error as Error)?.message ?? String(error)}`);
        if (apiError.status === 413) res.setHeader("connection", "close");
        if (!res.headersSent) sendJson(res, apiError.status, apiError.body(ctx.traits.nested_error_body));
        else if (!res.writableEnded) res.end();
      });
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}

/** The whole request body; 413 as soon as it is longer than `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return readBodyLimited(req, limit, {
    tooLarge: () => new ApiError(413, `Request body too large: the limit is ${limit} bytes.`),
    unreadable: (error) => error,
  });
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw badRequest(`JSON decode error: ${(error as Error).message}`);
  }
}

let nonce = 0;

/** A completion or chat request. It arrives (model time) when its headers did: reading the body,
 *  parsing and validating it are the emulator's own overhead, not part of the emulated latency. */
async function generate(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, kind: GenerationRequest["kind"], arrival_s: number): Promise<void> {
  const body = await readJson(req, ctx.maxBodyBytes);
  const request = kind === "chat" ? parseChatRequest(body, ctx.parse) : parseCompletionRequest(body, ctx.parse);
  if (request.model !== undefined && request.model !== ctx.servedModelName) {
    throw new ApiError(404, `The model \`${request.model}\` does not exist.`, "model");
  }
  if (!ctx.sleep.accepting) {
    throw new ApiError(503, `The engine is ${ctx.sleep.state === "draining" ? "going to sleep" : ctx.sleep.state === "waking" ? "waking up" : "sleeping"}; POST /wake_up and retry.`);
  }
  checkPriority(ctx, request.priority);
  if (res.destroyed) return; // the client left while we read its request
  const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID().replace(/-/g, "")}`;
  const call: LlmCall = {
    id,
    arrival_s: 0,
    prompt_tokens: request.promptIds.length,
    output_tokens: request.maxTokens,
    segments: [{ tokens: request.promptIds.length }],
    model: ctx.servedModelName,
    priority: request.priority,
  };
  const head = { id, created: Math.floor(Date.now() / 1000), model: ctx.servedModelName };
  const sink = request.stream ? streamingSink(ctx, res, request, head) : bufferedSink(ctx, res, request, head);
  // With an output key the output's ids are known up front, so its blocks join the prefix cache.
  const tokens = request.outputKey === undefined ? request.promptIds : request.promptIds.concat(segmentTokenIds(request.outputKey, request.maxTokens));
  const job = new Job(call, request.priority, new TokenIdIdentity(tokens, nonce++), sink);
  ctx.open.add(res);
  res.on("close", () => {
    ctx.open.delete(res);
    if (job.closed) return;
    ctx.loop.abort(job);
    ctx.metrics.aborted();
  });
  ctx.loop.submit(job, arrival_s);
  call.arrival_s = job.arrival_s;
}

/** /sleep?mode=abort: every generation request in progress ends now (its connection closes, which
 *  aborts it in the engine, as a client disconnect does). */
function abortOpen(ctx: ServerContext): void {
  for (const res of [...ctx.open]) res.destroy();
}

/** What the imitated release does with a non-zero priority (vllm-generation.ts). */
function checkPriority(ctx: ServerContext, priority: number): void {
  if (priority === 0) return;
  if (ctx.traits.priority === "refused") throw badRequest("V1 does not support priority yet.");
  if (ctx.traits.priority === "refused-under-fcfs" && !ctx.priorityScheduling) {
    throw badRequest(`Got priority ${priority} but Priority scheduling is not enabled.`);
  }
}

function returnsIds(ctx: ServerContext, request: GenerationRequest): boolean {
  return request.returnTokenIds && ctx.traits.return_token_ids;
}

/** The id of output token `i`: the ids its output key stands for, else filler ids. */
function outputId(request: GenerationRequest, i: number): number {
  if (request.outputKey === undefined) return FILLER_TOKEN_ID;
  let ids = outputIds.get(request);
  if (ids === undefined) {
    ids = segmentTokenIds(request.outputKey, request.maxTokens);
    outputIds.set(request, ids);
  }
  return ids[i];
}

const outputIds = new WeakMap<GenerationRequest, number[]>();

/** The id the filler text " tok" stands for in the emulator's outputs. */
const FILLER_TOKEN_ID = 10_000;

/** The ids a streamed token's chunk carries with return_token_ids (the prompt's with the first). */
function tokenIds(ctx: ServerContext, request: GenerationRequest, index: number): TokenIds {
  if (!returnsIds(ctx, request)) return {};
  return index === 0 ? { prompt_token_ids: request.promptIds, token_ids: [outputId(request, index)] } : { token_ids: [outputId(request, index)] };
}

interface Head {
  id: string;
  created: number;
  model: string;
}

/** Latency metrics shared by both sinks; `last_s` is the previous token's model time. */
function observeTokens(ctx: ServerContext, job: Job, count: number, at_s: number, state: { last_s: number }): void {
  if (job.sent === count) {
    ctx.metrics.firstToken(job.call.prompt_tokens, at_s - job.arrival_s);
    ctx.metrics.tokens(count, undefined);
  } else {
    ctx.metrics.tokens(count, at_s - state.last_s);
  }
  state.last_s = at_s;
}

function rejection(ctx: ServerContext, job: Job, reason: string): ApiError {
  if (reason === REJECT_QUEUE_FULL) {
    return new ApiError(429, `The engine's waiting queue is full (max_waiting ${ctx.maxWaiting}); retry later.`);
  }
  if (reason === REJECT_TOO_LONG) {
    return badRequest(`This model's maximum context length is ${ctx.maxModelLen} tokens; the request needs ${job.call.prompt_tokens + job.call.output_tokens}.`);
  }
  if (reason === REJECT_KV_CAPACITY) {
    return badRequest(`The request needs ${job.call.prompt_tokens + job.call.output_tokens} tokens of KV cache, more than the engine holds now.`);
  }
  return badRequest(`rejected by the engine: ${reason}`);
}

function finalUsage(job: Job) {
  return usage(job.call.prompt_tokens, job.sent, job.request?.cached_tokens ?? 0);
}

function streamingSink(ctx: ServerContext, res: ServerResponse, request: GenerationRequest, head: Head): JobSink {
  const sse = new SseWriter(res);
  const timing = { last_s: NaN };
  const chat = request.kind === "chat";
  return {
    accepted: () => sse.open(),
    tokens: (job, count, at_s) => {
      observeTokens(ctx, job, count, at_s, timing);
      const first = job.sent - count;
      for (let i = 0; i < count; i++) {
        const last = first + i + 1 === job.call.output_tokens;
        const ids = tokenIds(ctx, request, first + i);
        if (!chat) {
          sse.send(completionChunk(head, TOKEN_TEXT, last, ids));
        } else {
          if (first + i === 0) sse.send(chatChunk(head, { role: "assistant", content: "" }, false, ids.prompt_token_ids !== undefined ? { prompt_token_ids: ids.prompt_token_ids } : {}));
          sse.send(chatChunk(head, { content: TOKEN_TEXT }, last, ids.token_ids !== undefined ? { token_ids: ids.token_ids } : {}));
        }
      }
    },
    finished: (job, at_s) => {
      ctx.metrics.finished(at_s - job.arrival_s);
      if (request.includeUsage) sse.send(usageChunk(head, chat ? "chat.completion.chunk" : "text_completion", finalUsage(job)));
      sse.done();
    },
    rejected: (job, reason) => {
      const error = rejection(ctx, job, reason);
      sendJson(res, error.status, error.body(ctx.traits.nested_error_body));
    },
  };
}

function bufferedSink(ctx: ServerContext, res: ServerResponse, request: GenerationRequest, head: Head): JobSink {
  const timing = { last_s: NaN };
  return {
    accepted: () => {},
    tokens: (job, count, at_s) => observeTokens(ctx, job, count, at_s, timing),
    finished: (job, at_s) => {
      ctx.metrics.finished(at_s - job.arrival_s);
      const text = TOKEN_TEXT.repeat(job.sent);
      const ids = returnsIds(ctx, request) ? { prompt_token_ids: request.promptIds, token_ids: Array.from({ length: job.sent }, (_, i) => outputId(request, i)) } : {};
      const body = request.kind === "chat" ? chatResponse(head, text, finalUsage(job), ids) : completionResponse(head, text, finalUsage(job), ids);
      sendJson(res, 200, body);
    },
    rejected: (job, reason) => {
      const error = rejection(ctx, job, reason);
      sendJson(res, error.status, error.body(ctx.traits.nested_error_body));
    },
  };
}
