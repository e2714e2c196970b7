/**
 * A hash table keyed by 16-byte IPv6 addresses (or any 16-byte key), open addressing with linear
 * probing over typed arrays. Built at config time, read on the hot path without allocating:
 * `lookup(buf, off)` hashes the bytes where they lie in the received frame.
 */

import { fmix32 } from '../hash.js';

function hash16(b: Uint8Array, o: number): number {
  // Four 32-bit words, each mixed in with one multiply, then murmur3's fmix32 avalanche.
  let h = 0x811c9dc5;
  for (let i = 0; i < 16; i += 4) {
    const w = ((b[o + i] as number) << 24) | ((b[o + i + 1] as number) << 16) | ((b[o + i + 2] as number) << 8) | (b[o + i + 3] as number);
    h = Math.imul(h ^ w, 0x01000193);
    h ^= h >>> 15;
  }
  return fmix32(h);
}

export class AddressTable {
  private readonly keys: Uint8Array;
  private readonly values: Int32Array;
  private readonly used: Uint8Array;
  private readonly mask: number;
  private count = 0;

  /** `capacity` is the most entries it will hold; the table is sized at twice that, a power of two. */
  constructor(capacity: number) {
    let size = 8;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Uint8Array(size * 16);
    this.values = new Int32Array(size);
    this.used = new Uint8Array(size);
  }

  get size(): number {
    return this.count;
  }

  /** Inserts or replaces; returns false when the table is full. Config time only. */
  set(key: Uint8Array, keyOff: number, value: number): boolean {
    let i = hash16(key, keyOff) & this.mask;
    for (let n = 0; n <= this.mask; n++) {
      if (this.used[i] === 0) {
        if (this.count + 1 > (this.mask + 1) / 2) return false;
        this.used[i] = 1;
        this.keys.set(key.subarray(keyOff, keyOff + 16), i * 16);
        this.values[i] = value;
        this.count++;
        return true;
      }
      if (this.keyAt(i, key, keyOff)) {
        this.values[i] = value;
        return true;
      }
      i = (i + 1) & this.mask;
    }
    return false;
  }

  /** The value stored for the 16 bytes at b[o], or -1. No allocation. */
  lookup(b: Uint8Array, o: number): number {
    let i = hash16(b, o) & this.mask;
    for (;;) {
      if (this.used[i] === 0) return -1;
      if (this.keyAt(i, b, o)) return this.values[i] as number;
      i = (i + 1) & this.mask;
    }
  }

  private keyAt(slot: number, b: Uint8Array, o: number): boolean {
    const k = this.keys;
    const base = slot * 16;
    for (let j = 0; j < 16; j++) if (k[base + j] !== b[o + j]) return false;
    return true;
  }
}
