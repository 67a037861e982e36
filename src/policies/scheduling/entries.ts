import { NO_PARAMS, entry, type PolicyEntry } from "../entry.ts";
import { ATLAS_PARAMS, createAtlas } from "./atlas.ts";
import { createCriticalPath } from "./critical-path.ts";
import { KAIROS_PARAMS, createKairos } from "./kairos.ts";
import { KAIROS_STATIC_PARAMS, createKairosStatic } from "./kairos-static.ts";
import { PLAS_PARAMS, createPlas } from "./plas.ts";
import type { SchedulingPolicy } from "./policy.ts";
import { PRIORITY_CLASS_PARAMS, createPriorityClass } from "./priority-class.ts";
import { SJF_PARAMS, createSjf } from "./sjf.ts";
import { VTC_PARAMS, createVtc } from "./vtc.ts";

/** Scheduling policies beyond fcfs, one line each: name → entry(description, params, factory). */
export const SCHEDULING_ENTRIES: Record<string, PolicyEntry<SchedulingPolicy>> = {
  "priority-class": entry("high, then medium, then low class; FCFS within a class", PRIORITY_CLASS_PARAMS, createPriorityClass),
  kairos: entry("workflow with the least remaining critical-path work first (Kairos)", KAIROS_PARAMS, createKairos),
  "kairos-static": entry("agent with the latency distribution nearest zero first, from an earlier run (Kairos's offline W1 + MDS)", KAIROS_STATIC_PARAMS, createKairosStatic),
  plas: entry("program-level least attained service, K geometric levels (Autellix PLAS)", PLAS_PARAMS, createPlas),
  atlas: entry("least service attained along the call's critical path, K levels (Autellix ATLAS)", ATLAS_PARAMS, createAtlas),
  "critical-path": entry("longest remaining path through the call first", NO_PARAMS, createCriticalPath),
  sjf: entry("shortest predicted output (agent's mean) first", SJF_PARAMS, createSjf),
  vtc: entry("per-tenant virtual token counters, smallest first (VTC fair queueing)", VTC_PARAMS, createVtc),
};
