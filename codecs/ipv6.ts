/**
 * IPv6 (RFC 8200 §3) and the extension-header walk to the upper layer (RFC 8200 §4).
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Source Address (128)                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Destination Address (128)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Extension headers (RFC 8200 §4.3–4.6; Hop-by-Hop, Routing, Destination Options share this
 * shape; Fragment is a fixed 8 bytes; AH, RFC 4302, counts its length in 4-octet units):
 *
 * ```text
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |  Hdr Ext Len  |  (options / type-specific)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * .        (8 + 8 * Hdr Ext Len) octets in all                    .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Fragment (§4.5):
 * |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 * |                         Identification                        |
 * ```
 *
 * `check()` walks every extension header once and leaves the upper layer's protocol, offset and
 * length on the view. Fragments are recognised and reported (offset, M flag, identification),
 * never reassembled. Options inside Hop-by-Hop and Destination Options headers are walked so an
 * option running past its header is Malformed.
 */

import { copyAddr, setU16, u16, u32 } from './bytes.js';
import { namesFromKeys } from './names.js';
import { ByteView, Rule, Status } from './status.js';
import { wordView } from './word-view.js';

export const IpProtocol = {
  HopByHop: 0,
  Tcp: 6,
  Udp: 17,
  Routing: 43,
  Fragment: 44,
  Esp: 50,
  Ah: 51,
  Icmpv6: 58,
  NoNextHeader: 59,
  DestinationOptions: 60,
  Mobility: 135,
} as const;
export type IpProtocol = (typeof IpProtocol)[keyof typeof IpProtocol];

export const Ipv6Field = {
  VersionTrafficFlow: 0,
  PayloadLength: 4,
  NextHeader: 6,
  HopLimit: 7,
  Source: 8,
  Destination: 24,
} as const;

/** The fields every extension header but AH and Fragment shares, and AH's (RFC 8200 §4.3–4.6, RFC 4302 §2). */
export const ExtensionHeaderField = {
  NextHeader: 0,
  /** Hdr Ext Len: 8-octet units after the first 8 (4-octet units after the first 8 in AH). */
  Length: 1,
  /** The options of Hop-by-Hop and Destination Options headers. */
  Options: 2,
} as const;

/** The Routing header (RFC 8200 §4.4): type-specific data from 4, the addresses of types 0 and 2 from 8. */
export const RoutingField = { Type: 2, SegmentsLeft: 3, Addresses: 8 } as const;

/** The Fragment header (RFC 8200 §4.5): offset (13 bits) and the M flag share bytes 2–3. */
export const FragmentField = { OffsetAndFlags: 2, Identification: 4 } as const;

/** The Router Alert option of a Hop-by-Hop header (RFC 2711 §2): type 5, length 2, a 16-bit value. */
export const ROUTER_ALERT_OPTION = 5;
/** RFC 2711 §2 value 0: the datagram holds a Multicast Listener Discovery message (MRD uses it too, RFC 4286 §2). */
export const ROUTER_ALERT_MLD = 0;
/** RFC 8200 §4.2 PadN option type. */
export const PADN_OPTION = 1;

/** An option inside Hop-by-Hop and Destination Options headers (RFC 8200 §4.2), Pad1 (one zero byte) aside. */
export const TlvOptionField = { Type: 0, Length: 1, Data: 2 } as const;

/** ff02::1, all nodes on the link (RFC 4291 §2.7.1). */
export const ALL_NODES = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
/** ff02::6a, all snoopers: where Multicast Router Advertisements go (RFC 4286 §3). */
export const ALL_SNOOPERS = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x6a);

export const IPV6_HEADER_LENGTH = 40;
export const FRAGMENT_HEADER_LENGTH = 8;
/** The smallest extension header: 8 octets (Hdr Ext Len 0). */
export const EXTENSION_HEADER_UNIT = 8;
/** A bound on the walk; real packets carry a handful (RFC 8200 §4.1 recommends an order of six). */
export const MAX_EXTENSION_HEADERS = 16;

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const ipv6Field = Ipv6Field;
const extensionHeaderField = ExtensionHeaderField;
const routingField = RoutingField;
const fragmentField = FragmentField;
const tlvOptionField = TlvOptionField;
const ipProtocol = IpProtocol;
const headerLength = IPV6_HEADER_LENGTH;
const fragmentHeaderLength = FRAGMENT_HEADER_LENGTH;
const extensionHeaderUnit = EXTENSION_HEADER_UNIT;
const maxExtensionHeaders = MAX_EXTENSION_HEADERS;
const { Ok } = Status;

/** 1 at the next-header values the walk steps over (one load instead of five compares). */
const EXTENSION_HEADERS = new Uint8Array(256);
for (const nh of [
  ipProtocol.HopByHop,
  ipProtocol.Routing,
  ipProtocol.Fragment,
  ipProtocol.DestinationOptions,
  ipProtocol.Ah,
])
  EXTENSION_HEADERS[nh] = 1;

/** True for the next-header values the walk steps over. */
export function isExtensionHeader(nh: number): boolean {
  return EXTENSION_HEADERS[nh & 0xff] === 1;
}

export class Ipv6View extends ByteView {
  // Results of the extension-header walk (valid after check() returned Ok or Unsupported).
  /** Protocol number of the upper layer (58 ICMPv6, 17 UDP…), 59 for No Next Header. */
  upperProtocol = 0;
  upperOffset = 0;
  upperLength = 0;
  extensionCount = 0;
  hopByHopOffset = -1;
  routingOffset = -1;
  fragmentHeaderOffset = -1;
  destinationOptionsOffset = -1;
  /**
   * Offset of the address the upper-layer checksum uses as destination (RFC 8200 §8.1): the
   * Destination Address, or the final one carried by a Routing header with segments left.
   */
  checksumDestinationOffset = 0;
  /** After a failed check(): the fault is in an extension header, not the fixed header. */
  errorInExtension = false;

  override wrap(buf: Uint8Array, off: number, len: number): this {
    super.wrap(buf, off, len);
    this.upperProtocol = 0;
    this.upperOffset = 0;
    this.upperLength = 0;
    this.extensionCount = 0;
    this.hopByHopOffset = -1;
    this.routingOffset = -1;
    this.fragmentHeaderOffset = -1;
    this.destinationOptionsOffset = -1;
    this.checksumDestinationOffset = off + ipv6Field.Destination;
    this.errorInExtension = false;
    return this;
  }

  /** Fixed header, payload length, and the whole extension-header chain. */
  check(): Status {
    const b = this.buf;
    const o = this.off;
    if (o < 0 || o + this.len > b.length || this.len < headerLength) {
      return this.fail(
        Status.Truncated,
        o + Math.max(0, this.len),
        'packet shorter than the 40-byte IPv6 header',
        Rule.Length,
      );
    }
    // In bounds from here: len >= 40.
    if ((b[o] as number) >>> 4 !== 6) return this.fail(Status.Malformed, o, 'IP version is not 6', Rule.Value);
    const payloadLength = u16(b, o + ipv6Field.PayloadLength);
    const nextHeader = b[o + ipv6Field.NextHeader] as number;
    if (payloadLength === 0 && nextHeader === ipProtocol.HopByHop) {
      return this.fail(
        Status.Unsupported,
        o + ipv6Field.PayloadLength,
        'jumbogram (payload length 0 with Hop-by-Hop)',
        Rule.NotDecoded,
      );
    }
    if (headerLength + payloadLength > this.len) {
      return this.fail(Status.Truncated, o + this.len, 'packet ends before its payload length', Rule.Length);
    }
    return this.walk(o + headerLength, o + headerLength + payloadLength, nextHeader);
  }

  private walk(start: number, end: number, firstNextHeader: number): Status {
    const b = this.buf;
    let nh = firstNextHeader;
    let p = start;
    for (;;) {
      if (!isExtensionHeader(nh)) {
        this.upperProtocol = nh;
        this.upperOffset = p;
        this.upperLength = end - p;
        if (nh === ipProtocol.Esp)
          return this.failExtension(Status.Unsupported, p, 'encrypted payload (ESP)', Rule.NotDecoded);
        return Ok;
      }
      if (++this.extensionCount > maxExtensionHeaders)
        return this.failExtension(Status.Malformed, p, 'more than 16 extension headers', Rule.HeaderChain);
      if (p + 2 > end)
        return this.failExtension(Status.Truncated, end, 'payload ends inside an extension header', Rule.Length);
      // p + 2 <= end <= off + len: both bytes in bounds.
      const next = b[p + extensionHeaderField.NextHeader] as number;
      const units = b[p + extensionHeaderField.Length] as number;
      let hlen: number;
      if (nh === ipProtocol.Fragment) hlen = fragmentHeaderLength;
      else if (nh === ipProtocol.Ah) hlen = (units + 2) * 4;
      else hlen = (units + 1) * extensionHeaderUnit;
      if (p + hlen > end)
        return this.failExtension(Status.Truncated, end, 'extension header runs past the payload', Rule.Length);
      switch (nh) {
        case ipProtocol.HopByHop: {
          if (p !== this.off + headerLength)
            return this.failExtension(
              Status.Malformed,
              p,
              'Hop-by-Hop header not directly after the IPv6 header',
              Rule.HeaderChain,
            );
          this.hopByHopOffset = p;
          const s = this.checkTlvOptions(p + extensionHeaderField.Options, p + hlen);
          if (s !== Ok) return s;
          break;
        }
        case ipProtocol.DestinationOptions: {
          if (this.destinationOptionsOffset < 0) this.destinationOptionsOffset = p;
          const s = this.checkTlvOptions(p + extensionHeaderField.Options, p + hlen);
          if (s !== Ok) return s;
          break;
        }
        case ipProtocol.Routing: {
          if (this.routingOffset >= 0)
            return this.failExtension(Status.Malformed, p, 'more than one Routing header', Rule.HeaderChain);
          this.routingOffset = p;
          // In bounds: hlen >= 8.
          const type = b[p + routingField.Type] as number;
          const segmentsLeft = b[p + routingField.SegmentsLeft] as number;
          if (segmentsLeft > 0) {
            if ((type === 0 || type === 2) && hlen >= 24) {
              // The addresses run from RoutingField.Addresses; the last one is the final destination.
              this.checksumDestinationOffset = p + routingField.Addresses + 16 * Math.floor((hlen - 8) / 16) - 16;
            } else if (type === 4 && hlen >= 24) {
              // Segment Routing Header (RFC 8754 §2): Segment List[0], the first address, is the final one.
              this.checksumDestinationOffset = p + routingField.Addresses;
            }
          }
          break;
        }
        case ipProtocol.Fragment: {
          if (this.fragmentHeaderOffset >= 0)
            return this.failExtension(Status.Malformed, p, 'more than one Fragment header', Rule.HeaderChain);
          this.fragmentHeaderOffset = p;
          if (this.fragmentOffset !== 0) {
            // A later fragment: what follows is the middle of the upper layer, not its header.
            this.upperProtocol = next;
            this.upperOffset = p + hlen;
            this.upperLength = end - p - hlen;
            return this.failExtension(Status.Unsupported, p, 'non-first fragment (not reassembled)', Rule.NotDecoded);
          }
          break;
        }
        default:
          break; // AH: authenticated, nothing to check here.
      }
      nh = next;
      p += hlen;
    }
  }

  /** RFC 8200 §4.2 TLV options: Pad1 is one byte; others are type, length, data. */
  private checkTlvOptions(p: number, end: number): Status {
    const b = this.buf;
    while (p < end) {
      const type = b[p] as number;
      if (type === 0) {
        p += 1;
        continue;
      }
      if (p + tlvOptionField.Data > end)
        return this.failExtension(
          Status.Malformed,
          p,
          'option header runs past its extension header',
          Rule.LengthField,
        );
      const l = b[p + tlvOptionField.Length] as number;
      if (p + tlvOptionField.Data + l > end)
        return this.failExtension(Status.Malformed, p, 'option runs past its extension header', Rule.LengthField);
      p += tlvOptionField.Data + l;
    }
    return Ok;
  }

  /** A failure inside the extension-header chain (layer ipv6-extension rather than ipv6). */
  private failExtension(st: Status, at: number, reason: string, rule: Rule): Status {
    this.errorInExtension = true;
    return this.fail(st, at, reason, rule);
  }

  get version(): number {
    return (this.buf[this.off] as number) >>> 4;
  }
  get trafficClass(): number {
    return (u16(this.buf, this.off + ipv6Field.VersionTrafficFlow) >>> 4) & 0xff;
  }
  get flowLabel(): number {
    return u32(this.buf, this.off + ipv6Field.VersionTrafficFlow) & 0xfffff;
  }
  get payloadLength(): number {
    return u16(this.buf, this.off + ipv6Field.PayloadLength);
  }
  set payloadLength(v: number) {
    setU16(this.buf, this.off + ipv6Field.PayloadLength, v);
  }
  get nextHeader(): number {
    return this.buf[this.off + ipv6Field.NextHeader] as number;
  }
  get hopLimit(): number {
    return this.buf[this.off + ipv6Field.HopLimit] as number;
  }
  set hopLimit(v: number) {
    this.buf[this.off + ipv6Field.HopLimit] = v;
  }
  get sourceOffset(): number {
    return this.off + ipv6Field.Source;
  }
  get destinationOffset(): number {
    return this.off + ipv6Field.Destination;
  }
  /** Total bytes of the packet per its header (40 + payload length). */
  get packetLength(): number {
    return headerLength + this.payloadLength;
  }
  get isFragment(): boolean {
    return this.fragmentHeaderOffset >= 0;
  }
  /** Fragment offset in 8-octet units (0 when not a fragment). */
  get fragmentOffset(): number {
    return this.fragmentHeaderOffset < 0
      ? 0
      : u16(this.buf, this.fragmentHeaderOffset + fragmentField.OffsetAndFlags) >>> 3;
  }
  get moreFragments(): boolean {
    return (
      this.fragmentHeaderOffset >= 0 &&
      (u16(this.buf, this.fragmentHeaderOffset + fragmentField.OffsetAndFlags) & 1) === 1
    );
  }
  get fragmentIdentification(): number {
    return this.fragmentHeaderOffset < 0 ? 0 : u32(this.buf, this.fragmentHeaderOffset + fragmentField.Identification);
  }
}

/** What an IPv6 header (without extension headers) is built from. */
export interface Ipv6Repr {
  source: Uint8Array;
  destination: Uint8Array;
  nextHeader: number;
  hopLimit: number;
  payloadLength: number;
  trafficClass?: number;
  flowLabel?: number;
}

export function ipv6HeaderLength(): number {
  return headerLength;
}

/** Writes the 40-byte header at b[o]; returns 40. */
export function emitIpv6(r: Ipv6Repr, b: Uint8Array, o: number): number {
  const tc = r.trafficClass ?? 0;
  const fl = r.flowLabel ?? 0;
  b[o + ipv6Field.VersionTrafficFlow] = 0x60 | ((tc >>> 4) & 0x0f);
  b[o + ipv6Field.VersionTrafficFlow + 1] = ((tc & 0x0f) << 4) | ((fl >>> 16) & 0x0f);
  setU16(b, o + ipv6Field.VersionTrafficFlow + 2, fl & 0xffff);
  setU16(b, o + ipv6Field.PayloadLength, r.payloadLength);
  b[o + ipv6Field.NextHeader] = r.nextHeader;
  b[o + ipv6Field.HopLimit] = r.hopLimit;
  copyAddr(r.source, 0, b, o + ipv6Field.Source);
  copyAddr(r.destination, 0, b, o + ipv6Field.Destination);
  return headerLength;
}

/**
 * Hot-path form: addresses are written by the caller (often copied from the request); writes
 * version, zero traffic class and flow label, payload length, next header and hop limit.
 */
export function emitIpv6Fixed(
  b: Uint8Array,
  o: number,
  payloadLength: number,
  nextHeader: number,
  hopLimit: number,
): void {
  // Two 32-bit words through b's word view (codecs/word-view.ts): version, traffic class and
  // flow label; payload length, next header and hop limit.
  const v = wordView(b);
  v.setUint32(o + ipv6Field.VersionTrafficFlow, 0x60000000);
  v.setUint32(o + ipv6Field.PayloadLength, payloadLength * 0x10000 + (nextHeader << 8) + hopLimit);
}

/** Length of the Hop-by-Hop header {@link emitRouterAlertHopByHop} writes. */
export const ROUTER_ALERT_HOP_BY_HOP_LENGTH = 8;

/**
 * Writes an 8-byte Hop-by-Hop Options header holding a Router Alert option (RFC 2711 §2) with
 * `value`, padded with an empty PadN (RFC 8200 §4.2); returns 8.
 */
export function emitRouterAlertHopByHop(nextHeader: number, value: number, b: Uint8Array, o: number): number {
  b[o + extensionHeaderField.NextHeader] = nextHeader;
  b[o + extensionHeaderField.Length] = 0;
  const alert = o + extensionHeaderField.Options;
  b[alert + tlvOptionField.Type] = ROUTER_ALERT_OPTION;
  b[alert + tlvOptionField.Length] = 2;
  setU16(b, alert + tlvOptionField.Data, value);
  const pad = alert + tlvOptionField.Data + 2;
  b[pad + tlvOptionField.Type] = PADN_OPTION;
  b[pad + tlvOptionField.Length] = 0;
  return ROUTER_ALERT_HOP_BY_HOP_LENGTH;
}

const protocolNames = namesFromKeys(IpProtocol);

/** The describer's name of a protocol: its {@link IpProtocol} key in kebab case, or "unknown". */
export function ipProtocolName(p: number): string {
  return protocolNames.get(p) ?? 'unknown';
}
