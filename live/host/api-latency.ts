/** The live path's latency to one instance, measured before a run: the HTTP round trip of a
 *  request the server answers at once (GET /health), in model seconds (wall × speedup). */
export interface ApiLatency {
  /** Median round trip over the samples. */
  rtt_s: number;
  /** One-way latency, as the simulator's `engine.api_latency_s` means it: half the round trip. The
   *  sim delays a dispatch by it on the way in and every token on the way out, so a call's TTFT
   *  gains one round trip, as it does over HTTP. */
  api_latency_s: number;
  samples: number;
}

/** Probes per instance. Odd, so that the median is a measured value. */
export const API_LATENCY_SAMPLES = 15;

/** Times `probe` `samples` times in a row, after one untimed probe that opens the connection, and
 *  returns the median round trip in model seconds. `probe` resolves false when the server did not
 *  answer with success. */
export async function measureApiLatency(probe: () => Promise<boolean>, options: { speedup: number; samples?: number; describe: string }): Promise<ApiLatency> {
  const samples = options.samples ?? API_LATENCY_SAMPLES;
  if (!(await probe())) throw new Error(`${options.describe}: /health failed while measuring the round trip`);
  const rtts_ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    const ok = await probe();
    const elapsed = performance.now() - start;
    if (!ok) throw new Error(`${options.describe}: /health failed while measuring the round trip`);
    rtts_ms.push(elapsed);
  }
  rtts_ms.sort((a, b) => a - b);
  const n = rtts_ms.length;
  const median_ms = n % 2 === 1 ? rtts_ms[(n - 1) / 2] : (rtts_ms[n / 2 - 1] + rtts_ms[n / 2]) / 2;
  const rtt_s = (median_ms / 1000) * options.speedup;
  return { rtt_s, api_latency_s: rtt_s / 2, samples };
}
