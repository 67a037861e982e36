import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import { InputError } from "../../src/core/errors.ts";
import { canonicalModelName } from "../../src/model/models.ts";
import type { ConfiguredInstance } from "../../src/model/instance.ts";

/** One instance as the gateway sends to it. */
export interface GatewayInstance {
  id: string;
  /** The controller's model name (the preset's canonical name). */
  model: string;
  /** The name the server serves (vLLM --served-model-name): config `served_model_name`, else `model`. */
  served_model: string;
  /** The server runs vLLM's priority scheduling: calls carry `priority`. */
  priority_scheduling: boolean;
  max_model_len: number;
  /** Index of its config group. */
  group: number;
}

/** One model the gateway serves, under every name a client may use for it. */
export interface ModelRoute {
  /** The name /v1/models lists (the first group's served name). */
  id: string;
  /** The controller's name for it. */
  model: string;
  /** Names that route here (served names, config names, the canonical name). */
  names: string[];
  instances: GatewayInstance[];
  /** The longest context any of its instances takes (the controller rejects what fits none). */
  max_model_len: number;
}

/** Routing by `model`: a served name, a config name or any alias the presets know
 *  (`meta-llama/Meta-Llama-3-8B` → `llama-3-8b`, as `tandem sim` resolves trace models). */
export class ModelRoutes {
  readonly routes: ModelRoute[] = [];
  readonly instances: GatewayInstance[] = [];
  private readonly byName = new Map<string, ModelRoute>();
  private readonly byInstance = new Map<string, GatewayInstance>();
  private readonly byModel = new Map<string, ModelRoute>();

  constructor(cluster: ClusterConfig, instances: readonly ConfiguredInstance[], file: string) {
    let cursor = 0;
    for (const [g, group] of cluster.instances.entries()) {
      const first = instances[cursor];
      if (first === undefined) throw new Error(`instances of ${file}: instances[${g}] built none`);
      const served = group.served_model_name ?? group.model;
      let route = this.byModel.get(first.spec.model);
      if (route === undefined) {
        route = { id: served, model: first.spec.model, names: [], instances: [], max_model_len: 0 };
        this.routes.push(route);
        this.byModel.set(route.model, route);
      }
      for (const name of [served, group.model, first.spec.model]) {
        const other = this.byName.get(name);
        if (other !== undefined && other !== route) {
          throw new InputError(`${file}: instances[${g}]: the name "${name}" already routes to ${other.model}; give the group another served_model_name`);
        }
        if (!route.names.includes(name)) route.names.push(name);
        this.byName.set(name, route);
      }
      for (; cursor < instances.length && instances[cursor].spec.group === first.spec.group; cursor++) {
        const sim = instances[cursor];
        if (sim.spec.initial_state === "stopped") {
          throw new InputError(`${file}: instances[${g}].max_count: spare instances need lifecycle.autoscale, which the gateway cannot run; remove max_count`);
        }
        const instance: GatewayInstance = {
          id: sim.spec.id,
          model: sim.spec.model,
          served_model: served,
          priority_scheduling: sim.engine.scheduling_policy === "priority",
          max_model_len: sim.spec.max_model_len,
          group: g,
        };
        route.instances.push(instance);
        route.max_model_len = Math.max(route.max_model_len, instance.max_model_len);
        this.instances.push(instance);
        this.byInstance.set(instance.id, instance);
      }
    }
  }

  /** The route of a requested model name, or undefined when the cluster does not serve it. */
  resolve(name: string): ModelRoute | undefined {
    return this.byName.get(name) ?? this.byName.get(canonicalModelName(name));
  }

  /** The only model, for requests that name none (as vLLM serves a request without `model`). */
  get only(): ModelRoute | undefined {
    return this.routes.length === 1 ? this.routes[0] : undefined;
  }

  instance(id: string): GatewayInstance {
    const instance = this.byInstance.get(id);
    if (instance === undefined) throw new Error(`unknown instance ${id}`);
    return instance;
  }

  routeOf(model: string): ModelRoute | undefined {
    return this.byModel.get(model);
  }
}
