import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import { parseClusterConfig } from "../../run/config-file.ts";
import { startGateway, type Gateway, type GatewayOptions } from "../../live/gateway/index.ts";
import type { GatewayAuth } from "../../live/gateway/auth/auth.ts";
import { GatewayProcess } from "../helpers/gateway-process.ts";
import { RedisProcess, redisGate } from "../helpers/redis-server.ts";

/** Replicas sharing state through Redis, when something goes wrong or a key is at its limit: a
 *  replica killed (the survivor forgets its calls once its heartbeat expires and keeps routing),
 *  requests_per_s and max_concurrency enforced once across the replicas — each against two
 *  replicas without Redis as the reference figure (printed). */

const sha = (key: string) => createHash("sha256").update(key).digest("hex");
const SPEEDUP = 10;
const RATE = 20;
const CONCURRENCY = 3;
const KEYS = `keys:
  - { sha256: ${sha("key-free")}, tenant: free }
  - { sha256: ${sha("key-rate")}, tenant: rated, requests_per_s: ${RATE} }
  - { sha256: ${sha("key-conc")}, tenant: bounded, max_concurrency: ${CONCURRENCY} }
`;
const cluster = (dispatch: string, endpoints = "") =>
  `instances:\n  - { model: llama-3-8b, gpu: h100-80gb, count: 4, served_model_name: llama, ${endpoints}engine: { max_model_len: 8192 } }\npolicies: { dispatch: ${dispatch}, scheduling: fcfs }\n`;

async function gateway(yaml: string, options: Partial<GatewayOptions>): Promise<Gateway> {
  return startGateway({ cluster: parseClusterConfig(yaml, "cluster.yaml"), clusterFile: "cluster.yaml", port: 0, speedup: SPEEDUP, ...options });
}

const endpointsOf = (gw: Gateway) => `endpoints: [${gw.routes.instances.map((i) => gw.endpoints[i.id]).join(", ")}], `;

/** A first replica with emulators and a second one on the same emulators; with `redis`, sharing state. */
async function pair(keys: string, redis: string | undefined, name: string): Promise<[Gateway, Gateway]> {
  const shared = redis !== undefined ? { redis, redis_name: name } : {};
  const a = await gateway(cluster("least-outstanding"), { emulate: true, keys, ...shared });
  const b = await gateway(cluster("least-outstanding", endpointsOf(a)), { keys, speedup: 1, ...shared });
  return [a, b];
}

function post(url: string, key: string, max_tokens: number, stream = false, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "llama", max_tokens, stream, messages: [{ role: "user", content: `hello ${Math.random()}` }] }),
    ...(signal !== undefined ? { signal } : {}),
  });
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

async function metric(url: string, name: string): Promise<number> {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(await metricsText(url));
  return m === null ? Number.NaN : Number(m[1]);
}

/** Sum of a labelled gauge's samples. */
async function metricSum(url: string, name: string): Promise<number> {
  let sum = 0;
  for (const m of (await metricsText(url)).matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "gm"))) sum += Number(m[1]);
  return sum;
}

async function until(test: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `workers` clients, spread round robin over the replicas, send key-rate requests for `ms`; returns
 *  the 200s per replica and how long the traffic ran. Every refusal must be 429 with Retry-After. */
async function rateTraffic(gws: Gateway[], ms: number): Promise<{ admitted: number[]; seconds: number }> {
  const admitted = gws.map(() => 0);
  const start = performance.now();
  let last = start;
  let n = 0;
  const worker = async () => {
    while (performance.now() - start < ms) {
      const i = n++ % gws.length;
      const res = await post(gws[i].url, "key-rate", 1);
      last = performance.now();
      if (res.status === 200) admitted[i]++;
      else {
        expect(res.status).toBe(429);
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
        continue;
      }
      await res.json();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { admitted, seconds: (last - start) / 1000 };
}

/** Counts the key-conc calls admitted and not yet closed over every replica together: a call counts
 *  from the moment its slot is taken until it closes (its slot is given back after that), so the
 *  count never exceeds the calls the replicas hold slots for. */
function watchConcurrency(gws: Gateway[]): { max: number; admitted: number } {
  const seen = { max: 0, admitted: 0 };
  let open = 0;
  for (const gw of gws) {
    const auth = gw.auth as GatewayAuth;
    const mine = new Set<string>();
    const admit = auth.admit.bind(auth);
    const closed = auth.callClosed.bind(auth);
    auth.admit = async (key, id, prompt) => {
      const refusal = await admit(key, id, prompt);
      if (refusal === undefined && key.max_concurrency !== undefined) {
        mine.add(id);
        seen.admitted++;
        seen.max = Math.max(seen.max, ++open);
      }
      return refusal;
    };
    auth.callClosed = (row: CallRow) => {
      if (mine.delete(row.call_id)) open--;
      closed(row);
    };
  }
  return seen;
}

/** 6 clients per replica keep asking with key-conc for `ms`; a refusal is 429 concurrency_limited. */
async function concurrencyTraffic(gws: Gateway[], ms: number): Promise<void> {
  const stop = performance.now() + ms;
  const worker = async (gw: Gateway) => {
    while (performance.now() < stop) {
      const res = await post(gw.url, "key-conc", 48);
      if (res.status === 200) await res.json();
      else {
        expect(res.status).toBe(429);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("concurrency_limited");
        await sleep(2);
      }
    }
  };
  await Promise.all(gws.flatMap((gw) => Array.from({ length: 6 }, () => worker(gw))));
}

redisGate.describe("tandem gateway --redis: faults and limits across replicas", () => {
  let redis: RedisProcess;
  let dir: string;
  let keys: string;
  const figures: Record<string, number> = {};
  beforeAll(async () => {
    redis = await RedisProcess.start();
    dir = mkdtempSync(join(tmpdir(), "tandem-gwreplicas-"));
    keys = join(dir, "keys.yaml");
    writeFileSync(keys, KEYS);
  });
  afterAll(async () => {
    await redis?.kill();
    console.log(`gateway replica faults: ${JSON.stringify(figures)}`);
  });

  redisGate.it(
    "requests_per_s holds across replicas: two replicas admit the key's rate between them (not twice it), 429 + Retry-After beyond",
    async () => {
      const shared = await pair(keys, redis.url, "rate");
      let run: Awaited<ReturnType<typeof rateTraffic>>;
      try {
        run = await rateTraffic(shared, 2500);
      } finally {
        await Promise.all(shared.map((g) => g.shutdown()));
      }
      // A full bucket (one second's worth) plus the rate over the run.
      const allowed = RATE + RATE * run.seconds;
      figures.rate_allowed = Math.round(allowed);
      figures.rate_admitted_redis = run.admitted[0] + run.admitted[1];
      const local = await pair(keys, undefined, "");
      try {
        const ref = await rateTraffic(local, 2500);
        figures.rate_admitted_no_redis = ref.admitted[0] + ref.admitted[1];
        figures.rate_allowed_no_redis_run = Math.round(RATE + RATE * ref.seconds);
      } finally {
        await Promise.all(local.map((g) => g.shutdown()));
      }
      expect(run.admitted[0]).toBeGreaterThan(0);
      expect(run.admitted[1]).toBeGreaterThan(0);
      expect(figures.rate_admitted_redis).toBeLessThanOrEqual(allowed + 1);
      expect(figures.rate_admitted_redis).toBeGreaterThanOrEqual(0.8 * allowed);
      // Without Redis each replica has its own bucket: the key gets about twice its rate.
      expect(figures.rate_admitted_no_redis).toBeGreaterThan(1.4 * figures.rate_allowed_no_redis_run);
    },
    60_000,
  );

  redisGate.it(
    "max_concurrency holds across replicas: the key never has more calls in flight than its limit over both together",
    async () => {
      const shared = await pair(keys, redis.url, "conc");
      const seen = watchConcurrency(shared);
      try {
        await concurrencyTraffic(shared, 2500);
      } finally {
        await Promise.all(shared.map((g) => g.shutdown()));
      }
      figures.concurrency_max_redis = seen.max;
      figures.concurrency_admitted_redis = seen.admitted;
      const local = await pair(keys, undefined, "");
      const ref = watchConcurrency(local);
      try {
        await concurrencyTraffic(local, 2500);
      } finally {
        await Promise.all(local.map((g) => g.shutdown()));
      }
      figures.concurrency_max_no_redis = ref.max;
      expect(seen.admitted).toBeGreaterThan(10);
      expect(seen.max).toBe(CONCURRENCY);
      expect(ref.max).toBeGreaterThan(CONCURRENCY); // each replica alone allows the limit
    },
    60_000,
  );

  redisGate.it(
    "a replica killed mid-call loses only its own calls: the survivor drops them once the heartbeat expires and keeps routing",
    async () => {
      const a = await gateway(cluster("least-outstanding"), { emulate: true, redis: redis.url, redis_name: "death" });
      const config = join(dir, "replica.yaml");
      writeFileSync(config, cluster("least-outstanding", endpointsOf(a)));
      let b: GatewayProcess | undefined;
      try {
        b = await GatewayProcess.start(["--config", config, "--redis", redis.url, "--redis-name", "death", "--quiet", "--out", join(dir, "out-b")], dir);
        await until(async () => (await metric(a.url, "tandem_gateway_shared_state_replicas")) === 2);
        // Long calls on both: B's streamed (in flight once a chunk arrives), A's plain.
        const theirs = await Promise.all(Array.from({ length: 6 }, () => post(b!.url, "key-free", 3000, true)));
        const streams = theirs.map(async (res) => {
          expect(res.status).toBe(200);
          const reader = res.body!.getReader();
          await reader.read();
          return reader;
        });
        const readers = await Promise.all(streams);
        const ours = Array.from({ length: 3 }, () => post(a.url, "key-free", 400));
        await until(async () => (await metricSum(a.url, "tandem_gateway_shared_state_remote_calls")) === 6);
        await b.stop("SIGKILL");
        const killed = performance.now();
        // B's clients lose their streams.
        for (const reader of readers) {
          await expect(
            (async () => {
              for (;;) if ((await reader.read()).done) throw new Error("the stream ended cleanly");
            })(),
          ).rejects.toThrow();
        }
        await until(async () => (await metricSum(a.url, "tandem_gateway_shared_state_remote_calls")) === 0);
        figures.dead_replica_cleared_after_s = Number(((performance.now() - killed) / 1000).toFixed(2));
        expect(await metric(a.url, "tandem_gateway_shared_state_expired_calls_total")).toBe(6);
        expect(await metric(a.url, "tandem_gateway_shared_state_replicas")).toBe(1);
        // The heartbeat (0.5 s, expiring after 2 s) says B is gone, not B's connections closing.
        expect(figures.dead_replica_cleared_after_s).toBeGreaterThan(1);
        // A's own calls finished whole.
        for (const res of await Promise.all(ours)) {
          expect(res.status).toBe(200);
          expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(400);
        }
        // Routing goes on: a burst spreads over the instances (no dead replica's load left on them).
        const after = await Promise.all(Array.from({ length: 8 }, () => post(a.url, "key-free", 8)));
        for (const res of after) {
          expect(res.status).toBe(200);
          await res.json();
        }
        const { report } = await a.shutdown();
        const used = report.instances.filter((i) => i.completed > 0).length;
        expect(used).toBe(4);
      } finally {
        await b?.stop("SIGKILL");
        await a.shutdown();
      }
    },
    60_000,
  );
});
