/**
 * punt6's own per-sender token bucket on the punt path: the second line behind the OVS meter
 * (docs/flows.md), so that one VM flooding RS, NS or DHCPv6 cannot starve the others even when
 * the switch meters nothing. Senders are told apart by source MAC: a configured port's MAC gets
 * its own bucket; unknown MACs share one bucket per (interface, MAC hash slot) so that a flood of
 * random source MACs cannot fill memory.
 *
 * Tokens are frames: `rate` per second up to `burst`. Allocation-free: the buckets are typed
 * arrays sized at construction; MAC lookups go through an open-addressing table of 6-byte keys.
 */

import { fmix32 } from '../hash.js';

/** Buckets for unknown MACs, per interface (a power of two). */
const SHARED_SLOTS = 256;

function hash6(b: Uint8Array, o: number): number {
  const high = ((b[o] as number) << 8) | (b[o + 1] as number);
  const low = ((b[o + 2] as number) << 24) | ((b[o + 3] as number) << 16) | ((b[o + 4] as number) << 8) | (b[o + 5] as number);
  return fmix32(Math.imul(high, 0x01000193) ^ low);
}

/** MAC -> small integer, open addressing over 6-byte keys; built once. */
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

export interface RateLimit {
  /** Frames per second a sender may put on the punt path. */
  rate: number;
  /** Frames a sender may send at once after a quiet spell. */
  burst: number;
}

/** The default: well above what any real client sends (a DHCPv6 exchange, RS, NS are a few frames). */
export const DEFAULT_RATE_LIMIT: RateLimit = { rate: 200, burst: 400 };

export class SenderRateLimiter {
  readonly limit: RateLimit;
  private readonly ports: MacTable;
  private readonly portCount: number;
  private readonly interfaces: number;
  private readonly tokens: Float64Array;
  private readonly stamps: Float64Array;

  /** `portMacs[i]` is port i's MAC. */
  constructor(portMacs: readonly Uint8Array[], interfaces: number, limit: RateLimit = DEFAULT_RATE_LIMIT) {
    if (!(limit.rate > 0) || !(limit.burst >= 1)) throw new RangeError('rate limit: rate must be > 0 and burst >= 1');
    this.limit = limit;
    this.ports = new MacTable(portMacs.map((mac, value) => ({ mac, value })));
    this.portCount = portMacs.length;
    this.interfaces = Math.max(1, interfaces);
    const n = this.portCount + this.interfaces * SHARED_SLOTS;
    this.tokens = new Float64Array(n).fill(limit.burst);
    this.stamps = new Float64Array(n).fill(-Infinity);
  }

  /** The bucket of the sender at b[o] arriving on interface `ifIndex`. */
  bucketOf(b: Uint8Array, o: number, ifIndex: number): number {
    const port = this.ports.lookup(b, o);
    if (port >= 0) return port;
    const i = ifIndex >= 0 && ifIndex < this.interfaces ? ifIndex : 0;
    return this.portCount + i * SHARED_SLOTS + (hash6(b, o) & (SHARED_SLOTS - 1));
  }

  /** Takes one token for the sender at b[o]; false when its bucket is empty. `now` in ms. */
  admit(b: Uint8Array, o: number, ifIndex: number, now: number): boolean {
    const k = this.bucketOf(b, o, ifIndex);
    const last = this.stamps[k] as number;
    let t = this.tokens[k] as number;
    if (now > last) {
      t = Math.min(this.limit.burst, t + ((now - last) * this.limit.rate) / 1000);
      this.stamps[k] = now;
    }
    if (t < 1) {
      this.tokens[k] = t;
      return false;
    }
    this.tokens[k] = t - 1;
    return true;
  }
}
