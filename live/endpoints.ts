import type { ClusterConfig, InstanceGroup } from "../src/model/cluster-schema.ts";
import { InputError } from "../src/core/errors.ts";
import type { ConfiguredInstance } from "../src/model/instance.ts";

/** One configured instance and the server URL the config gives it. */
export interface ConfiguredEndpoint {
  instance: ConfiguredInstance;
  group: InstanceGroup;
  url: string;
}

/** Each group's `endpoints`, one per instance, in instance order; `who` names the command in the
 *  error ("live mode", "the gateway"). */
export function configEndpoints(cluster: ClusterConfig, file: string, instances: readonly ConfiguredInstance[], who: string): ConfiguredEndpoint[] {
  const endpoints: ConfiguredEndpoint[] = [];
  let next = 0;
  for (const [g, group] of cluster.instances.entries()) {
    const urls = group.endpoints;
    if (urls === undefined || urls.length !== group.count) {
      throw new InputError(
        `${file}: instances[${g}].endpoints: expected ${group.count} server URL${group.count === 1 ? "" : "s"} (one per instance) for ${who}, got ${urls?.length ?? "none"}; or run with --emulate`,
      );
    }
    for (const url of urls) endpoints.push({ instance: instances[next++], group, url });
  }
  return endpoints;
}

/** The checks every live host makes of its settings before starting anything. */
export function checkLiveSettings(cluster: ClusterConfig, file: string, speedup: number, emulate: boolean | undefined, who: string): void {
  if (!emulate && speedup !== 1) {
    throw new InputError(`--speedup ${speedup}: real servers run in real time; a speedup other than 1 needs --emulate`);
  }
  if (cluster.lifecycle?.autoscale) {
    throw new InputError(`${file}: lifecycle.autoscale: ${who} cannot start or stop servers; remove it (sleep/wake works)`);
  }
}
