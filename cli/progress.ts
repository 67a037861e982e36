import type { SingleBar } from "cli-progress";
import type { RunProgress } from "../run/setup.ts";

/** A progress bar that appears only on a TTY and only once a run has taken more than a second, so
 *  short runs and piped output stay clean. Reads the wall clock: CLI only, never the core. */
export async function progressReporter(totalRequests: number | undefined, enabled: boolean) {
  const started = Date.now();
  let bar: SingleBar | undefined;
  const active = enabled && process.stderr.isTTY === true;
  // Loaded only where a bar can appear (a TTY); before the run, whose loop may never yield to I/O.
  const cliProgress = active ? (await import("cli-progress")).default : undefined;
  return {
    update(progress: RunProgress) {
      if (!active) return;
      if (!bar) {
        if (Date.now() - started < 1000 || cliProgress === undefined) return;
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: totalRequests ? "simulating [{bar}] {percentage}% | {value}/{total} requests | sim time {sim}s" : "simulating | {value} requests | sim time {sim}s",
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(totalRequests ?? 0, 0, { sim: "0.0" });
      }
      bar.update(progress.arrived, { sim: progress.sim_time_s.toFixed(1) });
    },
    stop() {
      bar?.stop();
    },
  };
}
