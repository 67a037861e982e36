/** How a health wait ended. */
export type HealthOutcome = { ok: true; after_s: number } | { ok: false; why: "timeout" | "aborted" };

const POLL_MS = 100;
const PROBE_TIMEOUT_MS = 2000;

/** Polls GET {url}/health until it answers 200 (vLLM answers once the engine is loaded), the
 *  timeout passes, or `signal` aborts (the engine exited: no point waiting on). */
export async function waitHealthy(url: string, timeout_s: number, signal: AbortSignal): Promise<HealthOutcome> {
  const start = performance.now();
  const deadline = start + timeout_s * 1000;
  while (!signal.aborted) {
    if (await healthOk(url, signal)) return { ok: true, after_s: (performance.now() - start) / 1000 };
    if (performance.now() >= deadline) return { ok: false, why: "timeout" };
    await pause(Math.min(POLL_MS, Math.max(0, deadline - performance.now())), signal);
  }
  return { ok: false, why: "aborted" };
}

/** One GET /health: true on a 2xx answer; a refused connection, a timeout or another status is false. */
export async function healthOk(url: string, signal?: AbortSignal): Promise<boolean> {
  const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  try {
    const res = await fetch(`${url}/health`, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
