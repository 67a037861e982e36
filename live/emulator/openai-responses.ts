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

export function completionResponse(head: Head, text: string, use: Usage, ids: TokenIds = {}) {
  return {
    ...opening(head, "text_completion"),
    choices: [{ index: 0, text, logprobs: null, finish_reason: "length", stop_reason: null, prompt_logprobs: null, ...ids }],
    usage: use,
  };
}

export function chatResponse(head: Head, text: string, use: Usage, ids: TokenIds = {}) {
  return {
    ...opening(head, "chat.completion"),
    ...(ids.prompt_token_ids !== undefined ? { prompt_token_ids: ids.prompt_token_ids } : {}),
    choices: [
      {
        ...(ids.token_ids !== undefined ? { token_ids: ids.token_ids } : {}),
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

/** Token ids a chunk or response carries with `return_token_ids` (vLLM 0.10.2+): the prompt's
 *  in the first chunk only, the chunk's own output ids in each. */
export interface TokenIds {
  prompt_token_ids?: readonly number[];
  token_ids?: readonly number[];
}

/** One streamed token; `last` carries finish_reason "length". No `usage` key: vLLM sends usage
 *  only in the final chunk (with `stream_options.include_usage`). */
export function completionChunk(head: Head, text: string, last: boolean, ids: TokenIds = {}) {
  return {
    ...opening(head, "text_completion"),
    choices: [{ index: 0, text, logprobs: null, finish_reason: last ? "length" : null, stop_reason: null, ...ids }],
  };
}

/** A chat delta: the first chunk of a stream carries only the role (sent with the first token, as
 *  vLLM does), the others one token each. */
export function chatChunk(head: Head, delta: { role?: string; content: string }, last: boolean, ids: TokenIds = {}) {
  return {
    ...opening(head, "chat.completion.chunk"),
    ...(ids.prompt_token_ids !== undefined ? { prompt_token_ids: ids.prompt_token_ids } : {}),
    choices: [{ index: 0, delta, logprobs: null, finish_reason: last ? "length" : null, ...(ids.token_ids !== undefined ? { token_ids: ids.token_ids } : {}) }],
  };
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
