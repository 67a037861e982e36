import { fmix32 } from "../../src/core/hash.ts";
import type { TokenIdentity } from "../../src/core/prefix-identity.ts";

/** Prefix-cache identity of a prompt given as token ids, as vLLM's block-hash chain: the key of
 *  block b hashes the ids of block b together with the key of block b − 1, so it identifies the
 *  block's tokens and everything before them. Keys are 52 bits (20 bits of one 32-bit hash, 32 of
 *  another, each seeded differently), so a collision among even 10⁸ cached blocks has a probability
 *  below 10⁻⁹.
 *
 *  Blocks that hold any token past the prompt (output tokens, registered only when a preempted
 *  request recomputes) continue the chain with a per-request `nonce`: they hit only that request's
 *  own blocks, as output content no other call shares. */
export class TokenIdIdentity implements TokenIdentity {
  readonly sharable_tokens: number;
  private keys: number[] = [];
  private keysBlockSize = 0;
  private state1 = 0;
  private state2 = 0;

  constructor(
    private readonly tokens: ArrayLike<number>,
    private readonly nonce: number,
  ) {
    this.sharable_tokens = tokens.length;
  }

  blockKey(block: number, blockSize: number): number {
    if (blockSize !== this.keysBlockSize) {
      this.keys = [];
      this.keysBlockSize = blockSize;
      this.state1 = SEED1;
      this.state2 = SEED2;
    }
    const keys = this.keys;
    const fullPromptBlocks = Math.floor(this.tokens.length / blockSize);
    while (keys.length <= block) {
      const b = keys.length;
      let h1 = mix(this.state1, b);
      let h2 = mix(this.state2, this.state1);
      if (b < fullPromptBlocks) {
        const start = b * blockSize;
        for (let i = start; i < start + blockSize; i++) {
          const token = this.tokens[i] >>> 0;
          h1 = mix(h1, token);
          h2 = mix(h2, token ^ 0x5bd1e995);
        }
      } else {
        h1 = mix(mix(h1, this.nonce >>> 0), Math.floor(this.nonce / 2 ** 32));
        h2 = mix(mix(h2, 0x27d4eb2f ^ (this.nonce >>> 0)), b);
      }
      h1 = finalise(h1, blockSize);
      h2 = finalise(h2, blockSize ^ 0x85ebca6b);
      this.state1 = h1;
      this.state2 = h2;
      keys.push((h1 >>> 12) * 2 ** 32 + h2);
    }
    return keys[block];
  }
}

const SEED1 = 0x9747b28c;
const SEED2 = 0x1b873593;

/** One murmur3 round: folds a 32-bit word into the running hash. */
function mix(hash: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = hash ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

/** murmur3's final avalanche. */
function finalise(hash: number, length: number): number {
  return fmix32(hash ^ length);
}

/** A 32-bit FNV-1a hash of a string's UTF-16 code units (text pieces → token ids). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return finalise(h >>> 0, text.length);
}
