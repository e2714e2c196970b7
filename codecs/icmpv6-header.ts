/**
 * ICMPv6 (RFC 4443) common header (§2.1), message types and the checksum over the IPv6
 * pseudo-header (§2.3): the base every ICMPv6-family codec (ND, Inverse ND, MRD) builds on.
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Message Body                          |
 * +                                                               +
 * ```
 *
 * Everything here is re-exported by `icmpv6.ts`, which is the module to import. It is split out
 * so that `ndp.ts`, `inverse-nd.ts` and `mrd.ts` can extend the header view while `icmpv6.ts`
 * imports them for whole-message validation, without an import cycle.
 */

import { setU16, u16 } from './bytes.js';
import { fillUpperLayer, verifyUpperLayer } from './checksum.js';
import { IpProtocol } from './ipv6.js';
import { namesFromKeys } from './names.js';
import { ByteView, Rule, Status } from './status.js';

/** IPv6 next header value of ICMPv6. */
export const ICMPV6_NEXT_HEADER = IpProtocol.Icmpv6;

/** ICMPv6 message types (IANA "ICMPv6 Parameters"). */
export const Icmpv6Type = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
  MulticastListenerQuery: 130,
  MulticastListenerReport: 131,
  MulticastListenerDone: 132,
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
  Redirect: 137,
  RouterRenumbering: 138,
  NodeInformationQuery: 139,
  NodeInformationResponse: 140,
  InverseNeighborSolicitation: 141,
  InverseNeighborAdvertisement: 142,
  MulticastListenerReportV2: 143,
  HomeAgentAddressDiscoveryRequest: 144,
  HomeAgentAddressDiscoveryReply: 145,
  MobilePrefixSolicitation: 146,
  MobilePrefixAdvertisement: 147,
  CertificationPathSolicitation: 148,
  CertificationPathAdvertisement: 149,
  MulticastRouterAdvertisement: 151,
  MulticastRouterSolicitation: 152,
  MulticastRouterTermination: 153,
  ExtendedEchoRequest: 160,
  ExtendedEchoReply: 161,
} as const;
export type Icmpv6Type = (typeof Icmpv6Type)[keyof typeof Icmpv6Type];

const typeNames = namesFromKeys(Icmpv6Type);

/** The JSON name of a type: its {@link Icmpv6Type} key in kebab case, or "unknown". */
export function icmpv6TypeName(type: number): string {
  return typeNames.get(type) ?? 'unknown';
}

/** Error messages have types 0..127 (RFC 4443 §2.1). */
export function isIcmpv6Error(type: number): boolean {
  return type < 128;
}

export const Icmpv6Field = {
  Type: 0,
  Code: 1,
  Checksum: 2,
  /** The message body (RFC 4443 §2.1): its first 32 bits are type-specific in every type. */
  Body: 4,
} as const;

export const ICMPV6_HEADER_LENGTH = 4;
/** Type, code, checksum and the 32-bit word that follows (every type defined so far has it). */
export const ICMPV6_FIXED_LENGTH = 8;

/** A view over any ICMPv6 message: type, code, checksum and the body. */
export class Icmpv6View extends ByteView {
  check(): Status {
    if (this.off >= 0 && this.len >= ICMPV6_HEADER_LENGTH && this.len <= this.buf.length - this.off) return Status.Ok;
    return checkLength(this, ICMPV6_HEADER_LENGTH, 'message shorter than the 4-byte ICMPv6 header');
  }

  get type(): number {
    return this.buf[this.off + Icmpv6Field.Type] as number;
  }
  set type(v: number) {
    this.buf[this.off + Icmpv6Field.Type] = v;
  }
  get code(): number {
    return this.buf[this.off + Icmpv6Field.Code] as number;
  }
  set code(v: number) {
    this.buf[this.off + Icmpv6Field.Code] = v;
  }
  get checksum(): number {
    return u16(this.buf, this.off + Icmpv6Field.Checksum);
  }
  set checksum(v: number) {
    setU16(this.buf, this.off + Icmpv6Field.Checksum, v);
  }
  get bodyOffset(): number {
    return this.off + ICMPV6_HEADER_LENGTH;
  }
  get bodyLength(): number {
    return this.len - ICMPV6_HEADER_LENGTH;
  }
}

/**
 * Shared length check for ICMPv6-family views: the view's range must lie inside its buffer and
 * hold at least `min` bytes. Leaves offset (where the bytes end) and reason on the view.
 */
export function checkLength(v: ByteView, min: number, reason: string): Status {
  const avail = v.buf.length - v.off;
  if (v.off < 0 || v.len < 0 || v.len > avail)
    return v.fail(
      Status.Truncated,
      v.off + Math.max(0, Math.min(v.len, avail)),
      'message runs past the end of the buffer',
      Rule.Length,
    );
  if (v.len < min) return v.fail(Status.Truncated, v.off + v.len, reason, Rule.Length);
  return Status.Ok;
}

/**
 * Computes and stores the ICMPv6 checksum of the message at b[msgOff, msgOff+msgLen), the
 * addresses being 16 bytes at srcOff and dstOff (normally inside the IPv6 header in front).
 * Returns the checksum written.
 */
export function fillIcmpv6Checksum(
  b: Uint8Array,
  srcOff: number,
  dstOff: number,
  msgOff: number,
  msgLen: number,
): number {
  return fillUpperLayer(b, srcOff, dstOff, ICMPV6_NEXT_HEADER, msgOff, msgLen, msgOff + Icmpv6Field.Checksum);
}

/** True when the message's checksum is right. */
export function verifyIcmpv6Checksum(
  b: Uint8Array,
  srcOff: number,
  dstOff: number,
  msgOff: number,
  msgLen: number,
): boolean {
  return verifyUpperLayer(b, srcOff, dstOff, ICMPV6_NEXT_HEADER, msgOff, msgLen);
}
