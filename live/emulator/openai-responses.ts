/** Response and stream-chunk bodies of vLLM's OpenAI-compatible endpoints (the fields clients
 *  read; logprobs are always null). */

/** The text of one generated token: the emulator's output is filler, one `" tok"` per token. */
export const TOKEN_TEXT = " tok";

export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function usage(promptTokens: number, completionTokens: number, cachedTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens },
  };
}

interface Head {
  id: string;
  created: number;
  model: string;
}

/** `id`, `object`, `created`, `model`: the leading fields of every body, in vLLM's order. */
function opening(head: Head, object: string) {
  return { id: head.id, object, created: head.created, model: head.model };
}

export function completionResponse(head: Head, text: string, use: Usage) {
  return {
    ...opening(head, "text_completion"),
    choices: [{ index: 0, text, logprobs: null, finish_reason: "length", stop_reason: null, prompt_logprobs: null }],
    usage: use,
  };
}

export function chatResponse(head: Head, text: string, use: Usage) {
  return {
    ...opening(head, "chat.completion"),
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: text, tool_calls: [] },
        logprobs: null,
        finish_reason: "length",
        stop_reason: null,
      },
    ],
    usage: use,
  };
}

/** One streamed token; `last` carries finish_reason "length". With include_usage, every chunk has
 *  `usage: null` until the final usage chunk (OpenAI's convention). */
export function completionChunk(head: Head, text: string, last: boolean, includeUsage: boolean) {
  const chunk: Record<string, unknown> = {
    ...opening(head, "text_completion"),
    choices: [{ index: 0, text, logprobs: null, finish_reason: last ? "length" : null, stop_reason: null }],
  };
  if (includeUsage) chunk.usage = null;
  return chunk;
}

/** A chat delta: the first chunk of a stream carries only the role (sent with the first token, as
 *  vLLM does), the others one token each. */
export function chatChunk(head: Head, delta: { role?: string; content: string }, last: boolean, includeUsage: boolean) {
  const chunk: Record<string, unknown> = {
    ...opening(head, "chat.completion.chunk"),
    choices: [{ index: 0, delta, logprobs: null, finish_reason: last ? "length" : null }],
  };
  if (includeUsage) chunk.usage = null;
  return chunk;
}

/** The final chunk of a stream with `stream_options.include_usage`: no choices, the usage. */
export function usageChunk(head: Head, object: "text_completion" | "chat.completion.chunk", use: Usage) {
  return { ...opening(head, object), choices: [], usage: use };
}

export function modelList(name: string, maxModelLen: number, created: number) {
  return {
    object: "list",
    data: [
      {
        id: name,
        object: "model",
        created,
        owned_by: "vllm",
        root: name,
        parent: null,
        max_model_len: maxModelLen,
        permission: [],
      },
    ],
  };
}
