/**
 * Neighbor Discovery messages (RFC 4861 §4): Router Solicitation (§4.1), Router Advertisement
 * (§4.2, with the RFC 4191 §2.2 default router preference, the RFC 6275 §7.1 home agent flag and
 * the RFC 4389 §4.1.3.3 proxy flag), Neighbor Solicitation (§4.3), Neighbor Advertisement (§4.4)
 * and Redirect (§4.5). Options follow the fixed part; see `ndp-options.ts`.
 *
 * ```text
 * Router Solicitation (133), fixed part 8 bytes:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            Reserved                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Options ...
 *
 * Router Advertisement (134), fixed part 16 bytes:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Cur Hop Limit |M|O|H|Prf|P|Rsv|       Router Lifetime         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Reachable Time                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Retrans Timer                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Options ...
 *
 * Neighbor Solicitation (135) / Advertisement (136), fixed part 24 bytes:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|S|O|                     Reserved (NS: all reserved)         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * +                       Target Address (16)                     +
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Options ...
 *
 * Redirect (137), fixed part 40 bytes:
 * |     Type      |     Code      |          Checksum             |
 * |                           Reserved                            |
 * +                       Target Address (16)                     +
 * +                     Destination Address (16)                  +
 * |   Options ...
 * ```
 *
 * A view's check() proves the fixed part is there, the type is the view's and the code is 0
 * (RFC 4861 §6.1, §7.1, §8.1); it does not walk the options (use `NdpOptionCursor`, or
 * `validateIcmpv6` in `icmpv6.ts` for the whole message). Emit functions write the checksum as
 * 0: fill it with `fillIcmpv6Checksum` once the IPv6 header is in place. `parseX` gives the Repr
 * of a message that passed `validateIcmpv6` (edges and tests only: they allocate).
 */

import { copyAddr, fillZero, setU16, setU32, sliceBytes, u16, u32 } from './bytes.js';
import { ICMPV6_FIXED_LENGTH, Icmpv6Field, Icmpv6Type, Icmpv6View, checkLength } from './icmpv6-header.js';
import { emitNdpOptions, ndpOptionsLength, readNdpOptions, type NdpOptionRepr } from './ndp-options.js';
import { Rule, Status } from './status.js';

export const ROUTER_SOLICITATION_LENGTH = 8;
export const ROUTER_ADVERTISEMENT_LENGTH = 16;
export const NEIGHBOR_SOLICITATION_LENGTH = 24;
export const NEIGHBOR_ADVERTISEMENT_LENGTH = 24;
export const REDIRECT_LENGTH = 40;

/**
 * The IP hop limit every ND message is sent with and must arrive with (RFC 4861 §6.1.1, §6.1.2,
 * §7.1.1, §7.1.2, §8.1; Inverse ND too, RFC 3122 §2.1, §2.2): a router would have decremented it.
 */
export const ND_HOP_LIMIT = 255;

/** Router Advertisement fields (RFC 4861 §4.2), from the message's first byte. */
export const RouterAdvertisementField = {
  CurHopLimit: 4,
  Flags: 5,
  RouterLifetime: 6,
  ReachableTime: 8,
  RetransTimer: 12,
} as const;

/** Neighbor Solicitation and Advertisement fields (RFC 4861 §4.3, §4.4); an NS's flags are reserved. */
export const NeighborField = { Flags: 4, Target: 8 } as const;

/** Redirect fields (RFC 4861 §4.5). */
export const RedirectField = { Target: 8, Destination: 24 } as const;

/** Router Advertisement flag bits (byte 5). */
export const RouterAdvertisementFlag = {
  Managed: 0x80,
  Other: 0x40,
  HomeAgent: 0x20,
  /** Two-bit default router preference (RFC 4191 §2.2), see RouterPreference. */
  PreferenceMask: 0x18,
  Proxy: 0x04,
} as const;

/** Neighbor Advertisement flag bits (byte 4). */
export const NeighborAdvertisementFlag = {
  Router: 0x80,
  Solicited: 0x40,
  Override: 0x20,
} as const;

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const icmpv6Field = Icmpv6Field;
const { Ok } = Status;

/**
 * The fixed part of an ND (or Inverse ND) message: at least `fixedLength` bytes, type
 * `messageType`, code 0. Options run from optionsOffset to optionsEnd.
 */
export class NdMessageView extends Icmpv6View {
  protected readonly messageType: number;
  protected readonly fixedLength: number;

  /**
   * Subclasses name their type and fixed length; a plain NdMessageView built with them is what
   * the validator uses, so that one call site sees one object shape whatever the type.
   */
  constructor(messageType: number, fixedLength: number) {
    super();
    this.messageType = messageType;
    this.fixedLength = fixedLength;
  }

  override check(): Status {
    // The usual case tested inline; checkLength says where and why otherwise.
    if (this.off < 0 || this.len < this.fixedLength || this.len > this.buf.length - this.off) {
      const s = checkLength(this, this.fixedLength, 'message shorter than its fixed part');
      if (s !== Ok) return s;
    }
    // In bounds: len >= fixedLength >= 8.
    if ((this.buf[this.off + icmpv6Field.Type] as number) !== this.messageType)
      return this.fail(Status.Malformed, this.off, 'message of another ICMPv6 type', Rule.Value);
    if (this.buf[this.off + icmpv6Field.Code] !== 0)
      return this.fail(Status.Malformed, this.off + icmpv6Field.Code, 'ICMPv6 code is not 0', Rule.Code);
    return Ok;
  }

  get optionsOffset(): number {
    return this.off + this.fixedLength;
  }
  get optionsEnd(): number {
    return this.off + this.len;
  }
}

export class RouterSolicitationView extends NdMessageView {
  constructor() {
    super(Icmpv6Type.RouterSolicitation, ROUTER_SOLICITATION_LENGTH);
  }
}

export class RouterAdvertisementView extends NdMessageView {
  constructor() {
    super(Icmpv6Type.RouterAdvertisement, ROUTER_ADVERTISEMENT_LENGTH);
  }

  /** 0 means unspecified. */
  get curHopLimit(): number {
    return this.buf[this.off + RouterAdvertisementField.CurHopLimit] as number;
  }
  set curHopLimit(v: number) {
    this.buf[this.off + RouterAdvertisementField.CurHopLimit] = v;
  }
  /** The whole flags byte. */
  get flags(): number {
    return this.buf[this.off + RouterAdvertisementField.Flags] as number;
  }
  set flags(v: number) {
    this.buf[this.off + RouterAdvertisementField.Flags] = v;
  }
  get managed(): boolean {
    return ((this.buf[this.off + RouterAdvertisementField.Flags] as number) & RouterAdvertisementFlag.Managed) !== 0;
  }
  get other(): boolean {
    return ((this.buf[this.off + RouterAdvertisementField.Flags] as number) & RouterAdvertisementFlag.Other) !== 0;
  }
  get homeAgent(): boolean {
    return ((this.buf[this.off + RouterAdvertisementField.Flags] as number) & RouterAdvertisementFlag.HomeAgent) !== 0;
  }
  get proxy(): boolean {
    return ((this.buf[this.off + RouterAdvertisementField.Flags] as number) & RouterAdvertisementFlag.Proxy) !== 0;
  }
  /** Two-bit default router preference (RouterPreference in ndp-options.ts). */
  get preference(): number {
    return ((this.buf[this.off + RouterAdvertisementField.Flags] as number) >>> 3) & 3;
  }
  /** Seconds; 0 = not a default router. */
  get routerLifetime(): number {
    return u16(this.buf, this.off + RouterAdvertisementField.RouterLifetime);
  }
  set routerLifetime(v: number) {
    setU16(this.buf, this.off + RouterAdvertisementField.RouterLifetime, v);
  }
  /** Milliseconds; 0 = unspecified. */
  get reachableTime(): number {
    return u32(this.buf, this.off + RouterAdvertisementField.ReachableTime);
  }
  set reachableTime(v: number) {
    setU32(this.buf, this.off + RouterAdvertisementField.ReachableTime, v);
  }
  /** Milliseconds; 0 = unspecified. */
  get retransTimer(): number {
    return u32(this.buf, this.off + RouterAdvertisementField.RetransTimer);
  }
  set retransTimer(v: number) {
    setU32(this.buf, this.off + RouterAdvertisementField.RetransTimer, v);
  }
}

export class NeighborSolicitationView extends NdMessageView {
  constructor() {
    super(Icmpv6Type.NeighborSolicitation, NEIGHBOR_SOLICITATION_LENGTH);
  }

  get targetOffset(): number {
    return this.off + NeighborField.Target;
  }
}

export class NeighborAdvertisementView extends NdMessageView {
  constructor() {
    super(Icmpv6Type.NeighborAdvertisement, NEIGHBOR_ADVERTISEMENT_LENGTH);
  }

  get flags(): number {
    return this.buf[this.off + NeighborField.Flags] as number;
  }
  set flags(v: number) {
    this.buf[this.off + NeighborField.Flags] = v;
  }
  get router(): boolean {
    return ((this.buf[this.off + NeighborField.Flags] as number) & NeighborAdvertisementFlag.Router) !== 0;
  }
  get solicited(): boolean {
    return ((this.buf[this.off + NeighborField.Flags] as number) & NeighborAdvertisementFlag.Solicited) !== 0;
  }
  get override(): boolean {
    return ((this.buf[this.off + NeighborField.Flags] as number) & NeighborAdvertisementFlag.Override) !== 0;
  }
  get targetOffset(): number {
    return this.off + NeighborField.Target;
  }
}

export class RedirectView extends NdMessageView {
  constructor() {
    super(Icmpv6Type.Redirect, REDIRECT_LENGTH);
  }

  /** The better first hop. */
  get targetOffset(): number {
    return this.off + RedirectField.Target;
  }
  /** The destination being redirected. */
  get destinationOffset(): number {
    return this.off + RedirectField.Destination;
  }
}

// ---- Reprs and emit ----

export interface RouterSolicitationRepr {
  options: NdpOptionRepr[];
}

export interface RouterAdvertisementRepr {
  curHopLimit: number;
  managed: boolean;
  other: boolean;
  homeAgent?: boolean;
  proxy?: boolean;
  /** RouterPreference (two bits). */
  preference: number;
  routerLifetime: number;
  reachableTime: number;
  retransTimer: number;
  options: NdpOptionRepr[];
}

export interface NeighborSolicitationRepr {
  target: Uint8Array;
  options: NdpOptionRepr[];
}

export interface NeighborAdvertisementRepr {
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: Uint8Array;
  options: NdpOptionRepr[];
}

export interface RedirectRepr {
  target: Uint8Array;
  destination: Uint8Array;
  options: NdpOptionRepr[];
}

function emitHeader(b: Uint8Array, o: number, type: number, fixedLength: number): void {
  fillZero(b, o, fixedLength);
  b[o + Icmpv6Field.Type] = type;
}

export function routerSolicitationLength(r: RouterSolicitationRepr): number {
  return ROUTER_SOLICITATION_LENGTH + ndpOptionsLength(r.options);
}

export function emitRouterSolicitation(r: RouterSolicitationRepr, b: Uint8Array, o: number): number {
  emitHeader(b, o, Icmpv6Type.RouterSolicitation, ROUTER_SOLICITATION_LENGTH);
  return ROUTER_SOLICITATION_LENGTH + emitNdpOptions(r.options, b, o + ROUTER_SOLICITATION_LENGTH);
}

export function routerAdvertisementLength(r: RouterAdvertisementRepr): number {
  return ROUTER_ADVERTISEMENT_LENGTH + ndpOptionsLength(r.options);
}

export function emitRouterAdvertisement(r: RouterAdvertisementRepr, b: Uint8Array, o: number): number {
  emitHeader(b, o, Icmpv6Type.RouterAdvertisement, ROUTER_ADVERTISEMENT_LENGTH);
  b[o + RouterAdvertisementField.CurHopLimit] = r.curHopLimit;
  b[o + RouterAdvertisementField.Flags] =
    (r.managed ? RouterAdvertisementFlag.Managed : 0) |
    (r.other ? RouterAdvertisementFlag.Other : 0) |
    (r.homeAgent === true ? RouterAdvertisementFlag.HomeAgent : 0) |
    ((r.preference & 3) << 3) |
    (r.proxy === true ? RouterAdvertisementFlag.Proxy : 0);
  setU16(b, o + RouterAdvertisementField.RouterLifetime, r.routerLifetime);
  setU32(b, o + RouterAdvertisementField.ReachableTime, r.reachableTime);
  setU32(b, o + RouterAdvertisementField.RetransTimer, r.retransTimer);
  return ROUTER_ADVERTISEMENT_LENGTH + emitNdpOptions(r.options, b, o + ROUTER_ADVERTISEMENT_LENGTH);
}

export function neighborSolicitationLength(r: NeighborSolicitationRepr): number {
  return NEIGHBOR_SOLICITATION_LENGTH + ndpOptionsLength(r.options);
}

export function emitNeighborSolicitation(r: NeighborSolicitationRepr, b: Uint8Array, o: number): number {
  emitHeader(b, o, Icmpv6Type.NeighborSolicitation, NEIGHBOR_SOLICITATION_LENGTH);
  copyAddr(r.target, 0, b, o + NeighborField.Target);
  return NEIGHBOR_SOLICITATION_LENGTH + emitNdpOptions(r.options, b, o + NEIGHBOR_SOLICITATION_LENGTH);
}

export function neighborAdvertisementLength(r: NeighborAdvertisementRepr): number {
  return NEIGHBOR_ADVERTISEMENT_LENGTH + ndpOptionsLength(r.options);
}

export function emitNeighborAdvertisement(r: NeighborAdvertisementRepr, b: Uint8Array, o: number): number {
  emitHeader(b, o, Icmpv6Type.NeighborAdvertisement, NEIGHBOR_ADVERTISEMENT_LENGTH);
  b[o + NeighborField.Flags] = neighborAdvertisementFlags(r.router, r.solicited, r.override);
  copyAddr(r.target, 0, b, o + NeighborField.Target);
  return NEIGHBOR_ADVERTISEMENT_LENGTH + emitNdpOptions(r.options, b, o + NEIGHBOR_ADVERTISEMENT_LENGTH);
}

export function neighborAdvertisementFlags(router: boolean, solicited: boolean, override: boolean): number {
  return (
    (router ? NeighborAdvertisementFlag.Router : 0) |
    (solicited ? NeighborAdvertisementFlag.Solicited : 0) |
    (override ? NeighborAdvertisementFlag.Override : 0)
  );
}

/**
 * Hot-path form of a Neighbor Advertisement's fixed part: the target copied from t[tOff], no
 * options (append a Target Link-Layer Address option with `emitLinkLayerAddressOption`). Returns
 * 24; the checksum is left 0.
 */
export function emitNeighborAdvertisementHeader(
  flags: number,
  t: Uint8Array,
  tOff: number,
  b: Uint8Array,
  o: number,
): number {
  emitHeader(b, o, Icmpv6Type.NeighborAdvertisement, NeighborField.Target);
  b[o + NeighborField.Flags] = flags;
  copyAddr(t, tOff, b, o + NeighborField.Target);
  return NEIGHBOR_ADVERTISEMENT_LENGTH;
}

export function redirectLength(r: RedirectRepr): number {
  return REDIRECT_LENGTH + ndpOptionsLength(r.options);
}

export function emitRedirect(r: RedirectRepr, b: Uint8Array, o: number): number {
  emitHeader(b, o, Icmpv6Type.Redirect, REDIRECT_LENGTH);
  copyAddr(r.target, 0, b, o + RedirectField.Target);
  copyAddr(r.destination, 0, b, o + RedirectField.Destination);
  return REDIRECT_LENGTH + emitNdpOptions(r.options, b, o + REDIRECT_LENGTH);
}

// ---- Parse (edges: these allocate) ----
//
// Each takes a message that passed validateIcmpv6 (its view's check() and the option walk), so
// every fixed field is in bounds; options are read with readNdpOptions, which stops at the first
// bad one and never reads at or past off + len. Emitting the result gives the same bytes except
// reserved fields and option padding (and the checksum, which emit leaves 0).

export function parseRouterSolicitation(b: Uint8Array, off: number, len: number): RouterSolicitationRepr {
  return { options: readNdpOptions(b, off + ROUTER_SOLICITATION_LENGTH, off + len) };
}

export function parseRouterAdvertisement(b: Uint8Array, off: number, len: number): RouterAdvertisementRepr {
  // In bounds: len >= 16.
  const f = b[off + RouterAdvertisementField.Flags] as number;
  return {
    curHopLimit: b[off + RouterAdvertisementField.CurHopLimit] as number,
    managed: (f & RouterAdvertisementFlag.Managed) !== 0,
    other: (f & RouterAdvertisementFlag.Other) !== 0,
    homeAgent: (f & RouterAdvertisementFlag.HomeAgent) !== 0,
    proxy: (f & RouterAdvertisementFlag.Proxy) !== 0,
    preference: (f >>> 3) & 3,
    routerLifetime: u16(b, off + RouterAdvertisementField.RouterLifetime),
    reachableTime: u32(b, off + RouterAdvertisementField.ReachableTime),
    retransTimer: u32(b, off + RouterAdvertisementField.RetransTimer),
    options: readNdpOptions(b, off + ROUTER_ADVERTISEMENT_LENGTH, off + len),
  };
}

export function parseNeighborSolicitation(b: Uint8Array, off: number, len: number): NeighborSolicitationRepr {
  // In bounds: len >= 24.
  return {
    target: sliceBytes(b, off + NeighborField.Target, off + NeighborField.Target + 16),
    options: readNdpOptions(b, off + NEIGHBOR_SOLICITATION_LENGTH, off + len),
  };
}

export function parseNeighborAdvertisement(b: Uint8Array, off: number, len: number): NeighborAdvertisementRepr {
  // In bounds: len >= 24.
  const f = b[off + NeighborField.Flags] as number;
  return {
    router: (f & NeighborAdvertisementFlag.Router) !== 0,
    solicited: (f & NeighborAdvertisementFlag.Solicited) !== 0,
    override: (f & NeighborAdvertisementFlag.Override) !== 0,
    target: sliceBytes(b, off + NeighborField.Target, off + NeighborField.Target + 16),
    options: readNdpOptions(b, off + NEIGHBOR_ADVERTISEMENT_LENGTH, off + len),
  };
}

export function parseRedirect(b: Uint8Array, off: number, len: number): RedirectRepr {
  // In bounds: len >= 40.
  return {
    target: sliceBytes(b, off + RedirectField.Target, off + RedirectField.Target + 16),
    destination: sliceBytes(b, off + RedirectField.Destination, off + RedirectField.Destination + 16),
    options: readNdpOptions(b, off + REDIRECT_LENGTH, off + len),
  };
}

/** The fixed-part length of an ND or Inverse ND type, or -1 for other types. */
export function ndFixedLength(type: number): number {
  switch (type) {
    case Icmpv6Type.RouterSolicitation:
      return ROUTER_SOLICITATION_LENGTH;
    case Icmpv6Type.RouterAdvertisement:
      return ROUTER_ADVERTISEMENT_LENGTH;
    case Icmpv6Type.NeighborSolicitation:
      return NEIGHBOR_SOLICITATION_LENGTH;
    case Icmpv6Type.NeighborAdvertisement:
      return NEIGHBOR_ADVERTISEMENT_LENGTH;
    case Icmpv6Type.Redirect:
      return REDIRECT_LENGTH;
    case Icmpv6Type.InverseNeighborSolicitation:
    case Icmpv6Type.InverseNeighborAdvertisement:
      return ICMPV6_FIXED_LENGTH;
    default:
      return -1;
  }
}
