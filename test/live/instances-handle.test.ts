import { afterEach, describe, expect, it } from "vitest";
import { InstanceHandle, type InstanceRequestError, type InstanceHandleOptions } from "../../live/instances/index.ts";
import type { InstanceSnapshot } from "../../src/core/types.ts";
import { freePort, sleepMs, startFixture, type Fixture } from "./fixtures/fake-vllm.ts";
import { MODEL, V1_METRICS } from "./fixtures/vllm-metrics-samples.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function handle(url: string, options: Partial<InstanceHandleOptions> = {}): InstanceHandle {
  const h = new InstanceHandle({ id: "i0", base_url: url, now_s: () => performance.now() / 1000, ...options });
  cleanups.push(() => h.close());
  return h;
}

/** A fake vLLM control plane with a sleep flag and a /metrics page following it. */
async function controlPlane(): Promise<Fixture & { state: { sleeping: boolean; metricsStatus: number } }> {
  const state = { sleeping: false, metricsStatus: 200 };
  const f = await startFixture({
    "GET /health": ({ res }) => void res.writeHead(200).end(),
    "GET /v1/models": ({ res }) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          data: [
            { id: MODEL, object: "model", owned_by: "vllm", root: MODEL, parent: null, max_model_len: 8192 },
            { id: "my-lora", object: "model", owned_by: "vllm", root: "/adapters/my-lora", parent: MODEL },
          ],
        }),
      );
    },
    "GET /metrics": ({ res }) => {
      res.writeHead(state.metricsStatus, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      const awake = state.sleeping ? "0.0" : "1.0";
      res.end(V1_METRICS.replace(/(sleep_state="awake"\}) 1\.0/, `$1 ${awake}`));
    },
    "POST /sleep": ({ req, res }) => {
      if (!(req.url ?? "").includes("level=1")) return void res.writeHead(400).end();
      state.sleeping = true;
      res.writeHead(200).end();
    },
    "POST /wake_up": ({ res }) => {
      state.sleeping = false;
      res.writeHead(200).end();
    },
    "GET /is_sleeping": ({ res }) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ is_sleeping: state.sleeping }));
    },
  });
  cleanups.push(() => f.close());
  return Object.assign(f, { state });
}

describe("InstanceHandle", () => {
  it("checks health and discovers the served model and max_model_len (LoRA adapters aside)", async () => {
    const f = await controlPlane();
    const h = handle(`${f.url}/v1/`);
    expect(await h.health()).toEqual({ ok: true });
    const m = await h.discover();
    expect(m).toEqual({ id: MODEL, root: MODEL, max_model_len: 8192 });
    expect(h.model).toBe(MODEL);
    expect(h.max_model_len).toBe(8192);
    expect((await h.models()).map((x) => x.id)).toEqual([MODEL, "my-lora"]);

    const wrong = handle(f.url, { model: "other" });
    await expect(wrong.discover()).rejects.toThrow(/serves .*Llama.*my-lora, not other/);

    const down = handle(`http://127.0.0.1:${await freePort()}`);
    const health = await down.health();
    expect(health.ok).toBe(false);
    if (!health.ok) expect(health.reason).toMatch(/ECONNREFUSED/);
  });

  it("scrapes /metrics into snapshots at the interval, and stops cleanly", async () => {
    const f = await controlPlane();
    const snapshots: InstanceSnapshot[] = [];
    const h = handle(f.url, { scrape_interval_s: 0.03, onSnapshot: (s) => snapshots.push(s) });
    await h.discover();
    h.startScraping();
    await sleepMs(200);
    await h.stopScraping();
    const seen = snapshots.length;
    const scrapes = f.requests.filter((r) => r.path === "/metrics").length;
    expect(seen).toBeGreaterThanOrEqual(3);
    expect(scrapes - seen).toBeGreaterThanOrEqual(0); // a scrape in flight at stop is abandoned
    expect(scrapes - seen).toBeLessThanOrEqual(1);
    expect(snapshots[0]).toMatchObject({ instance: "i0", running: 3, waiting: 5, kv_usage: 0.4375, awake: true, kv_capacity_tokens: 432000 });
    for (let i = 1; i < seen; i++) expect(snapshots[i]!.at_s).toBeGreaterThan(snapshots[i - 1]!.at_s);
    expect(h.scraping).toBe(false);
    await sleepMs(100);
    expect(snapshots).toHaveLength(seen); // nothing after stop
    expect(f.requests.filter((r) => r.path === "/metrics")).toHaveLength(scrapes);
  });

  it("stopping abandons a scrape in flight without calling back", async () => {
    let served = 0;
    const f = await startFixture({
      "GET /metrics": async ({ res }) => {
        await sleepMs(400);
        served++;
        res.writeHead(200).end(V1_METRICS);
      },
    });
    cleanups.push(() => f.close());
    let callbacks = 0;
    const h = handle(f.url, { onSnapshot: () => callbacks++, onScrapeError: () => callbacks++ });
    h.startScraping();
    await sleepMs(50);
    expect(f.requests).toHaveLength(1);
    const t0 = performance.now();
    await h.stopScraping();
    expect(performance.now() - t0).toBeLessThan(200);
    await sleepMs(450);
    expect(served).toBe(1);
    expect(callbacks).toBe(0);
  });

  it("reports scrape failures with a count in a row, and recovers", async () => {
    const f = await controlPlane();
    f.state.metricsStatus = 500;
    const errors: [InstanceRequestError, number][] = [];
    const snapshots: InstanceSnapshot[] = [];
    const h = handle(f.url, {
      scrape_interval_s: 0.02,
      onScrapeError: (e, n) => errors.push([e, n]),
      onSnapshot: (s) => snapshots.push(s),
    });
    h.startScraping();
    await sleepMs(120);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.map(([, n]) => n).slice(0, 2)).toEqual([1, 2]);
    expect(errors[0]![0]).toMatchObject({ kind: "http", status: 500, instance: "i0" });
    expect(h.consecutiveFailures).toBeGreaterThanOrEqual(2);
    f.state.metricsStatus = 200;
    await sleepMs(120);
    await h.stopScraping();
    expect(snapshots.length).toBeGreaterThan(0);
    expect(h.consecutiveFailures).toBe(0);
    expect(h.lastError).toBeUndefined();
  });

  it("reports an unreachable instance and a page that is not vLLM's", async () => {
    const gone = handle(`http://127.0.0.1:${await freePort()}`);
    await expect(gone.scrape()).rejects.toMatchObject({ kind: "connect" });
    const f = await startFixture({ "GET /metrics": ({ res }) => void res.writeHead(200).end("up 1\nvllm:num_requests_swapped 0\n") });
    cleanups.push(() => f.close());
    await expect(handle(f.url).scrape()).rejects.toMatchObject({ kind: "metrics", reason: expect.stringMatching(/lacks vllm:num_requests_running/) });
    const slow = await startFixture({ "GET /metrics": () => undefined });
    cleanups.push(() => slow.close());
    await expect(handle(slow.url, { request_timeout_s: 0.1 }).scrape()).rejects.toMatchObject({ kind: "timeout" });
  });

  it("puts the instance to sleep and wakes it (POST /sleep?level=1&mode=wait, /wake_up, GET /is_sleeping)", async () => {
    const f = await controlPlane();
    const h = handle(f.url, { model: MODEL });
    expect(await h.isSleeping()).toBe(false);
    await h.sleep(1);
    expect(f.state.sleeping).toBe(true);
    expect(h.awake).toBe(false);
    expect(await h.isSleeping()).toBe(true);
    expect((await h.scrape()).snapshot.awake).toBe(false);
    await h.wakeUp();
    expect(f.state.sleeping).toBe(false);
    expect(h.awake).toBe(true);
    expect((await h.scrape()).snapshot.awake).toBe(true);
    const posts = f.requests.filter((r) => r.method === "POST").map((r) => r.path);
    expect(posts).toEqual(["/sleep?level=1&mode=wait", "/wake_up"]);
  });
});
