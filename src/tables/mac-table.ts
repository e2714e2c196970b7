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
      const i = this.slot(e.mac, 0);
      const v = wordView(e.mac);
      this.highs[i] = v.getUint16(0);
      this.lows[i] = v.getUint32(2);
      this.values[i] = e.value;
      this.lastBytes[e.mac[5] as number] = 1;
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
    const high = v.getUint16(o);
    const low = v.getUint32(o + 2);
    let i = hashMac(high, low) & this.mask;
    while (this.values[i] !== -1 && (this.highs[i] !== high || this.lows[i] !== low)) i = (i + 1) & this.mask;
    return i;
  }
}
