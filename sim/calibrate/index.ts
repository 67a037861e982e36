// Calibration: profile readers, the static-batch replay through the sim engine, the NNLS fit and
// its validation (docs/calibration.md).
export * from "./calibrate.ts";
export * from "./features.ts";
export * from "./fit.ts";
export * from "./measurements.ts";
export * from "./nnls.ts";
export * from "./profile-csv.ts";
export * from "./splitwise.ts";
export * from "./static-batch.ts";
export * from "./validate.ts";
export * from "../../traces/profile-csv.ts";
