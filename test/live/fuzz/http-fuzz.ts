/** HTTP fuzzing of an OpenAI-compatible server (the gateway, the emulator): fast-check cases of
 *  malformed bodies, headers, methods and paths. What must hold for every case: no 5xx for a
 *  client's mistake (the server behind is healthy), an answer within HUNG_MS (never a hung
 *  socket), and the server still serving afterwards (never a crash). Used by
 *  test/live/http-fuzz.test.ts (a few thousand cases) and bench/soak.bench.ts (10,000). */
import { connect } from "node:net";
import fc from "fast-check";
import { Pool } from "undici";

export const HUNG_MS = 5000;

export interface FuzzCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
}

const PATHS = [
  "/v1/completions",
  "/v1/chat/completions",
  "/v1/models",
  "/v1/models/llama-3-8b",
  "/health",
  "/health/llama-3-8b",
  "/metrics",
  "/v1/traffic",
  "/stats",
  "/is_sleeping",
  "/version",
];
const GENERATION_PATHS = ["/v1/completions", "/v1/chat/completions"];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];
const IDENTITY_HEADERS = [
  "x-tandem-workflow",
  "x-tandem-agent",
  "x-tandem-step",
  "x-tandem-tenant",
  "x-tandem-priority-class",
  "x-tandem-priority",
  "x-tandem-app",
  "x-tandem-slo",
  "x-tandem-workflow-end",
];

/** A header value HTTP allows (visible ASCII and spaces, trimmed). */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 }).map((s) => s.trim());

const pathArb = fc.oneof(
  fc.constantFrom(...PATHS),
  fc.tuple(fc.constantFrom(...PATHS), fc.webSegment()).map(([p, s]) => `${p}/${s}`),
  fc.tuple(fc.constantFrom(...PATHS), fc.webQueryParameters()).map(([p, q]) => `${p}?${q}`),
  fc.webPath().map((p) => (p.startsWith("/") ? p : `/${p}`)),
  fc.constantFrom("/v1/models/%E0%A4%A", "/health/%", "/v1/models/%00", "//v1/completions", "/v1/completions/../metrics", "/v1/chat/completions?stream=true"),
);

/** A valid request with some fields replaced by arbitrary JSON values (or removed). */
const mutatedBody = fc
  .record({
    chat: fc.boolean(),
    stream: fc.boolean(),
    replace: fc.dictionary(
      fc.constantFrom("model", "prompt", "messages", "max_tokens", "max_completion_tokens", "stream", "stream_options", "n", "priority", "user", "metadata", "temperature", "tools"),
      fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined)),
      { maxKeys: 3 },
    ),
  })
  .map(({ chat, stream, replace }) => {
    const base: Record<string, unknown> = chat
      ? { model: "llama-3-8b", messages: [{ role: "user", content: "hi" }], max_tokens: 4, stream }
      : { model: "llama-3-8b", prompt: [1000, 1001, 1002, 1003], max_tokens: 4, stream };
    for (const [k, v] of Object.entries(replace)) {
      if (v === undefined) delete base[k];
      else base[k] = v;
    }
    // Bounded so that a valid case stays short whatever the fuzzer picked.
    for (const key of ["max_tokens", "max_completion_tokens"]) if (typeof base[key] === "number" && (base[key] as number) > 64 && (base[key] as number) < 1e6) base[key] = 64;
    return new TextEncoder().encode(JSON.stringify(base));
  });

const bodyArb = fc.oneof(
  { weight: 4, arbitrary: mutatedBody },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((s) => new TextEncoder().encode(s)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: mutatedBody.chain((b) => fc.nat({ max: Math.max(0, b.length - 1) }).map((n) => b.subarray(0, n))) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    method: fc.oneof({ weight: 3, arbitrary: fc.constant("POST") }, { weight: 2, arbitrary: fc.constantFrom(...METHODS) }),
    path: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...GENERATION_PATHS) }, { weight: 2, arbitrary: pathArb }),
    contentType: fc.option(fc.constantFrom("application/json", "text/plain", "application/json; charset=latin1", "multipart/form-data", "junk/\u0001"), { nil: undefined }),
    identity: fc.dictionary(fc.constantFrom(...IDENTITY_HEADERS), headerValue, { maxKeys: 3 }),
    authorization: fc.option(
      headerValue.map((v) => `Bearer ${v}`),
      { nil: undefined },
    ),
    body: bodyArb,
  })
  .map(({ method, path, contentType, identity, authorization, body }) => {
    const headers: Record<string, string> = { ...identity };
    if (contentType !== undefined && !contentType.includes("\u0001")) headers["content-type"] = contentType;
    if (authorization !== undefined) headers.authorization = authorization;
    return { method, path, headers, body: method === "GET" || method === "HEAD" ? undefined : body };
  });

export interface FuzzStats {
  cases: number;
  byStatus: Map<number, number>;
  /** Cases that broke a rule: what was sent and what came back. */
  violations: string[];
}

/** Sends one case; returns its status, or a violation (5xx, no answer in time, a broken socket). */
export async function sendCase(pool: Pool, c: FuzzCase): Promise<{ status: number } | { violation: string }> {
  const what = `${c.method} ${c.path} ${JSON.stringify(c.headers)} ${c.body === undefined ? "(no body)" : JSON.stringify(Buffer.from(c.body).toString("latin1").slice(0, 200))}`;
  try {
    const res = await pool.request({
      method: c.method,
      path: c.path,
      headers: c.headers,
      body: c.body === undefined ? undefined : Buffer.from(c.body),
      headersTimeout: HUNG_MS,
      bodyTimeout: HUNG_MS,
    });
    await res.body.text();
    if (res.statusCode >= 500) return { violation: `${res.statusCode} for ${what}` };
    return { status: res.statusCode };
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    // undici refuses some cases itself before sending (an invalid path or header): not the server's doing.
    if (code === "UND_ERR_INVALID_ARG") return { status: 0 };
    return { violation: `${code || (error as Error).message} for ${what}` };
  }
}

/** Raw bytes on a fresh connection: the server must answer or close within HUNG_MS. */
export function sendRaw(url: string, bytes: Uint8Array): Promise<{ status: number } | { violation: string }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(u.port), u.hostname);
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ violation: `no answer nor close in ${HUNG_MS} ms to raw bytes ${JSON.stringify(Buffer.from(bytes).toString("latin1").slice(0, 200))}` });
    }, HUNG_MS);
    socket.on("data", (d) => (text += d.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve(status >= 500 ? { violation: `${status} to raw bytes ${JSON.stringify(Buffer.from(bytes).toString("latin1").slice(0, 200))}` } : { status });
    });
    // Half-close after the bytes: a server waiting for more of a request sees its end.
    socket.end(Buffer.from(bytes));
  });
}

const rawArb = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc
    .tuple(fc.constantFrom(...METHODS, "BREW", "get"), pathArb, fc.string({ maxLength: 100 }))
    .map(([m, p, junk]) => new TextEncoder().encode(`${m} ${p} HTTP/1.1\r\nHost: x\r\n${junk}\r\n\r\n`)),
  fc.nat({ max: 1_000_000 }).map((n) => new TextEncoder().encode(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: ${n}\r\n\r\n{"model":`)),
);

/** `runs` cases against `url` (one in ten as raw bytes on a fresh connection), then a check that it
 *  still serves /health; the stats and every violation. */
export async function fuzzServer(url: string, runs: number, seed?: number): Promise<FuzzStats> {
  const pool = new Pool(url, { connections: 8 });
  const stats: FuzzStats = { cases: 0, byStatus: new Map(), violations: [] };
  const note = (r: { status: number } | { violation: string }) => {
    stats.cases++;
    if ("violation" in r) stats.violations.push(r.violation);
    else stats.byStatus.set(r.status, (stats.byStatus.get(r.status) ?? 0) + 1);
  };
  try {
    const http = Math.ceil(runs * 0.9);
    const options = { numRuns: 1, ...(seed !== undefined ? { seed } : {}) };
    for (const c of fc.sample(fuzzCase, { ...options, numRuns: http })) note(await sendCase(pool, c));
    for (const bytes of fc.sample(rawArb, { ...options, numRuns: runs - http })) note(await sendRaw(url, bytes));
    const alive = await sendCase(pool, { method: "GET", path: "/health", headers: {}, body: undefined });
    if (!("status" in alive) || alive.status !== 200) stats.violations.push(`the server no longer serves /health after fuzzing: ${JSON.stringify(alive)}`);
  } finally {
    await pool.close();
  }
  return stats;
}
