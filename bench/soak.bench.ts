/** Gateway soak and fuzz (`npm run bench:soak -- [--duration S] [--rate R] [--interval S] [--fuzz N]`).
 *  Two vLLM emulators (speedup 1000) and `tandem gateway` as child processes; this process sends
 *  open-loop load — `--rate` requests/s (default 1,000), half streamed, half not, 16-token prompts,
 *  16 output tokens — for `--duration` seconds (default 60; the campaign's run is 600). Printed:
 *  per interval (`--interval`, default 60 s, or a sixth of a shorter run) the achieved rate, p50
 *  and p99 latency and the gateway's RSS; then the accounting — every request finished, failed or
 *  rejected, each with its reason, and the gateway's own report (written on SIGTERM) agreeing:
 *  arrived = completed + failed + rejected; RSS growth after the first interval (target < 10%).
 *  Last, `--fuzz` cases (default 10,000; 0 skips) of malformed requests against a gateway and an
 *  emulator (test/live/fuzz/http-fuzz.ts): no 5xx, no hung socket, no crash. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { startEmulator } from "../live/emulator/index.ts";
import { startGateway } from "../live/gateway/index.ts";
import { parseClusterConfig } from "../run/config-file.ts";
import { fuzzServer } from "../test/live/fuzz/http-fuzz.ts";

const { values: flags } = parseArgs({
  options: {
    duration: { type: "string", default: "60" },
    rate: { type: "string", default: "1000" },
    interval: { type: "string" },
    fuzz: { type: "string", default: "10000" },
  },
});
const DURATION_S = positive(flags.duration, "--duration");
const RATE = positive(flags.rate, "--rate");
const INTERVAL_S = flags.interval !== undefined ? positive(flags.interval, "--interval") : DURATION_S >= 360 ? 60 : DURATION_S / 6;
const FUZZ = Number(flags.fuzz);

function positive(text: string | undefined, flag: string): number {
  const x = Number(text);
  if (!(x > 0 && Number.isFinite(x))) {
    process.stderr.write(`${flag}: expected a number > 0, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return x;
}

const ROOT = new URL("..", import.meta.url).pathname;
const BIN = join(ROOT, "bin/tandem.mjs");
const PROMPT = Array.from({ length: 16 }, (_, i) => 1000 + i);
/** How long the load generator waits for a response's head or next bytes before giving up. */
const CLIENT_TIMEOUT_MS = 30_000;

function startChild(args: string[], pattern: RegExp): Promise<{ child: ChildProcess; url: string; stdout: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  child.stdout!.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", () => {
      const m = pattern.exec(out);
      if (m) resolve({ child, url: m[1]!, stdout: () => out });
    });
    child.on("exit", (code) => reject(new Error(`tandem ${args[0]} exited ${code}: ${err}`)));
  });
}

function rssMiB(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Interval {
  latencies: number[];
  finished: number;
  other: number;
}

const outcomes = new Map<string, number>();
const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);

/** The interval under way: a request counts in the one it ends in. */
let slot: Interval = { latencies: [], finished: 0, other: 0 };

/** One request; its outcome counted by reason, its latency kept if it finished. */
async function once(pool: Pool, stream: boolean): Promise<void> {
  const t0 = performance.now();
  const body = JSON.stringify({ model: "llama-3-8b", prompt: PROMPT, max_tokens: 16, ...(stream ? { stream: true } : {}) });
  try {
    const res = await pool.request({
      path: "/v1/completions",
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      headersTimeout: CLIENT_TIMEOUT_MS,
      bodyTimeout: CLIENT_TIMEOUT_MS,
    });
    const text = await res.body.text();
    if (res.statusCode === 200 && (!stream || /data: \[DONE\]\s*$/.test(text))) {
      count("finished");
      slot.finished++;
      slot.latencies.push(performance.now() - t0);
      return;
    }
    slot.other++;
    let code = "";
    try {
      code = (JSON.parse(text.startsWith("data: ") ? text.slice(text.lastIndexOf("data: {") + 6) : text) as { error?: { code?: string } }).error?.code ?? "";
    } catch {}
    count(`${res.statusCode === 429 ? "rejected" : "failed"}: HTTP ${res.statusCode}${code ? ` ${code}` : ""}${res.statusCode === 200 ? " (stream cut)" : ""}`);
  } catch (error) {
    slot.other++;
    count(`failed: ${(error as { code?: string }).code ?? (error as Error).message}`);
  }
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
};
const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "—");

async function soak(): Promise<boolean> {
  const scratch = mkdtempSync(join(tmpdir(), "tandem-soak-"));
  const emulators = await Promise.all(
    [0, 1].map(() => startChild(["emulate", "--model", "llama-3-8b", "--gpu", "h100-80gb", "--port", "0", "--speedup", "1000", "--spin-ms", "0"], /serving \S+ on (http:\/\/[\d.:]+)/)),
  );
  const config = join(scratch, "cluster.yaml");
  writeFileSync(config, `instances:\n  - { model: llama-3-8b, gpu: h100-80gb, count: 2, endpoints: [${emulators.map((e) => `"${e.url}"`).join(", ")}] }\n`);
  const out = join(scratch, "out");
  const gateway = await startChild(["gateway", "--config", config, "--port", "0", "--out", out, "--quiet"], /listening on (http:\/\/[\d.:]+)/);
  const pool = new Pool(gateway.url, { connections: 512 });
  console.log(`soak: ${RATE} req/s for ${DURATION_S} s (half streamed), gateway ${gateway.url} → 2 emulators (speedup 1000); a line every ${f(INTERVAL_S)} s`);
  console.log("\n  t (s)   sent/s   finished   other   p50 ms   p99 ms   gateway RSS MiB");
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  let sent = 0;
  const rows: { p99: number; rss: number }[] = [];
  let slotStart = start;
  let slotSent = 0;
  const total = Math.round(RATE * DURATION_S);
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) / 1000) * RATE) + 1);
      for (; sent < due; sent++, slotSent++) {
        const p = once(pool, sent % 2 === 1);
        pending.add(p);
        void p.then(() => pending.delete(p));
      }
      if (now - slotStart >= INTERVAL_S * 1000 || sent >= total) {
        const rss = rssMiB(gateway.child.pid);
        const p99 = pct(slot.latencies, 0.99);
        rows.push({ p99, rss });
        console.log(
          `${f((now - start) / 1000, 0).padStart(7)}   ${f(slotSent / ((now - slotStart) / 1000), 0).padStart(6)}   ${String(slot.finished).padStart(8)}   ${String(slot.other).padStart(5)}   ${f(pct(slot.latencies, 0.5), 2).padStart(6)}   ${f(p99, 2).padStart(6)}   ${f(rss).padStart(15)}`,
        );
        slot = { latencies: [], finished: 0, other: 0 };
        slotStart = now;
        slotSent = 0;
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(pending);
  await pool.close();
  const exited = new Promise((r) => gateway.child.once("exit", r));
  gateway.child.kill("SIGTERM");
  await exited;
  for (const e of emulators) e.child.kill("SIGTERM");
  const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as {
    summary: { calls: Record<string, number>; failures: Record<string, number>; rejections: Record<string, number> };
  };

  console.log(`\nrequests sent: ${sent}`);
  for (const [key, n] of [...outcomes].sort((a, b) => b[1] - a[1])) console.log(`  ${key}: ${n}`);
  const c = report.summary.calls;
  const accounted = c.arrived === c.completed + c.failed + c.rejected;
  const seen = [...outcomes.values()].reduce((a, b) => a + b, 0);
  console.log(
    `gateway report: arrived ${c.arrived} = completed ${c.completed} + failed ${c.failed} + rejected ${c.rejected} (${accounted ? "holds" : "BROKEN"}); every request answered: ${seen === sent ? "yes" : `NO (${sent - seen} missing)`}`,
  );
  for (const [reason, n] of Object.entries({ ...report.summary.failures, ...report.summary.rejections })) console.log(`  ${reason}: ${n}`);
  // RSS growth after warm-up: from the end of the first interval to the end of the run.
  const growth = rows.length >= 2 ? rows.at(-1)!.rss / rows[0]!.rss - 1 : NaN;
  const p99s = rows.slice(1).map((r) => r.p99);
  console.log(`gateway RSS after warm-up ${f(rows[0]?.rss ?? NaN)} MiB → end ${f(rows.at(-1)?.rss ?? NaN)} MiB: ${f(100 * growth)}% (target < 10%: ${growth < 0.1 ? "met" : "MISSED"})`);
  console.log(`p99 per interval after warm-up: ${f(Math.min(...p99s), 2)}–${f(Math.max(...p99s), 2)} ms`);
  // Every request the gateway did not count as a call must have ended in an error on the client's
  // side (no connection, or the client gave up before the gateway read its request).
  const clientSide = [...outcomes].filter(([key]) => !key.startsWith("finished") && !key.includes("HTTP ")).reduce((a, [, n]) => a + n, 0);
  const arrivedAll = c.arrived <= sent && c.arrived >= sent - clientSide;
  console.log(
    `requests sent ${sent}, calls in the gateway's report ${c.arrived}: ${sent - c.arrived} not counted, ${clientSide} ended on the client's side (timeouts, no connection) — ${arrivedAll ? "accounted for" : "MISMATCH"}`,
  );
  return accounted && seen === sent && arrivedAll;
}

async function fuzz(): Promise<boolean> {
  if (FUZZ <= 0) return true;
  const gw = await startGateway({
    cluster: parseClusterConfig("instances:\n  - { model: llama-3-8b, gpu: h100-80gb, engine: { max_model_len: 4096 } }\n", "cluster.yaml"),
    clusterFile: "cluster.yaml",
    emulate: true,
    speedup: 1000,
    port: 0,
  });
  const emulator = await startEmulator({ model: "llama-3-8b", gpu: "h100-80gb", speedup: 1000, spinMs: 0 });
  const seed = Date.now() % 2 ** 31;
  let ok = true;
  try {
    for (const [name, url] of [
      ["gateway", gw.url],
      ["emulator", emulator.url],
    ] as const) {
      const t0 = performance.now();
      const stats = await fuzzServer(url, FUZZ, seed);
      const statuses = [...stats.byStatus].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s === 0 ? "refused by the client" : s}: ${n}`);
      console.log(`\nfuzz ${name}: ${stats.cases} cases (seed ${seed}) in ${f((performance.now() - t0) / 1000)} s; ${statuses.join(", ")}; violations: ${stats.violations.length}`);
      for (const v of stats.violations.slice(0, 10)) console.log(`  ${v}`);
      ok &&= stats.violations.length === 0;
    }
  } finally {
    await gw.shutdown();
    await emulator.close();
  }
  return ok;
}

const soaked = await soak();
const fuzzed = await fuzz();
console.log(`\nsoak: ${soaked ? "nothing lost" : "LOST REQUESTS"}; fuzz: ${fuzzed ? "no violations" : "VIOLATIONS"}`);
process.exit(soaked && fuzzed ? 0 : 1);
