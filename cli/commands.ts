/** Every subcommand: the line `tandem --help` lists for it, and the module that defines it,
 *  imported only when that command runs. This file imports nothing, so that `tandem --help` and
 *  each command load only what they use (`tandem sim` never loads the plot renderer or the live
 *  host). The descriptions live here, once: each command module takes its own from `commandDescription`. */
import type { Command } from "commander";

export interface CommandEntry {
  name: string;
  /** What commander's help lists for the full command ("plot [options] <inputs...>"). */
  term: string;
  description: string;
  load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "sim",
    term: "sim [options]",
    description:
      "Simulate a cluster of vLLM-like instances under a scheduling and a dispatch policy, on a request trace, a " +
      "workflow trace, AppWorld DAGs or a generated agent app. Without a workload it runs the built-in one " +
      // The figures are DEFAULT_WORKLOAD's (traces/generate.ts); test/package/commands.test.ts holds them equal.
      "(2000 synthetic requests, Poisson 20 req/s); without --config the built-in cluster (4 × llama-3-8b on h100-80gb).",
    load: async () => (await import("./sim-command.ts")).simCommand(),
  },
  {
    name: "live",
    term: "live [options]",
    description:
      "Replay a workload in wall-clock time through the same core and policies as `tandem sim`, against the " +
      "vLLM (or any OpenAI-compatible) servers the config's `endpoints` name — or, with --emulate, against one " +
      'in-process vLLM emulator per configured instance. Writes the same report (mode "live").',
    load: async () => (await import("./live-command.ts")).liveCommand(),
  },
  {
    name: "gateway",
    term: "gateway [options]",
    description:
      "Serve an OpenAI-compatible API (/v1/completions, /v1/chat/completions, streaming or not) that agent programs " +
      "point their client at: requests are routed by `model` to the config's instances (or, with --emulate, to one " +
      "in-process vLLM emulator per instance) by the same core and policies as `tandem sim`; workflow, agent and " +
      "tenant come from x-tandem-* headers or the body's metadata. SIGINT/SIGTERM drains and writes the report " +
      "(docs/gateway.md).",
    load: async () => (await import("./gateway-command.ts")).gatewayCommand(),
  },
  {
    name: "parity",
    term: "parity [options]",
    description:
      "Run one workload twice — in the simulator and live against one vLLM emulator per configured instance — and " +
      "print both summaries side by side with relative differences. Reports go to OUT/sim and OUT/live.",
    load: async () => (await import("./parity-command.ts")).parityCommand(),
  },
  {
    name: "calibrate",
    term: "calibrate [options]",
    description:
      "Fit a latency model to profiling data (tandem's profile CSV or Splitwise's perf-model CSV), report its error " +
      "by cross-validation over held-out configurations, and write tandem.latency/v1 JSON for `tandem sim --latency`. " +
      "One model per (model, gpu, tensor_parallel) group; docs/calibration.md.",
    load: async () => (await import("./calibrate-command.ts")).calibrateCommand(),
  },
  {
    name: "compare",
    term: "compare [options]",
    description:
      "Compare scheduling+dispatch policy combinations across arrival rates and seeds: every (policy, rate, seed) " +
      "is one simulation, run in parallel on worker threads. Writes one report per run under OUT/runs/, " +
      "OUT/compare.csv and OUT/compare.json (one row per run, and per (policy, rate) the mean over seeds), and " +
      "prints the means grouped by rate with the best value of each column marked * (docs/compare.md).",
    load: async () => (await import("./compare-command.ts")).compareCommand(),
  },
  {
    name: "plot",
    term: "plot [options] <inputs...>",
    description:
      "Plot run reports (sim or live) and compare folders: latency and makespan CDFs (one line per run), p50/p99 bars, " +
      "throughput-vs-latency curves of a compare sweep, per-instance timelines, a workflow Gantt chart and sim-vs-live " +
      "overlays, as one self-contained HTML page or SVG/PNG files (docs/plot.md).",
    load: async () => (await import("./plot-command.ts")).plotCommand(),
  },
  {
    name: "trace",
    term: "trace",
    description: "Request traces: generate synthetic ones (formats: docs/traces.md)",
    load: async () => (await import("./trace-command.ts")).traceCommand(),
  },
  {
    name: "latency",
    term: "latency [options]",
    description:
      "Predict one engine step with the fitted step-time model (or --latency FILE): its time and where it goes " +
      "(GEMMs, attention, all-reduce, overhead), for a prefill of P tokens and/or B decoding sequences at context C; " +
      "--json, or --grid for a CSV over lists of P, B and C (docs/latency.md).",
    load: async () => (await import("./latency-command.ts")).latencyCommand(),
  },
  {
    name: "fidelity",
    term: "fidelity [options]",
    description:
      "Judge a latency model (the shipped step-time presets, the roofline, or --latency FILE) against every measurement " +
      "set under --data (Splitwise static batches replayed on the sim engine, Vidur kernels): MAPE and max error per " +
      "group for prefill, decode and end to end, and per kernel family (docs/latency.md).",
    load: async () => (await import("./fidelity-command.ts")).fidelityCommand(),
  },
  {
    name: "presets",
    term: "presets",
    description: "List model and GPU presets and the registered policies",
    load: async () => (await import("./presets-command.ts")).presetsCommand(),
  },
  {
    name: "emulate",
    term: "emulate [options]",
    description:
      "Serve vLLM's OpenAI-compatible API (completions, chat, /metrics, sleep mode) backed by the simulator's engine " +
      "model running in wall-clock time: a stand-in for a real vLLM instance (docs/emulator.md).",
    load: async () => (await import("./emulate-command.ts")).emulateCommand(),
  },
  {
    name: "profile",
    term: "profile [options]",
    description:
      "Profile a live OpenAI-compatible server (vLLM, or `tandem emulate`) with a sweep of static batches — prompt lengths × " +
      "batch sizes × output lengths — and write tandem's profile CSV for `tandem calibrate --profile` (docs/calibration.md, Profiling).",
    load: async () => (await import("./profile-command.ts")).profileCommand(),
  },
  {
    name: "replay",
    term: "replay [options] <file>",
    description:
      "Drive a fresh controller with a run's event log (written by sim, live or gateway with --events) and write " +
      "the run's report again — byte-identical to the run's own — or, with --until T, stop at model time T and " +
      "print what the controller knew then: its queues, the calls at instances, each instance as observed.",
    load: async () => (await import("./replay-command.ts")).replayCommand(),
  },
];

/** The description of the command named `name`, for its own module. */
export function commandDescription(name: string): string {
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new Error(`no command ${name} in cli/commands.ts`);
  return entry.description;
}

/** The command that `args` (argv after the script) asks for: the first word, or the one after
 *  `help`. tandem's own options (--help, --version) take no value, so the first word is the command. */
export function requestedCommand(args: readonly string[]): string | undefined {
  const first = args[0];
  return first === "help" ? args[1] : first;
}
