/**
 * A hash table keyed by 16-byte IPv6 addresses (or any 16-byte key), open addressing with linear
 * probing over typed arrays. Built at config time, read on the hot path without allocating:
 * `lookup(buf, off)` reads the key as four 32-bit words where it lies in the received frame
 * (through the frame's word view, codecs/word-view.ts), hashes them and compares them with the
 * stored words.
 */

import { wordView } from '../../codecs/word-view.js';
import { fmix32 } from '../hash.js';

function hashWords(w0: number, w1: number, w2: number, w3: number): number {
  // Each word mixed in with one multiply, then murmur3's fmix32 avalanche.
  let h = Math.imul(0x811c9dc5 ^ w0, 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h ^ w1, 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h ^ w2, 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h ^ w3, 0x01000193);
  h ^= h >>> 15;
  return fmix32(h);
}

export class AddressTable {
  /** Four big-endian words per slot. */
  private readonly keys: Uint32Array;
  private readonly values: Int32Array;
  private readonly used: Uint8Array;
  private readonly mask: number;
  private count = 0;

  /** `capacity` is the most entries it will hold; the table is sized at twice that, a power of two. */
  constructor(capacity: number) {
    let size = 8;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Uint32Array(size * 4);
    this.values = new Int32Array(size);
    this.used = new Uint8Array(size);
  }

  get size(): number {
    return this.count;
  }

  /** Inserts or replaces; returns false when the table is full. Config time only. */
  set(key: Uint8Array, keyOff: number, value: number): boolean {
    const slot = this.probe(key, keyOff);
    if (slot >= 0) {
      this.values[slot] = value;
      return true;
    }
    // Never more than half full, so probes always meet a free slot.
    if (this.count + 1 > (this.mask + 1) / 2) return false;
    const free = ~slot;
    const v = wordView(key);
    for (let j = 0; j < 4; j++) this.keys[free * 4 + j] = v.getUint32(keyOff + 4 * j);
    this.used[free] = 1;
    this.values[free] = value;
    this.count++;
    return true;
  }

  /** The value stored for the 16 bytes at b[o], or -1. No allocation. */
  lookup(b: Uint8Array, o: number): number {
    const slot = this.probe(b, o);
    return slot >= 0 ? (this.values[slot] as number) : -1;
  }

  /** The slot holding the key at b[o], or ~(the free slot where it would go). */
  private probe(b: Uint8Array, o: number): number {
    const v = wordView(b);
    const w0 = v.getUint32(o);
    const w1 = v.getUint32(o + 4);
    const w2 = v.getUint32(o + 8);
    const w3 = v.getUint32(o + 12);
    const k = this.keys;
    let i = hashWords(w0, w1, w2, w3) & this.mask;
    for (;;) {
      if (this.used[i] === 0) return ~i;
      const base = i * 4;
      if (k[base] === w0 && k[base + 1] === w1 && k[base + 2] === w2 && k[base + 3] === w3) return i;
      i = (i + 1) & this.mask;
    }
  }
}
