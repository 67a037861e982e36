/** Metrics: the recorder both hosts feed, the report schema, calls.csv and the terminal table. */
export { Recorder, type RecorderOptions, type SloConfig } from "./recorder.ts";
export {
  REPORT_SCHEMA_ID,
  ReportSchema,
  SummarySchema,
  InstanceSummarySchema,
  DistributionSchema,
  RunInfoSchema,
  buildReport,
  reportToJson,
  parseReportJson,
  type Report,
  type ReportParts,
  type RunInfo,
  type Summary,
  type InstanceSummary,
  type Distribution,
} from "./report-schema.ts";
export { CALLS_CSV_COLUMNS, CALLS_CSV_HEADER, callRowToCsv, formatCsvNumber, type CallRow } from "./calls-csv.ts";
export { formatSummaryTable } from "./summary-table.ts";
export { percentileSorted } from "./percentile.ts";
export { LogHistogram, RELATIVE_ACCURACY } from "./log-histogram.ts";
