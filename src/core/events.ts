import type { WorkflowSpec } from "../workflow/types.ts";
import type { CallUsage, InstanceSnapshot, LlmCall } from "./types.ts";
import type { InstanceState } from "./view.ts";

/** What happened, as a host reports it to the controller. Every event carries its time. */
export type ControllerEvent =
  | { kind: "workflowArrived"; at_s: number; workflow: WorkflowSpec }
  | { kind: "toolFinished"; at_s: number; workflowId: string; stepId: string }
  | { kind: "callArrived"; at_s: number; call: LlmCall }
  | { kind: "callFirstToken"; at_s: number; callId: string }
  | { kind: "callTokens"; at_s: number; callId: string; count: number }
  | { kind: "callFinished"; at_s: number; callId: string; usage: CallUsage }
  /** `retryable`: the call failed before any token streamed (e.g. connection refused), so it may be
   *  dispatched again; otherwise it ends failed. */
  | { kind: "callFailed"; at_s: number; callId: string; reason: string; retryable: boolean }
  | { kind: "callRejected"; at_s: number; callId: string; reason: string }
  | { kind: "instanceObserved"; at_s: number; snapshot: InstanceSnapshot }
  /** The host finished a lifecycle transition (woke up, started, stopped). */
  | { kind: "instanceStateChanged"; at_s: number; instanceId: string; state: InstanceState }
  | { kind: "tick"; at_s: number };

/** What the controller asks its host to do. */
export type ControllerAction =
  | { kind: "dispatch"; call: LlmCall; instanceId: string; enginePriority: number | undefined }
  | { kind: "reject"; callId: string; reason: string }
  /** Run a workflow's tool step; the host reports toolFinished after `duration_s`. */
  | { kind: "startTool"; workflowId: string; stepId: string; duration_s: number }
  /** A call that will be released when a running tool finishes, at `ready_by_s`: the host may move
   *  its cached prefix back to GPU memory on `instanceId` in time (MT-APC's prefetch). Advice only. */
  | { kind: "prefetch"; call: LlmCall; instanceId: string; ready_by_s: number }
  | { kind: "wakeMeAt"; at_s: number }
  /** Lifecycle: put an instance to sleep (vLLM /sleep), wake it (/wake_up; the host reports
   *  `awake` when done), start a stopped one (reports `awake` after its start-up), or stop one. */
  | { kind: "sleep" | "wake" | "startInstance" | "stopInstance"; instanceId: string };
