import { afterAll, beforeAll, expect } from "vitest";
import { parseClusterConfig } from "../../run/config-file.ts";
import { startGateway, type Gateway, type GatewayOptions } from "../../live/gateway/index.ts";
import { RedisProcess, redisGate } from "../helpers/redis-server.ts";

/** Two replicas sharing state through Redis route as one gateway: prefix-affinity's cache hit rate
 *  and vtc's fairness stay within 5% of one gateway's on the same traffic, and a Redis crash is a
 *  fallback to local state (metric, log line) and a reconcile once it is back. */

const cluster = (dispatch: string, scheduling: string, extra = "") =>
  `instances:\n  - { model: llama-3-8b, gpu: h100-80gb, count: 4, served_model_name: llama, engine: { max_model_len: 8192 } }\npolicies: { dispatch: ${dispatch}, scheduling: ${scheduling} }\n${extra}`;

const SPEEDUP = 10;

async function gateway(yaml: string, options: Partial<GatewayOptions>): Promise<Gateway> {
  return startGateway({ cluster: parseClusterConfig(yaml, "cluster.yaml"), clusterFile: "cluster.yaml", port: 0, speedup: SPEEDUP, ...options });
}

/** The first gateway starts the emulators; a second replica is pointed at the same ones. */
async function replicaOf(first: Gateway, yaml: string, options: Partial<GatewayOptions>): Promise<Gateway> {
  const urls = first.routes.instances.map((i) => first.endpoints[i.id]);
  // Real endpoints run in real time as far as this replica knows (its speedup is 1).
  return gateway(yaml.replace("served_model_name: llama,", `served_model_name: llama, endpoints: [${urls.join(", ")}],`), { ...options, speedup: 1 });
}

async function emulatorHitRate(gw: Gateway): Promise<number> {
  let hits = 0;
  let queries = 0;
  for (const url of Object.values(gw.endpoints)) {
    const text = await (await fetch(`${url}/metrics`)).text();
    hits += Number(/^vllm:prefix_cache_hits_total\{[^}]*\} (\S+)$/m.exec(text)![1]);
    queries += Number(/^vllm:prefix_cache_queries_total\{[^}]*\} (\S+)$/m.exec(text)![1]);
  }
  return hits / queries;
}

function chat(gw: Gateway, system: string, user: string, headers: Record<string, string> = {}, max_tokens = 8): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({
      model: "llama",
      max_tokens,
      messages: [
        { role: "system", content: system },
        { role: "user", content: user },
      ],
    }),
  });
}

const SYSTEMS = Array.from({ length: 12 }, (_, g) => `You are agent ${g}. ${"Follow the house rules carefully and answer briefly. ".repeat(30)}`);

/** 240 requests, 8 at a time, over 12 shared system prompts; `pick` chooses the replica (the load balancer). */
async function prefixTraffic(pick: (i: number) => Gateway): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < 240) {
      const i = next++;
      const res = await chat(pick(i), SYSTEMS[(i * 7) % SYSTEMS.length], `question ${i}: ${"x".repeat(i % 50)}`);
      expect(res.status).toBe(200);
      await res.json();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Tenants a (9 clients) and b (3 clients) keep backlogs for `ms`; returns a's share of the calls finished. */
async function fairnessTraffic(gwA: Gateway, gwB: Gateway, ms: number): Promise<number> {
  const done = { a: 0, b: 0 };
  const stop = Date.now() + ms;
  const client = async (tenant: "a" | "b", gw: Gateway) => {
    while (Date.now() < stop) {
      const res = await chat(gw, `tenant ${tenant} ${Math.random()}`, "go", { "x-tandem-tenant": tenant }, 24);
      expect(res.status).toBe(200);
      await res.json();
      if (Date.now() < stop) done[tenant]++;
    }
  };
  await Promise.all([...Array.from({ length: 9 }, () => client("a", gwA)), ...Array.from({ length: 3 }, () => client("b", gwB))]);
  return done.a / (done.a + done.b);
}

async function metric(gw: Gateway, name: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m === null ? Number.NaN : Number(m[1]);
}

async function until(test: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

redisGate.describe("tandem gateway --redis: replicas sharing state", () => {
  let redis: RedisProcess;
  const figures: Record<string, number> = {};
  beforeAll(async () => {
    redis = await RedisProcess.start();
  });
  afterAll(async () => {
    await redis?.kill();
    console.log(`gateway replicas: ${JSON.stringify(figures)}`);
  });

  redisGate.it(
    "prefix-affinity: two replicas behind a round-robin balancer keep one gateway's cache hit rate (within 5%)",
    async () => {
      const yaml = cluster("prefix-affinity", "fcfs");
      const one = await gateway(yaml, { emulate: true });
      try {
        await prefixTraffic(() => one);
        figures.hit_rate_one = await emulatorHitRate(one);
      } finally {
        await one.shutdown();
      }
      const a = await gateway(yaml, { emulate: true, redis: redis.url, redis_name: "prefix" });
      const b = await replicaOf(a, yaml, { redis: redis.url, redis_name: "prefix" });
      try {
        await prefixTraffic((i) => (i % 2 === 0 ? a : b));
        figures.hit_rate_two = await emulatorHitRate(a);
        expect(await metric(b, "tandem_gateway_shared_state_events_received_total")).toBeGreaterThan(100);
      } finally {
        await b.shutdown();
        await a.shutdown();
      }
      expect(figures.hit_rate_one).toBeGreaterThan(0.5);
      expect(Math.abs(figures.hit_rate_two - figures.hit_rate_one)).toBeLessThanOrEqual(0.05);
    },
    120_000,
  );

  redisGate.it(
    "vtc: two replicas, each tenant behind its own replica, share the cluster as fairly as one gateway (within 5%)",
    async () => {
      const yaml = cluster("capacity", "vtc", "").replace("dispatch: capacity", "dispatch: { name: capacity, params: { max_concurrency: 1 } }");
      const one = await gateway(yaml, { emulate: true });
      try {
        figures.share_a_one = await fairnessTraffic(one, one, 3000);
      } finally {
        await one.shutdown();
      }
      const a = await gateway(yaml, { emulate: true, redis: redis.url, redis_name: "vtc" });
      const b = await replicaOf(a, yaml, { redis: redis.url, redis_name: "vtc" });
      try {
        figures.share_a_two = await fairnessTraffic(a, b, 3000);
      } finally {
        await b.shutdown();
        await a.shutdown();
      }
      // 9 clients against 3: fcfs would give a 75%; vtc gives each tenant about half.
      expect(figures.share_a_one).toBeLessThan(0.65);
      expect(Math.abs(figures.share_a_two - figures.share_a_one)).toBeLessThanOrEqual(0.05);
    },
    120_000,
  );

  redisGate.it(
    "Redis killed: replicas keep serving on local state (metric, log line); restarted: they reconcile",
    async () => {
      const yaml = cluster("least-outstanding", "fcfs");
      const a = await gateway(yaml, { emulate: true, redis: redis.url, redis_name: "crash" });
      const b = await replicaOf(a, yaml, { redis: redis.url, redis_name: "crash" });
      try {
        expect(await metric(a, "tandem_gateway_shared_state_up")).toBe(1);
        await until(async () => (await metric(a, "tandem_gateway_shared_state_replicas")) === 2);
        await redis.kill();
        await until(async () => (await metric(a, "tandem_gateway_shared_state_up")) === 0 && (await metric(b, "tandem_gateway_shared_state_up")) === 0);
        expect(await metric(a, "tandem_gateway_shared_state_outages_total")).toBe(1);
        for (const gw of [a, b]) {
          const res = await chat(gw, "during the outage", "hi");
          expect(res.status).toBe(200);
          await res.json();
        }
        await redis.restart();
        await until(async () => (await metric(a, "tandem_gateway_shared_state_up")) === 1 && (await metric(b, "tandem_gateway_shared_state_up")) === 1);
        expect(await metric(a, "tandem_gateway_shared_state_reconciles_total")).toBe(1);
        await until(async () => (await metric(a, "tandem_gateway_shared_state_replicas")) === 2);
        const before = await metric(b, "tandem_gateway_shared_state_events_received_total");
        const res = await chat(a, "after the outage", "hi");
        expect(res.status).toBe(200);
        await res.json();
        await until(async () => (await metric(b, "tandem_gateway_shared_state_events_received_total")) >= before + 3);
      } finally {
        await b.shutdown();
        await a.shutdown();
      }
    },
    120_000,
  );
});
