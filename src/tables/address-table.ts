/**
 * A hash table keyed by 16-byte IPv6 addresses (or any 16-byte key), open addressing with linear
 * probing over typed arrays. Built at config time, read on the hot path without allocating:
 * `lookup(buf, off)` reads the key as four 32-bit words where it lies in the received frame
 * (through the frame's word view, codecs/word-view.ts), hashes them and compares them with the
 * stored words.
 */

import { wordView } from '../../codecs/word-view.js';

/**
 * Each word mixed in with one multiply (Fibonacci hashing: the high bits of the product depend on
 * every bit of the words), the table index taken from the high bits. The keys come from the
 * configuration, so a sender can only ever choose which of their clusters a lookup walks.
 */
function hashWords(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0, 0x9e3779b1);
  h = Math.imul(h ^ w1, 0x9e3779b1);
  h = Math.imul(h ^ w2, 0x9e3779b1);
  h = Math.imul(h ^ w3, 0x9e3779b1);
  return h;
}

export class AddressTable {
  /** Four big-endian words per slot. */
  private readonly keys: Uint32Array;
  /** The value per slot, -1 for a free slot. */
  private readonly values: Int32Array;
  private readonly mask: number;
  /** 32 - log2(size): the hash's top bits index the table. */
  private readonly shift: number;
  private count = 0;

  /** `capacity` is the most entries it will hold; the table is sized at twice that, a power of two. */
  constructor(capacity: number) {
    let size = 8;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.shift = 32 - Math.log2(size);
    this.keys = new Uint32Array(size * 4);
    this.values = new Int32Array(size).fill(-1);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Inserts or replaces; returns false when the table is full. Values are 0 to 2^31 - 1 (a
   * RangeError otherwise: -1 marks a free slot). Config time only.
   */
  set(key: Uint8Array, keyOff: number, value: number): boolean {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff)
      throw new RangeError(`address table value ${value} is not in 0..2^31-1`);
    // Read by bytes: a word view per key would be made, and kept, for each of them.
    const w = (j: number): number =>
      (((key[keyOff + j] as number) << 24) |
        ((key[keyOff + j + 1] as number) << 16) |
        ((key[keyOff + j + 2] as number) << 8) |
        (key[keyOff + j + 3] as number)) >>>
      0;
    const w0 = w(0);
    const w1 = w(4);
    const w2 = w(8);
    const w3 = w(12);
    const slot = this.probeWords(w0, w1, w2, w3);
    if (slot >= 0) {
      this.values[slot] = value;
      return true;
    }
    // Never more than half full, so probes always meet a free slot.
    if (this.count + 1 > (this.mask + 1) / 2) return false;
    const free = ~slot;
    this.keys[free * 4] = w0;
    this.keys[free * 4 + 1] = w1;
    this.keys[free * 4 + 2] = w2;
    this.keys[free * 4 + 3] = w3;
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
    return this.probeWords(v.getUint32(o), v.getUint32(o + 4), v.getUint32(o + 8), v.getUint32(o + 12));
  }

  /** The slot holding the key of these four big-endian words, or ~(the free slot where it would go). */
  private probeWords(w0: number, w1: number, w2: number, w3: number): number {
    const k = this.keys;
    let i = hashWords(w0, w1, w2, w3) >>> this.shift;
    for (;;) {
      if ((this.values[i] as number) < 0) return ~i;
      const base = i * 4;
      if (k[base] === w0 && k[base + 1] === w1 && k[base + 2] === w2 && k[base + 3] === w3) return i;
      i = (i + 1) & this.mask;
    }
  }
}
