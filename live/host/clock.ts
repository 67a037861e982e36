/** Model time for the live host. Every time the core and the report see is in *model seconds*:
 *  wall seconds since the run started × `speedup`. Against real vLLM the speedup is 1; against
 *  emulators running `speedup` times faster than real time (tests, parity), it makes a live run's
 *  times comparable with the simulator's. The only clock read in the live host is here. */
export class LiveClock {
  private readonly origin_ms: number;

  constructor(readonly speedup: number = 1) {
    if (!(speedup > 0 && Number.isFinite(speedup))) throw new Error(`speedup must be a positive number, got ${speedup}`);
    this.origin_ms = performance.now();
  }

  now_s(): number {
    return ((performance.now() - this.origin_ms) / 1000) * this.speedup;
  }

  /** Wall milliseconds until model time `at_s` (0 when it has passed). */
  wallDelay_ms(at_s: number): number {
    return Math.max(0, ((at_s - this.now_s()) / this.speedup) * 1000);
  }

  /** Resolves at model time `at_s` (at once when it has passed). */
  until(at_s: number, signal?: AbortSignal): Promise<void> {
    const delay_ms = this.wallDelay_ms(at_s);
    if (delay_ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, delay_ms);
      function done() {
        signal?.removeEventListener("abort", done);
        clearTimeout(timer);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
