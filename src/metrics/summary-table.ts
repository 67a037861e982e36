/** Plain-text rendering of a run summary for the terminal: latencies in ms, rates per second. */
import type { AgentSummary, Distribution, InstanceSummary, Summary } from "./report-schema.ts";

export function formatSummaryTable(summary: Summary, instances: InstanceSummary[], agents: AgentSummary[] = []): string {
  const { calls, throughput, slo } = summary;
  const lines: string[] = [];
  const wf = summary.workflows;
  if (wf.arrived > 0) {
    const m = summary.workflow_makespan_s;
    const sd = summary.workflow_slowdown;
    lines.push(`workflows    ${wf.arrived} arrived, ${wf.completed} completed, ${wf.failed} failed`);
    lines.push(
      `makespan     mean ${fixed(m.mean, 3)} s, p50 ${fixed(m.p50, 3)} s, p90 ${fixed(m.p90, 3)} s, p99 ${fixed(m.p99, 3)} s; ` +
        `slowdown mean ${fixed(sd.mean, 2)}×, p99 ${fixed(sd.p99, 2)}×`,
    );
  }

  lines.push(`calls        ${calls.arrived} arrived, ${calls.completed} completed, ${calls.failed} failed, ` + `${calls.rejected} rejected over ${fixed(summary.duration_s, 3)} s`);
  lines.push(
    `throughput   ${fixed(throughput.requests_per_s, 3)} req/s, ` + `${fixed(throughput.input_tokens_per_s, 1)} input tok/s, ${fixed(throughput.output_tokens_per_s, 1)} output tok/s`,
  );
  lines.push(`goodput      ${fixed(summary.goodput_requests_per_s, 3)} req/s, SLO attainment ${percent(slo.attainment)}` + ` (${sloText(slo)})`);
  lines.push(
    `prefix cache ${percent(summary.prefix_cache.hit_rate)} hit rate ` +
      `(${summary.prefix_cache.hit_tokens} of ${summary.prefix_cache.queried_tokens} tokens)` +
      tierText(summary.prefix_cache),
  );
  lines.push(`preemptions  ${summary.preemptions}`);
  if (calls.rejected > 0) lines.push(`rejections   ${reasonsText(summary.rejections)}`);
  if (calls.failed > 0) lines.push(`failures     ${reasonsText(summary.failures)}`);
  lines.push("");

  const latencyRows: [string, Distribution][] = [
    ["TTFT", summary.ttft_s],
    ["TPOT", summary.tpot_s],
    ["ITL", summary.itl_s],
    ["E2E", summary.e2e_s],
    ["queue", summary.queue_s],
  ];
  lines.push(
    ...renderTable(
      ["latency (ms)", "count", "mean", "p50", "p90", "p99", "max"],
      latencyRows.map(([name, d]) => [name, String(d.count), ms(d.mean), ms(d.p50), ms(d.p90), ms(d.p99), ms(d.max)]),
    ),
  );

  if (instances.length > 0) {
    lines.push("");
    lines.push(
      ...renderTable(
        ["instance", "model", "gpu", "tp", "dispatched", "completed", "failed", "output tok", "TTFT mean ms", "E2E mean ms", "peak KV", "prefix hit", "preemptions"],
        instances.map((i) => [
          i.id,
          i.model,
          i.gpu,
          String(i.tensor_parallel),
          String(i.dispatched),
          String(i.completed),
          String(i.failed),
          String(i.output_tokens),
          ms(i.mean_ttft_s),
          ms(i.mean_e2e_s),
          percent(i.peak_kv_usage),
          percent(i.prefix_hit_rate),
          String(i.preemptions),
        ]),
      ),
    );
  }
  if (agents.length > 0) {
    lines.push("");
    lines.push(
      ...renderTable(
        ["agent", "calls", "latency mean ms", "p99 ms", "queue mean ms", "input tok mean", "output tok mean"],
        agents.map((a) => [a.agent, String(a.calls), ms(a.latency_s.mean), ms(a.latency_s.p99), ms(a.queue_s.mean), fixed(a.input_tokens.mean, 0), fixed(a.output_tokens.mean, 0)]),
      ),
    );
  }
  return lines.join("\n") + "\n";
}

/** Columns padded to their widest cell; the first column left-aligned, the rest right-aligned. */
function renderTable(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => row[col].length)));
  const render = (row: string[]): string =>
    row
      .map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col])))
      .join("  ")
      .trimEnd();
  return [render(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(render)];
}

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

function ms(seconds: number): string {
  return (seconds * 1000).toFixed(2);
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Hits by KV tier, shown only when a lower tier served any. */
function tierText(cache: Summary["prefix_cache"]): string {
  const cpu = cache.cpu_hit_tokens ?? 0;
  const disk = cache.disk_hit_tokens ?? 0;
  if (cpu === 0 && disk === 0) return "";
  return `; by tier GPU ${cache.gpu_hit_tokens ?? cache.hit_tokens - cpu - disk}, CPU ${cpu}, disk ${disk}`;
}

function sloText(slo: Summary["slo"]): string {
  const parts: string[] = [];
  if (slo.ttft_s !== undefined) parts.push(`TTFT ≤ ${ms(slo.ttft_s)} ms`);
  if (slo.tpot_s !== undefined) parts.push(`TPOT ≤ ${ms(slo.tpot_s)} ms`);
  if (slo.e2e_s !== undefined) parts.push(`E2E ≤ ${ms(slo.e2e_s)} ms`);
  return parts.length > 0 ? parts.join(", ") : "no SLO set";
}

function reasonsText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([reason, n]) => `${reason}: ${n}`)
    .join(", ");
}
