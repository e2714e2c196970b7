/**
 * murmur3's 32-bit finalizer (fmix32): spreads every input bit over the whole result. The last
 * step of the hashes of the MAC table (which the sender rate limiter uses) and of hashBytes.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 32-bit hash of the bytes b[off, off+len) and two 32-bit integers, from `seed`: four bytes per
 * step, each step one multiply and a rotation, then fmix32. The lease table's byte-keyed maps
 * (src/dhcp/bytes-map.ts, seeded at random) and the start of a client's probe in a pool (fixed
 * seeds, so that a client gets the same position after a restart) use it.
 */
export function hashBytes(seed: number, b: Uint8Array, off: number, len: number, x: number, y: number): number {
  let h = seed ^ len;
  const end = off + len;
  let i = off;
  for (; i + 4 <= end; i += 4) {
    const w =
      (b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24);
    h = Math.imul(h ^ w, 0x9e3779b1);
    h = (h << 13) | (h >>> 19);
  }
  let w = 0;
  for (let s = 0; i < end; i++, s += 8) w |= (b[i] as number) << s;
  h = Math.imul(h ^ w, 0x9e3779b1);
  h = Math.imul(((h << 13) | (h >>> 19)) ^ x, 0x85ebca6b);
  h = Math.imul(((h << 13) | (h >>> 19)) ^ y, 0xc2b2ae35);
  return fmix32(h);
}
