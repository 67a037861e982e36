/** Every subcommand's name, the line `tandem --help` lists for it and its description, once. This file
 *  imports nothing: each command module takes its description from here, and cli/commands.ts pairs
 *  the entries with the modules it loads only when a command runs. */
export interface CommandInfo {
  name: string;
  /** What commander's help lists for the full command ("plot [options] <inputs...>"). */
  term: string;
  description: string;
}

export const COMMAND_INFO: readonly CommandInfo[] = [
  {
    name: "sim",
    term: "sim [options]",
    description:
      "Simulate a cluster of vLLM-like instances under a scheduling and a dispatch policy, on a request trace, a " +
      "workflow trace, AppWorld DAGs or a generated agent app. Without a workload it runs the built-in one " +
      // The figures are DEFAULT_WORKLOAD's (traces/generate.ts); test/package/commands.test.ts holds them equal.
      "(2000 synthetic requests, Poisson 20 req/s); without --config the built-in cluster (4 × llama-3.1-8b on h100-80gb).",
  },
  {
    name: "live",
    term: "live [options]",
    description:
      "Replay a workload in wall-clock time through the same core and policies as `tandem sim`, against the " +
      "vLLM (or any OpenAI-compatible) servers the config's `endpoints` name — or, with --emulate, against one " +
      'in-process vLLM emulator per configured instance. Writes the same report (mode "live").',
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
  },
  {
    name: "launch",
    term: "launch [options]",
    description:
      "Start and supervise the engines a cluster config names: per instance group an engine command (vLLM's " +
      "`vllm serve`, `tandem emulate`, or the config's launch.command template) with the config's engine knobs as " +
      "flags, GPUs from a list (CUDA_VISIBLE_DEVICES per instance), free ports, a log file each; waits for /health, " +
      "restarts an engine that dies (with backoff) and stops them all on SIGINT/SIGTERM; --print shows the commands " +
      "(docs/launch.md).",
  },
  {
    name: "parity",
    term: "parity [options]",
    description:
      "Run one workload twice — in the simulator and live against one vLLM emulator per configured instance — and " +
      "print both summaries side by side with relative differences. Reports go to OUT/sim and OUT/live.",
  },
  {
    name: "calibrate",
    term: "calibrate [options]",
    description:
      "Fit a latency model to profiling data (tandem's profile CSV or Splitwise's perf-model CSV), report its error " +
      "by cross-validation over held-out configurations, and write tandem.latency/v1 JSON for `tandem sim --latency`. " +
      "One model per (model, gpu, tensor_parallel) group; docs/calibration.md.",
  },
  {
    name: "compare",
    term: "compare [options]",
    description:
      "Compare scheduling+dispatch policy combinations across arrival rates and seeds: every (policy, rate, seed) " +
      "is one simulation, run in parallel on worker threads. Writes one report per run under OUT/runs/, " +
      "OUT/compare.csv and OUT/compare.json (one row per run, and per (policy, rate) the mean over seeds), and " +
      "prints the means grouped by rate with the best value of each column marked * (docs/compare.md). Resumes " +
      "(runs whose report has the same inputs are reused); --shard I/N with `compare merge`, or --emit slurm|k8s, " +
      "splits the grid across machines.",
  },
  {
    name: "plot",
    term: "plot [options] <inputs...>",
    description:
      "Plot run reports (sim or live) and compare folders: latency and makespan CDFs (one line per run), p50/p99 bars, " +
      "throughput-vs-latency curves of a compare sweep, per-instance timelines, a workflow Gantt chart and sim-vs-live " +
      "overlays, as one self-contained HTML page or SVG/PNG files (docs/plot.md).",
  },
  {
    name: "trace",
    term: "trace",
    description: "Request traces: generate synthetic ones (formats: docs/traces.md)",
  },
  {
    name: "latency",
    term: "latency [options]",
    description:
      "Predict one engine step with the fitted step-time model (or --latency FILE): its time and where it goes " +
      "(GEMMs, attention, all-reduce, overhead), for a prefill of P tokens and/or B decoding sequences at context C; " +
      "--json, or --grid for a CSV over lists of P, B and C (docs/latency.md).",
  },
  {
    name: "fidelity",
    term: "fidelity [options]",
    description:
      "Judge a latency model (the shipped step-time presets, the roofline, or --latency FILE) against every measurement " +
      "set under --data (Splitwise static batches replayed on the sim engine, Vidur kernels): MAPE and max error per " +
      "group for prefill, decode and end to end, and per kernel family (docs/latency.md).",
  },
  {
    name: "presets",
    term: "presets",
    description: "List model and GPU presets and the registered policies",
  },
  {
    name: "emulate",
    term: "emulate [options]",
    description:
      "Serve vLLM's OpenAI-compatible API (completions, chat, /metrics, sleep mode) backed by the simulator's engine " +
      "model running in wall-clock time: a stand-in for a real vLLM instance (docs/emulator.md).",
  },
  {
    name: "profile",
    term: "profile [options]",
    description:
      "Profile a live OpenAI-compatible server (vLLM, or `tandem emulate`) with a sweep of static batches — prompt lengths × " +
      "batch sizes × output lengths — and write tandem's profile CSV for `tandem calibrate --profile` (docs/calibration.md, Profiling).",
  },
  {
    name: "replay",
    term: "replay [options] <file>",
    description:
      "Drive a fresh controller with a run's event log (written by sim, live or gateway with --events) and write " +
      "the run's report again — byte-identical to the run's own — or, with --until T, stop at model time T and " +
      "print what the controller knew then: its queues, the calls at instances, each instance as observed.",
  },
  {
    name: "explain",
    term: "explain [options] <dir>",
    description:
      "Tell one call's story (--call ID) or a workflow's (--workflow ID) from a run's outputs: arrived, queued with its " +
      "rank, held and why, dispatched where and why (every candidate as the policy saw it), in the engine, first token, " +
      "preemptions, finished. Needs the run's decision trace (--decisions; docs/decisions.md).",
  },
];

/** The description of the command named `name`, for its own module. */
export function commandDescription(name: string): string {
  const entry = COMMAND_INFO.find((c) => c.name === name);
  if (!entry) throw new Error(`no command ${name} in cli/command-list.ts`);
  return entry.description;
}
