/** Gateway overhead benchmark (`npm run bench:gateway`); prints its figures.
 *  A vLLM emulator (speedup 1000: the engine is never the bottleneck) and `tandem gateway` in
 *  front of it run as child processes, as they would be deployed; this process is the load
 *  generator (undici, loopback). Short calls — 16-token token-id prompts, 4 output tokens — are
 *  sent open-loop at 500, 1,000 and 2,000 requests/s, non-streamed and streamed, each rate once
 *  straight to the emulator and once through the gateway, alternately. Latency runs from sending a
 *  request to the end of its response; the gateway's added latency is the difference of the two
 *  runs' percentiles, each the median over GATEWAY_BENCH_REPS (default 3) runs of
 *  GATEWAY_BENCH_SECONDS (default 3) — the machine is shared, and a single run's p99 mostly
 *  measures its neighbours (target: p99 added ≤ 2 ms at 1,000 requests/s). Then throughput,
 *  closed loop: GATEWAY_BENCH_CONNECTIONS (default 32) requests always in flight, non-streamed
 *  16-token completions, direct and through the gateway, alternately GATEWAY_BENCH_REPS times
 *  (target: the gateway ≥ 60% of direct), with each process's CPU time per request (from
 *  /proc, so that a figure taken on a busy machine still says what the gateway costs). Last,
 *  open loop stepping up the rate until errors, under 98% achieved, or p99 over 1 s.
 *  Then the same closed loop through one gateway and through two replicas sharing state in Redis
 *  (Debian's redis-server on a free loopback port; skipped where absent).
 *  GATEWAY_NODE_FLAGS: node flags for the gateway process (e.g. --max-semi-space-size=4). */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { RedisProcess, REDIS_SERVER } from "../test/helpers/redis-server.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BIN = join(ROOT, "bin/tandem.mjs");
const SECONDS = Number(process.env.GATEWAY_BENCH_SECONDS ?? 3);
const REPS = Number(process.env.GATEWAY_BENCH_REPS ?? 3);
const CONNECTIONS = Number(process.env.GATEWAY_BENCH_CONNECTIONS ?? 32);
const RATES = [500, 1000, 2000];
const PROMPT = Array.from({ length: 16 }, (_, i) => 1000 + i);

/** Starts a tandem command and resolves with the first http:// URL it prints. */
function startChild(args: string[], pattern: RegExp, nodeFlags: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...nodeFlags, BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on("exit", (code) => reject(new Error(`tandem ${args[0]} exited ${code}: ${err}`)));
  });
}

interface RunResult {
  sent: number;
  ok: number;
  errors: number;
  latencies_ms: Float64Array;
  achieved_per_s: number;
}

/** One request; resolves with its latency in ms, or NaN on an error. */
async function once(pool: Pool, body: string, stream: boolean): Promise<number> {
  const t0 = performance.now();
  try {
    const res = await pool.request({ path: "/v1/completions", method: "POST", headers: { "content-type": "application/json" }, body });
    let text = "";
    for await (const chunk of res.body) text += chunk;
    if (res.statusCode !== 200 || (stream && !text.includes("[DONE]"))) return NaN;
    return performance.now() - t0;
  } catch {
    return NaN;
  }
}

/** Open loop: `rate` requests/s, evenly spaced, for `seconds`; late ticks send what is due. */
async function openLoop(pool: Pool, rate: number, seconds: number, stream: boolean): Promise<RunResult> {
  const body = JSON.stringify({ model: "llama-3-8b", prompt: PROMPT, max_tokens: 4, ...(stream ? { stream: true } : {}) });
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      for (; sent < due; sent++) {
        const i = sent;
        pending.push(once(pool, body, stream).then((ms) => void (latencies[i] = ms)));
      }
      if (sent < total) setTimeout(tick, 0);
      else resolve();
    };
    tick();
  });
  await Promise.all(pending);
  const elapsed_s = (performance.now() - start) / 1000;
  const ok = latencies.filter((x) => !Number.isNaN(x));
  return { sent: total, ok: ok.length, errors: total - ok.length, latencies_ms: ok.sort(), achieved_per_s: ok.length / elapsed_s };
}

/** CPU seconds (user + system) a process has used so far; NaN where /proc cannot be read. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** Closed loop: `concurrency` requests always in flight for `seconds`; non-streamed 16-token
 *  completions; with the CPU µs per request of each `processes` entry over the run. */
async function closedLoop(pool: Pool | Pool[], concurrency: number, seconds: number, processes: ChildProcess[] = []): Promise<{ per_s: number; errors: number; cpu_us: number[] }> {
  // Several pools (replicas behind a load balancer): connection i goes to pool i mod n.
  const pools = Array.isArray(pool) ? pool : [pool];
  const body = JSON.stringify({ model: "llama-3-8b", prompt: PROMPT, max_tokens: 16 });
  const cpu0 = processes.map((p) => cpuSeconds(p.pid));
  const end = performance.now() + seconds * 1000;
  let ok = 0;
  let errors = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      const target = pools[i % pools.length]!;
      while (performance.now() < end) {
        const ms = await once(target, body, false);
        if (Number.isNaN(ms)) errors++;
        else ok++;
      }
    }),
  );
  const cpu_us = processes.map((p, i) => ((cpuSeconds(p.pid) - cpu0[i]!) * 1e6) / Math.max(1, ok));
  return { per_s: ok / ((performance.now() - start) / 1000), errors, cpu_us };
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

const f = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "—");

/** Median of a few numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "tandem-gateway-bench-"));
  const emulator = await startChild(["emulate", "--model", "llama-3-8b", "--gpu", "h100-80gb", "--port", "0", "--speedup", "1000", "--spin-ms", "0"], /serving \S+ on (http:\/\/[\d.:]+)/);
  const config = join(scratch, "cluster.yaml");
  writeFileSync(config, `instances:\n  - { model: llama-3-8b, gpu: h100-80gb, endpoints: ["${emulator.url}"] }\n`);
  const gatewayFlags = (process.env.GATEWAY_NODE_FLAGS ?? "").split(" ").filter((f) => f !== "");
  const gateway = await startChild(["gateway", "--config", config, "--port", "0", "--out", join(scratch, "out"), "--quiet"], /listening on (http:\/\/[\d.:]+)/, gatewayFlags);
  const pools = { direct: new Pool(emulator.url, { connections: 256 }), gateway: new Pool(gateway.url, { connections: 256 }) };
  try {
    console.log(
      `gateway bench: emulator ${emulator.url} (speedup 1000), gateway ${gateway.url}${gatewayFlags.length > 0 ? ` (node ${gatewayFlags.join(" ")})` : ""}; ` +
        `${REPS} × ${SECONDS} s per rate and target (medians shown), 16-token prompts, 4 output tokens`,
    );
    for (const pool of Object.values(pools)) {
      await openLoop(pool, 500, 2, false); // warm-up (JIT, connections)
      await openLoop(pool, 500, 1, true);
    }
    console.log("\nmode      rate/s   direct p50/p99 ms   gateway p50/p99 ms   added p50/p99 ms   achieved/s  errors");
    const verdicts: string[] = [];
    for (const stream of [false, true]) {
      for (const rate of RATES) {
        const d50: number[] = [];
        const d99: number[] = [];
        const g50: number[] = [];
        const g99: number[] = [];
        const achieved: number[] = [];
        let errors = 0;
        for (let rep = 0; rep < REPS; rep++) {
          const direct = await openLoop(pools.direct, rate, SECONDS, stream);
          const via = await openLoop(pools.gateway, rate, SECONDS, stream);
          d50.push(pct(direct.latencies_ms, 0.5));
          d99.push(pct(direct.latencies_ms, 0.99));
          g50.push(pct(via.latencies_ms, 0.5));
          g99.push(pct(via.latencies_ms, 0.99));
          achieved.push(via.achieved_per_s);
          errors += direct.errors + via.errors;
        }
        const [md50, md99, mg50, mg99] = [median(d50), median(d99), median(g50), median(g99)];
        console.log(
          `${(stream ? "stream" : "json").padEnd(8)}  ${String(rate).padStart(6)}   ${`${f(md50)} / ${f(md99)}`.padStart(17)}   ${`${f(mg50)} / ${f(mg99)}`.padStart(18)}   ` +
            `${`${f(mg50 - md50)} / ${f(mg99 - md99)}`.padStart(16)}   ${f(median(achieved), 0).padStart(10)}  ${errors}`,
        );
        if (rate === 1000) verdicts.push(`${stream ? "stream" : "json"}: p99 added ${f(mg99 - md99)} ms (${mg99 - md99 <= 2 ? "met" : "MISSED"})`);
      }
    }
    console.log(`\ntarget ≤ 2 ms p99 added at 1,000 requests/s — ${verdicts.join("; ")}`);
    console.log(`\nclosed loop, ${CONNECTIONS} in flight, non-streamed 16-token completions (${REPS} × ${SECONDS} s each, alternately)`);
    console.log("target     req/s   errors   emulator CPU µs/req   gateway CPU µs/req");
    const per_s = { direct: [] as number[], gateway: [] as number[] };
    for (let rep = 0; rep < REPS; rep++) {
      for (const target of ["direct", "gateway"] as const) {
        const r = await closedLoop(pools[target], CONNECTIONS, SECONDS, [emulator.child, gateway.child]);
        per_s[target].push(r.per_s);
        console.log(
          `${target.padEnd(8)}  ${f(r.per_s, 0).padStart(7)}   ${String(r.errors).padStart(6)}   ${f(r.cpu_us[0]!, 0).padStart(19)}   ${(target === "gateway" ? f(r.cpu_us[1]!, 0) : "—").padStart(18)}`,
        );
      }
    }
    const ratio = median(per_s.gateway) / median(per_s.direct);
    console.log(
      `closed loop medians: direct ${f(median(per_s.direct), 0)} req/s, through the gateway ${f(median(per_s.gateway), 0)} req/s = ${f(100 * ratio, 0)}% of direct (target ≥ 60%: ${ratio >= 0.6 ? "met" : "MISSED"})`,
    );
    // Open loop, stepping up: the highest rate the gateway sustains (≥ 98% achieved, no errors, p99 < 1 s).
    let sustained = 0;
    for (const rate of [1000, 1500, 2000, 2500, 3000, 4000, 5000, 6000]) {
      const r = await openLoop(pools.gateway, rate, 2, false);
      const p99 = pct(r.latencies_ms, 0.99);
      const ok = r.errors === 0 && r.achieved_per_s >= 0.98 * rate && p99 < 1000;
      console.log(`  step ${rate} req/s: achieved ${f(r.achieved_per_s, 0)}, p99 ${f(p99)} ms, errors ${r.errors}${ok ? "" : "  ← not sustained"}`);
      if (!ok) break;
      sustained = rate;
    }
    console.log(`highest open-loop rate sustained through the gateway (no errors, p99 < 1 s): ${sustained} req/s`);
    await replicasClosedLoop(emulator.url, config, scratch, median(per_s.direct));
  } finally {
    await Promise.all(Object.values(pools).map((p) => p.close()));
    gateway.child.kill("SIGTERM");
    await new Promise((r) => gateway.child.once("exit", r));
    emulator.child.kill("SIGTERM");
    await new Promise((r) => emulator.child.once("exit", r));
  }
}

/** Closed loop through two gateway replicas sharing state in Redis (connections split evenly, as
 *  a round-robin load balancer would), beside one gateway on the same Redis; skipped with a line
 *  where redis-server is absent. */
async function replicasClosedLoop(emulatorUrl: string, config: string, scratch: string, direct_per_s: number): Promise<void> {
  if (!existsSync(REDIS_SERVER)) {
    console.log(`\nreplicas: skipped (${REDIS_SERVER} not found; apt-get install redis-server)`);
    return;
  }
  const redis = await RedisProcess.start();
  const replicas: { child: ChildProcess; url: string }[] = [];
  const pools: Pool[] = [];
  try {
    for (const name of ["a", "b"]) {
      const r = await startChild(["gateway", "--config", config, "--port", "0", "--out", join(scratch, `out-${name}`), "--quiet", "--redis", redis.url], /listening on (http:\/\/[\d.:]+)/);
      replicas.push(r);
      pools.push(new Pool(r.url, { connections: 256 }));
    }
    await closedLoop(pools, CONNECTIONS, 1); // warm-up
    console.log(`\nclosed loop through gateways sharing Redis (${emulatorUrl}), ${CONNECTIONS} in flight, ${REPS} × ${SECONDS} s each, alternately`);
    console.log("target                  req/s   errors   % of direct above");
    const runs = { "1 gateway + Redis": [] as number[], "2 replicas + Redis": [] as number[] };
    for (let rep = 0; rep < REPS; rep++) {
      for (const [name, targets] of [
        ["1 gateway + Redis", [pools[0]!]],
        ["2 replicas + Redis", pools],
      ] as const) {
        const r = await closedLoop([...targets], CONNECTIONS, SECONDS);
        runs[name].push(r.per_s);
        console.log(`${name.padEnd(22)}  ${f(r.per_s, 0).padStart(7)}   ${String(r.errors).padStart(6)}   ${f((100 * r.per_s) / direct_per_s, 0).padStart(6)}%`);
      }
    }
    for (const [name, xs] of Object.entries(runs)) console.log(`  ${name}: median ${f(median(xs), 0)} req/s`);
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    for (const r of replicas) {
      r.child.kill("SIGTERM");
      await new Promise((done) => r.child.once("exit", done));
    }
    await redis.kill();
  }
}

await main();
