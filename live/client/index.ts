export {
  CompletionClient,
  type CallRequestOptions,
  type CompletionClientOptions,
  type StreamRequest,
} from "./completion-client.ts";
export { LiveCallError, type LiveCallErrorInit, type LiveCallErrorKind } from "./errors.ts";
export { passThrough, type PassThroughRequest, type PassThroughResponse } from "./pass-through.ts";
export {
  CHAT_COMPLETIONS_PATH,
  COMPLETIONS_PATH,
  chatCompletionBody,
  completionBody,
  withStreamingUsage,
  type ChatBodyArgs,
  type CompletionBodyArgs,
} from "./request-body.ts";
export { toCallUsage, type CallOutcome, type LiveUsage, type StreamResult } from "./result.ts";
export { SseParser, type SseEvent } from "./sse.ts";
export {
  StreamObserver,
  bodyFormat,
  type ReportedUsage,
  type StreamObservation,
  type TokenCallbacks,
} from "./stream-observer.ts";
export {
  DEFAULT_VOCAB_MAX,
  DEFAULT_VOCAB_MIN,
  promptTokenIds,
  segmentTokenIds,
  type TokenPromptCall,
  type TokenPromptOptions,
} from "./token-prompt.ts";
export {
  DEFAULT_RETRY,
  DEFAULT_TIMEOUTS,
  parseBaseUrl,
  type HttpTimeouts,
  type RetryPolicy,
} from "./transport.ts";
