import type { CallUsage, InstanceSnapshot, LlmCall } from "../../src/core/types.ts";

/** What the live host hears while a call streams; times are model seconds. */
export interface CallProgress {
  firstToken(at_s: number): void;
  tokens(at_s: number, count: number): void;
}

/** Why a call did not finish. `retryable`: nothing streamed yet, so another instance may serve it.
 *  `rejected`: the server refused the request itself (too long, queue full), as an engine rejects. */
export class CallFailure extends Error {
  constructor(
    readonly reason: string,
    readonly retryable: boolean,
    readonly rejected: boolean = false,
    /** The instance could not be reached at all (connection refused or reset): stop sending there
     *  until a scrape succeeds again. */
    readonly unreachable: boolean = false,
  ) {
    super(reason);
  }
}

/** Sends calls to instances and reports their progress: the HTTP client in live mode, an in-memory
 *  fake in unit tests. `send` resolves with the usage the server reported, or rejects with a
 *  CallFailure (anything else it throws counts as a non-retryable failure). */
export interface CallTransport {
  send(instanceId: string, call: LlmCall, enginePriority: number | undefined, progress: CallProgress, signal: AbortSignal): Promise<CallUsage>;
}

/** What the host needs of an instance beyond calls: its observed state and its lifecycle. */
export interface InstanceControl {
  /** Current state (a /metrics scrape); rejects when the instance cannot be reached. */
  observe(instanceId: string): Promise<InstanceSnapshot>;
  /** vLLM /sleep and /wake_up; resolve when the server has done it. */
  sleep(instanceId: string): Promise<void>;
  wake(instanceId: string): Promise<void>;
}
