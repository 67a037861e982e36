/** Prometheus text exposition format 0.0.4, written byte for byte as Python's prometheus_client
 *  (which vLLM uses) writes it in `generate_latest`:
 *  - `# HELP` and `# TYPE` per family; a counter's family is named with its `_total` suffix in both
 *    lines (so `promtool check metrics` finds the help text of `x_total`);
 *  - labels in the order the metric declared them, a histogram's `le` last;
 *  - a counter's or histogram's creation time as a separate gauge family `x_created` after it,
 *    as prometheus_client does unless PROMETHEUS_DISABLE_CREATED_SERIES is set;
 *  - values as its `floatToGoString` (`1.0`, `+Inf`, `1.712345678e+09`). */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = readonly (readonly [string, string])[];

export class Exposition {
  private readonly lines: string[] = [];

  /** `created_s`: Unix seconds the counters and histograms were created (`_created` samples);
   *  undefined leaves them out. */
  constructor(private readonly created_s?: number) {}

  family(name: string, type: "gauge" | "counter" | "histogram", help: string): this {
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Labels, value: number): this {
    this.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  gauge(name: string, help: string, labels: Labels, value: number): this {
    return this.family(name, "gauge", help).sample(name, labels, value);
  }

  /** A gauge family with one sample per label set (e.g. vllm:engine_sleep_state). */
  gauges(name: string, help: string, series: readonly { labels: Labels; value: number }[]): this {
    this.family(name, "gauge", help);
    for (const s of series) this.sample(name, s.labels, s.value);
    return this;
  }

  /** `name` without `_total` (prometheus_client strips it from a Counter's name and adds it back). */
  counter(name: string, help: string, labels: Labels, value: number): this {
    return this.counters(name, help, [{ labels, value }]);
  }

  counters(name: string, help: string, series: readonly { labels: Labels; value: number }[]): this {
    const base = name.endsWith("_total") ? name.slice(0, -"_total".length) : name;
    this.family(`${base}_total`, "counter", help);
    for (const s of series) this.sample(`${base}_total`, s.labels, s.value);
    return this.created(base, help, series);
  }

  histogram(name: string, help: string, labels: Labels, histogram: Histogram): this {
    this.family(name, "histogram", help);
    let cumulative = 0;
    for (let i = 0; i < histogram.bounds.length; i++) {
      cumulative += histogram.counts[i];
      this.sample(`${name}_bucket`, [...labels, ["le", formatValue(histogram.bounds[i])]], cumulative);
    }
    this.sample(`${name}_bucket`, [...labels, ["le", "+Inf"]], histogram.count);
    this.sample(`${name}_count`, labels, histogram.count);
    this.sample(`${name}_sum`, labels, histogram.sum);
    return this.created(name, help, [{ labels }]);
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }

  private created(base: string, help: string, series: readonly { labels: Labels }[]): this {
    if (this.created_s === undefined) return this;
    this.family(`${base}_created`, "gauge", help);
    for (const s of series) this.sample(`${base}_created`, s.labels, this.created_s);
    return this;
  }
}

/** A cumulative histogram with fixed upper bounds (the +Inf bucket is implicit). */
export class Histogram {
  readonly counts: number[];
  count = 0;
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.count++;
    this.sum += value;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatLabels(labels: Labels): string {
  if (labels.length === 0) return "";
  return `{${labels.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

/** Python's `repr(float)`: the shortest round-trip digits, in positional notation for decimal
 *  exponents −4 ≤ e < 16 (always with a `.`), else `d.ddde±XX`. */
export function pythonFloatRepr(value: number): string {
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const [mantissa, exp] = value.toExponential().split("e");
  const e = Number(exp);
  if (e < -4 || e >= 16) return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  const s = String(value);
  if (s.includes("e")) {
    // JS writes 1e-7…; within Python's positional range only e ≥ 21 can reach here, which is outside it.
    return s;
  }
  return s.includes(".") ? s : `${s}.0`;
}

/** prometheus_client's `floatToGoString`: Python's repr, except infinities and NaN as Go writes
 *  them, and positive values with more than 6 integer digits in exponent form (1712345678.5 →
 *  `1.7123456785e+09`). */
export function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  const s = pythonFloatRepr(value);
  const dot = s.indexOf(".");
  if (value > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, "");
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}
