import { z } from "zod";
import { fieldPath } from "../../src/core/zod-issue.ts";
import { badRequest } from "./errors.ts";
import { renderChat, tokenizeText } from "./tokenize.ts";

/** A completion or chat request reduced to what the engine needs. */
export interface GenerationRequest {
  kind: "completion" | "chat";
  /** The `model` field; undefined = the served model (as vLLM allows). */
  model: string | undefined;
  /** Prompt token ids: given by the client, or from the stand-in tokenizer (tokenize.ts). */
  promptIds: number[];
  /** Output tokens the emulator produces: always exactly this many (it never samples EOS). */
  maxTokens: number;
  stream: boolean;
  /** `stream_options.include_usage`: a final chunk with `usage` and no choices. */
  includeUsage: boolean;
  /** vLLM per-request priority (lower runs first under priority scheduling); default 0. */
  priority: number;
  /** `tandem_output_key`: the output's token ids are the ones this prompt-segment key stands for. */
  outputKey: string | undefined;
  /** `return_token_ids` (vLLM 0.10.2+): chunks carry the ids of their tokens. */
  returnTokenIds: boolean;
}

export interface ParseContext {
  vocabSize: number;
  maxModelLen: number;
  /** Output length when the request gives no max_tokens. */
  defaultMaxTokens: number;
  /** The imitated release describes too-long requests as vLLM 0.10+ does (`'max_tokens' … is too large`). */
  maxTokensErrorText?: boolean;
}

const tokenId = z.number().int().nonnegative();
const optionalFlag = z.boolean().nullable().optional();

const common = {
  model: z.string().nullable().optional(),
  stream: optionalFlag,
  stream_options: z.looseObject({ include_usage: optionalFlag, continuous_usage_stats: optionalFlag }).nullable().optional(),
  max_tokens: z.number().int().min(1, "max_tokens must be at least 1").nullable().optional(),
  ignore_eos: optionalFlag,
  priority: z.number().int().nullable().optional(),
  return_token_ids: optionalFlag,
  n: z.number().int().min(1).max(1, "the emulator serves n = 1 only").nullable().optional(),
  /** Emulator extension (tandem live sends it to emulators only): the output is the token ids a
   *  prompt segment keyed so carries (live/client/token-prompt.ts), so a later call whose prompt
   *  repeats this output hits its KV blocks, as the next turn of a real conversation does. */
  tandem_output_key: z.string().min(1).nullable().optional(),
};

/** Fields vLLM accepts that the emulator ignores (sampling settings and the like) pass through. */
const CompletionSchema = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.array(tokenId), z.array(z.string()), z.array(z.array(tokenId))]),
});

const ContentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const MessageSchema = z.looseObject({
  role: z.string().min(1),
  content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
});

const ChatSchema = z.looseObject({
  ...common,
  messages: z.array(MessageSchema).min(1, "messages must not be empty"),
  max_completion_tokens: z.number().int().min(1, "max_completion_tokens must be at least 1").nullable().optional(),
});

function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = fieldPath(issue.path);
  throw badRequest(field === "" ? issue.message : `${field}: ${issue.message}`, field === "" ? null : field);
}

/** Validates a `/v1/completions` body; throws ApiError 400 on anything vLLM would refuse. */
export function parseCompletionRequest(body: unknown, context: ParseContext): GenerationRequest {
  const data = parseWith(CompletionSchema, body);
  let promptIds: number[];
  const prompt = data.prompt;
  if (typeof prompt === "string") {
    promptIds = tokenizeText(prompt, context.vocabSize);
  } else if (prompt.length === 0 || typeof prompt[0] === "number") {
    promptIds = prompt as number[];
  } else {
    const batch = prompt as (string | number[])[];
    if (batch.length !== 1) throw badRequest("the emulator serves one prompt per request; send a batch as separate requests", "prompt");
    promptIds = typeof batch[0] === "string" ? tokenizeText(batch[0], context.vocabSize) : batch[0];
  }
  for (const id of promptIds) {
    if (id >= context.vocabSize) throw badRequest(`Token id ${id} is out of vocabulary (size ${context.vocabSize})`, "prompt");
  }
  return finish("completion", data, promptIds, data.max_tokens ?? undefined, context);
}

/** Validates a `/v1/chat/completions` body; message texts are rendered (tokenize.ts) and tokenized. */
export function parseChatRequest(body: unknown, context: ParseContext): GenerationRequest {
  const data = parseWith(ChatSchema, body);
  const messages = data.messages.map((m) => ({
    role: m.role,
    content: typeof m.content === "string" ? m.content : (m.content ?? []).map((part) => part.text ?? "").join(""),
  }));
  const promptIds = tokenizeText(renderChat(messages), context.vocabSize);
  return finish("chat", data, promptIds, data.max_completion_tokens ?? data.max_tokens ?? undefined, context);
}

type Common = {
  model?: string | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  priority?: number | null;
  tandem_output_key?: string | null;
  return_token_ids?: boolean | null;
};

function finish(kind: GenerationRequest["kind"], data: Common, promptIds: number[], maxTokens: number | undefined, context: ParseContext): GenerationRequest {
  const stream = data.stream === true;
  if (data.stream_options != null && !stream) throw badRequest("Stream options can only be defined when `stream=True`.", "stream_options");
  if (promptIds.length === 0) throw badRequest("The prompt is empty; expected at least one token.", kind === "chat" ? "messages" : "prompt");
  const limit = context.maxModelLen;
  if (promptIds.length >= limit) {
    throw badRequest(
      `This model's maximum context length is ${limit} tokens. However, your request has ${promptIds.length} input tokens. Please reduce the length of the input messages.`,
      kind === "chat" ? "messages" : "prompt",
    );
  }
  const output = maxTokens ?? Math.min(context.defaultMaxTokens, limit - promptIds.length);
  if (promptIds.length + output > limit && context.maxTokensErrorText) {
    throw badRequest(
      `'max_tokens' or 'max_completion_tokens' is too large: ${output}. This model's maximum context length is ${limit} tokens and your request has ${promptIds.length} input tokens (${output} > ${limit} - ${promptIds.length}).`,
      "max_tokens",
    );
  }
  if (promptIds.length + output > limit) {
    throw badRequest(
      `This model's maximum context length is ${limit} tokens. However, you requested ${promptIds.length + output} tokens (${promptIds.length} in the messages, ${output} in the completion). Please reduce the length of the messages or completion.`,
      "max_tokens",
    );
  }
  return {
    kind,
    model: data.model ?? undefined,
    promptIds,
    maxTokens: output,
    stream,
    includeUsage: stream && data.stream_options?.include_usage === true,
    priority: data.priority ?? 0,
    outputKey: data.tandem_output_key ?? undefined,
    returnTokenIds: data.return_token_ids === true,
  };
}
