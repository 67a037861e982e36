import seedrandom from "seedrandom";
import { DEFAULT_VOCAB_MAX, DEFAULT_VOCAB_MIN } from "../client/token-prompt.ts";

/** Token-id prompts that never share a prefix-cache block with each other (nor, for another seed,
 *  with an earlier run's): the first two ids encode a counter unique to each prompt of the run, the
 *  rest are drawn from a generator seeded by `seed`. vLLM's prefix cache keys each full block by a
 *  hash chain that starts at the first block, so a distinct first token makes every block distinct.
 *  Ids lie in [vocab_min, vocab_max): ordinary vocabulary of every common tokenizer (as in
 *  live/client/token-prompt.ts). Pure: no I/O. */
export class UniquePrompts {
  private readonly rng: seedrandom.PRNG;
  private readonly min: number;
  private readonly range: number;
  private counter = 0;

  constructor(
    readonly seed: string,
    vocab: { min?: number; max?: number } = {},
  ) {
    this.min = vocab.min ?? DEFAULT_VOCAB_MIN;
    const max = vocab.max ?? DEFAULT_VOCAB_MAX;
    this.range = max - this.min;
    if (!(Number.isInteger(this.min) && Number.isInteger(max) && this.min >= 0 && this.range >= 2)) {
      throw new Error(`UniquePrompts: vocabulary [${this.min}, ${max}) must hold at least two ids`);
    }
    this.rng = seedrandom(`tandem-profile:${seed}`);
  }

  /** Prompts handed out so far. */
  get issued(): number {
    return this.counter;
  }

  /** A fresh prompt of `length` ids (length ≥ 1). */
  next(length: number): number[] {
    if (!(Number.isInteger(length) && length >= 1)) throw new Error(`UniquePrompts: length must be an integer ≥ 1, got ${length}`);
    const k = this.counter++;
    const ids = new Array<number>(length);
    ids[0] = this.min + (k % this.range);
    if (length > 1) ids[1] = this.min + (Math.floor(k / this.range) % this.range);
    for (let i = 2; i < length; i++) ids[i] = this.min + Math.floor(this.rng() * this.range);
    return ids;
  }
}
