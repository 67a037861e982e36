/** A parser of the Prometheus text exposition format (0.0.4), as vLLM's /metrics serves it. */

export type PromType = "counter" | "gauge" | "histogram" | "gaugehistogram" | "summary" | "info" | "stateset" | "untyped" | "unknown";

export interface PromSample {
  /** The sample's own name, suffix included (e.g. "vllm:prefix_cache_hits_total", "x_bucket"). */
  name: string;
  labels: Readonly<Record<string, string>>;
  /** May be NaN, +Infinity or -Infinity. */
  value: number;
  timestamp_ms?: number;
  /** 1-based line in the text. */
  line: number;
}

export interface PromFamily {
  /** The name in # TYPE (or the sample name, for samples without a TYPE line). */
  name: string;
  type: PromType;
  help?: string;
  samples: PromSample[];
}

export interface PromParseIssue {
  line: number;
  message: string;
  text: string;
}

export interface PromExposition {
  families: Map<string, PromFamily>;
  /** Every sample by its own name, in text order. */
  byName: Map<string, PromSample[]>;
  /** Lines that could not be parsed (skipped unless strict). */
  errors: PromParseIssue[];
}

export class PrometheusParseError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`metrics line ${line}: ${problem}`);
    this.name = "PrometheusParseError";
  }
}

const TYPES = new Set<string>(["counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "untyped", "unknown"]);

/** Suffixes a sample may add to its family's name, per family type. */
const SUFFIXES: Partial<Record<PromType, readonly string[]>> = {
  counter: ["_total", "_created"],
  histogram: ["_bucket", "_sum", "_count", "_created"],
  gaugehistogram: ["_bucket", "_gsum", "_gcount"],
  summary: ["_sum", "_count", "_created"],
  info: ["_info"],
};

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+)$/;

/** Parses exposition text. `# HELP` and `# TYPE` lines name families; other comments are ignored;
 *  samples join the family their name belongs to (exactly, or by a suffix its type allows:
 *  counter `_total`, histogram `_bucket`/`_sum`/`_count`, …); samples with no TYPE form an
 *  "untyped" family of their own. Label values unescape \\ \" \n; values take floats, NaN, ±Inf.
 *  A malformed line is skipped and listed in `errors`, or throws with `strict`. */
export function parsePrometheusText(text: string, options: { strict?: boolean } = {}): PromExposition {
  const families = new Map<string, PromFamily>();
  const byName = new Map<string, PromSample[]>();
  const errors: PromParseIssue[] = [];
  const lines = text.split("\n");
  const familyOf = (name: string): PromFamily => {
    const direct = families.get(name);
    if (direct !== undefined) return direct;
    for (const [type, suffixes] of Object.entries(SUFFIXES) as [PromType, readonly string[]][]) {
      for (const suffix of suffixes) {
        if (!name.endsWith(suffix)) continue;
        const f = families.get(name.slice(0, -suffix.length));
        if (f !== undefined && f.type === type) return f;
      }
    }
    const created: PromFamily = { name, type: "untyped", samples: [] };
    families.set(name, created);
    return created;
  };
  const declare = (name: string): PromFamily => {
    let f = families.get(name);
    if (f === undefined) {
      f = { name, type: "untyped", samples: [] };
      families.set(name, f);
    }
    return f;
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let raw = lines[i]!;
    if (raw.endsWith("\r")) raw = raw.slice(0, -1);
    const line = raw.trim();
    if (line === "") continue;
    try {
      if (line.startsWith("#")) {
        const m = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
        if (m === null) continue; // a plain comment (or # EOF, # UNIT)
        const name = m[2]!;
        if (!METRIC_NAME.test(name) || METRIC_NAME.exec(name)![0] !== name) {
          throw new PrometheusParseError(lineNo, `invalid metric name "${name}" in # ${m[1]}`);
        }
        const rest = m[3] ?? "";
        const f = declare(name);
        if (m[1] === "HELP") {
          f.help = unescapeHelp(rest);
        } else {
          const type = rest.trim().toLowerCase();
          if (!TYPES.has(type)) throw new PrometheusParseError(lineNo, `unknown metric type "${rest}"`);
          if (f.samples.length > 0 && f.type !== type) {
            throw new PrometheusParseError(lineNo, `# TYPE for ${name} after its samples`);
          }
          f.type = type as PromType;
        }
        continue;
      }
      const sample = parseSample(line, lineNo);
      familyOf(sample.name).samples.push(sample);
      let list = byName.get(sample.name);
      if (list === undefined) byName.set(sample.name, (list = []));
      list.push(sample);
    } catch (error) {
      if (!(error instanceof PrometheusParseError)) throw error;
      if (options.strict === true) throw error;
      errors.push({ line: lineNo, message: error.problem, text: raw.length > 200 ? `${raw.slice(0, 200)}…` : raw });
    }
  }
  return { families, byName, errors };
}

function parseSample(line: string, lineNo: number): PromSample {
  const nameMatch = METRIC_NAME.exec(line);
  if (nameMatch === null) throw new PrometheusParseError(lineNo, `expected a metric name at "${clip(line)}"`);
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  pos = skipSpace(line, pos);
  if (line[pos] === "{") {
    pos++;
    for (;;) {
      pos = skipSpace(line, pos);
      if (pos >= line.length) throw new PrometheusParseError(lineNo, `unterminated label set in ${name}`);
      if (line[pos] === "}") {
        pos++;
        break;
      }
      const ln = LABEL_NAME.exec(line.slice(pos));
      if (ln === null) throw new PrometheusParseError(lineNo, `expected a label name at "${clip(line.slice(pos))}"`);
      const labelName = ln[0];
      pos = skipSpace(line, pos + labelName.length);
      if (line[pos] !== "=") throw new PrometheusParseError(lineNo, `expected "=" after label ${labelName}`);
      pos = skipSpace(line, pos + 1);
      if (line[pos] !== '"') throw new PrometheusParseError(lineNo, `expected a quoted value for label ${labelName}`);
      pos++;
      let value = "";
      let closed = false;
      while (pos < line.length) {
        const c = line[pos]!;
        if (c === "\\") {
          const next = line[pos + 1];
          if (next === undefined) break;
          value += next === "n" ? "\n" : next === "\\" || next === '"' ? next : `\\${next}`;
          pos += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          pos++;
          break;
        }
        value += c;
        pos++;
      }
      if (!closed) throw new PrometheusParseError(lineNo, `unterminated value of label ${labelName}`);
      if (Object.hasOwn(labels, labelName)) throw new PrometheusParseError(lineNo, `label ${labelName} given twice`);
      labels[labelName] = value;
      pos = skipSpace(line, pos);
      if (line[pos] === ",") {
        pos++;
        continue;
      }
      if (line[pos] === "}") {
        pos++;
        break;
      }
      throw new PrometheusParseError(lineNo, `expected "," or "}" after label ${labelName}`);
    }
  }
  const rest = line.slice(pos).trim();
  if (rest === "") throw new PrometheusParseError(lineNo, `sample ${name} has no value`);
  const parts = rest.split(/[ \t]+/);
  if (parts.length > 2) throw new PrometheusParseError(lineNo, `unexpected "${clip(parts.slice(2).join(" "))}" after ${name}'s value`);
  const value = parseValue(parts[0]!);
  if (value === undefined) throw new PrometheusParseError(lineNo, `invalid value "${clip(parts[0]!)}" for ${name}`);
  const sample: PromSample = { name, labels, value, line: lineNo };
  if (parts.length === 2) {
    const ts = parts[1]!;
    if (!/^-?\d+$/.test(ts)) throw new PrometheusParseError(lineNo, `invalid timestamp "${clip(ts)}" for ${name}`);
    sample.timestamp_ms = Number(ts);
  }
  return sample;
}

/** A sample value as Go's ParseFloat reads it (decimal, exponent, hex integer, NaN, ±Inf). */
export function parseValue(token: string): number | undefined {
  const lower = token.toLowerCase();
  if (lower === "nan") return NaN;
  if (lower === "+inf" || lower === "inf" || lower === "+infinity" || lower === "infinity") return Infinity;
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  if (!FLOAT.test(token)) return undefined;
  if (/^[+-]?0[xX]/.test(token)) return token.startsWith("-") ? -Number(token.slice(1)) : Number(token.replace(/^\+/, ""));
  return Number(token);
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_m, c: string) => (c === "n" ? "\n" : "\\"));
}

function skipSpace(s: string, pos: number): number {
  while (pos < s.length && (s[pos] === " " || s[pos] === "\t")) pos++;
  return pos;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** Samples named exactly `name` whose labels include every pair of `match`. */
export function samplesOf(expo: PromExposition, name: string, match: Readonly<Record<string, string>> = {}): PromSample[] {
  const list = expo.byName.get(name) ?? [];
  const keys = Object.keys(match);
  if (keys.length === 0) return list;
  return list.filter((s) => keys.every((k) => s.labels[k] === match[k]));
}

/** The samples of a counter under either naming: `name_total` if present, else `name` (Prometheus
 *  clients add `_total`; some exporters and older versions do not). `name` may carry `_total`. */
export function counterSamples(expo: PromExposition, name: string, match: Readonly<Record<string, string>> = {}): PromSample[] {
  const base = name.endsWith("_total") ? name.slice(0, -"_total".length) : name;
  const withTotal = samplesOf(expo, `${base}_total`, match);
  return withTotal.length > 0 ? withTotal : samplesOf(expo, base, match);
}

export interface HistogramValue {
  labels: Readonly<Record<string, string>>;
  /** Cumulative bucket counts by upper bound, ascending (the last is +Inf). */
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/** A histogram family's series, one per label set (without `le`). */
export function histogramOf(expo: PromExposition, name: string): HistogramValue[] {
  const series = new Map<string, HistogramValue>();
  const key = (labels: Readonly<Record<string, string>>): string =>
    JSON.stringify(
      Object.keys(labels)
        .filter((k) => k !== "le")
        .sort()
        .map((k) => [k, labels[k]]),
    );
  const get = (labels: Readonly<Record<string, string>>): HistogramValue => {
    const k = key(labels);
    let h = series.get(k);
    if (h === undefined) {
      const own: Record<string, string> = { ...labels };
      delete own.le;
      h = { labels: own, buckets: [], sum: NaN, count: NaN };
      series.set(k, h);
    }
    return h;
  };
  for (const s of samplesOf(expo, `${name}_bucket`)) {
    const le = s.labels.le === undefined ? undefined : parseValue(s.labels.le);
    if (le === undefined) continue;
    get(s.labels).buckets.push({ le, count: s.value });
  }
  for (const s of samplesOf(expo, `${name}_sum`)) get(s.labels).sum = s.value;
  for (const s of samplesOf(expo, `${name}_count`)) get(s.labels).count = s.value;
  for (const h of series.values()) h.buckets.sort((a, b) => a.le - b.le);
  return [...series.values()];
}
