/**
 * murmur3's 32-bit finalizer (fmix32): spreads every input bit over the whole result. The last
 * step of the hashes of the MAC table (which the sender rate limiter uses) and the lease pools'
 * probe start.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
