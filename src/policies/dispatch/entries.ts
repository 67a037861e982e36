import type { PolicyEntry } from "../entry.ts";
import type { DispatchPolicy } from "./policy.ts";

/** Dispatch policies beyond the foundation's three, one line each: name → entry(...). */
export const DISPATCH_ENTRIES: Record<string, PolicyEntry<DispatchPolicy>> = {};
