import type { FittedCoefficients } from "./fitted-coefficients.ts";
import type { RooflineConstants } from "./roofline-constants.ts";
import type { StepCoefficients } from "./step-coefficients.ts";

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

/** The step-time model (src/model/step-model.ts): physical terms with per-GPU fitted coefficients. */
export interface StepInfo extends InfoBase {
  kind: "step";
  coefficients: StepCoefficients;
  /** What the coefficients were fitted on (measurement sets, or "carried from <gpu>"). */
  fitted_on: string;
  /** Measured errors of the fit (fractions: 0.05 = 5%), e.g. `splitwise_e2e_mape`, `vidur_gemm_mape`. */
  error?: Record<string, number>;
}

/** JSON-serialisable description of a latency model, recorded in reports. */
export type LatencyModelInfo = RooflineInfo | FittedInfo | StepInfo;
