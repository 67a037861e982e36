/** MurmurHash3's 32-bit finaliser (fmix32): an avalanche that makes every input bit affect every
 *  output bit. Written here, not taken from a package, so that hashes that place things (ring
 *  positions, token ids, block keys) can never change under a dependency upgrade. */
export function fmix32(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
