import seedrandom from "seedrandom";

/** A uniform [0,1) source. */
export type Random = () => number;

/** Named, independently seeded random streams: each consumer draws from its own stream, so adding a
 *  draw in one place never shifts the numbers another place sees. Stream `name` under seed `s` is
 *  always the same sequence. */
export class RngStreams {
  private readonly streams = new Map<string, Random>();
  constructor(readonly seed: number) {}

  stream(name: string): Random {
    let random = this.streams.get(name);
    if (!random) {
      const prng = seedrandom(`tandem:${this.seed}:${name}`);
      random = () => prng.double();
      this.streams.set(name, random);
    }
    return random;
  }
}

/** Exponential draw with the given rate (mean 1/rate). */
export function exponential(random: Random, rate: number): number {
  return -Math.log(1 - random()) / rate;
}

/** Standard normal draw (Box–Muller, one value per call). */
export function standardNormal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, scale) draw by Marsaglia and Tsang's method (shape < 1 boosted by U^(1/shape)). */
export function gamma(random: Random, shape: number, scale: number): number {
  if (shape < 1) return gamma(random, shape + 1, scale) * (1 - random()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = standardNormal(random);
    const v0 = 1 + c * x;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * scale;
  }
}
