import { sketchedDistribution } from "../metrics/distribution.ts";
import { LogHistogram } from "../metrics/log-histogram.ts";
import type { AgentSummary } from "../metrics/report-schema.ts";

/** Online statistics of one agent's calls, updated as each call finishes: what workflow-aware
 *  policies predict from (Kairos keeps the same per-agent profiles). Means are exact; percentiles
 *  come from log histograms within 1% relative accuracy (small enough for thousands of agents). */
export class AgentProfile {
  calls = 0;
  private latency_sum_s = 0;
  private queue_sum_s = 0;
  private input_sum_tokens = 0;
  private output_sum_tokens = 0;
  readonly latency_s = new LogHistogram({ relative_accuracy: 0.01 });
  readonly queue_s = new LogHistogram({ relative_accuracy: 0.01 });
  readonly input_tokens = new LogHistogram({ min: 1, max: 1e7, relative_accuracy: 0.01 });
  readonly output_tokens = new LogHistogram({ min: 1, max: 1e7, relative_accuracy: 0.01 });

  constructor(readonly agent: string) {}

  record(latency_s: number, queue_s: number, input_tokens: number, output_tokens: number): void {
    this.calls++;
    this.latency_sum_s += latency_s;
    this.queue_sum_s += queue_s;
    this.input_sum_tokens += input_tokens;
    this.output_sum_tokens += output_tokens;
    this.latency_s.record(latency_s);
    this.queue_s.record(queue_s);
    this.input_tokens.record(input_tokens);
    this.output_tokens.record(output_tokens);
  }

  get mean_latency_s(): number {
    return this.calls === 0 ? 0 : this.latency_sum_s / this.calls;
  }

  get mean_queue_s(): number {
    return this.calls === 0 ? 0 : this.queue_sum_s / this.calls;
  }

  get mean_input_tokens(): number {
    return this.calls === 0 ? 0 : this.input_sum_tokens / this.calls;
  }

  get mean_output_tokens(): number {
    return this.calls === 0 ? 0 : this.output_sum_tokens / this.calls;
  }
}

/** Profiles by agent key (`app/agent`), created on first use, listed in first-seen order. */
export class AgentProfiles {
  private readonly profiles = new Map<string, AgentProfile>();

  get(agent: string): AgentProfile | undefined {
    return this.profiles.get(agent);
  }

  of(agent: string): AgentProfile {
    let profile = this.profiles.get(agent);
    if (!profile) {
      profile = new AgentProfile(agent);
      this.profiles.set(agent, profile);
    }
    return profile;
  }

  all(): AgentProfile[] {
    return [...this.profiles.values()];
  }
}

/** The report's `agents` section: each profile's latency, queueing and token distributions. */
export function agentSummaries(profiles: readonly AgentProfile[]): AgentSummary[] {
  const tokens = (h: LogHistogram, mean: number) => (h.count === 0 ? { mean: 0, p50: 0, p90: 0, p99: 0 } : { mean, p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99) });
  return profiles.map((p) => ({
    agent: p.agent,
    calls: p.calls,
    latency_s: sketchedDistribution(p.latency_s),
    queue_s: sketchedDistribution(p.queue_s),
    input_tokens: tokens(p.input_tokens, p.mean_input_tokens),
    output_tokens: tokens(p.output_tokens, p.mean_output_tokens),
  }));
}
