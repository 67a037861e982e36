import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError, inputError } from "../../src/core/errors.ts";
import type { ClusterConfig, InstanceGroup } from "../../src/model/cluster-schema.ts";
import type { CommandTemplate, LaunchEngine } from "../../src/model/launch-schema.ts";
import { buildInstances } from "../../run/instances.ts";
import { resolveModel } from "../../run/model-file.ts";
import { vllmEngineFlags } from "./engine-flags.ts";
import { assignGpus, detectGpus, parseGpuList, type GpuNeed } from "./gpus.ts";
import { hfRepoFor } from "./hf-repos.ts";
import { checkPortFree, freePort } from "./ports.ts";
import { checkTemplate, commandWords, renderCommand } from "./template.ts";

/** What the flags add to (or put over) the config's `launch` section. */
export interface LaunchFlags {
  /** --gpus: over launch.gpus. */
  gpus?: string;
  /** --engine: over every group's engine. */
  engine?: LaunchEngine;
  /** --log-dir (relative to the working directory): over launch.log_dir. */
  log_dir?: string;
  /** --port: over launch.port (0 = free ports). */
  port?: number;
  /** --health-timeout: over launch.health_timeout_s. */
  health_timeout_s?: number;
}

export interface RestartPolicy {
  max_restarts: number;
  initial_backoff_s: number;
  max_backoff_s: number;
  reset_after_s: number;
}

export const LAUNCH_DEFAULTS = {
  host: "127.0.0.1",
  log_dir: "out/launch",
  // A 405B checkpoint takes minutes to load; the wait ends early when an engine exits.
  health_timeout_s: 1200,
  stop_timeout_s: 30,
  restart: { max_restarts: 10, initial_backoff_s: 1, max_backoff_s: 60, reset_after_s: 300 } satisfies RestartPolicy,
};

/** vLLM's OpenAI server, with the config's knobs as flags. */
const VLLM_TEMPLATE = "vllm serve {model} --host {host} --port {port} --tensor-parallel-size {tp} --served-model-name {served_model_name} {engine_args}";

/** One engine as it will be started. */
export interface PlannedInstance {
  id: string;
  /** The command's words; argv[0] is looked up on PATH. */
  argv: string[];
  /** What the engine gets over the launcher's own environment (CUDA_VISIBLE_DEVICES included). */
  env: Record<string, string>;
  host: string;
  port: number;
  url: string;
  gpus: string[];
  served_model: string;
  log_file: string;
  /** `{config}`: the instance's own cluster config, written before the engine starts. */
  instance_config?: { path: string; document: ClusterConfig };
}

export interface LaunchPlan {
  instances: PlannedInstance[];
  log_dir: string;
  health_timeout_s: number;
  stop_timeout_s: number;
  restart: RestartPolicy;
}

/** Turns a cluster config (and the flags) into the commands to run: every instance with its
 *  command, environment, GPUs, port and log file. Fixed ports are checked free; port 0 picks free
 *  ones. Bad input (an unknown placeholder, too few GPUs, a taken port, a model with no known
 *  checkpoint) is an InputError naming the field or instance. */
export async function planLaunch(cluster: ClusterConfig, clusterFile: string, flags: LaunchFlags = {}): Promise<LaunchPlan> {
  if (cluster.lifecycle?.autoscale) {
    throw inputError(`${clusterFile}: lifecycle.autoscale`, "tandem launch starts each group's count instances and cannot add spares; remove it");
  }
  const launch = cluster.launch ?? {};
  const baseDir = dirname(clusterFile);
  const instances = await buildInstances(cluster, clusterFile);
  const host = launch.host ?? LAUNCH_DEFAULTS.host;
  const log_dir = flags.log_dir !== undefined ? resolve(flags.log_dir) : launch.log_dir !== undefined ? resolve(baseDir, launch.log_dir) : resolve(LAUNCH_DEFAULTS.log_dir);

  // Per instance, in config order: its group and the GPUs it needs.
  const members: { group: InstanceGroup; g: number; id: string }[] = [];
  let next = 0;
  for (const [g, group] of cluster.instances.entries()) {
    for (let i = 0; i < group.count; i++) members.push({ group, g, id: instances[next + i].spec.id });
    next += group.max_count ?? group.count;
  }
  const engines = members.map(({ group }) => flags.engine ?? group.launch?.engine ?? launch.engine ?? "vllm");
  const gpuSets = await gpusFor(members, engines, flags.gpus, launch.gpus, clusterFile);

  const fixedBase = flags.port ?? launch.port ?? 0;
  if (fixedBase !== 0 && fixedBase + members.length - 1 > 65535) {
    throw new InputError(`launch: ports ${fixedBase}…${fixedBase + members.length - 1} run past 65535; lower launch.port`);
  }
  const planned: PlannedInstance[] = [];
  for (const [k, { group, g, id }] of members.entries()) {
    const where = `${clusterFile}: instances[${g}].launch`;
    const engine = engines[k];
    const template: CommandTemplate = group.launch?.command ?? launch.command ?? (engine === "emulate" ? emulateTemplate() : VLLM_TEMPLATE);
    const templateWhere = group.launch?.command !== undefined ? `${where}.command` : `${clusterFile}: launch.command`;
    const words = [...commandWords(template, templateWhere), ...(launch.args ?? []), ...(group.launch?.args ?? [])];
    checkTemplate(words, templateWhere);
    const port = fixedBase === 0 ? await freePort(host) : fixedBase + k;
    if (fixedBase !== 0) await checkPortFree(host, port, id);
    const served_model = group.served_model_name ?? group.model;
    const resolved = await resolveModel(group.model, baseDir, `${clusterFile}: instances[${g}].model`);
    const uses = (name: string) => words.some((w) => w.includes(`{${name}}`));
    const instance_config = uses("config") ? { path: join(log_dir, `${id}.config.json`), document: instanceConfig(cluster, group, id, baseDir, resolved.file) } : undefined;
    const gpus = gpuSets[k];
    const argv = renderCommand(words, {
      model: uses("model") ? checkpoint(group, baseDir, resolved.file, where) : "",
      model_name: group.model,
      served_model_name: served_model,
      host,
      port,
      tp: group.tensor_parallel,
      gpu: group.gpu,
      gpus: gpus.join(","),
      instance: id,
      index: k,
      config: instance_config?.path ?? "",
      engine_args: engine === "vllm" ? vllmEngineFlags({ ...cluster.engine, ...group.engine }) : [],
    });
    planned.push({
      id,
      argv,
      env: { ...launch.env, ...group.launch?.env, ...(gpus.length > 0 ? { CUDA_VISIBLE_DEVICES: gpus.join(",") } : {}) },
      host,
      port,
      url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
      gpus,
      served_model,
      log_file: join(log_dir, `${id}.log`),
      ...(instance_config ? { instance_config } : {}),
    });
  }
  return {
    instances: planned,
    log_dir,
    health_timeout_s: flags.health_timeout_s ?? launch.health_timeout_s ?? LAUNCH_DEFAULTS.health_timeout_s,
    stop_timeout_s: launch.stop_timeout_s ?? LAUNCH_DEFAULTS.stop_timeout_s,
    restart: { ...LAUNCH_DEFAULTS.restart, ...launch.restart },
  };
}

/** The GPU sets: from --gpus, launch.gpus, or what the machine has. Emulated engines need none, so
 *  a cluster of emulators gets GPUs only when a list is given. */
async function gpusFor(
  members: { group: InstanceGroup; id: string }[],
  engines: LaunchEngine[],
  flag: string | undefined,
  fromConfig: string | readonly (string | number)[] | undefined,
  clusterFile: string,
): Promise<string[][]> {
  let list: { ids: string[]; source: string } | undefined;
  if (flag !== undefined) list = { ids: parseGpuList(flag, "--gpus"), source: "--gpus" };
  else if (fromConfig !== undefined) list = { ids: parseGpuList(fromConfig, `${clusterFile}: launch.gpus`), source: "launch.gpus" };
  else if (engines.some((e) => e === "vllm")) {
    list = await detectGpus();
    if (list === undefined) throw new InputError("launch: no GPUs found ($CUDA_VISIBLE_DEVICES is unset and nvidia-smi lists none); pass --gpus 0,1,… or set launch.gpus");
  }
  if (list === undefined) return members.map(() => []);
  const needs: GpuNeed[] = members.map(({ group, id }) => ({ instance: id, tensor_parallel: group.tensor_parallel, ...(group.colocate !== undefined ? { colocate: group.colocate } : {}) }));
  return assignGpus(needs, list.ids, list.source === "--gpus" || list.source === "launch.gpus" ? `${list.source} (${list.ids.join(",")})` : list.source);
}

/** `{model}`: what the engine loads. */
function checkpoint(group: InstanceGroup, baseDir: string, configJson: string | undefined, where: string): string {
  const own = group.launch?.model;
  if (own !== undefined) return own.startsWith(".") || isAbsolute(own) ? resolve(baseDir, own) : own;
  if (configJson !== undefined) return dirname(configJson);
  const repo = hfRepoFor(group.model);
  if (repo === undefined) throw inputError(where, `no HuggingFace checkpoint is known for model "${group.model}"; set launch.model to a repo id or a local folder`);
  return repo;
}

/** The instance alone as a cluster config (`{config}`, what `tandem emulate --config` reads): its
 *  group with count 1 and the cluster's engine, latency and sleep settings, paths made absolute. */
function instanceConfig(cluster: ClusterConfig, group: InstanceGroup, id: string, baseDir: string, configJson: string | undefined): ClusterConfig {
  const { endpoints: _e, launch: _l, max_count: _m, colocate: _c, ...own } = group;
  const absolute = <T extends { kind: string; file?: string } | undefined>(latency: T): T =>
    latency?.kind === "fitted" && latency.file !== undefined ? { ...latency, file: resolve(baseDir, latency.file) } : latency;
  const sleep = cluster.lifecycle?.sleep;
  return {
    instances: [{ ...own, name: id, count: 1, model: configJson ?? group.model, ...(group.latency ? { latency: absolute(group.latency) } : {}) }],
    ...(cluster.engine ? { engine: cluster.engine } : {}),
    ...(cluster.latency ? { latency: absolute(cluster.latency) } : {}),
    ...(sleep ? { lifecycle: { sleep } } : {}),
  };
}

/** `tandem emulate` run as its own process, by the same node and the same entry point as this
 *  tandem (bin/tandem.mjs), wherever the code runs from (sources or dist/). */
function emulateTemplate(): string[] {
  return [process.execPath, tandemBin(), "emulate", "--config", "{config}", "--host", "{host}", "--port", "{port}", "--served-model-name", "{served_model_name}"];
}

function tandemBin(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../..", "../../.."]) {
    const bin = join(here, up, "bin/tandem.mjs");
    if (existsSync(bin)) return resolve(bin);
  }
  throw new Error(`bin/tandem.mjs not found above ${here}`);
}
