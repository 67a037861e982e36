import type { CallUsage } from "../../src/core/types.ts";
import { LiveCallError } from "./errors.ts";
import type { StreamObservation, TokenCallbacks } from "./stream-observer.ts";

/** Token counts of a finished call. */
export interface LiveUsage {
  prompt_tokens: number;
  /** Prompt tokens served from the prefix cache (0 when the server does not report it). */
  cached_tokens: number;
  output_tokens: number;
}

/** A call that streamed to its end. Times come from the client's injected clock. */
export interface StreamResult {
  usage: LiveUsage;
  /** The server sent `usage`; false → output_tokens counted from the stream, prompt_tokens as sent. */
  usage_reported: boolean;
  /** The server reported prompt_tokens_details.cached_tokens. */
  cached_tokens_reported: boolean;
  /** When the call was handed to the client, when its last attempt was sent (after waiting for a
   *  connection slot and any retries), and when that attempt's response headers arrived. */
  started_s: number;
  sent_s: number;
  headers_s: number;
  /** First chunk carrying tokens; null only when no token came (e.g. max_tokens 0). */
  first_token_s: number | null;
  /** When `data: [DONE]` arrived (else the end of the response body). */
  finish_s: number;
  /** Every chunk carrying tokens (first included): arrival time and tokens counted in it. */
  chunk_times_s: number[];
  chunk_tokens: number[];
  tokens_streamed: number;
  finish_reason: string | null;
  /** HTTP attempts (1 + connect retries). */
  attempts: number;
  status: number;
}

/** What a pass-through (or any fire-and-observe) call ends with; never a rejection. */
export type CallOutcome = { ok: true; result: StreamResult } | { ok: false; error: LiveCallError };

/** The core's CallUsage of a live call (live cannot see preemptions of one call: 0). */
export function toCallUsage(usage: LiveUsage): CallUsage {
  return {
    prompt_tokens: usage.prompt_tokens,
    cached_tokens: usage.cached_tokens,
    output_tokens: usage.output_tokens,
    preemptions: 0,
  };
}

export interface SettleContext {
  started_s: number;
  sent_s: number;
  headers_s: number;
  finish_s: number;
  attempts: number;
  status: number;
  /** Prompt length as sent, for when the server reports no usage. */
  prompt_tokens_sent: number | undefined;
}

/** Turns what a body showed into the call's result or failure. If the server reports output tokens
 *  but no chunk carried visible tokens, the first token is taken to be the end of the body (and
 *  onFirstToken fires then), so a finished call with output always has a first token. */
export function settle(obs: StreamObservation, failure: LiveCallError | undefined, ctx: SettleContext, callbacks: TokenCallbacks): StreamResult | LiveCallError {
  if (failure !== undefined) return withTokens(failure, obs.tokens_streamed, ctx.attempts);
  if (!obs.done) {
    return new LiveCallError({
      kind: obs.format === "sse" ? "stream" : "protocol",
      reason: obs.format === "sse" ? `stream ended without [DONE]${obs.tokens_streamed > 0 ? ` after ${obs.tokens_streamed} tokens` : ""}` : "response is neither an event stream nor JSON",
      retryable: true,
      tokens_streamed: obs.tokens_streamed,
      attempts: ctx.attempts,
      status: ctx.status,
    });
  }
  const u = obs.usage;
  const output = u !== null ? u.completion_tokens : obs.tokens_streamed;
  let first = obs.first_token_s;
  const times = obs.chunk_times_s;
  const counts = obs.chunk_tokens;
  if (first === null && output > 0 && obs.format === "sse") {
    first = ctx.finish_s;
    times.push(ctx.finish_s);
    counts.push(output);
    callbacks.onFirstToken?.(ctx.finish_s);
  }
  return {
    usage: {
      prompt_tokens: u !== null ? u.prompt_tokens : (ctx.prompt_tokens_sent ?? 0),
      cached_tokens: u?.cached_tokens ?? 0,
      output_tokens: output,
    },
    usage_reported: u !== null,
    cached_tokens_reported: u !== null && u.cached_tokens !== null,
    started_s: ctx.started_s,
    sent_s: ctx.sent_s,
    headers_s: ctx.headers_s,
    first_token_s: first,
    finish_s: ctx.finish_s,
    chunk_times_s: times,
    chunk_tokens: counts,
    tokens_streamed: obs.tokens_streamed,
    finish_reason: obs.finish_reason,
    attempts: ctx.attempts,
    status: ctx.status,
  };
}

/** The failure as the caller sees it: not retryable once tokens were delivered, and saying so. */
export function withTokens(error: LiveCallError, tokens: number, attempts?: number): LiveCallError {
  if (tokens === 0 && (attempts === undefined || attempts === error.attempts)) return error;
  return new LiveCallError({
    kind: error.kind,
    reason: tokens > 0 && !error.reason.includes("tokens") ? `${error.reason} (after ${tokens} tokens)` : error.reason,
    retryable: error.retryable,
    ...(error.status !== undefined ? { status: error.status } : {}),
    tokens_streamed: tokens,
    attempts: attempts ?? error.attempts,
  });
}
