import { inputError } from "../core/errors.ts";
import { fittedLatencyModelFromJson } from "./fitted.ts";
import { LATENCY_SCHEMA } from "./latency-info.ts";
import type { LatencyModel } from "./latency-model.ts";
import { rooflineLatencyModelFromJson } from "./roofline.ts";
import { stepLatencyModelFromJson } from "./step-presets.ts";

/** A latency model from a parsed `tandem.latency/v1` document of any kind (a fitted model, or a
 *  roofline such as a report's recorded `info`). `file` names the document in error messages. */
export function latencyModelFromJson(doc: unknown, file: string): LatencyModel {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw inputError(file, `expected a JSON object with schema "${LATENCY_SCHEMA}"`);
  }
  const record = doc as Record<string, unknown>;
  if (record.schema !== LATENCY_SCHEMA) {
    throw inputError(`${file}: schema`, `expected "${LATENCY_SCHEMA}", got ${JSON.stringify(record.schema)}`);
  }
  switch (record.kind) {
    case "fitted":
      return fittedLatencyModelFromJson(doc, file);
    case "roofline":
      return rooflineLatencyModelFromJson(doc, file);
    case "step":
      return stepLatencyModelFromJson(doc, file);
    default:
      throw inputError(`${file}: kind`, `expected "fitted", "roofline" or "step", got ${JSON.stringify(record.kind)}`);
  }
}
