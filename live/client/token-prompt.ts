import { fmix32 } from "../../src/core/hash.ts";
import type { LlmCall, PromptSegment } from "../../src/core/types.ts";

/** Token ids are drawn from [vocab_min, vocab_max): ordinary vocabulary of every common tokenizer
 *  (Llama 2/3, Mistral, Qwen, OPT, GPT-2 have ≥ 32,000 entries and keep special tokens below 1000
 *  or above 100,000). */
export interface TokenPromptOptions {
  /** Smallest id used (default 1000). */
  vocab_min?: number;
  /** One past the largest id used (default 30000). */
  vocab_max?: number;
}

export const DEFAULT_VOCAB_MIN = 1000;
export const DEFAULT_VOCAB_MAX = 30000;

/** What promptTokenIds needs of a call. */
export type TokenPromptCall = Pick<LlmCall, "id" | "prompt_tokens"> & { segments?: readonly PromptSegment[] };

/** The prompt of a call as token ids, deterministically:
 *  - token `j` of a segment with key K is a function of (K, j) only, so every call whose prompt
 *    starts with the same keyed segments sends the same leading ids, and vLLM's prefix cache (a hash
 *    chain over full blocks of ids) shares exactly those blocks;
 *  - token `j` of the i-th segment without a key is a function of (call id, i, j): unique content
 *    (any block containing it, and every later block, hashes differently from other calls');
 *  - no segments (or an empty list) means one unkeyed segment of `prompt_tokens`.
 *  The result has exactly `prompt_tokens` ids; segments that do not sum to it are an error. */
export function promptTokenIds(call: TokenPromptCall, options: TokenPromptOptions = {}): number[] {
  const lo = options.vocab_min ?? DEFAULT_VOCAB_MIN;
  const hi = options.vocab_max ?? DEFAULT_VOCAB_MAX;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi - lo < 2) {
    throw new Error(`token prompt: vocab range [${lo}, ${hi}) must be integers with at least 2 ids`);
  }
  const segments: readonly PromptSegment[] = call.segments !== undefined && call.segments.length > 0 ? call.segments : [{ tokens: call.prompt_tokens }];
  let total = 0;
  for (const segment of segments) {
    if (!Number.isInteger(segment.tokens) || segment.tokens < 0) {
      throw new Error(`token prompt: call ${call.id} has a segment of ${segment.tokens} tokens`);
    }
    total += segment.tokens;
  }
  if (total !== call.prompt_tokens) {
    throw new Error(`token prompt: call ${call.id} has segments of ${total} tokens in all but prompt_tokens = ${call.prompt_tokens}`);
  }
  const ids = new Array<number>(total);
  const span = hi - lo;
  let at = 0;
  segments.forEach((segment, index) => {
    const seed = segment.key !== undefined ? `k\u0000${segment.key}` : `u\u0000${call.id}\u0000${index}`;
    writeSegment(ids, at, segment.tokens, seed, lo, span);
    at += segment.tokens;
  });
  return ids;
}

/** The first `count` ids a segment keyed `key` sends (for tests and tools). */
export function segmentTokenIds(key: string, count: number, options: TokenPromptOptions = {}): number[] {
  const lo = options.vocab_min ?? DEFAULT_VOCAB_MIN;
  const hi = options.vocab_max ?? DEFAULT_VOCAB_MAX;
  const ids = new Array<number>(count);
  writeSegment(ids, 0, count, `k\u0000${key}`, lo, hi - lo);
  return ids;
}

function writeSegment(ids: number[], at: number, count: number, seed: string, lo: number, span: number): void {
  // Two independent 32-bit string hashes: a 64-bit seed, so distinct keys colliding is negligible.
  const [h1, h2] = hash64(seed);
  for (let j = 0; j < count; j++) {
    const a = fmix32((h1 + Math.imul(j, 0x9e3779b1)) | 0);
    const b = fmix32(a ^ h2 ^ Math.imul(j, 0x85ebca77));
    ids[at + j] = lo + ((b >>> 0) % span);
  }
}

function hash64(s: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 | 0, h2 | 0];
}
