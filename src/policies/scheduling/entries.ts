import type { PolicyEntry } from "../entry.ts";
import type { SchedulingPolicy } from "./policy.ts";

/** Scheduling policies beyond fcfs, one line each: name → entry(description, params, factory). */
export const SCHEDULING_ENTRIES: Record<string, PolicyEntry<SchedulingPolicy>> = {};
