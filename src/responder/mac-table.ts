/**
 * A table keyed by 6-byte Ethernet MACs, read on the hot path without allocating: the key is
 * hashed and compared where it lies in the received frame (no number boxed, no string built).
 * Used for ports by MAC (the dispatcher, the DHCPv6 server, the rate limiter) and for punt6's own
 * MACs.
 */

import { fmix32 } from '../hash.js';

export function hash6(b: Uint8Array, o: number): number {
  const high = ((b[o] as number) << 8) | (b[o + 1] as number);
  const low = ((b[o + 2] as number) << 24) | ((b[o + 3] as number) << 16) | ((b[o + 4] as number) << 8) | (b[o + 5] as number);
  return fmix32(Math.imul(high, 0x01000193) ^ low);
}

/** MAC -> small integer (a port index, a network index...), open addressing; built once, read per frame. */
export class MacTable {
  private readonly keys: Uint8Array;
  private readonly values: Int32Array;
  private readonly mask: number;

  constructor(entries: readonly { mac: Uint8Array; value: number }[]) {
    let size = 8;
    while (size < entries.length * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Uint8Array(size * 6);
    this.values = new Int32Array(size).fill(-1);
    for (const e of entries) {
      let i = hash6(e.mac, 0) & this.mask;
      while (this.values[i] !== -1 && !this.keyAt(i, e.mac, 0)) i = (i + 1) & this.mask;
      this.keys.set(e.mac.subarray(0, 6), i * 6);
      this.values[i] = e.value;
    }
  }

  /** The value for the MAC at b[o], or -1. */
  lookup(b: Uint8Array, o: number): number {
    let i = hash6(b, o) & this.mask;
    for (;;) {
      const v = this.values[i] as number;
      if (v === -1) return -1;
      if (this.keyAt(i, b, o)) return v;
      i = (i + 1) & this.mask;
    }
  }

  private keyAt(slot: number, b: Uint8Array, o: number): boolean {
    const k = this.keys;
    const base = slot * 6;
    return k[base] === b[o] && k[base + 1] === b[o + 1] && k[base + 2] === b[o + 2] && k[base + 3] === b[o + 3] && k[base + 4] === b[o + 4] && k[base + 5] === b[o + 5];
  }
}
