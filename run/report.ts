import type { ModelTraffic } from "../src/core/model-traffic.ts";
import { buildReport, type AgentSummary, type Report } from "../src/metrics/report-schema.ts";
import type { PolicyChoice } from "../src/policies/registry.ts";
import { TANDEM_VERSION } from "../src/version.ts";
import type { RunSetup } from "./setup.ts";
import { workloadTraceInfo } from "./workload.ts";

/** What a finished run (sim or live) reports. */
export interface RunReportInput {
  mode: "sim" | "live";
  setup: RunSetup;
  /** Requests or workflows that arrived. */
  arrived: number;
  agents: AgentSummary[];
  models: ModelTraffic[];
  /** Live: the one-way API latency measured to each instance before the run (instance id → model
   *  seconds), recorded on the instance's summary. */
  api_latency_s?: ReadonlyMap<string, number>;
}

/** The validated report of a run: one schema for both hosts. */
export function runReport(input: RunReportInput): Report {
  const { recorder, instances, cluster, seed, workload, scheduling, dispatch } = input.setup;
  const specs = instances.map((i) => i.spec);
  return buildReport({
    tandem_version: TANDEM_VERSION,
    mode: input.mode,
    run: {
      seed,
      config: JSON.parse(JSON.stringify(cluster)),
      trace: workloadTraceInfo(workload, input.arrived),
      policies: {
        scheduling: scheduling.policy.name,
        dispatch: dispatch.policy.name,
        scheduling_params: paramsOf(scheduling.choice),
        dispatch_params: paramsOf(dispatch.choice),
        ...policyErrors(input.setup.policyFaults),
      },
      observability: input.setup.observability,
      latency_model: distinctValues(instances.map((i) => i.latency.info)),
      ...modelFiles(instances),
      inputs_sha256: input.setup.inputs_sha256,
    },
    summary: recorder.summary(),
    instances: recorder.instances(specs).map((summary) => {
      const measured = input.api_latency_s?.get(summary.id);
      return measured === undefined ? summary : { ...summary, api_latency_s: measured };
    }),
    agents: input.agents,
    models: input.models,
    timelines: recorder.timelines(specs),
    longest_workflow: recorder.longestWorkflow(),
  });
}

function policyErrors(faults: RunSetup["policyFaults"]): { errors?: { count: number; fallback: string; first: string } } {
  return faults.count === 0 || faults.first === undefined ? {} : { errors: { count: faults.count, fallback: faults.fallback, first: faults.first } };
}

function paramsOf(choice: PolicyChoice): Record<string, unknown> | undefined {
  return typeof choice === "string" ? undefined : JSON.parse(JSON.stringify(choice.params ?? {}));
}

/** The config.json models of a run, one entry per group; nothing when all are presets, so that
 *  reports of preset-only runs keep their shape. */
function modelFiles(instances: RunSetup["instances"]): { model_files?: { path: string; spec: unknown }[] } {
  const files = instances.flatMap((i) => (i.model_file ? [i.model_file] : []));
  if (files.length === 0) return {};
  return { model_files: distinctValues(files) as { path: string; spec: unknown }[] };
}

/** One entry per distinct value (instances of a group share a latency model and a model file). */
function distinctValues(infos: unknown[]): unknown[] {
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const info of infos) {
    const key = JSON.stringify(info);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(JSON.parse(key));
    }
  }
  return out;
}
