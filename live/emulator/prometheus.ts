/** Prometheus text exposition format 0.0.4, written the way Python's prometheus_client (which vLLM
 *  uses) writes it: `# HELP` and `# TYPE` per family (a counter's family name has no `_total`; its
 *  sample does), labels in declaration order, a histogram's `le` label last, floats as `1.0`. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = readonly (readonly [string, string])[];

export class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: "gauge" | "counter" | "histogram", help: string): this {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Labels, value: number): this {
    this.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  gauge(name: string, help: string, labels: Labels, value: number): this {
    return this.family(name, "gauge", help).sample(name, labels, value);
  }

  counter(name: string, help: string, labels: Labels, value: number): this {
    return this.family(name, "counter", help).sample(`${name}_total`, labels, value);
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
    return this.sample(`${name}_sum`, labels, histogram.sum);
  }

  text(): string {
    return this.lines.join("\n") + "\n";
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

function formatLabels(labels: Labels): string {
  if (labels.length === 0) return "";
  return `{${labels.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

/** Python's float repr for the values we emit: integers get `.0`; infinities are `+Inf`/`-Inf`. */
export function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  return Number.isInteger(value) && Math.abs(value) < 1e16 ? `${value}.0` : String(value);
}
