import type { LlmCall } from "../../src/core/types.ts";
import type { TokenIdentity } from "../../src/core/prefix-identity.ts";

/** Where a request is in its engine. `waiting`: queued, never admitted; `running`: admitted, holds
 *  KV blocks; `preempted`: back in the queue after a recompute preemption (its blocks freed);
 *  `finished`: its last token sampled; `rejected`: refused at enqueue; `aborted`: dropped by `abort`. */
export type RequestState = "waiting" | "running" | "preempted" | "finished" | "rejected" | "aborted";

/** A call inside one engine: how far its KV has been computed and which blocks hold it. */
export class EngineRequest {
  state: RequestState = "waiting";
  /** Output tokens produced so far. */
  output_done = 0;
  /** Tokens (prompt + output) whose KV is computed. */
  computed_tokens = 0;
  readonly blocks: number[] = [];
  /** Leading blocks already registered in the prefix cache. */
  registered_blocks = 0;
  /** Prompt tokens served from the prefix cache on first admission (OpenAI `cached_tokens`). */
  cached_tokens = 0;
  preemptions = 0;
  first_token_sent = false;
  /** When the request's latest token was sampled (NaN before the first). */
  last_token_s = NaN;
  /** Tokens scheduled in the current step (0 if not scheduled). */
  scheduled_tokens = 0;
  /** Tokens the sequence holds: prompt plus output generated so far (kept as a field: hot path). */
  total_tokens: number;
  readonly target_output_tokens: number;

  constructor(
    readonly call: LlmCall,
    readonly priority: number,
    /** Arrival order at this engine: the FCFS tie-break. */
    readonly seq: number,
    readonly identity: TokenIdentity,
    /** Full blocks inside the identity's shareable prefix: the only ones registered while running. */
    readonly sharable_blocks: number,
  ) {
    this.total_tokens = call.prompt_tokens;
    this.target_output_tokens = call.output_tokens;
  }

  get id(): string {
    return this.call.id;
  }
}
