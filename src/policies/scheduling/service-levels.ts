import { z } from "zod";

/** Parameters shared by the least-attained-service policies (plas, atlas): K FCFS levels whose
 *  service thresholds grow geometrically, plus a starvation bound. */
export const SERVICE_LEVEL_PARAMS = {
  /** Number of levels K (level K−1 takes everything above the last threshold). */
  levels: z.number().int().min(1).max(64).default(4),
  /** Service that ends level 0, in seconds. */
  base_s: z.number().positive().default(1.0),
  /** Growth of the thresholds: level k ends at base_s × ratio^k. */
  ratio: z.number().gt(1).default(4),
  /** A call that has waited longer than this at the controller is promoted to level 0. */
  starvation_s: z.number().positive().default(30),
};

export interface ServiceLevelParams {
  levels: number;
  base_s: number;
  ratio: number;
  starvation_s: number;
}

/** Maps attained service to a level: the first k with service < base_s × ratio^k, capped at K−1.
 *  The thresholds are computed once, so a lookup is at most K comparisons. */
export function serviceLevels(params: ServiceLevelParams): (service_s: number) => number {
  const thresholds: number[] = [];
  for (let k = 0; k < params.levels - 1; k++) thresholds.push(params.base_s * params.ratio ** k);
  const last = params.levels - 1;
  return (service_s) => {
    for (let k = 0; k < thresholds.length; k++) if (service_s < thresholds[k]) return k;
    return last;
  };
}
