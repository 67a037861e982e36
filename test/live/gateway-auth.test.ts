import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseClusterConfig } from "../../run/config-file.ts";
import { startGateway, type Gateway } from "../../live/gateway/index.ts";
import { parseKeyFile } from "../../live/gateway/auth/key-file.ts";
import { LocalRateLimits } from "../../live/gateway/auth/limits.ts";
import { checkListenAuth, isLoopback } from "../../live/gateway/auth/setup.ts";
import { REPO_ROOT } from "../helpers/shared-data.ts";
import { GatewayProcess } from "../helpers/gateway-process.ts";

const sha = (key: string) => createHash("sha256").update(key).digest("hex");

const CLUSTER = "instances:\n  - { model: llama-3-8b, gpu: h100-80gb, count: 2, served_model_name: llama, engine: { max_model_len: 2048 } }\n";

const KEYS = `keys:
  - sha256: ${sha("key-a")}
    tenant: team-a
    priority_classes: [normal, low]
  - sha256: ${sha("key-b").toUpperCase()}
    tenant: team-b
    priority_classes: [high, medium, low]
  - sha256: ${sha("key-slow")}
    tenant: team-c
    requests_per_s: 2
  - sha256: ${sha("key-one")}
    tenant: team-d
    max_concurrency: 1
`;

describe("key file", () => {
  it("reads keys: lower-cased digests, normal means medium, the first class is the default", () => {
    const keys = parseKeyFile(KEYS, "keys.yaml");
    expect(keys.map((k) => k.tenant)).toEqual(["team-a", "team-b", "team-c", "team-d"]);
    expect(keys[0].priority_classes).toEqual(["medium", "low"]);
    expect(keys[1].sha256).toBe(sha("key-b"));
    expect(keys[2].priority_classes).toEqual(["medium"]);
    expect(keys[2].requests_per_s).toBe(2);
  });

  it("bad files are one-line errors naming the file and the field", () => {
    expect(() => parseKeyFile("keys:\n  - { sha256: abc, tenant: t }\n", "keys.yaml")).toThrow(/^keys\.yaml: keys\[0\]\.sha256: expected the key's SHA-256 as 64 hex digits/);
    expect(() => parseKeyFile(`keys:\n  - { sha256: ${sha("x")}, tenant: t, priority_classes: [urgent] }\n`, "k.yaml")).toThrow(
      /^k\.yaml: keys\[0\]\.priority_classes\[0\]: expected high, medium/,
    );
    expect(() => parseKeyFile(`keys:\n  - { sha256: ${sha("x")}, tenant: t, requests_per_s: 0 }\n`, "k.yaml")).toThrow(/^k\.yaml: keys\[0\]\.requests_per_s: requests_per_s must be > 0/);
    expect(() => parseKeyFile(`keys:\n  - { sha256: ${sha("x")}, tenant: t }\n  - { sha256: ${sha("x")}, tenant: u }\n`, "k.yaml")).toThrow(
      /^k\.yaml: keys\[1\]\.sha256: the same key as keys\[0\]/,
    );
    expect(() => parseKeyFile(`keys:\n  - { sha256: ${sha("x")}, tenant: t, colour: red }\n`, "k.yaml")).toThrow(/^k\.yaml: keys\[0\]/);
    expect(() => parseKeyFile("keys: [", "k.yaml")).toThrow(/^k\.yaml:1: not valid YAML/);
  });
});

describe("listen address without keys", () => {
  it("loopback is fine; a network address needs --keys or --no-auth", () => {
    expect(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("localhost") && isLoopback("127.1.2.3")).toBe(true);
    expect(isLoopback("0.0.0.0") || isLoopback("10.0.0.1") || isLoopback("::")).toBe(false);
    expect(() => checkListenAuth("0.0.0.0", undefined, undefined)).toThrow(/^--host 0\.0\.0\.0: a gateway reachable from the network needs API keys \(--keys FILE\); pass --no-auth/);
    expect(() => checkListenAuth("0.0.0.0", undefined, true)).not.toThrow();
    expect(() => checkListenAuth("0.0.0.0", "keys.yaml", undefined)).not.toThrow();
  });
});

describe("token buckets", () => {
  it("requests_per_s admits a second's burst, then tells how long to wait; tokens_per_s counts prompt and output", () => {
    let now = 0;
    const limits = new LocalRateLimits(() => now);
    const key = parseKeyFile(`keys:\n  - { sha256: ${sha("x")}, tenant: t, requests_per_s: 2, tokens_per_s: 100 }\n`, "k.yaml")[0];
    expect(limits.admit(key, 10)).toBe(0);
    expect(limits.admit(key, 10)).toBe(0);
    expect(limits.admit(key, 10)).toBeCloseTo(0.5, 6); // the request bucket is empty: half a second at 2/s
    now += 500;
    expect(limits.admit(key, 10)).toBe(0);
    limits.charge(key, 200); // output tokens learnt at the end take the token bucket below zero
    now += 1000;
    const wait = limits.admit(key, 10);
    expect(wait).toBeGreaterThan(0);
    now += wait * 1000;
    expect(limits.admit(key, 10)).toBe(0);
  });
});

describe("tandem gateway --keys", () => {
  let gw: Gateway;
  let dir: string;
  const post = (body: unknown, headers: Record<string, string>) =>
    fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const chat = { model: "llama", messages: [{ role: "user", content: "hello there" }], max_tokens: 4 };
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tandem-gwauth-"));
    writeFileSync(join(dir, "keys.yaml"), KEYS);
    gw = await startGateway({
      cluster: parseClusterConfig(CLUSTER, "cluster.yaml"),
      clusterFile: "cluster.yaml",
      emulate: true,
      speedup: 50,
      port: 0,
      out: join(dir, "out"),
      keys: join(dir, "keys.yaml"),
    });
  });
  afterAll(async () => {
    await gw?.shutdown();
  });

  it("401 without a key or with a wrong one (OpenAI error shape); health and metrics stay open", async () => {
    const none = await post(chat, {});
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await none.json()).toEqual({ error: { message: expect.stringMatching(/API key/), type: "invalid_request_error", param: null, code: "missing_api_key" } });
    const wrong = await post(chat, bearer("key-z"));
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as any).error.code).toBe("invalid_api_key");
    expect((await fetch(`${gw.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${gw.url}/v1/models`, { headers: bearer("key-a") })).status).toBe(200);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
  });

  it("a key serves its own tenant at its default class; another tenant or a higher class is 403, a lower one is fine", async () => {
    const ok = await post(chat, bearer("key-a"));
    expect(ok.status).toBe(200);
    await ok.json();
    const other = await post(chat, { ...bearer("key-a"), "x-tandem-tenant": "team-b" });
    expect(other.status).toBe(403);
    expect(((await other.json()) as any).error).toMatchObject({ code: "forbidden_tenant", type: expect.any(String) });
    const meta = await post({ ...chat, metadata: { tenant: "team-b" } }, bearer("key-a"));
    expect(meta.status).toBe(403);
    await meta.body?.cancel();
    const high = await post(chat, { ...bearer("key-a"), "x-tandem-priority-class": "high" });
    expect(high.status).toBe(403);
    expect(((await high.json()) as any).error.code).toBe("forbidden_priority");
    const raised = await post({ ...chat, priority: -5 }, bearer("key-a"));
    expect(raised.status).toBe(403);
    await raised.body?.cancel();
    const low = await post(chat, { ...bearer("key-a"), "x-tandem-priority-class": "low", "x-tandem-tenant": "team-a" });
    expect(low.status).toBe(200);
    await low.json();
    const b = await post(chat, { ...bearer("key-b"), "x-tandem-priority-class": "high" });
    expect(b.status).toBe(200);
    await b.json();
  });

  it("over requests_per_s is 429 with Retry-After; max_concurrency bounds calls in flight", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await post(chat, bearer("key-slow"));
      codes.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(((await res.json()) as any).error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
      } else await res.json();
    }
    expect(codes.slice(0, 2)).toEqual([200, 200]);
    expect(codes.slice(2)).toContain(429);
    const long = { ...chat, max_tokens: 400 };
    const both = await Promise.all([post(long, bearer("key-one")), post(long, bearer("key-one"))]);
    const statuses = both.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 429]);
    for (const r of both) await r.text();
    const after = await post(chat, bearer("key-one"));
    expect(after.status).toBe(200);
    await after.json();
  });

  it("SIGHUP-style reload: a bad file keeps the old keys (one log line); a good one replaces them", async () => {
    const file = join(dir, "keys.yaml");
    writeFileSync(file, "keys:\n  - { sha256: nope, tenant: x }\n");
    expect(gw.auth!.reload()).toBe(false);
    expect((await post(chat, bearer("key-a"))).status).toBe(200);
    writeFileSync(file, `keys:\n  - { sha256: ${sha("key-new")}, tenant: team-a }\n`);
    expect(gw.auth!.reload()).toBe(true);
    expect((await post(chat, bearer("key-a"))).status).toBe(401);
    const fresh = await post(chat, bearer("key-new"));
    expect(fresh.status).toBe(200);
    await fresh.json();
  });

  it("per-tenant usage in /metrics and, after shutdown, in the report; the key itself appears nowhere", async () => {
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/tandem_gateway_tenant_requests_total\{tenant="team-a"\} [1-9]/);
    expect(metrics).toMatch(/tandem_gateway_tenant_tokens_total\{tenant="team-a",kind="output"\} [1-9]/);
    expect(metrics).toMatch(/tandem_gateway_tenant_rejections_total\{tenant="team-c",reason="rate_limited"\} [1-9]/);
    expect(metrics).toMatch(/tandem_gateway_tenant_rejections_total\{tenant="",reason="invalid_api_key"\} [1-9]/);
    expect(metrics).not.toContain("key-a");
    const { report, files } = await gw.shutdown();
    const a = report.tenants!.find((t) => t.tenant === "team-a")!;
    expect(a.requests).toBeGreaterThanOrEqual(3);
    expect(a.finished).toBe(a.requests);
    expect(a.output_tokens).toBe(4 * a.finished);
    expect(a.refused).toMatchObject({ forbidden_tenant: 2, forbidden_priority: 2 });
    expect(report.tenants!.find((t) => t.tenant === "team-c")!.refused.rate_limited).toBeGreaterThan(0);
    // Rate-limited calls count as arrived and rejected, so arrived = completed + failed + rejected.
    const c = report.summary.calls;
    expect(c.arrived).toBe(c.completed + c.failed + c.rejected);
    const written = JSON.parse(readFileSync(files.find((f) => f.endsWith("report.json"))!, "utf8"));
    expect(written.tenants).toEqual(report.tenants);
  });
});

describe("tandem gateway CLI: keys and hosts", () => {
  const BIN = join(REPO_ROOT, "bin/tandem.mjs");
  it("a network --host without --keys is refused (one line, exit 2); so is a bad key file, naming file and field", () => {
    const open = spawnSync(process.execPath, [BIN, "gateway", "--emulate", "--host", "0.0.0.0", "--port", "0"], { encoding: "utf8", timeout: 60_000 });
    expect(open.status).toBe(2);
    expect(open.stderr).toMatch(/^tandem: error: --host 0\.0\.0\.0: a gateway reachable from the network needs API keys \(--keys FILE\); pass --no-auth[^\n]*\n$/);
    const dir = mkdtempSync(join(tmpdir(), "tandem-gwauth-cli-"));
    const file = join(dir, "keys.yaml");
    writeFileSync(file, `keys:\n  - { sha256: ${sha("x")}, tenant: "", max_concurrency: 2 }\n`);
    const bad = spawnSync(process.execPath, [BIN, "gateway", "--emulate", "--port", "0", "--keys", file], { encoding: "utf8", timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`tandem: error: ${file}: keys[0].tenant: tenant must not be empty\n`);
  });

  it("SIGHUP to a running `tandem gateway --keys`: a key added works after the signal; a broken file keeps the keys and logs one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-gwauth-hup-"));
    const file = join(dir, "keys.yaml");
    writeFileSync(file, `keys:\n  - { sha256: ${sha("key-a")}, tenant: team-a }\n`);
    const gw = await GatewayProcess.start(["--emulate", "--speedup", "50", "--keys", file, "--quiet", "--out", join(dir, "out")], dir);
    const status = async (key: string) => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: "llama-3.1-8b", messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
      });
      await res.text();
      return res.status;
    };
    const logged = async (pattern: RegExp) => {
      const deadline = Date.now() + 20_000;
      while (!pattern.test(gw.stderr)) {
        if (Date.now() > deadline) throw new Error(`no log line ${pattern}: ${gw.stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      expect(await status("key-a")).toBe(200);
      expect(await status("key-new")).toBe(401);
      writeFileSync(file, `keys:\n  - { sha256: ${sha("key-a")}, tenant: team-a }\n  - { sha256: ${sha("key-new")}, tenant: team-n }\n`);
      gw.child.kill("SIGHUP");
      await logged(/reloaded 2 keys/);
      expect(await status("key-new")).toBe(200);
      writeFileSync(file, "keys:\n  - { sha256: nope, tenant: x }\n");
      gw.child.kill("SIGHUP");
      await logged(/keys not reloaded/);
      expect(gw.stderr.match(/^.*keys not reloaded.*\n/gm)).toEqual([
        `tandem gateway: keys not reloaded, keeping the 2 in force: ${file}: keys[0].sha256: expected the key's SHA-256 as 64 hex digits (printf %s KEY | sha256sum)\n`,
      ]);
      expect(await status("key-new")).toBe(200);
      expect(await status("key-a")).toBe(200);
      expect(gw.stderr).not.toMatch(/key-a|key-new/);
      expect(await gw.stop("SIGTERM")).toBe(0);
    } finally {
      await gw.stop("SIGKILL");
    }
  }, 60_000);
});
