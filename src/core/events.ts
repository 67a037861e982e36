import type { WorkflowSpec } from "../workflow/types.ts";
import type { CallUsage, InstanceSnapshot, LlmCall } from "./types.ts";
import type { InstanceState } from "./view.ts";

/** What is known of an open-ended workflow when its first call arrives. */
export interface OpenWorkflowInfo {
  id: string;
  app?: string;
  tenant?: string;
  priority_class?: string;
  slo_s?: number;
}

/** What happened, as a host reports it to the controller. Every event carries its time. */
export type ControllerEvent =
  | { kind: "workflowArrived"; at_s: number; workflow: WorkflowSpec }
  /** A tool step the controller started (startTool) ended; `started_s`: when the host started it. */
  | { kind: "toolFinished"; at_s: number; workflowId: string; stepId: string; started_s: number }
  | { kind: "callArrived"; at_s: number; call: LlmCall }
  | { kind: "callFirstToken"; at_s: number; callId: string }
  | { kind: "callTokens"; at_s: number; callId: string; count: number }
  /** `count` output tokens streamed at `at_s`, each `gap_s` after its call's previous token (the
   *  simulator's per-step aggregate of callTokens: the same ITL samples in one event). */
  | { kind: "tokenGaps"; at_s: number; gap_s: number; count: number }
  | { kind: "callFinished"; at_s: number; callId: string; usage: CallUsage }
  /** `retryable`: the call failed before any token streamed (e.g. connection refused), so it may be
   *  dispatched again; otherwise it ends failed. */
  | { kind: "callFailed"; at_s: number; callId: string; reason: string; retryable: boolean }
  | { kind: "callRejected"; at_s: number; callId: string; reason: string }
  /** A call the host turned away before it reached the controller's queue (the gateway's own
   *  admission limits): counted as arrived and rejected. */
  | { kind: "callTurnedAway"; at_s: number; call: LlmCall; reason: string }
  /** A call still waiting at the controller is withdrawn by the host (the gateway shutting down):
   *  it ends rejected with `reason`. */
  | { kind: "callWithdrawn"; at_s: number; callId: string; reason: string }
  /** An open-ended workflow (the gateway's: its DAG is not known ahead) begins with its first call… */
  | { kind: "workflowOpened"; at_s: number; workflow: OpenWorkflowInfo }
  /** … and ends: `failure` null when every call finished; `llm_steps` the calls it had. */
  | { kind: "workflowEnded"; at_s: number; workflowId: string; llm_steps: number; failure: string | null }
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
