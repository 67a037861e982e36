// The profiling sweep (`tandem profile`, docs/calibration.md "Profiling"): the grid and the
// prompts (pure), the rows of the profile CSV (pure), and the sweep against a live server (I/O).
export * from "./disturbance.ts";
export * from "./grid.ts";
export * from "./prompts.ts";
export * from "./rows.ts";
export * from "./sweep.ts";
