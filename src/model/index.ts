/** The latency model layer: model and GPU presets, KV capacity, and step-time models. */
export * from "./models.ts";
export * from "./gpus.ts";
export * from "./parallel.ts";
export * from "./memory.ts";
export * from "./latency-model.ts";
export * from "./fitted.ts";
export * from "./roofline.ts";
export * from "./latency-json.ts";
export * from "./step-model.ts";
export * from "./step-presets.ts";
