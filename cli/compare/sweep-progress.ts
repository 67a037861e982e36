/** The progress bar of a comparison: runs done out of the grid (or the shard), how many were
 *  reused from an earlier sweep, elapsed time and an ETA. The ETA counts only runs that ran: reused
 *  ones finish at once and would make it far too hopeful. On stderr, on a terminal only. Reads the
 *  wall clock: CLI only. */
import cliProgress from "cli-progress";

export interface SweepProgress {
  done(reused: boolean): void;
  stop(): void;
}

export function sweepProgress(total: number, enabled: boolean, stream: NodeJS.WriteStream = process.stderr): SweepProgress {
  if (!enabled || stream.isTTY !== true || total === 0) return { done() {}, stop() {} };
  const started = Date.now();
  let ran = 0;
  let reused = 0;
  const bar = new cliProgress.SingleBar(
    { stream, format: "comparing [{bar}] {value}/{total} runs{reusedText} | {duration_formatted} | ETA {eta}", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { reusedText: "", eta: "…" });
  return {
    done(wasReused) {
      if (wasReused) reused++;
      else ran++;
      const left = total - ran - reused;
      bar.increment(1, { reusedText: reused > 0 ? ` (${reused} reused)` : "", eta: sweepEta(Date.now() - started, ran, left) });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Time left, from the pace of the runs that ran so far ("…" before the first). */
export function sweepEta(elapsed_ms: number, ran: number, left: number): string {
  if (left === 0) return "0s";
  if (ran === 0) return "…";
  return formatSeconds(((elapsed_ms / ran) * left) / 1000);
}

export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
