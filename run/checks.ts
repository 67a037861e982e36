import { InputError } from "../src/core/errors.ts";
import { isWorkflow, type Arrival } from "../src/core/arrival.ts";
import type { ConfiguredInstance } from "../src/model/instance.ts";
import { canonicalModelName } from "../src/model/models.ts";
import type { WorkflowSpec } from "../src/workflow/types.ts";

/** What the checks need to know of the run so far: ids still open at the controller. */
export interface OpenIds {
  hasOpenCall(callId: string): boolean;
  hasRunningWorkflow(workflowId: string): boolean;
}

/** The checks every host makes of each arrival before the controller sees it, so that the same bad
 *  workload gets the same one-line error from `sim`, `live` and the gateway: an id reused while its
 *  first holder is still open, a model (of a request or of a workflow's agent) no instance serves. */
export class ArrivalChecks {
  private readonly served: ReadonlySet<string>;

  constructor(
    private readonly source: string,
    instances: readonly ConfiguredInstance[],
  ) {
    this.served = new Set(instances.map((i) => i.spec.model));
  }

  check(arrival: Arrival, open: OpenIds): void {
    if (isWorkflow(arrival)) {
      if (open.hasRunningWorkflow(arrival.id)) {
        throw new InputError(`${this.source}: workflow id "${arrival.id}" appears twice while the first is still running`);
      }
      this.checkAgentModels(arrival);
    } else {
      if (open.hasOpenCall(arrival.id)) {
        throw new InputError(`${this.source}: request id "${arrival.id}" appears twice while the first is still in flight`);
      }
      if (arrival.model !== undefined && !this.serves(arrival.model)) {
        throw new InputError(`${this.source}: request "${arrival.id}": model "${arrival.model}" is not served by any instance; the cluster serves ${this.servedList()}`);
      }
    }
  }

  /** An agent bound to a model that no instance serves is an error in the workflow, not a run of
   *  rejected calls: say which workflow, agent and model, and what the cluster serves. */
  checkAgentModels(workflow: WorkflowSpec): void {
    for (const [agent, spec] of Object.entries(workflow.agents)) {
      if (spec.model !== undefined && !this.serves(spec.model)) {
        throw new InputError(`${this.source}: workflow "${workflow.id}": agents.${agent}.model: "${spec.model}" is not served by any instance; the cluster serves ${this.servedList()}`);
      }
    }
  }

  serves(model: string): boolean {
    return this.served.has(canonicalModelName(model));
  }

  private servedList(): string {
    return [...this.served].join(", ");
  }
}
