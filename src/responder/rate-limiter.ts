/**
 * punt6's own per-sender token bucket on the punt path: the second line behind the OVS meter
 * (docs/flows.md), so that one VM flooding RS, NS or DHCPv6 cannot starve the others even when
 * the switch meters nothing. Senders are told apart by source MAC: a configured port's MAC gets
 * its own bucket; unknown MACs share one bucket per (interface, MAC hash slot) so that a flood of
 * random source MACs cannot fill memory.
 *
 * Tokens are frames: `rate` per second up to `burst`. Allocation-free: the buckets are typed
 * arrays sized at construction; port MACs are found through a MacTable (src/tables/mac-table.ts).
 */

import { MacTable, hash6 } from '../tables/mac-table.js';

export { MacTable } from '../tables/mac-table.js';

/** Buckets for unknown MACs, per interface (a power of two). */
const SHARED_SLOTS = 256;

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
