/**
 * A table keyed by 6-byte Ethernet MACs, read on the hot path without allocating: the key is
 * hashed and compared where it lies in the received frame (no number boxed, no string built).
 * Used for ports by MAC (the dispatcher, the DHCPv6 server, the rate limiter) and for punt6's own
 * MACs.
 */

import { wordView } from '../../codecs/word-view.js';
import { fmix32 } from './hash.js';

export function hash6(b: Uint8Array, o: number): number {
  const v = wordView(b);
  return hashMac(v.getUint16(o), v.getUint32(o + 2));
}

/** The MAC as its first 16 and last 32 bits, mixed. */
function hashMac(high: number, low: number): number {
  return fmix32(Math.imul(high, 0x01000193) ^ low);
}

/** MAC -> small integer (a port index, a network index...), open addressing; built once, read per frame. */
export class MacTable {
  /** Per slot: the MAC's first 16 bits and last 32 bits. */
  private readonly highs: Uint16Array;
  private readonly lows: Uint32Array;
  private readonly values: Int32Array;
  private readonly mask: number;
  /**
   * 1 where some key ends in that byte: most misses (a VM's MAC looked up among punt6's own) are
   * answered by one load, without hashing.
   */
  private readonly lastBytes = new Uint8Array(256);

  constructor(entries: readonly { mac: Uint8Array; value: number }[]) {
    let size = 8;
    while (size < entries.length * 2) size *= 2;
    this.mask = size - 1;
    this.highs = new Uint16Array(size);
    this.lows = new Uint32Array(size);
    this.values = new Int32Array(size).fill(-1);
    for (const e of entries) {
      // Read by bytes: a word view per key would be made, and kept, for each of them.
      const m = e.mac;
      const high = ((m[0] as number) << 8) | (m[1] as number);
      const low =
        (((m[2] as number) << 24) | ((m[3] as number) << 16) | ((m[4] as number) << 8) | (m[5] as number)) >>> 0;
      const i = this.slotOf(high, low);
      this.highs[i] = high;
      this.lows[i] = low;
      this.values[i] = e.value;
      this.lastBytes[m[5] as number] = 1;
    }
  }

  /** The value for the MAC at b[o], or -1. */
  lookup(b: Uint8Array, o: number): number {
    if (this.lastBytes[b[o + 5] as number] === 0) return -1;
    return this.values[this.slot(b, o)] as number;
  }

  /** The slot holding the MAC at b[o], or the free slot where it would go. */
  private slot(b: Uint8Array, o: number): number {
    const v = wordView(b);
    return this.slotOf(v.getUint16(o), v.getUint32(o + 2));
  }

  /** The slot holding the MAC of these first 16 and last 32 bits, or the free slot where it would go. */
  private slotOf(high: number, low: number): number {
    let i = hashMac(high, low) & this.mask;
    while (this.values[i] !== -1 && (this.highs[i] !== high || this.lows[i] !== low)) i = (i + 1) & this.mask;
    return i;
  }
}
