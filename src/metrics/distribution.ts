/** Summary statistics of one latency metric, exact (from all values) or sketched (ITL). */
import type { SampleSeries } from "./float-series.ts";
import type { LogHistogram } from "./log-histogram.ts";
import { percentileSorted } from "./percentile.ts";
import type { Distribution } from "./report-schema.ts";

export const EMPTY_DISTRIBUTION: Distribution = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };

export function exactDistribution(series: SampleSeries): Distribution {
  if (series.length === 0) return { ...EMPTY_DISTRIBUTION };
  const sorted = series.sortedCopy();
  return {
    count: sorted.length,
    mean: compensatedSum(sorted) / sorted.length,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

export function sketchedDistribution(histogram: LogHistogram): Distribution {
  if (histogram.count === 0) return { ...EMPTY_DISTRIBUTION };
  return {
    count: histogram.count,
    mean: histogram.mean(),
    p50: histogram.percentile(50),
    p90: histogram.percentile(90),
    p99: histogram.percentile(99),
    max: histogram.maxValue(),
  };
}

/** Neumaier summation: the mean of millions of latencies stays accurate to the last digit or so. */
function compensatedSum(values: Float64Array): number {
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + compensation;
}
