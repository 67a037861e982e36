import type { FittedCoefficients } from "./fitted-coefficients.ts";
import type { RooflineConstants } from "./roofline-constants.ts";

// The document a latency model records about itself (in reports) and loads back from (latency files).
// It sits below both the LatencyModel interface and the models that implement it, so neither imports the other's file back.

export const LATENCY_SCHEMA = "tandem.latency/v1";

/** Fields every latency model records about itself. The info of a model is also a document that
 *  `latencyModelFromJson` loads back into the same model. */
interface InfoBase {
  schema: typeof LATENCY_SCHEMA;
  model: string;
  gpu: string;
  tensor_parallel: number;
}

export interface RooflineInfo extends InfoBase {
  kind: "roofline";
  constants: RooflineConstants;
}

export interface FittedInfo extends InfoBase {
  kind: "fitted";
  coefficients: FittedCoefficients;
  /** Free-form fit metrics (sample count, error) that calibration writes. */
  fit?: Record<string, unknown>;
}

/** JSON-serialisable description of a latency model, recorded in reports. */
export type LatencyModelInfo = RooflineInfo | FittedInfo;
