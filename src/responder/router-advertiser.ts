/**
 * Router Advertisements of one network (RFC 4861 §6.2): the RA message built once from the
 * configuration (a template whose checksum is finished per destination from a precomputed sum),
 * the timing of periodic unsolicited RAs (§6.2.4), the rate limit on multicast answers to
 * Router Solicitations from `::` (§6.2.6), and the final RAs with router lifetime 0 (§6.2.5).
 *
 * Constants (RFC 4861 §10):
 *   MAX_INITIAL_RTR_ADVERT_INTERVAL 16 s, MAX_INITIAL_RTR_ADVERTISEMENTS 3,
 *   MIN_DELAY_BETWEEN_RAS 3 s, MAX_RA_DELAY_TIME 0.5 s, MAX_FINAL_RTR_ADVERTISEMENTS 3.
 */

import { setU16 } from '../../codecs/bytes.js';
import { fold, sumWords } from '../../codecs/checksum.js';
import { emitRouterAdvertisement, routerAdvertisementLength } from '../../codecs/ndp.js';
import type { RuntimeNetwork, RuntimeRouterAdvertisements } from './runtime.js';

export const MAX_INITIAL_RTR_ADVERT_INTERVAL_MS = 16_000;
export const MAX_INITIAL_RTR_ADVERTISEMENTS = 3;
export const MIN_DELAY_BETWEEN_RAS_MS = 3_000;
export const MAX_RA_DELAY_TIME_MS = 500;
export const MAX_FINAL_RTR_ADVERTISEMENTS = 3;

/** A small seeded generator, so replays with a fixed seed schedule RAs identically. */
export class Random {
  private state: number;
  constructor(seed: number = Date.now()) {
    // Scramble the seed (murmur3 fmix32): xorshift from a small state such as 1..1000 would
    // start with draws close to 0 (an RA delay of 0 ms for every small seed).
    let h = seed >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    this.state = h >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return x / 0x100000000;
  }
}

export class RouterAdvertiser {
  readonly network: RuntimeNetwork;
  readonly settings: RuntimeRouterAdvertisements;
  /** The RA ICMPv6 message, checksum field zero. */
  readonly message: Uint8Array;
  /** Sum of the message's 16-bit words plus the pseudo-header's length and next header. */
  private readonly partialSum: number;
  private readonly linkLocalSum: number;
  private readonly random: Random;

  /** When the next periodic RA is due (ms), or Infinity when none are sent. */
  nextPeriodicAt = Infinity;
  /** Periodic RAs were started (start()) and are configured (`unsolicited`). */
  periodic = false;
  /** When a rate-limited multicast answer to an RS is due (ms), or Infinity. */
  pendingMulticastAt = Infinity;
  lastMulticastAt = -Infinity;
  initialSent = 0;
  sent = 0;

  constructor(network: RuntimeNetwork, settings: RuntimeRouterAdvertisements, random: Random) {
    this.network = network;
    this.settings = settings;
    this.random = random;
    this.message = new Uint8Array(routerAdvertisementLength(settings.advertisement));
    emitRouterAdvertisement(settings.advertisement, this.message, 0);
    this.message[2] = 0;
    this.message[3] = 0;
    const len = this.message.length;
    this.partialSum = sumWords(this.message, 0, len) + len + 58;
    this.linkLocalSum = sumWords(network.routerLinkLocal, 0, 16);
  }

  /** Starts periodic advertising at `now` (the first RA goes out after a short random delay). */
  start(now: number): void {
    if (!this.settings.unsolicited) return;
    this.periodic = true;
    this.nextPeriodicAt = now + Math.floor(this.random.next() * MAX_RA_DELAY_TIME_MS);
  }

  /**
   * Writes the RA message at b[o] for the destination address at d[dOff] (source: the router's
   * link-local address), checksum finished. Returns its length.
   */
  writeMessage(b: Uint8Array, o: number, d: Uint8Array, dOff: number, routerLifetime = -1): number {
    const m = this.message;
    b.set(m, o); // the whole template: a native copy, nothing allocated
    let sum = this.partialSum + this.linkLocalSum + sumWords(d, dOff, 16);
    if (routerLifetime >= 0) {
      sum -= (((m[6] as number) << 8) | (m[7] as number)) - routerLifetime;
      setU16(b, o + 6, routerLifetime);
    }
    const c = 0xffff - fold(sum);
    b[o + 2] = c >>> 8;
    b[o + 3] = c & 0xff;
    return m.length;
  }

  /**
   * An RS from `::` asks for a multicast RA (RFC 4861 §6.2.6): schedule one after a random
   * delay up to MAX_RA_DELAY_TIME; when a multicast RA went out within the last
   * MIN_DELAY_BETWEEN_RAS, the delay counts from MIN_DELAY_BETWEEN_RAS after that RA instead.
   * Nothing is scheduled when a multicast RA (periodic or pending) is due by then anyway.
   */
  scheduleMulticastAnswer(now: number): void {
    const delay = Math.floor(this.random.next() * MAX_RA_DELAY_TIME_MS);
    const at =
      now - this.lastMulticastAt < MIN_DELAY_BETWEEN_RAS_MS
        ? this.lastMulticastAt + MIN_DELAY_BETWEEN_RAS_MS + delay
        : now + delay;
    if (at >= this.nextPeriodicAt) return; // the periodic RA will do
    if (at < this.pendingMulticastAt) this.pendingMulticastAt = at;
  }

  /** The earliest time something is due. */
  nextDue(): number {
    return Math.min(this.nextPeriodicAt, this.pendingMulticastAt);
  }

  /** True when a multicast RA is due at `now`; records it as sent and schedules the next one. */
  takeDue(now: number): boolean {
    if (now < this.nextPeriodicAt && now < this.pendingMulticastAt) return false;
    const wasPeriodic = now >= this.nextPeriodicAt;
    this.lastMulticastAt = now;
    this.pendingMulticastAt = Infinity;
    this.sent++;
    // Any multicast RA resets the periodic timer (RFC 4861 §6.2.4, §6.2.6); without periodic
    // RAs (not started, or `unsolicited` off) a solicited one must not start them.
    if (wasPeriodic || this.periodic) this.scheduleNextPeriodic(now);
    return true;
  }

  private scheduleNextPeriodic(now: number): void {
    if (!this.periodic) {
      this.nextPeriodicAt = Infinity;
      return;
    }
    const min = this.settings.minInterval * 1000;
    const max = this.settings.maxInterval * 1000;
    let interval = min + this.random.next() * (max - min);
    if (this.initialSent < MAX_INITIAL_RTR_ADVERTISEMENTS) {
      this.initialSent++;
      if (interval > MAX_INITIAL_RTR_ADVERT_INTERVAL_MS) interval = MAX_INITIAL_RTR_ADVERT_INTERVAL_MS;
    }
    this.nextPeriodicAt = now + Math.floor(interval);
  }
}
