import { InputError } from "../../src/core/errors.ts";
import type { RequestSpec } from "../../src/core/types.ts";
import { dagShape, buildDag } from "../../src/workflow/dag.ts";
import { composePrompts, promptTokens, stepOutputKey } from "../../src/workflow/prompt.ts";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { percentileSorted } from "../../src/metrics/percentile.ts";
import { FloatSeries } from "../../src/metrics/float-series.ts";
import { PrefixReuseMeter } from "./prefix-reuse.ts";

/** mean, p50, p90, p99, max of a sample (all 0 when empty). */
export interface Spread {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function spread(series: FloatSeries): Spread {
  if (series.length === 0) return { mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = series.sortedCopy();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    mean: sum / sorted.length,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

export interface RequestTraceStats {
  kind: "requests";
  requests: number;
  span_s: number;
  mean_rate_per_s: number;
  prompt_tokens: Spread;
  output_tokens: Spread;
  /** Fraction of prompt tokens in keyed (shareable) segments. */
  keyed_fraction: number;
  /** Hit rate of an unbounded prefix cache: prompt tokens that repeat an earlier prompt's prefix. */
  ideal_prefix_reuse: number;
}

export interface WorkflowTraceStats {
  kind: "workflows";
  workflows: number;
  span_s: number;
  mean_rate_per_s: number;
  llm_calls: number;
  tool_steps: number;
  llm_calls_per_workflow: Spread;
  tool_steps_per_workflow: Spread;
  dag_depth: Spread;
  dag_width: Spread;
  prompt_tokens: Spread;
  output_tokens: Spread;
  tool_duration_s: Spread;
  agents: number;
  ideal_prefix_reuse: number;
}

/** Describes a request trace: counts, arrival rate, length distributions, prefix sharing. */
export async function requestTraceStats(source: AsyncIterable<RequestSpec[]>): Promise<RequestTraceStats> {
  const prompt = new FloatSeries();
  const output = new FloatSeries();
  const reuse = new PrefixReuseMeter();
  let first = Infinity;
  let last = -Infinity;
  let keyed = 0;
  for await (const batch of source) {
    for (const r of batch) {
      prompt.push(r.prompt_tokens);
      output.push(r.output_tokens);
      first = Math.min(first, r.arrival_s);
      last = Math.max(last, r.arrival_s);
      const segments = r.segments ?? [{ tokens: r.prompt_tokens }];
      for (const s of segments) if (s.key !== undefined) keyed += s.tokens;
      reuse.add(segments);
    }
  }
  if (prompt.length === 0) throw new InputError("trace stats: the trace has no requests");
  const span_s = last - first;
  return {
    kind: "requests",
    requests: prompt.length,
    span_s,
    mean_rate_per_s: span_s > 0 ? (prompt.length - 1) / span_s : 0,
    prompt_tokens: spread(prompt),
    output_tokens: spread(output),
    keyed_fraction: reuse.prompt_tokens === 0 ? 0 : keyed / reuse.prompt_tokens,
    ideal_prefix_reuse: reuse.reuse_rate,
  };
}

/** Describes a workflow trace: DAG sizes and shapes, call lengths, tool durations, sharing. */
export async function workflowTraceStats(source: AsyncIterable<WorkflowSpec[]>): Promise<WorkflowTraceStats> {
  const calls = new FloatSeries();
  const tools = new FloatSeries();
  const depth = new FloatSeries();
  const width = new FloatSeries();
  const prompt = new FloatSeries();
  const output = new FloatSeries();
  const duration = new FloatSeries();
  const reuse = new PrefixReuseMeter();
  const agents = new Set<string>();
  let first = Infinity;
  let last = -Infinity;
  for await (const batch of source) {
    for (const wf of batch) {
      first = Math.min(first, wf.arrival_s);
      last = Math.max(last, wf.arrival_s);
      const dag = buildDag(wf, "trace stats");
      const shape = dagShape(dag);
      depth.push(shape.depth);
      width.push(shape.width);
      const prompts = composePrompts(wf, dag);
      let llm = 0;
      for (const i of dag.topological) {
        const step = dag.steps[i];
        if (step.kind === "tool") {
          duration.push(step.duration_s);
          continue;
        }
        llm++;
        agents.add(`${wf.app ?? ""}/${step.agent}`);
        prompt.push(promptTokens(prompts[i]!));
        output.push(step.output_tokens);
        reuse.add(prompts[i]!, { key: stepOutputKey(wf, step), tokens: step.output_tokens });
      }
      calls.push(llm);
      tools.push(dag.steps.length - llm);
    }
  }
  if (calls.length === 0) throw new InputError("trace stats: the trace has no workflows");
  const span_s = last - first;
  const sum = (s: FloatSeries) => spread(s).mean * s.length;
  return {
    kind: "workflows",
    workflows: calls.length,
    span_s,
    mean_rate_per_s: span_s > 0 ? (calls.length - 1) / span_s : 0,
    llm_calls: Math.round(sum(calls)),
    tool_steps: Math.round(sum(tools)),
    llm_calls_per_workflow: spread(calls),
    tool_steps_per_workflow: spread(tools),
    dag_depth: spread(depth),
    dag_width: spread(width),
    prompt_tokens: spread(prompt),
    output_tokens: spread(output),
    tool_duration_s: spread(duration),
    agents: agents.size,
    ideal_prefix_reuse: reuse.reuse_rate,
  };
}

/** Plain-text rendering for the terminal. */
export function formatTraceStats(stats: RequestTraceStats | WorkflowTraceStats): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  const row = (name: string, s: Spread, d = 1) => `  ${name.padEnd(24)} mean ${f(s.mean, d)}  p50 ${f(s.p50, d)}  p90 ${f(s.p90, d)}  p99 ${f(s.p99, d)}  max ${f(s.max, d)}`;
  const lines: string[] = [];
  if (stats.kind === "requests") {
    lines.push(`requests                   ${stats.requests} over ${f(stats.span_s, 3)} s (mean ${f(stats.mean_rate_per_s, 3)} req/s)`);
    lines.push(row("prompt tokens", stats.prompt_tokens));
    lines.push(row("output tokens", stats.output_tokens));
    lines.push(`  keyed (shareable) prompt tokens  ${f(100 * stats.keyed_fraction)}%`);
    lines.push(`  ideal prefix reuse               ${f(100 * stats.ideal_prefix_reuse)}% (unbounded cache)`);
  } else {
    lines.push(`workflows                  ${stats.workflows} over ${f(stats.span_s, 3)} s (mean ${f(stats.mean_rate_per_s, 3)} /s)`);
    lines.push(`  LLM calls / tool steps   ${stats.llm_calls} / ${stats.tool_steps}; ${stats.agents} agents`);
    lines.push(row("LLM calls per workflow", stats.llm_calls_per_workflow));
    lines.push(row("tool steps per workflow", stats.tool_steps_per_workflow));
    lines.push(row("DAG depth (steps)", stats.dag_depth));
    lines.push(row("DAG width (steps)", stats.dag_width));
    lines.push(row("prompt tokens per call", stats.prompt_tokens));
    lines.push(row("output tokens per call", stats.output_tokens));
    lines.push(row("tool duration (s)", stats.tool_duration_s, 3));
    lines.push(`  ideal prefix reuse       ${f(100 * stats.ideal_prefix_reuse)}% (unbounded cache)`);
  }
  return lines.join("\n") + "\n";
}
