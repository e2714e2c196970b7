/**
 * Counters of the punt path: per ingress port, per message kind, per outcome (answered, or the
 * reason a frame was dropped), in one Float64Array so the hot path only adds one to a slot.
 *
 * A kind is named in code as its message is in the codecs (`NeighborSolicitation`, as
 * `Icmpv6Type.NeighborSolicitation`), and in counters, metrics and `punt6 replay` tables by its
 * label (`ns`): the labels are what operators scrape and read (docs/operations.md), and they
 * stay as they are.
 */

export const MessageKind = {
  Other: 0,
  NeighborSolicitation: 1,
  NeighborAdvertisement: 2,
  RouterSolicitation: 3,
  RouterAdvertisement: 4,
  Redirect: 5,
  EchoRequest: 6,
  EchoReply: 7,
  InverseNeighborSolicitation: 8,
  InverseNeighborAdvertisement: 9,
  MulticastRouterSolicitation: 10,
  MulticastRouterAdvertisement: 11,
  Dhcpv6Solicit: 12,
  Dhcpv6Request: 13,
  Dhcpv6Confirm: 14,
  Dhcpv6Renew: 15,
  Dhcpv6Rebind: 16,
  Dhcpv6Release: 17,
  Dhcpv6Decline: 18,
  Dhcpv6InformationRequest: 19,
  Dhcpv6RelayForward: 20,
  Dhcpv6Other: 21,
  /** A frame the decoder refused before it knew the message (any status but Ok). */
  Undecodable: 22,
} as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** The label of each kind, by its value. */
export const messageKindNames = [
  'other',
  'ns',
  'na',
  'rs',
  'ra',
  'redirect',
  'echo-request',
  'echo-reply',
  'inverse-ns',
  'inverse-na',
  'mrd-solicitation',
  'mrd-advertisement',
  'dhcpv6-solicit',
  'dhcpv6-request',
  'dhcpv6-confirm',
  'dhcpv6-renew',
  'dhcpv6-rebind',
  'dhcpv6-release',
  'dhcpv6-decline',
  'dhcpv6-information-request',
  'dhcpv6-relay-forw',
  'dhcpv6-other',
  'undecodable',
] as const;

export const Outcome = {
  /** A reply was written. */
  Answered: 0,
  /** Accepted; the answer is sent later (a rate-limited multicast RA). */
  Deferred: 1,
  Truncated: 2,
  Malformed: 3,
  BadChecksum: 4,
  Unsupported: 5,
  /** Failed an RFC validation rule (hop limit, code, option rules…). */
  Invalid: 6,
  /** For an address punt6 does not own, or a MAC it does not know. */
  NotOurs: 7,
  /** An NS from a port for that port's own address (its own DAD). */
  OwnAddress: 8,
  /** Sent by punt6 itself, or from a multicast or broadcast source MAC. */
  BadSource: 9,
  /** A fragment (never answered). */
  Fragment: 10,
  /**
   * Nothing on that link answers this kind: the port or VLAN is mapped to no network, or the
   * network does not answer it (no RAs, MRD or DHCPv6 configured; RAs stopped).
   */
  NoService: 11,
  /** A DHCPv6 message that RFC 9915 says to discard. */
  Discarded: 12,
  /** Dropped by a rate limit. */
  RateLimited: 13,
  /** Not a message punt6 answers (an NA, an RA, a DHCPv6 server message…). */
  Ignored: 14,
  /** A DAD NS for an address assigned to another port: defended (also counted as Answered). */
  Conflict: 15,
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export const outcomeNames = [
  'answered',
  'deferred',
  'truncated',
  'malformed',
  'bad-checksum',
  'unsupported',
  'invalid',
  'not-ours',
  'own-address',
  'bad-source',
  'fragment',
  'no-service',
  'discarded',
  'rate-limited',
  'ignored',
  'conflict',
] as const;

const KINDS = messageKindNames.length;
const OUTCOMES = outcomeNames.length;

export class Counters {
  readonly ports: number;
  readonly values: Float64Array;

  constructor(ports: number) {
    this.ports = Math.max(1, ports);
    this.values = new Float64Array(this.ports * KINDS * OUTCOMES);
  }

  add(port: number, kind: MessageKind, outcome: Outcome): void {
    const p = port >= 0 && port < this.ports ? port : 0;
    const i = (p * KINDS + kind) * OUTCOMES + outcome;
    this.values[i] = (this.values[i] as number) + 1;
  }

  get(port: number, kind: MessageKind, outcome: Outcome): number {
    return this.values[(port * KINDS + kind) * OUTCOMES + outcome] as number;
  }

  /** Sum over ports. */
  total(kind: MessageKind, outcome: Outcome): number {
    let s = 0;
    for (let p = 0; p < this.ports; p++) s += this.get(p, kind, outcome);
    return s;
  }

  /** Frames seen of a kind (every outcome except the extra Conflict mark). */
  seen(kind: MessageKind): number {
    let s = 0;
    for (let o = 0; o < OUTCOMES; o++) if (o !== Outcome.Conflict) s += this.total(kind, o as Outcome);
    return s;
  }

  /** Non-zero rows as plain objects, for tables, metrics and tests. */
  rows(): { port: number; kind: string; outcome: string; count: number }[] {
    const out: { port: number; kind: string; outcome: string; count: number }[] = [];
    for (let p = 0; p < this.ports; p++) {
      for (let k = 0; k < KINDS; k++) {
        for (let o = 0; o < OUTCOMES; o++) {
          const v = this.values[(p * KINDS + k) * OUTCOMES + o] as number;
          if (v > 0)
            out.push({ port: p, kind: messageKindNames[k] as string, outcome: outcomeNames[o] as string, count: v });
        }
      }
    }
    return out;
  }

  reset(): void {
    this.values.fill(0);
  }
}
