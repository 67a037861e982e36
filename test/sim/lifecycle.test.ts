import { describe, expect, it } from "vitest";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import type { RequestSpec } from "../../src/core/types.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import { Recorder } from "../../src/metrics/recorder.ts";
import { createDispatchPolicy, createSchedulingPolicy } from "../../src/policies/registry.ts";
import { createSleepWake } from "../../src/policies/lifecycle/sleep-wake.ts";
import { createAutoscale } from "../../src/policies/lifecycle/autoscale.ts";
import { RngStreams } from "../../src/core/rng.ts";
import { buildInstances } from "../../run/instances.ts";
import { simulate } from "../../sim/host.ts";
import { asBatches } from "../helpers/cluster.ts";

const colocated: ClusterConfig = {
  instances: [
    { name: "a", model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 1, colocate: "gpu0" },
    { name: "b", model: "qwen2.5-7b", gpu: "h100-80gb", tensor_parallel: 1, count: 1, colocate: "gpu0" },
  ],
};

const request = (id: string, at: number, model: string): RequestSpec => ({ id, arrival_s: at, prompt_tokens: 500, output_tokens: 20, model });

async function run(config: ClusterConfig, requests: RequestSpec[], lifecycle: Parameters<typeof simulate>[1]["lifecycle"]) {
  const instances = await buildInstances(config, "test.yaml");
  const rows: CallRow[] = [];
  const capacity: { at: number; id: string; kv_tokens: number; awake: boolean }[] = [];
  const recorder = new Recorder({ slo: {}, onCallClosed: (r) => rows.push(r) });
  const observe = recorder.instanceObserved.bind(recorder);
  recorder.instanceObserved = (snap) => {
    observe(snap);
    capacity.push({ at: snap.at_s, id: snap.instance, kv_tokens: snap.kv_capacity_tokens ?? -1, awake: snap.awake });
  };
  const result = await simulate(asBatches(requests), {
    instances,
    scheduling: createSchedulingPolicy("fcfs"),
    dispatch: createDispatchPolicy("least-outstanding"),
    recorder,
    rng: new RngStreams(1),
    observability: { mode: "oracle", interval_s: 0.1 },
    lifecycle,
  });
  return { instances, rows, capacity, result };
}

describe("colocated models with sleep/wake (kvcached)", () => {
  it("splits one GPU's KV pool between colocated instances", async () => {
    const instances = await buildInstances(colocated, "test.yaml");
    const alone = await buildInstances({ instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 1 }] }, "x");
    expect(instances[0].num_gpu_blocks).toBeLessThan(alone[0].num_gpu_blocks * 0.6);
    expect(instances[0].memory?.colocate).toBe("gpu0");
  });

  it("an idle model sleeps, its neighbour's KV pool grows, and a request wakes it after the wake latency", async () => {
    // a is busy all along; b is used at the start, idles (and sleeps), then is asked again.
    const requests = [request("b1", 0.1, "qwen2.5-7b"), request("b2", 60, "qwen2.5-7b")];
    for (let t = 0; t <= 80; t += 2) requests.push(request(`a${t}`, t, "llama-3-8b"));
    requests.sort((x, y) => x.arrival_s - y.arrival_s);
    const sleepWake = createSleepWake({ idle_s: 5, min_sleep_s: 0, min_awake_per_model: 0 });
    const { rows, result, capacity } = await run(colocated, requests, { policies: [sleepWake], wake_latency_s: 2, startup_s: 0 });
    expect(rows.every((r) => r.status === "finished")).toBe(true);
    const b2 = rows.find((r) => r.call_id === "b2")!;
    // b slept after 5 idle seconds; b2 waited for the 2 s wake before its first token.
    expect(b2.ttft_s!).toBeGreaterThan(2);
    // While b slept, a's KV pool grew (b's weights left the GPU); once b woke it shrank back.
    const aCapacity = capacity.filter((c) => c.id === "a" && c.awake);
    const shared = aCapacity[0].kv_tokens;
    const bAsleepAt = capacity.find((c) => c.id === "b" && !c.awake)!.at;
    const bAwakeAgainAt = capacity.find((c) => c.id === "b" && c.awake && c.at > bAsleepAt)!.at;
    expect(aCapacity.find((c) => c.at > bAsleepAt && c.at < bAwakeAgainAt)!.kv_tokens).toBeGreaterThan(shared * 1.5);
    expect(aCapacity.find((c) => c.at > bAwakeAgainAt)!.kv_tokens).toBe(shared);
    const traffic = result.models.find((m) => m.model === "qwen2.5-7b")!;
    expect(traffic.sleeps).toBeGreaterThanOrEqual(1);
    expect(traffic.wakes).toBeGreaterThanOrEqual(1);
  });
});

describe("autoscaling", () => {
  it("starts a spare when calls pile up and stops it again when idle", async () => {
    const config: ClusterConfig = {
      instances: [{ name: "s", model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 1, max_count: 3, engine: { max_num_seqs: 2 } }],
      lifecycle: { autoscale: { queue_per_instance: 2, kv_usage: 0.9, idle_s: 5, min_instances: 1, cooldown_s: 1, startup_s: 3 } },
    };
    const requests = Array.from({ length: 60 }, (_, i) => ({ id: `r${i}`, arrival_s: i * 0.25, prompt_tokens: 2000, output_tokens: 300 }));
    const autoscale = createAutoscale(config.lifecycle!.autoscale!);
    const { rows, instances, capacity } = await run(config, requests, { policies: [autoscale], wake_latency_s: 0, startup_s: 3 });
    expect(instances.map((i) => i.spec.initial_state)).toEqual(["awake", "stopped", "stopped"]);
    expect(rows.every((r) => r.status === "finished")).toBe(true);
    const used = new Set(rows.map((r) => r.instance));
    expect(used.size).toBeGreaterThan(1); // spares were started and took calls
    // Nothing lands on a spare before its start-up delay.
    const firstOnSpare = Math.min(...rows.filter((r) => r.instance !== "s-0").map((r) => r.dispatched_s!));
    expect(firstOnSpare).toBeGreaterThanOrEqual(3);
    // Once the burst is over, the spares are stopped again (the last scrape shows them asleep).
    const last = (id: string) => capacity.filter((c) => c.id === id).at(-1)!;
    expect(last("s-0").awake).toBe(true);
    expect([last("s-1").awake, last("s-2").awake]).toEqual([false, false]);
  });
});
