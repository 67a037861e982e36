import { createHash, type Hash } from "node:crypto";
import { textTokens, type GenerationRequest } from "./request.ts";

/** Token ids per hashed block of a token-id prompt (vLLM's default block size). */
export const RECORD_BLOCK_TOKENS = 16;
/** Characters per hashed block of a text prompt (about 16 tokens at 4 characters per token). */
export const RECORD_BLOCK_CHARS = 64;
/** Chat overheads, as the gateway estimates them (request.ts). */
const PER_MESSAGE_TOKENS = 4;

/** One place a prompt can be cut: after `units` messages (chat), token ids or characters, with the
 *  hash of everything before it and its estimated tokens. Equal hashes mean equal prefixes. */
export interface PrefixBoundary {
  units: number;
  hash: string;
  est_tokens: number;
}

/** What the recorder keeps of a prompt instead of its text: hashes of its prefixes at message or
 *  block boundaries (to find prefixes shared across workflows) and of the whole prompt (to find the
 *  later calls that continue its conversation). */
export interface PromptPrefixes {
  kind: "chat" | "ids" | "text";
  boundaries: PrefixBoundary[];
  /** The whole prompt: its length in units, hash and estimated tokens. */
  whole: PrefixBoundary;
  /** Hash of the prompt's first `units` units (undefined past its end); for continuation checks,
   *  valid only while the request is at hand. */
  hashAt(units: number): string | undefined;
  /** Role of the message at index `units` (chat only): a continuation's next message is the reply. */
  roleAt(units: number): string | undefined;
}

const digest = (h: Hash): string => h.copy().digest("hex").slice(0, 20);

/** The prefix hashes of a completion or chat request's prompt. */
export function promptPrefixes(request: GenerationRequest): PromptPrefixes {
  if (request.kind === "chat") return chatPrefixes(request.body.messages as Record<string, unknown>[]);
  let prompt = request.body.prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] !== "number") prompt = prompt[0];
  if (typeof prompt === "string") return textPrefixes(prompt);
  return idPrefixes(prompt as number[]);
}

function chatPrefixes(messages: Record<string, unknown>[]): PromptPrefixes {
  const h = createHash("sha256");
  const boundaries: PrefixBoundary[] = [];
  let est = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const text = messageText(m.content);
    // Length-prefixed fields: no two different message lists hash alike by concatenation.
    h.update(`${String(m.role).length}:${String(m.role)}|${text.length}:`);
    h.update(text);
    if (m.tool_calls !== undefined) h.update(JSON.stringify(m.tool_calls));
    est += PER_MESSAGE_TOKENS + textTokens(text);
    boundaries.push({ units: i + 1, hash: digest(h), est_tokens: est });
  }
  const whole = boundaries[boundaries.length - 1];
  return {
    kind: "chat",
    boundaries,
    whole,
    hashAt: (units) => (units >= 1 && units <= boundaries.length ? boundaries[units - 1].hash : undefined),
    roleAt: (units) => (units < messages.length ? String(messages[units].role) : undefined),
  };
}

function idPrefixes(ids: number[]): PromptPrefixes {
  const blocks = (upto: number, each: (units: number, h: Hash) => void): Hash => {
    const h = createHash("sha256");
    const buffer = Buffer.alloc(RECORD_BLOCK_TOKENS * 4);
    for (let start = 0; start < upto; start += RECORD_BLOCK_TOKENS) {
      const end = Math.min(upto, start + RECORD_BLOCK_TOKENS);
      for (let i = start; i < end; i++) buffer.writeUInt32LE(ids[i] >>> 0, (i - start) * 4);
      h.update(buffer.subarray(0, (end - start) * 4));
      if (end - start === RECORD_BLOCK_TOKENS) each(end, h);
    }
    return h;
  };
  const boundaries: PrefixBoundary[] = [];
  const full = blocks(ids.length, (units, h) => boundaries.push({ units, hash: digest(h), est_tokens: units }));
  const whole = { units: ids.length, hash: digest(full), est_tokens: ids.length };
  return {
    kind: "ids",
    boundaries,
    whole,
    hashAt: (units) => (units === ids.length ? whole.hash : units >= 1 && units < ids.length ? digest(blocks(units, () => {})) : undefined),
    roleAt: () => undefined,
  };
}

function textPrefixes(text: string): PromptPrefixes {
  const boundaries: PrefixBoundary[] = [];
  const h = createHash("sha256");
  for (let start = 0; start + RECORD_BLOCK_CHARS <= text.length; start += RECORD_BLOCK_CHARS) {
    h.update(text.slice(start, start + RECORD_BLOCK_CHARS));
    const units = start + RECORD_BLOCK_CHARS;
    boundaries.push({ units, hash: digest(h), est_tokens: textTokens(text.slice(0, units)) });
  }
  const hashOf = (units: number) => digest(createHash("sha256").update(text.slice(0, units)));
  // Block hashes are chained updates of the same bytes as one update of the whole slice.
  const whole = { units: text.length, hash: hashOf(text.length), est_tokens: textTokens(text) };
  return {
    kind: "text",
    boundaries,
    whole,
    hashAt: (units) => (units >= 1 && units <= text.length ? hashOf(units) : undefined),
    roleAt: () => undefined,
  };
}

function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let text = "";
  for (const part of content) {
    const t = (part as Record<string, unknown> | null)?.text;
    if (typeof t === "string") text += t;
  }
  return text;
}
