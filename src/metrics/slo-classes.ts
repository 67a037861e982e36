/** Per-class SLOs: calls grouped by tenant or priority class, each class with its own targets (the
 *  run's targets, overridden per class), its attainment and its goodput. */
import type { LlmCall } from "../core/types.ts";

export interface SloTargets {
  ttft_s?: number;
  tpot_s?: number;
  e2e_s?: number;
}

export interface SloClassConfig {
  /** What names a call's class: its workflow's priority class (high/medium/low) or its tenant. */
  class_by: "priority_class" | "tenant";
  /** Targets per class name; a class not listed keeps the run's targets. */
  classes: Record<string, SloTargets>;
}

/** A call with no class (no tenant, no priority class) is in this one. */
export const NO_CLASS = "(none)";

export interface SloClassSummary extends SloTargets {
  completed: number;
  met: number;
  attainment: number;
  goodput_requests_per_s: number;
}

/** Whether a completed call's latencies are within every target given (≤). */
export function meetsTargets(slo: SloTargets, ttft_s: number | null, tpot_s: number | null, e2e_s: number): boolean {
  // A call with no TTFT (no output) or no TPOT (one token) has nothing to miss on that metric.
  if (slo.ttft_s !== undefined && ttft_s !== null && ttft_s > slo.ttft_s) return false;
  if (slo.tpot_s !== undefined && tpot_s !== null && tpot_s > slo.tpot_s) return false;
  if (slo.e2e_s !== undefined && e2e_s > slo.e2e_s) return false;
  return true;
}

/** Counts per class; `targetsOf` gives the targets a call is held to. */
export class SloClasses {
  private readonly counts = new Map<string, { completed: number; met: number }>();
  private readonly resolved = new Map<string, SloTargets>();

  constructor(
    private readonly base: SloTargets,
    private readonly config: SloClassConfig,
  ) {
    for (const name of Object.keys(config.classes)) this.counts.set(name, { completed: 0, met: 0 });
  }

  classOf(call: LlmCall): string {
    const name = this.config.class_by === "tenant" ? call.tenant : call.priority_class;
    return name ?? NO_CLASS;
  }

  targetsOf(name: string): SloTargets {
    let targets = this.resolved.get(name);
    if (!targets) {
      targets = { ...this.base, ...(Object.hasOwn(this.config.classes, name) ? this.config.classes[name] : {}) };
      this.resolved.set(name, targets);
    }
    return targets;
  }

  completed(name: string, met: boolean): void {
    let c = this.counts.get(name);
    if (!c) this.counts.set(name, (c = { completed: 0, met: 0 }));
    c.completed++;
    if (met) c.met++;
  }

  /** Every configured class, and every other class a completed call was in, by name. */
  summary(duration_s: number): Record<string, SloClassSummary> {
    const out: Record<string, SloClassSummary> = {};
    for (const name of [...this.counts.keys()].sort()) {
      const c = this.counts.get(name)!;
      out[name] = {
        ...this.targetsOf(name),
        completed: c.completed,
        met: c.met,
        attainment: c.completed > 0 ? c.met / c.completed : 0,
        goodput_requests_per_s: duration_s > 0 ? c.met / duration_s : 0,
      };
    }
    return out;
  }
}

/** The cluster config's `slo` section as the recorder takes it: `classes` (with `class_by`,
 *  default `priority_class`) becomes per-class targets. */
export function sloFromConfig(slo: (SloTargets & { class_by?: SloClassConfig["class_by"]; classes?: Record<string, SloTargets> }) | undefined): SloTargets & { classes?: SloClassConfig } {
  if (!slo) return {};
  const { class_by, classes, ...targets } = slo;
  return classes === undefined ? targets : { ...targets, classes: { class_by: class_by ?? "priority_class", classes } };
}
