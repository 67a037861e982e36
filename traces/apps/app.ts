import { invariant } from "../../src/core/errors.ts";
import type { Random } from "../../src/core/rng.ts";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import type { DurationDistribution } from "../durations.ts";
import type { LengthDistribution } from "../lengths.ts";

/** What a parameter holds: an integer, a real number, a token-length distribution (`lognormal:150,0.5`,
 *  or a bare integer meaning `fixed:N`) or a duration distribution in seconds (`lognormal:3,0.5`, or a
 *  bare number meaning `fixed:S`). */
export type AppParamKind = "int" | "number" | "length" | "duration";

/** One knob of an app generator. `min`/`max` bound int and number parameters (both ends included). */
export interface AppParam {
  description: string;
  default: number | string;
  kind: AppParamKind;
  min?: number;
  max?: number;
}

/** A parsed parameter value, tagged with its kind. */
export type ResolvedValue = { kind: "int" | "number"; value: number } | { kind: "length"; value: LengthDistribution } | { kind: "duration"; value: DurationDistribution };

/** An app's parameters after defaults and overrides were parsed (see resolveAppParams). The typed
 *  getters name the kind they expect; asking for an undeclared key or the wrong kind is a bug in the
 *  generator, not bad input, so it throws a plain Error. */
export class ResolvedParams {
  constructor(
    readonly app: string,
    private readonly values: ReadonlyMap<string, ResolvedValue>,
    /** The effective value of every parameter as written (defaults included), for reports. */
    private readonly written: Readonly<Record<string, number | string>>,
  ) {}

  int(key: string): number {
    return this.get(key, "int") as number;
  }
  number(key: string): number {
    return this.get(key, "number") as number;
  }
  length(key: string): LengthDistribution {
    return this.get(key, "length") as LengthDistribution;
  }
  duration(key: string): DurationDistribution {
    return this.get(key, "duration") as DurationDistribution;
  }

  /** Every parameter with its effective value as written, in declaration order. */
  toJSON(): Record<string, number | string> {
    return { ...this.written };
  }

  private get(key: string, kind: AppParamKind): ResolvedValue["value"] {
    const entry = this.values.get(key);
    invariant(entry !== undefined, `app ${this.app} has no parameter "${key}"`);
    invariant(entry.kind === kind, `app ${this.app} parameter "${key}" is a ${entry.kind}, read as ${kind}`);
    return entry.value;
  }
}

/** A generator of one kind of multi-agent application workflow. */
export interface AppGenerator {
  readonly name: string;
  /** One paragraph: the real system it models, and the DAG shape. */
  readonly description: string;
  /** Every knob, with its default. */
  readonly params: Record<string, AppParam>;
  /** Checks that span parameters (e.g. peers < agents); throws an InputError naming `where`. */
  check?(params: ResolvedParams, where: string): void;
  /** Builds workflow number `index` of this app (id `${name}-${index}`, app = name, arrival_s = 0:
   *  the caller sets arrival times). `random` is the app's own seeded stream; the same (params,
   *  index sequence, stream) must give the same workflows. */
  build(index: number, params: ResolvedParams, random: Random): WorkflowSpec;
}
