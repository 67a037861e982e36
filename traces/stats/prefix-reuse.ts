import type { PromptSegment } from "../../src/core/types.ts";

/** Measures how much prompt content repeats earlier content as a prefix: the hit rate an unbounded
 *  prefix cache at segment granularity would reach (an upper bound for any real cache). Keys chain
 *  like the engine's prefix identity: a segment is a repeat only if everything before it is too. */
export class PrefixReuseMeter {
  private readonly seen = new Set<string>();
  private nextUnique = 0;
  prompt_tokens = 0;
  reusable_tokens = 0;

  /** Counts one prompt; `output` (its output segment, if later prompts may extend it) is remembered
   *  as seen afterwards, as a cache would hold the generated tokens. */
  add(segments: readonly PromptSegment[], output?: PromptSegment): void {
    let chain = "";
    let shared = true;
    for (const segment of segments) {
      this.prompt_tokens += segment.tokens;
      chain = segment.key === undefined ? `${chain}|#${this.nextUnique++}` : `${chain}|${segment.key}`;
      if (shared && this.seen.has(chain)) this.reusable_tokens += segment.tokens;
      else {
        shared = false;
        this.seen.add(chain);
      }
    }
    if (output?.key !== undefined) this.seen.add(`${chain}|${output.key}`);
  }

  get reuse_rate(): number {
    return this.prompt_tokens === 0 ? 0 : this.reusable_tokens / this.prompt_tokens;
  }
}
