import type { Random } from "../../src/core/rng.ts";
import { durationSampler, parseDurationDistribution } from "../durations.ts";

/** Draws tool durations from distribution strings, all from one random stream, in the order asked:
 *  reading the same file with the same seed gives the same durations. Each distinct string is
 *  parsed once. */
export class ToolDurations {
  private readonly samplers = new Map<string, () => number>();

  constructor(private readonly random: Random) {}

  /** One draw in seconds; `option` names the field in a parse error ("file:3: steps[1].duration"). */
  draw(spec: string, option: string): number {
    let sample = this.samplers.get(spec);
    if (!sample) {
      sample = durationSampler(parseDurationDistribution(spec, option), this.random);
      this.samplers.set(spec, sample);
    }
    return sample();
  }
}
