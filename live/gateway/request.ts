import type { IncomingMessage } from "node:http";
import { readBodyLimited } from "../http/read-body.ts";
import { z } from "zod";
import { fieldPath } from "../../src/core/zod-issue.ts";
import { GatewayError, badRequest } from "./errors.ts";

export type GenerationKind = "completion" | "chat";

/** A client's completion or chat request: its body as sent (forwarded with a few fields
 *  rewritten) and what the controller needs before dispatch. */
export interface GenerationRequest {
  kind: GenerationKind;
  /** The parsed JSON body; never mutated (an attempt that must change it sends a shallow copy). */
  body: Record<string, unknown>;
  /** The body's bytes as the client sent them (forwarded as they are when nothing needs changing). */
  raw: Buffer;
  /** The `model` field; undefined when absent (allowed when the cluster serves one model). */
  model: string | undefined;
  stream: boolean;
  /** The client asked for `stream_options.include_usage` (else the usage chunk the gateway asks
   *  for is not forwarded). */
  include_usage: boolean;
  /** Estimated prompt tokens: exact for token-id prompts, ⌈characters / 4⌉ for text (chat: per
   *  message, plus 4 per message and 3 for the reply's priming). */
  prompt_tokens: number;
  /** `max_completion_tokens` / `max_tokens` when given. */
  max_tokens: number | undefined;
  /** The leading system messages of a chat: a prompt-segment key (their content hash) and their
   *  estimated tokens, so prefix-aware policies see agents that share a system prompt. */
  system: { key: string; tokens: number } | undefined;
  /** The body's `metadata` object, if any. */
  metadata: Record<string, unknown> | undefined;
  /** vLLM's `priority` as the client sent it. */
  priority: number | undefined;
  /** OpenAI's `user` field (a tenant when no tenant header is given). */
  user: string | undefined;
}

const flag = z.boolean().nullable().optional();
const count = (name: string) => z.number().int().min(1, `${name} must be at least 1`).nullable().optional();

/** Only the top-level fields the gateway reads are validated here; the prompt and messages are
 *  checked by hand while their tokens are counted (a zod pass over a 100k-id array would cost more
 *  than the rest of the request). Other fields go to the server untouched. */
const Envelope = z.looseObject({
  model: z.string().min(1, "model must not be empty").nullable().optional(),
  stream: flag,
  stream_options: z.looseObject({ include_usage: flag }).nullable().optional(),
  max_tokens: count("max_tokens"),
  max_completion_tokens: count("max_completion_tokens"),
  n: z.number().int().min(1).max(1, "the gateway serves n = 1 only: send one request per choice").nullable().optional(),
  priority: z.number().int().nullable().optional(),
  user: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** The whole request body; 413 as soon as it is longer than `limit` bytes (the rest is not read). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return readBodyLimited(req, limit, {
    tooLarge: () => new GatewayError(413, `Request body too large: the gateway accepts at most ${limit} bytes (--max-body-bytes).`, "request_too_large", null, { connection: "close" }),
    unreadable: (error) => new GatewayError(400, `the request body could not be read: ${error.message}`, "invalid_body"),
  });
}

/** Parses and checks a completion or chat body; a GatewayError (400) says what is wrong. */
export function parseGenerationRequest(kind: GenerationKind, raw: Buffer): GenerationRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch (error) {
    throw badRequest(`JSON decode error: ${(error as Error).message}`, null, "invalid_json");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw badRequest("the request body must be a JSON object", null, "invalid_json");
  const b = body as Record<string, unknown>;
  // The schema decides; the hand check only skips it when every field is plainly fine (it costs
  // more than the JSON parse of a short request).
  if (!plainlyValid(b)) {
    const checked = Envelope.safeParse(body);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const field = fieldPath(issue.path);
      throw badRequest(field === "" ? issue.message : `${field}: ${issue.message}`, field === "" ? null : field);
    }
  }
  const stream = b.stream === true;
  const options = b.stream_options as { include_usage?: boolean | null } | null | undefined;
  if (options != null && !stream) throw badRequest("Stream options can only be defined when `stream=True`.", "stream_options");
  let prompt_tokens: number;
  let system: GenerationRequest["system"];
  if (kind === "completion") prompt_tokens = completionPromptTokens(b.prompt);
  else ({ prompt_tokens, system } = chatPromptTokens(b.messages));
  const max = (kind === "chat" ? (b.max_completion_tokens ?? b.max_tokens) : b.max_tokens) as number | null | undefined;
  return {
    kind,
    body: b,
    raw,
    model: (b.model as string | null | undefined) ?? undefined,
    stream,
    include_usage: stream && options?.include_usage === true,
    prompt_tokens,
    max_tokens: max ?? undefined,
    system,
    metadata: (b.metadata as Record<string, unknown> | null | undefined) ?? undefined,
    priority: (b.priority as number | null | undefined) ?? undefined,
    user: (b.user as string | null | undefined) ?? undefined,
  };
}

const absent = (x: unknown): boolean => x === undefined || x === null;
const isFlag = (x: unknown): boolean => absent(x) || typeof x === "boolean";
const isCount = (x: unknown): boolean => absent(x) || (typeof x === "number" && Number.isInteger(x) && x >= 1);

/** The fields Envelope checks, each plainly within it (stricter is fine: the schema then decides). */
function plainlyValid(b: Record<string, unknown>): boolean {
  const options = b.stream_options;
  const metadata = b.metadata;
  return (
    (absent(b.model) || (typeof b.model === "string" && b.model !== "")) &&
    isFlag(b.stream) &&
    (absent(options) || (typeof options === "object" && !Array.isArray(options) && isFlag((options as Record<string, unknown>).include_usage))) &&
    isCount(b.max_tokens) &&
    isCount(b.max_completion_tokens) &&
    (absent(b.n) || b.n === 1) &&
    (absent(b.priority) || (typeof b.priority === "number" && Number.isInteger(b.priority))) &&
    (absent(b.user) || typeof b.user === "string") &&
    (absent(metadata) || (typeof metadata === "object" && !Array.isArray(metadata) && Object.getPrototypeOf(metadata) === Object.prototype))
  );
}

/** Estimated tokens of a text: ⌈characters / 4⌉ (about right for English with BPE tokenizers;
 *  only token-id prompts are exact). */
export function textTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** `prompt`: a string, a token-id array, or a one-element list of either. */
function completionPromptTokens(prompt: unknown): number {
  if (typeof prompt === "string") return nonEmpty(textTokens(prompt), "prompt");
  if (!Array.isArray(prompt)) throw badRequest("prompt: expected a string or an array of token ids", "prompt");
  if (prompt.length > 0 && typeof prompt[0] !== "number") {
    if (prompt.length !== 1) throw badRequest("prompt: the gateway serves one prompt per request; send a batch as separate requests", "prompt");
    return completionPromptTokens(prompt[0]);
  }
  for (let i = 0; i < prompt.length; i++) {
    const id = prompt[i];
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) throw badRequest(`prompt[${i}]: expected a token id (an integer ≥ 0)`, "prompt");
  }
  return nonEmpty(prompt.length, "prompt");
}

const PER_MESSAGE_TOKENS = 4;
const REPLY_PRIMING_TOKENS = 3;

function chatPromptTokens(messages: unknown): { prompt_tokens: number; system: GenerationRequest["system"] } {
  if (!Array.isArray(messages)) throw badRequest("messages: expected an array of messages", "messages");
  if (messages.length === 0) throw badRequest("messages: must not be empty", "messages");
  let tokens = REPLY_PRIMING_TOKENS;
  let systemTokens = 0;
  let systemHash = 0x811c9dc5;
  let leading = true;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Record<string, unknown> | null;
    if (m === null || typeof m !== "object" || Array.isArray(m)) throw badRequest(`messages[${i}]: expected an object`, "messages");
    if (typeof m.role !== "string" || m.role === "") throw badRequest(`messages[${i}].role: expected a string`, "messages");
    const text = messageText(m.content, i);
    const n = PER_MESSAGE_TOKENS + textTokens(text);
    tokens += n;
    if (leading && (m.role === "system" || m.role === "developer")) {
      systemTokens += n;
      systemHash = fnv1a(systemHash, m.role);
      systemHash = fnv1a(systemHash, text);
    } else leading = false;
  }
  const system = systemTokens > 0 ? { key: `sys:${(systemHash >>> 0).toString(16)}:${systemTokens}`, tokens: systemTokens } : undefined;
  return { prompt_tokens: tokens, system };
}

/** A message's text: a string, text parts (other parts, e.g. images, count as no text), or none. */
function messageText(content: unknown, i: number): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw badRequest(`messages[${i}].content: expected a string or an array of content parts`, "messages");
  let text = "";
  for (const part of content) {
    if (part === null || typeof part !== "object") throw badRequest(`messages[${i}].content: expected content parts (objects)`, "messages");
    const t = (part as Record<string, unknown>).text;
    if (typeof t === "string") text += t;
  }
  return text;
}

function nonEmpty(tokens: number, param: string): number {
  if (tokens === 0) throw badRequest("The prompt is empty; expected at least one token.", param);
  return tokens;
}

/** FNV-1a over UTF-16 code units, continuing from `hash`. */
function fnv1a(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}
