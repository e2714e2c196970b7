/**
 * Router Advertisements (RFC 4861 §6.2). Per network, a RouterAdvertiser: the RA message built
 * once from the configuration (a template whose checksum is finished per destination from a
 * precomputed sum), the timing of periodic unsolicited RAs (§6.2.4) and the rate limit on
 * multicast answers to Router Solicitations from `::` (§6.2.6). Over every network,
 * MulticastAdvertisements sends the multicast RAs when due, on every link of their network, and
 * the final RAs with router lifetime 0 (§6.2.5).
 *
 * Constants (RFC 4861 §10):
 *   MAX_INITIAL_RTR_ADVERT_INTERVAL 16 s, MAX_INITIAL_RTR_ADVERTISEMENTS 3,
 *   MIN_DELAY_BETWEEN_RAS 3 s, MAX_RA_DELAY_TIME 0.5 s, MAX_FINAL_RTR_ADVERTISEMENTS 3.
 */

import { setU16, u16 } from '../../codecs/bytes.js';
import { fold, sumWords } from '../../codecs/checksum.js';
import { emitEthernet, EtherType, ipv6MulticastMac, type EthernetRepr } from '../../codecs/ethernet.js';
import { Icmpv6Field } from '../../codecs/icmpv6.js';
import { ALL_NODES, emitIpv6, IPV6_HEADER_LENGTH, IpProtocol, type Ipv6Repr } from '../../codecs/ipv6.js';
import {
  emitRouterAdvertisement,
  ND_HOP_LIMIT,
  routerAdvertisementLength,
  RouterAdvertisementField,
} from '../../codecs/ndp.js';
import { TX_SIZE, type FrameSink } from './reply.js';
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

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const routerAdvertisementField = RouterAdvertisementField;
const icmpv6Field = Icmpv6Field;

export class RouterAdvertiser {
  readonly network: RuntimeNetwork;
  readonly settings: RuntimeRouterAdvertisements;
  /** The RA ICMPv6 message, checksum field zero (as the emitter leaves it). */
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
    const len = this.message.length;
    this.partialSum = sumWords(this.message, 0, len) + len + IpProtocol.Icmpv6;
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
      sum -= u16(m, routerAdvertisementField.RouterLifetime) - routerLifetime;
      setU16(b, o + routerAdvertisementField.RouterLifetime, routerLifetime);
    }
    setU16(b, o + icmpv6Field.Checksum, 0xffff - fold(sum));
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

/** A link a network is reached on: a punt interface, and the VLAN id its frames carry (or NO_VLAN). */
export interface NetworkLink {
  ifIndex: number;
  vlan: number;
}

const ALL_NODES_MAC = ipv6MulticastMac(ALL_NODES);

/** A network that sends RAs: its advertiser and the headers of its multicast RAs, per link. */
interface Advertising {
  ra: RouterAdvertiser;
  ipv6: Ipv6Repr;
  links: { ifIndex: number; ethernet: EthernetRepr }[];
}

/**
 * The multicast RAs of every network that sends RAs: the periodic ones and the delayed answers to
 * Router Solicitations from `::`, each sent to ff02::1 from the router's link-local address on
 * every link of its network through the sink when due, and the final ones with router lifetime 0
 * (RFC 4861 §6.2.5), after which none goes out.
 */
export class MulticastAdvertisements {
  /** The final RAs went out: no multicast RA follows, and RAs that answer an RS say lifetime 0. */
  stopped = false;
  private readonly networks: Advertising[] = [];
  private readonly scratch = new Uint8Array(TX_SIZE);
  private readonly sink: FrameSink;

  /** `links[i]` are the links of `networks[i]`; the headers of every RA are built here, once. */
  constructor(
    networks: readonly { net: RuntimeNetwork; ra: RouterAdvertiser | undefined }[],
    links: readonly (readonly NetworkLink[])[],
    sink: FrameSink,
  ) {
    this.sink = sink;
    networks.forEach(({ net, ra }, i) => {
      if (ra === undefined) return;
      this.networks.push({
        ra,
        ipv6: {
          source: net.routerLinkLocal,
          destination: ALL_NODES,
          nextHeader: IpProtocol.Icmpv6,
          hopLimit: ND_HOP_LIMIT,
          payloadLength: ra.message.length,
        },
        links: (links[i] ?? []).map((l) => ({
          ifIndex: l.ifIndex,
          ethernet: { destination: ALL_NODES_MAC, source: net.routerMac, etherType: EtherType.Ipv6, vlanId: l.vlan },
        })),
      });
    });
  }

  /** Starts the periodic RAs of every network that sends them. */
  start(now: number): void {
    for (const n of this.networks) n.ra.start(now);
  }

  /**
   * Sends whatever RAs are due at `now`; returns the time (ms) of the next thing due, or
   * Infinity.
   */
  poll(now: number): number {
    let next = Infinity;
    for (const n of this.networks) {
      if (!this.stopped && n.ra.takeDue(now)) this.send(n, -1);
      next = Math.min(next, n.ra.nextDue());
    }
    return this.stopped ? Infinity : next;
  }

  /**
   * One round of final RAs (router lifetime 0) on every link of every network, and no periodic
   * RAs after it. The caller repeats it up to MAX_FINAL_RTR_ADVERTISEMENTS times. Returns the
   * frames sent.
   */
  sendFinal(): number {
    this.stopped = true;
    let frames = 0;
    for (const n of this.networks) frames += this.send(n, 0);
    return frames;
  }

  /** A multicast RA on every link of the network (router lifetime as writeMessage takes it); returns frames sent. */
  private send(n: Advertising, routerLifetime: number): number {
    const b = this.scratch;
    for (const link of n.links) {
      const ip = emitEthernet(link.ethernet, b, 0);
      emitIpv6(n.ipv6, b, ip);
      const len = n.ra.writeMessage(b, ip + IPV6_HEADER_LENGTH, ALL_NODES, 0, routerLifetime);
      this.sink(link.ifIndex, b, 0, ip + IPV6_HEADER_LENGTH + len);
    }
    return n.links.length;
  }
}
