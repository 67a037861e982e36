/** Request traces: readers for each file format, the tandem-format writer, retiming and the
 *  synthetic generator. */
import type { RequestSpec } from "../src/core/types.ts";
import { inputError } from "../src/core/errors.ts";
import { readAzureTrace } from "./azure.ts";
import { readMooncakeTrace } from "./mooncake.ts";
import { readTandemTrace } from "./tandem.ts";
import { readVidurTrace } from "./vidur.ts";
import type { ReadOptions } from "./rows.ts";

export const TRACE_FORMATS = ["azure", "vidur", "mooncake", "tandem"] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

const READERS: Record<TraceFormat, (path: string, options?: ReadOptions) => AsyncGenerator<RequestSpec[]>> = {
  azure: readAzureTrace,
  vidur: readVidurTrace,
  mooncake: readMooncakeTrace,
  tandem: readTandemTrace,
};

export function isTraceFormat(format: string): format is TraceFormat {
  return (TRACE_FORMATS as readonly string[]).includes(format);
}

/** Streams `path` in the given format as batches of requests. An unknown format fails here, at
 *  the call; file problems (missing file, bad line) surface when the first batch is pulled. */
export function readTrace(path: string, format: string, options: ReadOptions = {}): AsyncGenerator<RequestSpec[]> {
  if (!isTraceFormat(format)) {
    throw inputError("trace format", `unknown format ${JSON.stringify(format)}; expected one of ${TRACE_FORMATS.join(", ")}`);
  }
  return READERS[format](path, options);
}

export { readAzureTrace, readMooncakeTrace, readTandemTrace, readVidurTrace };
export { mooncakeSegments, MOONCAKE_BLOCK_TOKENS } from "./mooncake.ts";
export { parseAzureTimestamp } from "./azure-timestamp.ts";
export { writeTandemTrace, type RequestSource } from "./tandem-writer.ts";
export { TandemRequestSchema, TandemSegmentSchema, tandemLine } from "./tandem-schema.ts";
export { BATCH_SIZE, emptyStats, type ReadOptions, type TraceStats } from "./rows.ts";
export { batchesOf } from "./batches.ts";
export { retime, RETIME_ARRIVALS, type RetimeArrival, type RetimeOptions } from "./retime.ts";
export { ARRIVAL_PROCESSES, arrivalClock, type ArrivalProcess } from "./arrivals.ts";
export { parseLengthDistribution, lengthSampler, type LengthDistribution } from "./lengths.ts";
export {
  DEFAULT_WORKLOAD,
  GENERATOR_STREAMS,
  generateBatches,
  generateRequests,
  type GenerateOptions,
} from "./generate.ts";
