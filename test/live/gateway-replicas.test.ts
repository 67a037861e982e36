import seedrandom from "seedrandom";
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

/** The prefix traffic overflows one instance's prefix cache, so where a prompt goes matters: 24
 *  system prompts of about 640 tokens (40 blocks) each, 960 blocks in all, against 4 instances of
 *  320 blocks (prefixCluster). Placed once each (6 per instance, 240 blocks) they stay cached;
 *  placed twice over (two routers that know nothing of each other) or everywhere (round robin) each
 *  instance's share overflows its cache and prompts evict one another. */
const PROMPTS = 24;
const PREFIX_REQUESTS = 288;
const SYSTEMS = Array.from({ length: PROMPTS }, (_, g) => {
  const id = String(g).padStart(2, "0");
  return `You are agent ${id}. ${Array.from({ length: 300 }, (_, w) => `r${id}w${String(w).padStart(3, "0")}`).join(" ")}`;
});
const prefixCluster = (dispatch: string) =>
  `instances:\n  - { model: llama-3-8b, gpu: h100-80gb, count: 4, served_model_name: llama, engine: { max_model_len: 2048, num_gpu_blocks_override: 320 } }\npolicies: { dispatch: ${dispatch}, scheduling: fcfs }\n`;

/** Which prompt each request uses: every prompt once per round of 24, in a shuffled order (a fixed
 *  stride would alias with round robin's and the balancer's cycles and pin each prompt to one
 *  instance or one replica whatever the policy). */
const PROMPT_OF = (() => {
  const rng = seedrandom("gateway-replicas");
  const order: number[] = [];
  while (order.length < PREFIX_REQUESTS) {
    const round = Array.from({ length: PROMPTS }, (_, g) => g);
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [round[i], round[j]] = [round[j], round[i]];
    }
    order.push(...round);
  }
  return order;
})();

/** PREFIX_REQUESTS chats, 8 at a time; `pick` chooses the replica (the load balancer). */
async function prefixTraffic(pick: (i: number) => Gateway): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < PREFIX_REQUESTS) {
      const i = next++;
      const res = await chat(pick(i), SYSTEMS[PROMPT_OF[i]], `question ${i}`);
      expect(res.status).toBe(200);
      await res.json();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Fairness with both tenants backlogged: four long calls of a third tenant fill the cluster (one
 *  call per instance), tenant a sends 64 requests (spread by `pickA`, the load balancer), then b 32
 *  (all to `gwB`); once every request has arrived the long calls are cancelled and the scheduler
 *  orders the backlog. Returns a's share of the first 48 calls to finish (b still has calls waiting
 *  then; fcfs would give a all 48); the rest are cancelled. A closed loop of clients would measure
 *  b's demand as much as the scheduler: see docs/gateway-replicas.md. */
async function fairnessTraffic(pickA: (i: number) => Gateway, gwB: Gateway, gateways: Gateway[]): Promise<number> {
  const rest = new AbortController();
  const blockers = new AbortController();
  const finished: ("a" | "b")[] = [];
  const send = async (tenant: "a" | "b" | "z", gw: Gateway, max_tokens: number, signal: AbortSignal) => {
    try {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tandem-tenant": tenant },
        body: JSON.stringify({
          model: "llama",
          max_tokens,
          messages: [
            { role: "system", content: `tenant ${tenant} ${Math.random()}` },
            { role: "user", content: "go" },
          ],
        }),
        signal,
      });
      expect(res.status).toBe(200);
      await res.json();
      if (tenant === "z") throw new Error("a long call finished before the backlog was in");
      finished.push(tenant);
      if (finished.length === 48) rest.abort();
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  };
  // Arrived: waiting, in flight or already closed (without Redis a replica dispatches at once).
  const arrived = async () => {
    let n = 0;
    for (const name of ["tandem_gateway_queue_length", "tandem_gateway_requests_in_flight", "tandem_gateway_requests_total"]) {
      for (const gw of gateways) n += await gaugeSum(gw, name);
    }
    return n;
  };
  const calls = Array.from({ length: 4 }, () => send("z", gwB, 6000, blockers.signal));
  await until(async () => (await gaugeSum(gwB, "tandem_gateway_requests_in_flight")) === 4);
  for (let i = 0; i < 64; i++) calls.push(send("a", pickA(i), 24, rest.signal));
  for (let i = 0; i < 32; i++) calls.push(send("b", gwB, 24, rest.signal));
  await until(async () => (await arrived()) === 100);
  blockers.abort();
  await Promise.all(calls);
  const first = finished.slice(0, 48);
  return first.filter((t) => t === "a").length / first.length;
}

async function gaugeSum(gw: Gateway, name: string): Promise<number> {
  let sum = 0;
  for (const m of (await (await fetch(`${gw.url}/metrics`)).text()).matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "gm"))) sum += Number(m[1]);
  return sum;
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
    "prefix-affinity on prompts that overflow one cache: two replicas behind a round-robin balancer keep one gateway's hit rate (within 5%); without Redis, and with round robin, it is clearly lower",
    async () => {
      // prefill_weight 4: a cached prompt stays put until its instance has about 5 more calls in flight
      // than another; at the default 1 it moves at 2, and with 8 calls in flight that copies prompts
      // around (one gateway scored 0.38), leaving little for sharing to keep.
      const yaml = prefixCluster("{ name: prefix-affinity, params: { prefill_weight: 4 } }");
      // Placement matters on this traffic: round robin spreads every prompt over every cache. It runs
      // first, as the warm-up too: the first run in a process (JIT still cold) scored one gateway
      // 0.81-0.88 against 0.88-0.90 once warm.
      const rr = await gateway(prefixCluster("round-robin"), { emulate: true });
      try {
        await prefixTraffic(() => rr);
        figures.hit_rate_round_robin = await emulatorHitRate(rr);
      } finally {
        await rr.shutdown();
      }
      // One gateway and two replicas, alternately, 3 runs each: a single run's hit rate moves by a few
      // points from run to run (CI once measured one run of each 0.068 apart), so means are compared.
      const ones: number[] = [];
      const twos: number[] = [];
      for (let rep = 0; rep < 3; rep++) {
        const one = await gateway(yaml, { emulate: true });
        try {
          await prefixTraffic(() => one);
          ones.push(await emulatorHitRate(one));
        } finally {
          await one.shutdown();
        }
        const a = await gateway(yaml, { emulate: true, redis: redis.url, redis_name: `prefix-${rep}` });
        const b = await replicaOf(a, yaml, { redis: redis.url, redis_name: `prefix-${rep}` });
        try {
          await prefixTraffic((i) => (i % 2 === 0 ? a : b));
          twos.push(await emulatorHitRate(a));
          expect(await metric(b, "tandem_gateway_shared_state_events_received_total")).toBeGreaterThan(100);
        } finally {
          await b.shutdown();
          await a.shutdown();
        }
      }
      const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
      figures.hit_rate_one = mean(ones);
      figures.hit_rate_two = mean(twos);
      // The reference: the same two replicas, each with its own prefix index.
      const c = await gateway(yaml, { emulate: true });
      const d = await replicaOf(c, yaml, {});
      try {
        await prefixTraffic((i) => (i % 2 === 0 ? c : d));
        figures.hit_rate_two_no_redis = await emulatorHitRate(c);
      } finally {
        await d.shutdown();
        await c.shutdown();
      }
      expect(figures.hit_rate_one).toBeGreaterThan(figures.hit_rate_round_robin + 0.15);
      expect(Math.abs(figures.hit_rate_two - figures.hit_rate_one)).toBeLessThanOrEqual(0.05);
      // Without the shared index each replica places every prompt on its own, so caches overflow.
      expect(figures.hit_rate_two).toBeGreaterThan(figures.hit_rate_two_no_redis + 0.1);
    },
    120_000,
  );

  redisGate.it(
    "vtc: tenant a over both replicas, b behind one: two replicas share the cluster as fairly as one gateway (within 5%); without Redis a gets more",
    async () => {
      const yaml = cluster("capacity", "vtc", "").replace("dispatch: capacity", "dispatch: { name: capacity, params: { max_concurrency: 1 } }");
      const one = await gateway(yaml, { emulate: true });
      try {
        figures.share_a_one = await fairnessTraffic(() => one, one, [one]);
      } finally {
        await one.shutdown();
      }
      const a = await gateway(yaml, { emulate: true, redis: redis.url, redis_name: "vtc" });
      const b = await replicaOf(a, yaml, { redis: redis.url, redis_name: "vtc" });
      try {
        figures.share_a_two = await fairnessTraffic((i) => (i % 2 === 0 ? a : b), b, [a, b]);
      } finally {
        await b.shutdown();
        await a.shutdown();
      }
      const c = await gateway(yaml, { emulate: true });
      const d = await replicaOf(c, yaml, {});
      try {
        figures.share_a_two_no_redis = await fairnessTraffic((i) => (i % 2 === 0 ? c : d), d, [c, d]);
      } finally {
        await d.shutdown();
        await c.shutdown();
      }
      // Both backlogged, equal calls: vtc gives each tenant half (fcfs would give a all 48).
      expect(Math.abs(figures.share_a_one - 0.5)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(figures.share_a_two - figures.share_a_one)).toBeLessThanOrEqual(0.05);
      // Without Redis replica A sees only tenant a and serves it on its own count of the slots.
      expect(figures.share_a_two_no_redis).toBeGreaterThan(figures.share_a_two + 0.1);
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
