/**
 * Ethernet II (IEEE 802.3 clause 3.1.1, "DIX") with one IEEE 802.1Q tag; an 802.1ad / QinQ
 * outer tag (0x88a8, or 0x8100 followed by another 0x8100) is recognised and reported as
 * Unsupported, never misread as a payload.
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination MAC (6)                        |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+       Source MAC (6)          +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   EtherType / TPID (0x8100)   | PCP |D|    VLAN id (12)       |  <- tag only when TPID
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     EtherType (inner)         |  payload …
 * ```
 */

import { copyBytes, setU16, u16 } from './bytes.js';
import { ByteView, Rule, Status } from './status.js';
import { copyMacWords, type MacWords } from './word-view.js';

export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  Vlan: 0x8100,
  QinQ: 0x88a8,
  Ipv6: 0x86dd,
} as const;
export type EtherType = (typeof EtherType)[keyof typeof EtherType];

export const EthernetField = {
  Destination: 0,
  Source: 6,
  EtherType: 12,
  /** With a tag: TCI at 14, inner EtherType at 16. */
  Tci: 14,
  InnerEtherType: 16,
} as const;

export const ETHERNET_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;
export const MAC_LENGTH = 6;
/** The VLAN id's 12 bits of the TCI (IEEE 802.1Q §9.6). */
export const VLAN_ID_MASK = 0x0fff;

/** "No VLAN tag" as a VLAN id (valid ids are 0–4095). */
export const NO_VLAN = -1;

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const ethernetField = EthernetField;
const etherType = EtherType;
const untaggedHeaderLength = ETHERNET_HEADER_LENGTH;
const taggedHeaderLength = ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
const noVlan = NO_VLAN;
const vlanIdMask = VLAN_ID_MASK;

/**
 * A view over one Ethernet frame. After `check()` returns Ok every getter is in bounds.
 */
export class EthernetView extends ByteView {
  /** Header length: 14, or 18 with a tag. Set by check(). */
  headerLength = 0;

  override wrap(buf: Uint8Array, off: number, len: number): this {
    super.wrap(buf, off, len);
    this.headerLength = 0;
    return this;
  }

  check(): Status {
    const b = this.buf;
    const o = this.off;
    if (this.off < 0 || this.len < untaggedHeaderLength || o + this.len > b.length) {
      return this.fail(
        Status.Truncated,
        o + Math.max(0, Math.min(this.len, b.length - o)),
        'frame shorter than the 14-byte Ethernet header',
        Rule.Length,
      );
    }
    const t = u16(b, o + ethernetField.EtherType);
    if (t === etherType.QinQ)
      return this.fail(Status.Unsupported, o + ethernetField.EtherType, 'QinQ (802.1ad) outer tag', Rule.NotDecoded);
    if (t === etherType.Vlan) {
      if (this.len < taggedHeaderLength) {
        return this.fail(Status.Truncated, o + this.len, 'frame ends inside the 802.1Q tag', Rule.Length);
      }
      // In bounds: len >= 18 is checked just above.
      const inner = u16(b, o + ethernetField.InnerEtherType);
      if (inner === etherType.Vlan || inner === etherType.QinQ)
        return this.fail(
          Status.Unsupported,
          o + ethernetField.InnerEtherType,
          'QinQ (stacked 802.1Q tags)',
          Rule.NotDecoded,
        );
      this.headerLength = taggedHeaderLength;
    } else {
      this.headerLength = untaggedHeaderLength;
    }
    return Status.Ok;
  }

  get destinationOffset(): number {
    return this.off + ethernetField.Destination;
  }
  get sourceOffset(): number {
    return this.off + ethernetField.Source;
  }
  get hasVlan(): boolean {
    return this.headerLength === taggedHeaderLength;
  }
  /** The VLAN id, or NO_VLAN. */
  get vlanId(): number {
    return this.hasVlan ? u16(this.buf, this.off + ethernetField.Tci) & vlanIdMask : noVlan;
  }
  /** Priority code point of the tag (0 without one). */
  get vlanPcp(): number {
    return this.hasVlan ? (this.buf[this.off + ethernetField.Tci] as number) >>> 5 : 0;
  }
  get vlanDei(): boolean {
    return this.hasVlan && ((this.buf[this.off + ethernetField.Tci] as number) & 0x10) !== 0;
  }
  /** The EtherType of the payload (the inner one behind a tag). */
  get etherType(): number {
    return u16(this.buf, this.off + this.headerLength - 2);
  }
  set etherType(v: number) {
    setU16(this.buf, this.off + this.headerLength - 2, v);
  }
  get payloadOffset(): number {
    return this.off + this.headerLength;
  }
  get payloadLength(): number {
    return this.len - this.headerLength;
  }
}

/** The MAC of an IPv6 multicast group (RFC 2464 §7): 33:33, then the group's low 32 bits. */
export function ipv6MulticastMac(group: Uint8Array, o = 0): Uint8Array {
  return Uint8Array.of(0x33, 0x33, group[o + 12] ?? 0, group[o + 13] ?? 0, group[o + 14] ?? 0, group[o + 15] ?? 0);
}

/** What an Ethernet header is built from. */
export interface EthernetRepr {
  destination: Uint8Array;
  source: Uint8Array;
  etherType: number;
  /** VLAN id, or NO_VLAN / undefined for an untagged frame. */
  vlanId?: number;
  vlanPcp?: number;
}

export function ethernetHeaderLength(r: { vlanId?: number }): number {
  return r.vlanId === undefined || r.vlanId === noVlan ? untaggedHeaderLength : taggedHeaderLength;
}

/**
 * Writes the header at b[o] (the caller leaves room for the payload after it) and returns the
 * header length.
 */
export function emitEthernet(r: EthernetRepr, b: Uint8Array, o: number): number {
  copyBytes(r.destination, 0, b, o + ethernetField.Destination, MAC_LENGTH);
  copyBytes(r.source, 0, b, o + ethernetField.Source, MAC_LENGTH);
  return emitEthernetTail(b, o, r.etherType, r.vlanId ?? noVlan, r.vlanPcp ?? 0);
}

/**
 * Hot-path form: the addresses are already in place (or copied by the caller from other bytes);
 * writes the tag (when vlanId is not NO_VLAN) and `payloadType`, the EtherType of the payload.
 * Returns the header length.
 */
export function emitEthernetTail(b: Uint8Array, o: number, payloadType: number, vlanId: number, pcp: number): number {
  if (vlanId === noVlan) {
    setU16(b, o + ethernetField.EtherType, payloadType);
    return untaggedHeaderLength;
  }
  setU16(b, o + ethernetField.EtherType, etherType.Vlan);
  setU16(b, o + ethernetField.Tci, ((pcp & 7) << 13) | (vlanId & vlanIdMask));
  setU16(b, o + ethernetField.InnerEtherType, payloadType);
  return taggedHeaderLength;
}

/**
 * Hot-path form of {@link emitEthernet} for an answer on the link a frame came in on, through
 * word views (codecs/word-view.ts): the destination MAC copied from `dst[dstOff]` (the frame's
 * source MAC, or a group's), the source from its words, then the frame's 802.1Q tag (TPID and
 * TCI, copied from `tag[tagOff]`, the frame's tag) when `tagOff` is not -1, and `payloadType`.
 * Returns the header length.
 */
export function emitEthernetWords(
  b: DataView,
  o: number,
  dst: DataView,
  dstOff: number,
  source: MacWords,
  tag: DataView,
  tagOff: number,
  payloadType: number,
): number {
  copyMacWords(dst, dstOff, b, o + ethernetField.Destination);
  b.setUint32(o + ethernetField.Source, source[0] as number);
  b.setUint16(o + ethernetField.Source + 4, source[1] as number);
  if (tagOff < 0) {
    b.setUint16(o + ethernetField.EtherType, payloadType);
    return untaggedHeaderLength;
  }
  b.setUint32(o + ethernetField.EtherType, tag.getUint32(tagOff));
  b.setUint16(o + ethernetField.InnerEtherType, payloadType);
  return taggedHeaderLength;
}
