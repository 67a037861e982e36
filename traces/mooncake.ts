import type { PromptSegment, RequestSpec } from "../src/core/types.ts";
import { inputError } from "../src/core/errors.ts";
import { jsonObjectLine } from "./jsonl.ts";
import { isBlank } from "./lines.ts";
import { readRequests } from "./reader.ts";
import { clampOutput, clampPrompt, tokenCount, type ReadOptions } from "./rows.ts";

/** Tokens per Mooncake hash block (the trace release's block size). */
export const MOONCAKE_BLOCK_TOKENS = 512;

/** Turns a Mooncake row's prefix block ids into prompt segments: one keyed segment `mc:<id>` per
 *  block, the last one partial, plus an unkeyed tail when the blocks cover less than the prompt.
 *  Equal ids across rows mean equal content, hence equal keys and a shareable prefix. */
export function mooncakeSegments(hash_ids: readonly number[], prompt_tokens: number, where: string): PromptSegment[] {
  const blocks = hash_ids.length;
  const covered = blocks * MOONCAKE_BLOCK_TOKENS;
  // The last block must hold at least one token; more blocks than that means the row contradicts itself.
  if (blocks > 0 && (blocks - 1) * MOONCAKE_BLOCK_TOKENS >= prompt_tokens) {
    throw inputError(
      where,
      `hash_ids has ${blocks} blocks (${covered} tokens at ${MOONCAKE_BLOCK_TOKENS} per block) but input_length is ` +
        `${prompt_tokens}; expected at most ceil(input_length / ${MOONCAKE_BLOCK_TOKENS}) = ` +
        `${Math.ceil(prompt_tokens / MOONCAKE_BLOCK_TOKENS)} blocks`,
    );
  }
  const segments: PromptSegment[] = new Array(blocks);
  for (let i = 0; i < blocks; i++) {
    segments[i] = { key: `mc:${hash_ids[i]}`, tokens: MOONCAKE_BLOCK_TOKENS };
  }
  if (covered > prompt_tokens) {
    segments[blocks - 1].tokens = prompt_tokens - (blocks - 1) * MOONCAKE_BLOCK_TOKENS;
  } else if (covered < prompt_tokens) {
    segments.push({ tokens: prompt_tokens - covered });
  }
  return segments;
}

function hashIds(value: unknown, where: string): number[] {
  if (!Array.isArray(value)) {
    throw inputError(where, `hash_ids is ${value === undefined ? "missing" : JSON.stringify(value)}; expected an array of integer block ids`);
  }
  for (let i = 0; i < value.length; i++) {
    const id = value[i];
    if (typeof id !== "number" || !Number.isInteger(id)) {
      throw inputError(where, `hash_ids[${i}] is ${JSON.stringify(id)}; expected an integer block id`);
    }
  }
  return value as number[];
}

/** Reads a Mooncake trace (JSONL `{timestamp (ms), input_length, output_length, hash_ids}`) in
 *  batches. arrival_s = timestamp / 1000; output_length 0 is clamped to 1 token. */
export function readMooncakeTrace(path: string, options: ReadOptions = {}): AsyncGenerator<RequestSpec[]> {
  return readRequests(path, options, (stats) => ({
    parse(text, line, index) {
      if (isBlank(text)) return undefined;
      const where = `${path}:${line}`;
      const row = jsonObjectLine(text, where);
      const timestamp_ms = row.timestamp;
      if (typeof timestamp_ms !== "number" || !Number.isFinite(timestamp_ms) || timestamp_ms < 0) {
        const shown = timestamp_ms === undefined ? "missing" : JSON.stringify(timestamp_ms);
        throw inputError(where, `timestamp is ${shown}; expected milliseconds ≥ 0`);
      }
      const input = tokenCount(row.input_length, "input_length", path, line);
      const output = tokenCount(row.output_length, "output_length", path, line);
      const ids = hashIds(row.hash_ids, where);
      if (input === 0 && ids.length > 0) {
        throw inputError(where, `input_length is 0 but hash_ids has ${ids.length} blocks; expected input_length ≥ 1`);
      }
      const prompt_tokens = clampPrompt(input, stats);
      return {
        id: String(index),
        arrival_s: timestamp_ms / 1000,
        prompt_tokens,
        output_tokens: clampOutput(output, stats),
        segments: mooncakeSegments(ids, prompt_tokens, where),
      };
    },
  }));
}
