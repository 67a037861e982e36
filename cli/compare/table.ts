/** The terminal table of a comparison: per-(policy, rate) means over seeds, grouped by rate, with
 *  the best value of each column within a rate marked `*`. Pure: no I/O. */
import { rateLabel } from "./policy-list.ts";
import { sloClassNames, type CompareRow } from "./results.ts";

type Better = "lower" | "higher";

interface Column {
  header: string;
  value: (row: CompareRow) => number | null;
  format: (value: number) => string;
  better: Better;
}

const ms = (s: number) => (s * 1000).toFixed(1);
const sec = (s: number) => s.toFixed(3);
const plain = (digits: number) => (v: number) => v.toFixed(digits);
const count = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

function columnsFor(workflows: boolean): Column[] {
  const latency: Column[] = workflows
    ? [
        { header: "makespan mean s", value: (r) => r.makespan_mean_s, format: sec, better: "lower" },
        { header: "makespan p99 s", value: (r) => r.makespan_p99_s, format: sec, better: "lower" },
      ]
    : [
        { header: "E2E mean s", value: (r) => r.e2e_mean_s, format: sec, better: "lower" },
        { header: "E2E p99 s", value: (r) => r.e2e_p99_s, format: sec, better: "lower" },
      ];
  return [
    workflows
      ? { header: "workflows done", value: (r) => r.workflows_completed, format: count, better: "higher" }
      : { header: "calls done", value: (r) => r.calls_completed, format: count, better: "higher" },
    ...latency,
    { header: "TTFT p50 ms", value: (r) => r.ttft_p50_s, format: ms, better: "lower" },
    { header: "TTFT p99 ms", value: (r) => r.ttft_p99_s, format: ms, better: "lower" },
    { header: "req/s", value: (r) => r.throughput_requests_per_s, format: plain(3), better: "higher" },
    { header: "out tok/s", value: (r) => r.throughput_output_tokens_per_s, format: plain(1), better: "higher" },
    { header: "goodput req/s", value: (r) => r.goodput_requests_per_s, format: plain(3), better: "higher" },
    { header: "prefix hit", value: (r) => r.prefix_hit_rate, format: (v) => `${(v * 100).toFixed(1)}%`, better: "higher" },
    { header: "preemptions", value: (r) => r.preemptions, format: count, better: "lower" },
  ];
}

/** Per-class SLO attainment and goodput (config `slo.classes`), two columns per class. */
function sloClassColumns(names: readonly string[]): Column[] {
  return names.flatMap((name): Column[] => [
    { header: `SLO ${name}`, value: (r) => r.slo_classes?.[name]?.attainment ?? null, format: (v) => `${(v * 100).toFixed(1)}%`, better: "higher" },
    { header: `goodput ${name}`, value: (r) => r.slo_classes?.[name]?.goodput_requests_per_s ?? null, format: plain(3), better: "higher" },
  ]);
}

/** Cells of one column within a rate group, the best marked `*` (ties: every row showing the best
 *  value as printed). Nothing is marked when the group has one row or every row prints alike. */
function markedCells(column: Column, rows: readonly CompareRow[]): string[] {
  const printed = rows.map((r) => {
    const v = column.value(r);
    return v === null ? null : column.format(v);
  });
  const shown = rows.map((r, i) => ({ value: column.value(r), text: printed[i] })).filter((x) => x.value !== null && x.text !== null);
  const distinct = new Set(shown.map((x) => x.text));
  if (rows.length < 2 || distinct.size < 2) return printed.map((t) => (t === null ? "-" : t) + " ");
  const best = shown.reduce((a, b) => (column.better === "lower" ? (b.value! < a.value! ? b : a) : b.value! > a.value! ? b : a));
  return printed.map((t) => (t === null ? "- " : t === best.text ? `${t}*` : `${t} `));
}

/** Left-aligned first column, the rest right-aligned; every cell after the first ends in its mark
 *  slot (`*` or a space), so one space between columns reads as two. */
function renderTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] + 1) : c.padStart(widths[i])))
      .join(" ")
      .trimEnd();
  return [line(header), line(widths.map((w, i) => (i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + " "))), ...rows.map(line)];
}

/** The means table, one block per rate (in the order the rates were given). */
export function formatCompareTable(means: readonly CompareRow[], seeds: number): string {
  const workflows = means.some((r) => r.workflows_arrived > 0);
  const columns = [...columnsFor(workflows), ...sloClassColumns(sloClassNames(means))];
  const rates: (number | null)[] = [];
  for (const row of means) if (!rates.includes(row.rate)) rates.push(row.rate);
  const blocks: string[] = [];
  for (const rate of rates) {
    const group = means.filter((r) => r.rate === rate);
    const cells = columns.map((c) => markedCells(c, group));
    const title = rate === null ? "arrivals: the workload's own times" : `rate ${rateLabel(rate)} ${workflows ? "workflows" : "requests"}/s`;
    const lines = renderTable(
      ["policy", ...columns.map((c) => c.header + " ")],
      group.map((r, i) => [r.policy, ...cells.map((col) => col[i])]),
    );
    blocks.push([`${title} (${seeds === 1 ? "1 seed" : `mean of ${seeds} seeds`})`, ...lines].join("\n"));
  }
  const legend = `* best in its rate (lower is better for latencies and preemptions, higher for the rest)`;
  return [...blocks, legend].join("\n\n");
}
