import { Command } from "commander";
import { ARRIVAL_PROCESSES, DEFAULT_WORKLOAD, generateRequests, writeTandemTrace, type ArrivalProcess } from "../../traces/index.ts";
import { nonNegativeInteger, nonNegativeNumber, oneOf, positiveInteger, positiveNumber, runAction } from "./errors.ts";

interface GenFlags {
  count: number;
  rate: number;
  arrival: ArrivalProcess;
  cv?: number;
  prompt: string;
  output: string;
  promptMin?: number;
  promptMax?: number;
  outputMin?: number;
  outputMax?: number;
  prefixGroups?: number;
  prefixTokens?: number;
  prefixZipf?: number;
  seed: number;
  out: string;
}

export function traceCommand(): Command {
  const trace = new Command("trace").description("Request traces: generate synthetic ones (formats: docs/traces.md)");
  trace
    .command("gen")
    .description("Write a synthetic request trace in tandem's JSONL format, deterministic by seed")
    .requiredOption("--out <file>", "where to write the JSONL trace")
    .option("--count <n>", "number of requests", positiveInteger, DEFAULT_WORKLOAD.count)
    .option("--rate <r>", "mean arrival rate, requests/s", positiveNumber, DEFAULT_WORKLOAD.rate)
    .option("--arrival <process>", `arrival process: ${ARRIVAL_PROCESSES.join(", ")}`, oneOf(ARRIVAL_PROCESSES), "poisson")
    .option("--cv <c>", "coefficient of variation of gamma inter-arrival gaps", positiveNumber)
    .option("--prompt <dist>", "prompt length: fixed:N, uniform:A,B or lognormal:MEAN,CV", DEFAULT_WORKLOAD.prompt)
    .option("--output <dist>", "output length, same syntax", DEFAULT_WORKLOAD.output)
    .option("--prompt-min <n>", "clamp prompt lengths from below", positiveInteger)
    .option("--prompt-max <n>", "clamp prompt lengths from above", positiveInteger)
    .option("--output-min <n>", "clamp output lengths from below", positiveInteger)
    .option("--output-max <n>", "clamp output lengths from above", positiveInteger)
    .option("--prefix-groups <g>", "number of shared system prompts (0 = none)", nonNegativeInteger)
    .option("--prefix-tokens <t>", "tokens of each shared system prompt", positiveInteger)
    .option("--prefix-zipf <s>", "Zipf skew of the system-prompt choice (0 = uniform)", nonNegativeNumber)
    .option("--seed <n>", "random seed", nonNegativeInteger, DEFAULT_WORKLOAD.seed)
    .action((flags: GenFlags) =>
      runAction(async () => {
        const requests = generateRequests({
          count: flags.count,
          rate: flags.rate,
          arrival: flags.arrival,
          cv: flags.cv,
          prompt: flags.prompt,
          output: flags.output,
          prompt_min_tokens: flags.promptMin,
          prompt_max_tokens: flags.promptMax,
          output_min_tokens: flags.outputMin,
          output_max_tokens: flags.outputMax,
          prefix_groups: flags.prefixGroups,
          prefix_tokens: flags.prefixTokens,
          prefix_zipf: flags.prefixZipf,
          seed: flags.seed,
        });
        const written = await writeTandemTrace(flags.out, requests);
        process.stdout.write(`wrote ${written} requests to ${flags.out}\n`);
      }),
    );
  return trace;
}
