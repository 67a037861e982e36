/** Request bodies for vLLM's OpenAI-compatible endpoints, streaming with usage. */

export const COMPLETIONS_PATH = "/v1/completions";
export const CHAT_COMPLETIONS_PATH = "/v1/chat/completions";

export interface CompletionBodyArgs {
  model: string;
  /** Token ids (tandem's trace replay) or text. */
  prompt: readonly number[] | string;
  /** Output length; with `ignore_eos` (default true) the server generates exactly this many. */
  max_tokens: number;
  /** vLLM per-request priority (lower runs first). Sent only when given: vLLM rejects a non-zero
   *  priority unless the server runs with --scheduling-policy priority. */
  priority?: number;
  ignore_eos?: boolean;
  /** Further fields (temperature, seed, …); they override the defaults above. */
  extra?: Record<string, unknown>;
}

export interface ChatBodyArgs extends Omit<CompletionBodyArgs, "prompt"> {
  messages: readonly { role: string; content: string }[];
}

const STREAMING = { stream: true, stream_options: { include_usage: true } } as const;

export function completionBody(args: CompletionBodyArgs): Record<string, unknown> {
  return {
    model: args.model,
    prompt: args.prompt,
    max_tokens: args.max_tokens,
    ...STREAMING,
    ignore_eos: args.ignore_eos ?? true,
    ...(args.priority !== undefined ? { priority: args.priority } : {}),
    ...args.extra,
  };
}

export function chatCompletionBody(args: ChatBodyArgs): Record<string, unknown> {
  return {
    model: args.model,
    messages: args.messages,
    max_tokens: args.max_tokens,
    ...STREAMING,
    ignore_eos: args.ignore_eos ?? true,
    ...(args.priority !== undefined ? { priority: args.priority } : {}),
    ...args.extra,
  };
}

/** `body` with `stream: true` and `stream_options.include_usage: true` added (other fields kept). */
export function withStreamingUsage(body: Record<string, unknown>): Record<string, unknown> {
  const options = body.stream_options;
  return {
    ...body,
    stream: true,
    stream_options: {
      ...(options !== null && typeof options === "object" ? (options as Record<string, unknown>) : {}),
      include_usage: true,
    },
  };
}
