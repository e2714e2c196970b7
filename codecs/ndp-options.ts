/**
 * Neighbor Discovery options (RFC 4861 §4.6) and the option types punt6 knows.
 *
 * Every option is a type, a length in units of 8 octets (type and length included), and a body:
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |    Length     |              ...              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                              ...                              ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * A length of 0 is Malformed (RFC 4861 §4.6: such a packet is silently discarded); an option
 * that runs past the end of the message is Truncated; a known option whose length (or a length
 * rule inside it) is wrong for its type is Malformed. Unknown option types are data, kept as type
 * and bytes. Known types and their layouts (offsets are from the option's first byte):
 *
 * - 1/2 Source/Target Link-Layer Address (RFC 4861 §4.6.1): address at 2 (6 bytes on Ethernet,
 *   length 1; other link layers use other lengths, so any length is accepted).
 * - 3 Prefix Information (RFC 4861 §4.6.2), length 4: prefix length at 2 (0..128), flags at 3
 *   (L 0x80, A 0x40, R 0x20 from RFC 6275 §7.2, P 0x10 from RFC 9762), valid lifetime at 4,
 *   preferred lifetime at 8, reserved at 12, prefix at 16.
 * - 4 Redirected Header (RFC 4861 §4.6.3): 6 reserved bytes, then the IP header and data.
 * - 5 MTU (RFC 4861 §4.6.4), length 1: reserved at 2, MTU at 4.
 * - 7 Advertisement Interval (RFC 6275 §7.3), length 1: interval in milliseconds at 4.
 * - 8 Home Agent Information (RFC 6275 §7.4), length 1: preference at 4, lifetime at 6.
 * - 9/10 Source/Target Address List (RFC 3122 §3): 6 reserved bytes, then IPv6 addresses; the
 *   length is 1 + 2n, n >= 1.
 * - 14 Nonce (RFC 3971 §5.3.2, RFC 7527 §4.1): the nonce fills the body (at least 6 bytes).
 * - 24 Route Information (RFC 4191 §2.3): prefix length at 2, preference bits 0x18 at 3, route
 *   lifetime at 4, prefix at 8 (0, 8 or 16 bytes). Length 1..3; a prefix longer than 0 needs
 *   length 2 or 3, longer than 64 needs length 3.
 * - 25 RDNSS (RFC 8106 §5.1): reserved at 2, lifetime at 4, addresses at 8; length odd, >= 3.
 * - 31 DNSSL (RFC 8106 §5.2): reserved at 2, lifetime at 4, domain names at 8 (uncompressed,
 *   zero padded); length >= 2, at least one name.
 * - 37 Captive Portal (RFC 8910 §2.3): the URI, padded with zero bytes.
 * - 38 PREF64 (RFC 8781 §4), length 2: scaled lifetime (13 bits, units of 8 s) and prefix length
 *   code (3 bits) at 2, the high 96 bits of the prefix at 4. A code other than 0..5 makes a
 *   receiver ignore the option (RFC 8781 §4) but is not a framing error, so it is accepted here
 *   and reported as a prefix length of -1.
 *
 * Hot path: {@link NdpOptionCursor} walks options by offset and checks each one; the option views
 * read fields in place. Reprs, `readNdpOption` and `describeNdpOption` allocate and are for
 * configuration, the CLI and tests.
 */

import { checkDnsNameList, dnsNameError, dnsNameListLength, emitDnsNameList, formatDnsNameList } from './dns-name.js';
import { copyBytes, fillZero, formatIpv6, formatMac, setU16, setU32, sliceBytes, toHex, u16, u32 } from './bytes.js';
import { namesFromKeys } from './names.js';
import { ByteView, Done, Rule, Status } from './status.js';

export const NdpOptionType = {
  SourceLinkLayerAddress: 1,
  TargetLinkLayerAddress: 2,
  PrefixInformation: 3,
  RedirectedHeader: 4,
  Mtu: 5,
  AdvertisementInterval: 7,
  HomeAgentInformation: 8,
  SourceAddressList: 9,
  TargetAddressList: 10,
  Nonce: 14,
  RouteInformation: 24,
  Rdnss: 25,
  Dnssl: 31,
  CaptivePortal: 37,
  Pref64: 38,
} as const;
export type NdpOptionType = (typeof NdpOptionType)[keyof typeof NdpOptionType];

/** Names used in JSON (`name`) and as the Repr `kind`: each type's key in kebab case. */
const optionNames = namesFromKeys(NdpOptionType);
const optionTypes = new Map([...optionNames].map(([type, name]) => [name, type]));

export function ndpOptionName(type: number): string {
  return optionNames.get(type) ?? 'unknown';
}

/** Every option starts with its type and its length in 8-octet units, then its body (RFC 4861 §4.6). */
export const NdpOptionField = { Type: 0, Length: 1, Body: 2 } as const;
/** Source/Target Link-Layer Address (RFC 4861 §4.6.1). */
export const LinkLayerAddressField = { Address: 2 } as const;
/** Prefix Information (RFC 4861 §4.6.2). */
export const PrefixInformationField = {
  PrefixLength: 2,
  Flags: 3,
  ValidLifetime: 4,
  PreferredLifetime: 8,
  Reserved: 12,
  Prefix: 16,
} as const;
/** Redirected Header (RFC 4861 §4.6.3): 6 reserved bytes, then the start of the packet. */
export const RedirectedHeaderField = { Data: 8 } as const;
/** MTU (RFC 4861 §4.6.4). */
export const MtuField = { Mtu: 4 } as const;
/** Advertisement Interval (RFC 6275 §7.3). */
export const AdvertisementIntervalField = { Interval: 4 } as const;
/** Home Agent Information (RFC 6275 §7.4). */
export const HomeAgentInformationField = { Preference: 4, Lifetime: 6 } as const;
/** Source/Target Address List (RFC 3122 §3.1, §3.2): 6 reserved bytes, then the addresses. */
export const AddressListField = { Addresses: 8 } as const;
/** Nonce (RFC 3971 §5.3.2). */
export const NonceField = { Nonce: 2 } as const;
/** Route Information (RFC 4191 §2.3). */
export const RouteInformationField = { PrefixLength: 2, Flags: 3, RouteLifetime: 4, Prefix: 8 } as const;
/** RDNSS (RFC 8106 §5.1). */
export const RdnssField = { Lifetime: 4, Addresses: 8 } as const;
/** DNSSL (RFC 8106 §5.2). */
export const DnsslField = { Lifetime: 4, DomainNames: 8 } as const;
/** Captive Portal (RFC 8910 §2.3). */
export const CaptivePortalField = { Uri: 2 } as const;
/** PREF64 (RFC 8781 §4): the scaled lifetime (13 bits) and the prefix length code (3 bits) share 2–3. */
export const Pref64Field = { ScaledLifetimeAndCode: 2, Prefix: 4 } as const;

/** Prefix Information flags (RFC 4861 §4.6.2, RFC 6275 §7.2, RFC 9762). */
export const PrefixFlag = {
  OnLink: 0x80,
  Autonomous: 0x40,
  RouterAddress: 0x20,
  PdPreferred: 0x10,
} as const;

/**
 * Router preference as carried in two bits (RFC 4191 §2.1): 01 high, 00 medium, 11 low, 10
 * reserved (a receiver treats it as medium for default routers and ignores the route option).
 */
export const RouterPreference = {
  Medium: 0,
  High: 1,
  Reserved: 2,
  Low: 3,
} as const;
export type RouterPreference = (typeof RouterPreference)[keyof typeof RouterPreference];

const preferenceNames = ['medium', 'high', 'reserved', 'low'] as const;
export function routerPreferenceName(p: number): string {
  return preferenceNames[p & 3] ?? 'medium';
}

/** RFC 8781 §4 prefix length codes 0..5; -1 for the codes a receiver ignores. */
const pref64Lengths = [96, 64, 56, 48, 40, 32, -1, -1] as const;
export function pref64PrefixLength(code: number): number {
  return pref64Lengths[code & 7] ?? -1;
}
export function pref64LengthCode(prefixLength: number): number {
  const c = pref64Lengths.indexOf(prefixLength as 96);
  return c < 0 || prefixLength < 0 ? -1 : c;
}

export const NDP_OPTION_UNIT = 8;

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const optionType = NdpOptionType;
const optionField = NdpOptionField;
const optionUnit = NDP_OPTION_UNIT;
const { Ok } = Status;

/**
 * Per-type checks of one option whose framing is already known good: b[o, o+n) is inside the
 * buffer, n = length field * 8 >= 8. Leaves offset, reason and rule on `sink` on failure.
 */
export function checkNdpOption(b: Uint8Array, o: number, n: number, sink: ByteView): Status {
  const units = n >>> 3;
  const length = o + optionField.Length;
  switch (b[o + optionField.Type] as number) {
    case optionType.PrefixInformation:
      if (units !== 4)
        return sink.fail(Status.Malformed, length, 'prefix information option length is not 4', Rule.LengthField);
      if ((b[o + PrefixInformationField.PrefixLength] as number) > 128)
        return sink.fail(
          Status.Malformed,
          o + PrefixInformationField.PrefixLength,
          'prefix length above 128',
          Rule.Value,
        );
      return Ok;
    case optionType.Mtu:
      return units === 1 ? Ok : sink.fail(Status.Malformed, length, 'MTU option length is not 1', Rule.LengthField);
    case optionType.AdvertisementInterval:
      return units === 1
        ? Ok
        : sink.fail(Status.Malformed, length, 'advertisement interval option length is not 1', Rule.LengthField);
    case optionType.HomeAgentInformation:
      return units === 1
        ? Ok
        : sink.fail(Status.Malformed, length, 'home agent information option length is not 1', Rule.LengthField);
    case optionType.SourceAddressList:
    case optionType.TargetAddressList:
      return units >= 3 && (units & 1) === 1
        ? Ok
        : sink.fail(Status.Malformed, length, 'address list option length is not odd and at least 3', Rule.LengthField);
    case optionType.RouteInformation: {
      if (units > 3)
        return sink.fail(Status.Malformed, length, 'route information option length above 3', Rule.LengthField);
      const plen = b[o + RouteInformationField.PrefixLength] as number;
      if (plen > 128)
        return sink.fail(
          Status.Malformed,
          o + RouteInformationField.PrefixLength,
          'prefix length above 128',
          Rule.Value,
        );
      if (plen > 64 && units < 3)
        return sink.fail(
          Status.Malformed,
          length,
          'route information prefix longer than 64 needs length 3',
          Rule.LengthField,
        );
      if (plen > 0 && units < 2)
        return sink.fail(
          Status.Malformed,
          length,
          'route information prefix longer than 0 needs length 2 or 3',
          Rule.LengthField,
        );
      return Ok;
    }
    case optionType.Rdnss:
      return units >= 3 && (units & 1) === 1
        ? Ok
        : sink.fail(Status.Malformed, length, 'RDNSS option length is not odd and at least 3', Rule.LengthField);
    case optionType.Dnssl: {
      if (units < 2) return sink.fail(Status.Malformed, length, 'DNSSL option length below 2', Rule.LengthField);
      const names = o + DnsslField.DomainNames;
      // In bounds: units >= 2, so names < o + n.
      if (b[names] === 0) return sink.fail(Status.Malformed, names, 'DNSSL option without a domain name', Rule.Value);
      if (checkDnsNameList(b, names, o + n, true) !== Ok)
        return sink.fail(Status.Malformed, dnsNameError.offset, dnsNameError.reason, Rule.Value);
      return Ok;
    }
    case optionType.Pref64:
      return units === 2 ? Ok : sink.fail(Status.Malformed, length, 'PREF64 option length is not 2', Rule.LengthField);
    default:
      // Link-layer addresses, redirected header, nonce, captive portal: any length >= 1 fits;
      // unknown types are data.
      return Ok;
  }
}

/**
 * Walks the options in b[off, end) by offset, allocating nothing. Reuse one cursor: `reset()`
 * then call `next()` until it returns Done (all options good) or a Status other than Ok (then
 * `errorOffset`/`errorReason`/`errorRule` say why, and the walk is over). After Ok, `type`,
 * `offset` (of the option's type byte) and `length` (in bytes, a multiple of 8) describe the
 * current option, which has passed {@link checkNdpOption}.
 *
 * The walk remembers where the options a handler looks for stand, so that nobody walks the
 * options again: the first Source and Target Link-Layer Address options and the first Target
 * Address List (offsets of their type bytes, -1 when there is none), among the options walked so
 * far (all of them after Done, or after {@link checkNdpOptions} returned Ok).
 */
export class NdpOptionCursor extends ByteView {
  end = 0;
  /** Offset of the next option to read. */
  position = 0;
  type = 0;
  offset = 0;
  length = 0;
  sourceLinkLayerOption = -1;
  targetLinkLayerOption = -1;
  targetAddressListOption = -1;

  reset(buf: Uint8Array, off: number, end: number): this {
    // Never read past the buffer, whatever the caller says.
    this.end = Math.min(end, buf.length);
    this.wrap(buf, off, this.end - off);
    this.position = off;
    this.type = 0;
    this.offset = off;
    this.length = 0;
    this.sourceLinkLayerOption = -1;
    this.targetLinkLayerOption = -1;
    this.targetAddressListOption = -1;
    return this;
  }

  next(): Status | Done {
    const b = this.buf;
    const p = this.position;
    const end = this.end;
    if (p >= end) return Done;
    if (end - p < 2) return this.stopAt(Status.Truncated, p, 'option header cut short', Rule.Length);
    // In bounds: p + 1 < end <= b.length.
    const units = b[p + optionField.Length] as number;
    if (units === 0)
      return this.stopAt(Status.Malformed, p + optionField.Length, 'option with length 0', Rule.LengthField);
    const n = units * optionUnit;
    if (n > end - p) return this.stopAt(Status.Truncated, p, 'option runs past the end of the message', Rule.Length);
    const type = b[p + optionField.Type] as number;
    this.type = type;
    this.offset = p;
    this.length = n;
    this.position = p + n;
    if (type === optionType.SourceLinkLayerAddress) {
      if (this.sourceLinkLayerOption < 0) this.sourceLinkLayerOption = p;
    } else if (type === optionType.TargetLinkLayerAddress) {
      if (this.targetLinkLayerOption < 0) this.targetLinkLayerOption = p;
    } else if (type === optionType.TargetAddressList && this.targetAddressListOption < 0) {
      this.targetAddressListOption = p;
    }
    const s = checkNdpOption(b, p, n, this);
    if (s !== Ok) this.position = end;
    return s;
  }

  /** Ends the walk with a failure at `at`. */
  stopAt(s: Status, at: number, reason: string, rule: Rule): Status {
    this.position = this.end;
    return this.fail(s, at, reason, rule);
  }
}

/**
 * Checks a whole option list (framing and per-type rules). Returns Ok or the first failure, with
 * offset, reason and rule left on `cursor`; after Ok the cursor holds the offsets of the options
 * it remembers (see {@link NdpOptionCursor}). The same rules as walking with the cursor, in one
 * loop: the link-layer address options that fill most lists have no per-type rule to call.
 */
export function checkNdpOptions(cursor: NdpOptionCursor, b: Uint8Array, off: number, end: number): Status {
  cursor.reset(b, off, end);
  end = cursor.end;
  let source = -1;
  let target = -1;
  let list = -1;
  let p = off;
  while (p < end) {
    if (end - p < 2) return cursor.stopAt(Status.Truncated, p, 'option header cut short', Rule.Length);
    // In bounds: p + 1 < end <= b.length.
    const type = b[p + optionField.Type] as number;
    const units = b[p + optionField.Length] as number;
    if (units === 0)
      return cursor.stopAt(Status.Malformed, p + optionField.Length, 'option with length 0', Rule.LengthField);
    const n = units * optionUnit;
    if (n > end - p) return cursor.stopAt(Status.Truncated, p, 'option runs past the end of the message', Rule.Length);
    if (type > optionType.TargetLinkLayerAddress) {
      if (type === optionType.TargetAddressList && list < 0) list = p;
      const s = checkNdpOption(b, p, n, cursor);
      if (s !== Ok) {
        cursor.position = end;
        return s;
      }
    } else if (type === optionType.SourceLinkLayerAddress) {
      if (source < 0) source = p;
    } else if (type === optionType.TargetLinkLayerAddress && target < 0) {
      target = p;
    }
    p += n;
  }
  cursor.position = end;
  cursor.sourceLinkLayerOption = source;
  cursor.targetLinkLayerOption = target;
  cursor.targetAddressListOption = list;
  return Ok;
}

/**
 * Offset of the first option of `type` in b[off, end), or -1 (also -1 when the walk fails
 * before finding one). Allocates nothing.
 */
export function findNdpOption(cursor: NdpOptionCursor, b: Uint8Array, off: number, end: number, type: number): number {
  cursor.reset(b, off, end);
  for (;;) {
    const s = cursor.next();
    if (s !== Ok) return -1;
    if (cursor.type === type) return cursor.offset;
  }
}

// ---- Option views ----

/**
 * A view over one option at b[off], `len` bytes available. check() proves the option is framed
 * (length field non-zero, inside `len` and the buffer), is of a type this view reads, and passes
 * the per-type rules; then every getter is in bounds.
 */
export class NdpOptionView extends ByteView {
  /** Which option types this view reads (every type for the base view). */
  protected accepts(_type: number): boolean {
    return true;
  }

  check(): Status {
    const b = this.buf;
    const o = this.off;
    const avail = Math.min(this.len, b.length - o);
    if (o < 0 || avail < 2)
      return this.fail(Status.Truncated, o + Math.max(0, avail), 'option header cut short', Rule.Length);
    const units = b[o + NdpOptionField.Length] as number;
    if (units === 0)
      return this.fail(Status.Malformed, o + NdpOptionField.Length, 'option with length 0', Rule.LengthField);
    if (units * NDP_OPTION_UNIT > avail)
      return this.fail(Status.Truncated, o, 'option runs past the end of the message', Rule.Length);
    if (!this.accepts(b[o + NdpOptionField.Type] as number))
      return this.fail(Status.Malformed, o, 'option of another type', Rule.Value);
    return checkNdpOption(b, o, units * NDP_OPTION_UNIT, this);
  }

  get type(): number {
    return this.buf[this.off + NdpOptionField.Type] as number;
  }
  /** The length field (units of 8 octets). */
  get lengthUnits(): number {
    return this.buf[this.off + NdpOptionField.Length] as number;
  }
  /** The option's length in bytes. */
  get byteLength(): number {
    return (this.buf[this.off + NdpOptionField.Length] as number) * NDP_OPTION_UNIT;
  }
}

export class LinkLayerAddressOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.SourceLinkLayerAddress || t === NdpOptionType.TargetLinkLayerAddress;
  }
  get addressOffset(): number {
    return this.off + LinkLayerAddressField.Address;
  }
  /** Bytes of link-layer address and padding (6 for Ethernet). */
  get addressLength(): number {
    return this.byteLength - LinkLayerAddressField.Address;
  }
}

export class PrefixInformationOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.PrefixInformation;
  }
  get prefixLength(): number {
    return this.buf[this.off + PrefixInformationField.PrefixLength] as number;
  }
  get flags(): number {
    return this.buf[this.off + PrefixInformationField.Flags] as number;
  }
  get onLink(): boolean {
    return ((this.buf[this.off + PrefixInformationField.Flags] as number) & PrefixFlag.OnLink) !== 0;
  }
  get autonomous(): boolean {
    return ((this.buf[this.off + PrefixInformationField.Flags] as number) & PrefixFlag.Autonomous) !== 0;
  }
  get routerAddress(): boolean {
    return ((this.buf[this.off + PrefixInformationField.Flags] as number) & PrefixFlag.RouterAddress) !== 0;
  }
  /** Seconds; 0xffffffff is infinity. */
  get validLifetime(): number {
    return u32(this.buf, this.off + PrefixInformationField.ValidLifetime);
  }
  get preferredLifetime(): number {
    return u32(this.buf, this.off + PrefixInformationField.PreferredLifetime);
  }
  get prefixOffset(): number {
    return this.off + PrefixInformationField.Prefix;
  }
}

export class RedirectedHeaderOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.RedirectedHeader;
  }
  get dataOffset(): number {
    return this.off + RedirectedHeaderField.Data;
  }
  get dataLength(): number {
    return this.byteLength - RedirectedHeaderField.Data;
  }
}

export class MtuOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.Mtu;
  }
  get mtu(): number {
    return u32(this.buf, this.off + MtuField.Mtu);
  }
}

export class AdvertisementIntervalOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.AdvertisementInterval;
  }
  /** Milliseconds. */
  get interval(): number {
    return u32(this.buf, this.off + AdvertisementIntervalField.Interval);
  }
}

export class HomeAgentInformationOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.HomeAgentInformation;
  }
  get preference(): number {
    return u16(this.buf, this.off + HomeAgentInformationField.Preference);
  }
  /** Seconds. */
  get lifetime(): number {
    return u16(this.buf, this.off + HomeAgentInformationField.Lifetime);
  }
}

/** Source/Target Address List (RFC 3122 §3). */
export class AddressListOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.SourceAddressList || t === NdpOptionType.TargetAddressList;
  }
  get addressCount(): number {
    return (this.byteLength - AddressListField.Addresses) >>> 4;
  }
  /** Offset of address i (0 <= i < addressCount). */
  addressOffset(i: number): number {
    return this.off + AddressListField.Addresses + 16 * i;
  }
}

export class NonceOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.Nonce;
  }
  get nonceOffset(): number {
    return this.off + NonceField.Nonce;
  }
  get nonceLength(): number {
    return this.byteLength - NonceField.Nonce;
  }
}

export class RouteInformationOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.RouteInformation;
  }
  get prefixLength(): number {
    return this.buf[this.off + RouteInformationField.PrefixLength] as number;
  }
  /** Two-bit preference, see {@link RouterPreference}. */
  get preference(): number {
    return ((this.buf[this.off + RouteInformationField.Flags] as number) >>> 3) & 3;
  }
  /** Seconds; 0xffffffff is infinity. */
  get routeLifetime(): number {
    return u32(this.buf, this.off + RouteInformationField.RouteLifetime);
  }
  get prefixOffset(): number {
    return this.off + RouteInformationField.Prefix;
  }
  /** Prefix bytes present in the option (0, 8 or 16). */
  get prefixBytes(): number {
    return this.byteLength - RouteInformationField.Prefix;
  }
  /** Writes the 16-byte prefix (zero beyond the bytes present) to d[dO]. */
  copyPrefix(d: Uint8Array, dO: number): void {
    const n = this.byteLength - RouteInformationField.Prefix;
    copyBytes(this.buf, this.off + RouteInformationField.Prefix, d, dO, n);
    fillZero(d, dO + n, 16 - n);
  }
}

export class RdnssOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.Rdnss;
  }
  /** Seconds; 0xffffffff is infinity, 0 withdraws. */
  get lifetime(): number {
    return u32(this.buf, this.off + RdnssField.Lifetime);
  }
  get addressCount(): number {
    return (this.byteLength - RdnssField.Addresses) >>> 4;
  }
  addressOffset(i: number): number {
    return this.off + RdnssField.Addresses + 16 * i;
  }
}

export class DnsslOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.Dnssl;
  }
  get lifetime(): number {
    return u32(this.buf, this.off + DnsslField.Lifetime);
  }
  get namesOffset(): number {
    return this.off + DnsslField.DomainNames;
  }
  get namesEnd(): number {
    return this.off + this.byteLength;
  }
}

export class CaptivePortalOptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.CaptivePortal;
  }
  get uriOffset(): number {
    return this.off + CaptivePortalField.Uri;
  }
  /** URI bytes without the zero padding. */
  get uriLength(): number {
    let n = this.byteLength - CaptivePortalField.Uri;
    while (n > 0 && this.buf[this.off + CaptivePortalField.Uri + n - 1] === 0) n--;
    return n;
  }
}

export class Pref64OptionView extends NdpOptionView {
  protected override accepts(t: number): boolean {
    return t === NdpOptionType.Pref64;
  }
  /** Lifetime in units of 8 seconds (13 bits). */
  get scaledLifetime(): number {
    return u16(this.buf, this.off + Pref64Field.ScaledLifetimeAndCode) >>> 3;
  }
  /** Seconds. */
  get lifetime(): number {
    return (u16(this.buf, this.off + Pref64Field.ScaledLifetimeAndCode) >>> 3) * 8;
  }
  get prefixLengthCode(): number {
    return (this.buf[this.off + Pref64Field.ScaledLifetimeAndCode + 1] as number) & 7;
  }
  /** 96, 64, 56, 48, 40 or 32; -1 for a code the receiver must ignore. */
  get prefixLength(): number {
    return pref64PrefixLength((this.buf[this.off + Pref64Field.ScaledLifetimeAndCode + 1] as number) & 7);
  }
  /** The high 96 bits of the prefix (12 bytes). */
  get prefixOffset(): number {
    return this.off + Pref64Field.Prefix;
  }
}

// ---- Reprs: building options (configuration, tests) ----

export interface LinkLayerAddressOptionRepr {
  kind: 'source-link-layer-address' | 'target-link-layer-address';
  /** 6 bytes for Ethernet; other lengths are padded to the next 8-octet boundary. */
  address: Uint8Array;
}
export interface PrefixInformationOptionRepr {
  kind: 'prefix-information';
  prefixLength: number;
  onLink: boolean;
  autonomous: boolean;
  routerAddress?: boolean;
  pdPreferred?: boolean;
  validLifetime: number;
  preferredLifetime: number;
  /** 16 bytes. */
  prefix: Uint8Array;
}
export interface RedirectedHeaderOptionRepr {
  kind: 'redirected-header';
  /** The start of the redirected packet; zero padded to 8 octets. */
  data: Uint8Array;
}
export interface MtuOptionRepr {
  kind: 'mtu';
  mtu: number;
}
export interface AdvertisementIntervalOptionRepr {
  kind: 'advertisement-interval';
  interval: number;
}
export interface HomeAgentInformationOptionRepr {
  kind: 'home-agent-information';
  preference: number;
  lifetime: number;
}
export interface AddressListOptionRepr {
  kind: 'source-address-list' | 'target-address-list';
  /** 16 bytes each; at least one. */
  addresses: Uint8Array[];
}
export interface NonceOptionRepr {
  kind: 'nonce';
  /** 6 bytes, or 6 + 8k; other lengths are zero padded. */
  nonce: Uint8Array;
}
export interface RouteInformationOptionRepr {
  kind: 'route-information';
  prefixLength: number;
  preference: number;
  routeLifetime: number;
  /** 16 bytes; only the bytes the prefix length needs are sent (unless `prefixBytes` says more). */
  prefix: Uint8Array;
  /**
   * Prefix bytes on the wire (0, 8 or 16) when more than the prefix length needs: RFC 4191 §2.3
   * lets a sender use a longer option (radvd sends /48 in length 3). Absent: the fewest.
   */
  prefixBytes?: number;
}
export interface RdnssOptionRepr {
  kind: 'rdnss';
  lifetime: number;
  addresses: Uint8Array[];
}
export interface DnsslOptionRepr {
  kind: 'dnssl';
  lifetime: number;
  domains: string[];
}
export interface CaptivePortalOptionRepr {
  kind: 'captive-portal';
  uri: string;
}
export interface Pref64OptionRepr {
  kind: 'pref64';
  /** Units of 8 seconds, 0..8191. */
  scaledLifetime: number;
  /** 0..5 (96, 64, 56, 48, 40, 32 bits); 6 and 7 are sent as given. */
  prefixLengthCode: number;
  /** At least 12 bytes: the high 96 bits are sent. */
  prefix: Uint8Array;
}
export interface UnknownOptionRepr {
  kind: 'unknown';
  type: number;
  /** The body after type and length; zero padded so the option is a multiple of 8. */
  data: Uint8Array;
}

export type NdpOptionRepr =
  | LinkLayerAddressOptionRepr
  | PrefixInformationOptionRepr
  | RedirectedHeaderOptionRepr
  | MtuOptionRepr
  | AdvertisementIntervalOptionRepr
  | HomeAgentInformationOptionRepr
  | AddressListOptionRepr
  | NonceOptionRepr
  | RouteInformationOptionRepr
  | RdnssOptionRepr
  | DnsslOptionRepr
  | CaptivePortalOptionRepr
  | Pref64OptionRepr
  | UnknownOptionRepr;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

function roundUp8(n: number): number {
  return (n + 7) & ~7;
}

function routeInformationUnits(prefixLength: number, prefixBytes = 0): number {
  const fewest = prefixLength === 0 ? 1 : prefixLength <= 64 ? 2 : 3;
  const asked = prefixBytes > 8 ? 3 : prefixBytes > 0 ? 2 : 1;
  return Math.max(fewest, asked);
}

/** Bytes the option takes on the wire (a multiple of 8). */
export function ndpOptionLength(r: NdpOptionRepr): number {
  switch (r.kind) {
    case 'source-link-layer-address':
    case 'target-link-layer-address':
      return roundUp8(2 + r.address.length);
    case 'prefix-information':
      return 32;
    case 'redirected-header':
      return 8 + roundUp8(r.data.length);
    case 'mtu':
    case 'advertisement-interval':
    case 'home-agent-information':
      return 8;
    case 'source-address-list':
    case 'target-address-list':
    case 'rdnss':
      return 8 + 16 * r.addresses.length;
    case 'nonce':
      return roundUp8(2 + r.nonce.length);
    case 'route-information':
      return 8 * routeInformationUnits(r.prefixLength, r.prefixBytes);
    case 'dnssl':
      return 8 + roundUp8(dnsNameListLength(r.domains));
    case 'captive-portal':
      return roundUp8(2 + utf8Encoder.encode(r.uri).length);
    case 'pref64':
      return 16;
    case 'unknown':
      return roundUp8(2 + r.data.length);
  }
}

/** The type code of an option Repr: the {@link NdpOptionType} whose name is its `kind`. */
export function ndpOptionType(r: NdpOptionRepr): number {
  // Every kind but 'unknown' is the kebab-case name of a key of NdpOptionType (a test holds each).
  return r.kind === 'unknown' ? r.type : (optionTypes.get(r.kind) as number);
}

/**
 * Writes one option at b[o] and returns its length. The bytes it covers are written in full
 * (reserved fields and padding zeroed). Cold path: it may allocate for DNSSL and the captive
 * portal URI.
 */
export function emitNdpOption(r: NdpOptionRepr, b: Uint8Array, o: number): number {
  const n = ndpOptionLength(r);
  fillZero(b, o, n);
  b[o + NdpOptionField.Type] = ndpOptionType(r);
  b[o + NdpOptionField.Length] = n >>> 3;
  switch (r.kind) {
    case 'source-link-layer-address':
    case 'target-link-layer-address':
      copyBytes(r.address, 0, b, o + LinkLayerAddressField.Address, r.address.length);
      break;
    case 'prefix-information':
      b[o + PrefixInformationField.PrefixLength] = r.prefixLength;
      b[o + PrefixInformationField.Flags] =
        (r.onLink ? PrefixFlag.OnLink : 0) |
        (r.autonomous ? PrefixFlag.Autonomous : 0) |
        (r.routerAddress === true ? PrefixFlag.RouterAddress : 0) |
        (r.pdPreferred === true ? PrefixFlag.PdPreferred : 0);
      setU32(b, o + PrefixInformationField.ValidLifetime, r.validLifetime);
      setU32(b, o + PrefixInformationField.PreferredLifetime, r.preferredLifetime);
      copyBytes(r.prefix, 0, b, o + PrefixInformationField.Prefix, 16);
      break;
    case 'redirected-header':
      copyBytes(r.data, 0, b, o + RedirectedHeaderField.Data, r.data.length);
      break;
    case 'mtu':
      setU32(b, o + MtuField.Mtu, r.mtu);
      break;
    case 'advertisement-interval':
      setU32(b, o + AdvertisementIntervalField.Interval, r.interval);
      break;
    case 'home-agent-information':
      setU16(b, o + HomeAgentInformationField.Preference, r.preference);
      setU16(b, o + HomeAgentInformationField.Lifetime, r.lifetime);
      break;
    case 'source-address-list':
    case 'target-address-list':
    case 'rdnss':
      // The addresses start at the same offset in both layouts (AddressListField, RdnssField).
      if (r.kind === 'rdnss') setU32(b, o + RdnssField.Lifetime, r.lifetime);
      for (let i = 0; i < r.addresses.length; i++)
        copyBytes(r.addresses[i] as Uint8Array, 0, b, o + AddressListField.Addresses + 16 * i, 16);
      break;
    case 'nonce':
      copyBytes(r.nonce, 0, b, o + NonceField.Nonce, r.nonce.length);
      break;
    case 'route-information':
      b[o + RouteInformationField.PrefixLength] = r.prefixLength;
      b[o + RouteInformationField.Flags] = (r.preference & 3) << 3;
      setU32(b, o + RouteInformationField.RouteLifetime, r.routeLifetime);
      copyBytes(r.prefix, 0, b, o + RouteInformationField.Prefix, n - RouteInformationField.Prefix);
      break;
    case 'dnssl':
      setU32(b, o + DnsslField.Lifetime, r.lifetime);
      emitDnsNameList(r.domains, b, o + DnsslField.DomainNames);
      break;
    case 'captive-portal': {
      const uri = utf8Encoder.encode(r.uri);
      copyBytes(uri, 0, b, o + CaptivePortalField.Uri, uri.length);
      break;
    }
    case 'pref64':
      setU16(b, o + Pref64Field.ScaledLifetimeAndCode, ((r.scaledLifetime & 0x1fff) << 3) | (r.prefixLengthCode & 7));
      copyBytes(r.prefix, 0, b, o + Pref64Field.Prefix, 12);
      break;
    case 'unknown':
      copyBytes(r.data, 0, b, o + NdpOptionField.Body, r.data.length);
      break;
  }
  return n;
}

export function ndpOptionsLength(list: readonly NdpOptionRepr[]): number {
  let n = 0;
  for (const r of list) n += ndpOptionLength(r);
  return n;
}

export function emitNdpOptions(list: readonly NdpOptionRepr[], b: Uint8Array, o: number): number {
  let p = o;
  for (const r of list) p += emitNdpOption(r, b, p);
  return p - o;
}

/**
 * Hot-path form of a link-layer address option for Ethernet: type 1 or 2, length 1, the MAC at
 * mac[macOff]. Returns 8.
 */
export function emitLinkLayerAddressOption(
  type: number,
  mac: Uint8Array,
  macOff: number,
  b: Uint8Array,
  o: number,
): number {
  b[o + NdpOptionField.Type] = type;
  b[o + NdpOptionField.Length] = 1;
  copyBytes(mac, macOff, b, o + LinkLayerAddressField.Address, 6);
  return NDP_OPTION_UNIT;
}

// ---- Reading options into Reprs and JSON (edges only: these allocate) ----

function addressesOf(b: Uint8Array, from: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = from; p + 16 <= end; p += 16) out.push(sliceBytes(b, p, p + 16));
  return out;
}

/**
 * The Repr of the option at b[o], n bytes, which has passed {@link checkNdpOption} (a cursor's
 * Ok). Lossless for what emit writes: emitting the result gives the same bytes except reserved
 * fields and padding.
 */
export function readNdpOption(b: Uint8Array, o: number, n: number): NdpOptionRepr {
  const t = b[o + NdpOptionField.Type] as number;
  const end = o + n;
  switch (t) {
    case NdpOptionType.SourceLinkLayerAddress:
    case NdpOptionType.TargetLinkLayerAddress:
      return {
        kind: t === NdpOptionType.SourceLinkLayerAddress ? 'source-link-layer-address' : 'target-link-layer-address',
        address: sliceBytes(b, o + LinkLayerAddressField.Address, end),
      };
    case NdpOptionType.PrefixInformation: {
      const f = b[o + PrefixInformationField.Flags] as number;
      return {
        kind: 'prefix-information',
        prefixLength: b[o + PrefixInformationField.PrefixLength] as number,
        onLink: (f & PrefixFlag.OnLink) !== 0,
        autonomous: (f & PrefixFlag.Autonomous) !== 0,
        routerAddress: (f & PrefixFlag.RouterAddress) !== 0,
        pdPreferred: (f & PrefixFlag.PdPreferred) !== 0,
        validLifetime: u32(b, o + PrefixInformationField.ValidLifetime),
        preferredLifetime: u32(b, o + PrefixInformationField.PreferredLifetime),
        prefix: sliceBytes(b, o + PrefixInformationField.Prefix, o + PrefixInformationField.Prefix + 16),
      };
    }
    case NdpOptionType.RedirectedHeader:
      return { kind: 'redirected-header', data: sliceBytes(b, o + RedirectedHeaderField.Data, end) };
    case NdpOptionType.Mtu:
      return { kind: 'mtu', mtu: u32(b, o + MtuField.Mtu) };
    case NdpOptionType.AdvertisementInterval:
      return { kind: 'advertisement-interval', interval: u32(b, o + AdvertisementIntervalField.Interval) };
    case NdpOptionType.HomeAgentInformation:
      return {
        kind: 'home-agent-information',
        preference: u16(b, o + HomeAgentInformationField.Preference),
        lifetime: u16(b, o + HomeAgentInformationField.Lifetime),
      };
    case NdpOptionType.SourceAddressList:
    case NdpOptionType.TargetAddressList:
      return {
        kind: t === NdpOptionType.SourceAddressList ? 'source-address-list' : 'target-address-list',
        addresses: addressesOf(b, o + AddressListField.Addresses, end),
      };
    case NdpOptionType.Nonce:
      return { kind: 'nonce', nonce: sliceBytes(b, o + NonceField.Nonce, end) };
    case NdpOptionType.RouteInformation: {
      const prefix = new Uint8Array(16);
      copyBytes(b, o + RouteInformationField.Prefix, prefix, 0, n - RouteInformationField.Prefix);
      const prefixLength = b[o + RouteInformationField.PrefixLength] as number;
      const r: RouteInformationOptionRepr = {
        kind: 'route-information',
        prefixLength,
        preference: ((b[o + RouteInformationField.Flags] as number) >>> 3) & 3,
        routeLifetime: u32(b, o + RouteInformationField.RouteLifetime),
        prefix,
      };
      // Kept only when longer than needed, so that emit gives the same length back.
      if (n > 8 * routeInformationUnits(prefixLength)) r.prefixBytes = n - RouteInformationField.Prefix;
      return r;
    }
    case NdpOptionType.Rdnss:
      return {
        kind: 'rdnss',
        lifetime: u32(b, o + RdnssField.Lifetime),
        addresses: addressesOf(b, o + RdnssField.Addresses, end),
      };
    case NdpOptionType.Dnssl:
      return {
        kind: 'dnssl',
        lifetime: u32(b, o + DnsslField.Lifetime),
        domains: formatDnsNameList(b, o + DnsslField.DomainNames, end),
      };
    case NdpOptionType.CaptivePortal: {
      let e = end;
      while (e > o + CaptivePortalField.Uri && b[e - 1] === 0) e--;
      return { kind: 'captive-portal', uri: utf8Decoder.decode(sliceBytes(b, o + CaptivePortalField.Uri, e)) };
    }
    case NdpOptionType.Pref64:
      return {
        kind: 'pref64',
        scaledLifetime: u16(b, o + Pref64Field.ScaledLifetimeAndCode) >>> 3,
        prefixLengthCode: u16(b, o + Pref64Field.ScaledLifetimeAndCode) & 7,
        prefix: sliceBytes(b, o + Pref64Field.Prefix, o + Pref64Field.Prefix + 12),
      };
    default:
      return { kind: 'unknown', type: t, data: sliceBytes(b, o + NdpOptionField.Body, end) };
  }
}

/**
 * Reprs of every option in b[off, end), in wire order. Stops at the first bad option (check the
 * list with {@link checkNdpOptions} first to know whether there was one). Edges only.
 */
export function readNdpOptions(b: Uint8Array, off: number, end: number): NdpOptionRepr[] {
  const out: NdpOptionRepr[] = [];
  const c = new NdpOptionCursor().reset(b, off, end);
  while (c.next() === Status.Ok) out.push(readNdpOption(b, c.offset, c.length));
  return out;
}

function prefixText(prefix: Uint8Array, length: number): string {
  return `${formatIpv6(prefix)}/${length}`;
}

/** Plain JSON for one option Repr: `{ type, name, ...fields }`. */
export function ndpOptionJson(r: NdpOptionRepr): Record<string, unknown> {
  const type = ndpOptionType(r);
  const head = { type, name: r.kind === 'unknown' ? 'unknown' : r.kind };
  switch (r.kind) {
    case 'source-link-layer-address':
    case 'target-link-layer-address':
      return { ...head, linkLayerAddress: r.address.length === 6 ? formatMac(r.address) : toHex(r.address) };
    case 'prefix-information': {
      const flags: string[] = [];
      if (r.onLink) flags.push('on-link');
      if (r.autonomous) flags.push('autonomous');
      if (r.routerAddress === true) flags.push('router-address');
      if (r.pdPreferred === true) flags.push('pd-preferred');
      return {
        ...head,
        prefix: prefixText(r.prefix, r.prefixLength),
        prefixAddress: formatIpv6(r.prefix),
        prefixLength: r.prefixLength,
        flags,
        validLifetime: r.validLifetime,
        preferredLifetime: r.preferredLifetime,
      };
    }
    case 'redirected-header':
      return { ...head, data: toHex(r.data) };
    case 'mtu':
      return { ...head, mtu: r.mtu };
    case 'advertisement-interval':
      return { ...head, intervalMilliseconds: r.interval };
    case 'home-agent-information':
      return { ...head, preference: r.preference, lifetime: r.lifetime };
    case 'source-address-list':
    case 'target-address-list':
      return { ...head, addresses: r.addresses.map((a) => formatIpv6(a)) };
    case 'nonce':
      return { ...head, nonce: toHex(r.nonce) };
    case 'route-information':
      return {
        ...head,
        prefix: prefixText(r.prefix, r.prefixLength),
        prefixAddress: formatIpv6(r.prefix),
        prefixLength: r.prefixLength,
        preference: routerPreferenceName(r.preference),
        routeLifetime: r.routeLifetime,
      };
    case 'rdnss':
      return { ...head, lifetime: r.lifetime, addresses: r.addresses.map((a) => formatIpv6(a)) };
    case 'dnssl':
      return { ...head, lifetime: r.lifetime, domains: r.domains };
    case 'captive-portal':
      return { ...head, uri: r.uri };
    case 'pref64': {
      const full = new Uint8Array(16);
      copyBytes(r.prefix, 0, full, 0, 12);
      const plen = pref64PrefixLength(r.prefixLengthCode);
      return {
        ...head,
        prefix: plen < 0 ? null : prefixText(full, plen),
        prefixAddress: formatIpv6(full),
        prefixLength: plen < 0 ? null : plen,
        prefixLengthCode: r.prefixLengthCode,
        lifetime: r.scaledLifetime * 8,
      };
    }
    case 'unknown':
      return { ...head, data: toHex(r.data) };
  }
}

/** JSON for the (checked) option at b[o], n bytes. Edges only. */
export function describeNdpOption(b: Uint8Array, o: number, n: number): Record<string, unknown> {
  return ndpOptionJson(readNdpOption(b, o, n));
}
