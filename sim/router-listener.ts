import type { Controller } from "../src/core/controller.ts";
import type { EngineListener } from "./engine/engine.ts";
import type { EngineRequest } from "./engine/request.ts";

function usage(request: EngineRequest) {
  return { prompt_tokens: request.call.prompt_tokens, cached_tokens: request.cached_tokens, output_tokens: request.output_done, preemptions: request.preemptions };
}

/** Passes what an engine reports straight to the controller (no API latency: allocation-free). */
export function directListener(controller: Controller): EngineListener {
  return {
    firstToken: (at, request) => controller.callFirstToken(at, request.id),
    tokenGaps: (at, gap_s, count) => controller.tokenGaps(at, gap_s, count),
    finished: (at, request) => controller.callFinished(at, request.id, usage(request)),
    rejected: (at, request, reason) => controller.callRejected(at, request.id, reason),
  };
}

/** Passes what an engine reports to the controller through `deliver`, which runs it later (the
 *  engine's API latency, as over HTTP). A finished call's usage is read now, when it finishes. */
export function delayedListener(controller: Controller, deliver: (at_s: number, run: (at_s: number) => void) => void): EngineListener {
  return {
    firstToken: (at, request) => deliver(at, (t) => controller.callFirstToken(t, request.id)),
    tokenGaps: (at, gap_s, count) => deliver(at, (t) => controller.tokenGaps(t, gap_s, count)),
    finished: (at, request) => {
      const used = usage(request);
      deliver(at, (t) => controller.callFinished(t, request.id, used));
    },
    rejected: (at, request, reason) => deliver(at, (t) => controller.callRejected(t, request.id, reason)),
  };
}
