export {
  InstanceHandle,
  InstanceRequestError,
  type HealthResult,
  type InstanceHandleOptions,
  type InstanceRequestErrorKind,
  type ServedModel,
} from "./instance-handle.ts";
export {
  PrometheusParseError,
  counterSamples,
  histogramOf,
  parsePrometheusText,
  parseValue,
  samplesOf,
  type HistogramValue,
  type PromExposition,
  type PromFamily,
  type PromParseIssue,
  type PromSample,
  type PromType,
} from "./prometheus.ts";
export { VLLM_METRICS, VllmMetricsError, vllmSnapshot, type VllmMetrics, type VllmSnapshotOptions } from "./vllm-metrics.ts";
