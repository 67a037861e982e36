import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import { planLaunch, type LaunchFlags, type LaunchPlan } from "./plan.ts";
import { Supervisor, type LaunchEvent } from "./supervisor.ts";

export { planLaunch, LAUNCH_DEFAULTS, type LaunchFlags, type LaunchPlan, type PlannedInstance } from "./plan.ts";
export { Supervisor, type LaunchEvent, type EngineStatus } from "./supervisor.ts";
export { shellLine } from "./template.ts";

/** Engines started and healthy, and the cluster config that points at them. */
export interface LaunchedCluster {
  plan: LaunchPlan;
  supervisor: Supervisor;
  /** The config with every group's `endpoints` set to its launched engines' URLs, in instance order:
   *  what `tandem live` and `tandem gateway` read. */
  cluster: ClusterConfig;
  stop(): Promise<void>;
}

/** Plans, starts and waits for the cluster's engines (docs/launch.md); throws an InputError, with
 *  nothing left running, when one cannot be started. */
export async function launchCluster(cluster: ClusterConfig, clusterFile: string, flags: LaunchFlags = {}, onEvent?: (event: LaunchEvent) => void): Promise<LaunchedCluster> {
  const plan = await planLaunch(cluster, clusterFile, flags);
  const supervisor = new Supervisor(plan, onEvent);
  await supervisor.start();
  return { plan, supervisor, cluster: withEndpoints(cluster, plan), stop: () => supervisor.stop() };
}

/** The config with each group's endpoints replaced by the plan's URLs (groups in order, `count` each). */
export function withEndpoints(cluster: ClusterConfig, plan: LaunchPlan): ClusterConfig {
  let next = 0;
  return {
    ...cluster,
    instances: cluster.instances.map((group) => {
      const urls = plan.instances.slice(next, next + group.count).map((i) => i.url);
      next += group.count;
      return { ...group, endpoints: urls };
    }),
  };
}
