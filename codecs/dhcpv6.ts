/**
 * DHCPv6 messages and options (RFC 9915): deep validation of a message with every option it
 * carries, relayed messages included, and the Reprs of messages and options with their emit,
 * parse and JSON. The module to import: it re-exports codecs/dhcpv6-header.ts (the code tables,
 * the headers, field offsets, the option cursor and views) and codecs/dhcpv6-options.ts (the rule
 * of each option, hot-path readers and writers). DUIDs are in codecs/duid.ts.
 *
 * Messages and options are described together here because they nest both ways: a message
 * carries options, and a Relay Message option (§21.10) carries a message.
 *
 * Status rules: an option header or option data that runs past the end of the message is
 * Truncated (the message was cut); an option that runs past the option containing it is
 * Malformed (the bytes contradict themselves); Relay Message options nested more than 32 deep
 * (HOP_COUNT_LIMIT, §7.6) are Malformed.
 *
 * Hot path: {@link validateDhcpv6} allocates nothing, and reads constants through module-local
 * bindings (codecs/code-table.ts says why). Reprs, emit, parse and describe allocate
 * and are for the edges (configuration, the CLI, tests).
 */

import { TextDecoder, TextEncoder } from 'node:util';
import {
  copyBytes,
  formatColonHex,
  formatIpv6,
  setU16,
  setU24,
  setU32,
  sliceBytes,
  toHex,
  u16,
  u24,
  u32,
} from './bytes.js';
import {
  dnsNameListLength,
  dnsNameLength,
  emitDnsName,
  emitDnsNameList,
  formatDnsName,
  formatDnsNameList,
  walkDnsName,
} from './dns-name.js';
import {
  ClassItemField,
  ClientFqdnField,
  ClientFqdnFlag,
  ClientLinkLayerAddressField,
  DHCPV6_HEADER_LENGTH,
  DHCPV6_HOP_COUNT_LIMIT,
  DHCPV6_OPTION_HEADER_LENGTH,
  DHCPV6_RELAY_HEADER_LENGTH,
  Dhcpv6Field,
  Dhcpv6OptionCode,
  Dhcpv6OptionCursor,
  Dhcpv6View,
  IaAddressField,
  IaField,
  IaPrefixField,
  IaTaField,
  NtpSuboptionCode,
  OptionField,
  StatusCodeField,
  VendorField,
  dhcpv6MessageTypeName,
  dhcpv6OptionName,
  dhcpv6OptionRows,
  dhcpv6StatusName,
  emitDhcpv6OptionHeader,
  isRelayMessageType,
  nestedOptionsOffset,
  ntpSuboptionName,
  type dhcpv6Options,
  type ntpSuboptions,
} from './dhcpv6-header.js';
import { checkDhcpv6OptionData } from './dhcpv6-options.js';
import { describeDuid, duidLength, emitDuid, parseDuid, type DuidRepr } from './duid.js';
import { ByteView, DecodeError, Done, Failure, Layer, Status } from './status.js';

export * from './dhcpv6-header.js';
export * from './dhcpv6-options.js';
export { DecodeError, Done };

// ---- Deep validation (hot path) ----

/**
 * Deep validation of the message b[off, off+len): header, every option's framing and rules,
 * encapsulated options, and Relay Message contents down to {@link DHCPV6_HOP_COUNT_LIMIT}
 * levels. First failure goes to `failure`. Allocates nothing (one cursor per nesting level is
 * preallocated).
 */
export function validateDhcpv6(b: Uint8Array, off: number, len: number, failure: Failure): Status {
  return deepValidation.message(b, off, len, failure);
}

// Module-local bindings of the hot path (codecs/code-table.ts says why).
const { Ok, Malformed } = Status;
const DONE = Done;
const layer = Layer;
const relayMessageCode = Dhcpv6OptionCode.RelayMessage;
const checkOption = checkDhcpv6OptionData;
const nestedAt = nestedOptionsOffset;
const hopCountLimit = DHCPV6_HOP_COUNT_LIMIT;
const optionField = OptionField;
const msgTypeAt = Dhcpv6Field.MsgType;
const headerLength = DHCPV6_HEADER_LENGTH;
const relayHeaderLength = DHCPV6_RELAY_HEADER_LENGTH;

/** Levels: relay nesting up to 33 messages, each with IA -> address -> options (a few levels). */
const MAX_OPTION_DEPTH = 8;

/**
 * One deep validation at a time: the message's bytes and the caller's failure record, set by
 * {@link message}, and one option cursor per level. Option level 0 is the top level of the
 * message validated; relay depth r starts at level r * MAX_OPTION_DEPTH, and every level above
 * 0 is inside an option or a Relay Message (overruns there are Malformed).
 */
class DeepValidation {
  private b: Uint8Array = new Uint8Array(0);
  private failure = new Failure();
  private readonly cursors: Dhcpv6OptionCursor[] = [];
  private readonly view = new Dhcpv6View();
  private readonly sink = new ByteView();

  constructor() {
    for (let i = 0; i < (hopCountLimit + 1) * MAX_OPTION_DEPTH; i++) this.cursors.push(new Dhcpv6OptionCursor());
  }

  message(b: Uint8Array, off: number, len: number, failure: Failure): Status {
    this.b = b;
    this.failure = failure;
    const v = this.view.wrap(b, off, len);
    const s = v.check();
    if (s !== Ok) return failure.from(s, layer.Dhcpv6, v);
    return this.options(v.optionsOffset, off + len, 0, 0);
  }

  private options(off: number, end: number, relayDepth: number, level: number): Status {
    const failure = this.failure;
    const c = this.cursors[level];
    if (c === undefined) return failure.fail(Malformed, layer.Dhcpv6Option, off, 'options nested too deep');
    const b = this.b;
    c.reset(b, off, end, level > 0);
    for (;;) {
      const s = c.next();
      if (s === DONE) return Ok;
      if (s !== Ok) return failure.fail(s, layer.Dhcpv6Option, c.errorOffset, c.errorReason);
      const code = c.code;
      const d = c.dataOffset;
      const n = c.dataLength;
      const r = checkOption(b, code, d, n, this.sink);
      if (r !== Ok) return failure.from(r, layer.Dhcpv6Option, this.sink);
      if (code === relayMessageCode) {
        const inner = this.relayed(d, n, relayDepth + 1);
        if (inner !== Ok) return inner;
        continue;
      }
      const at = nestedAt(code);
      if (at >= 0) {
        const inner = this.options(d + at, d + n, relayDepth, level + 1);
        if (inner !== Ok) return inner;
      }
    }
  }

  /**
   * A Relay Message option's data: a whole message; running short inside it is Malformed. The
   * top-level message is at depth 0, so relay messages may sit at depths 0..31 (32 relay agents,
   * RFC 9915 §7.6 HOP_COUNT_LIMIT) and the client/server message they carry at depth 32; a relay
   * message at depth 32 (the 33rd) is Malformed whatever it carries.
   */
  private relayed(d: number, n: number, relayDepth: number): Status {
    const failure = this.failure;
    if (n < 1) {
      const lengthAt = d - optionField.Data + optionField.Length;
      return failure.fail(Malformed, layer.Dhcpv6Option, lengthAt, 'empty Relay Message option');
    }
    // In bounds: n >= 1.
    const relay = isRelayMessageType(this.b[d + msgTypeAt] as number);
    if (relayDepth > hopCountLimit || (relay && relayDepth >= hopCountLimit)) {
      return failure.fail(Malformed, layer.Dhcpv6, d, 'relay messages nested deeper than 32');
    }
    const header = relay ? relayHeaderLength : headerLength;
    if (n < header) return failure.fail(Malformed, layer.Dhcpv6, d, 'relayed message shorter than its header');
    return this.options(d + header, d + n, relayDepth, relayDepth * MAX_OPTION_DEPTH);
  }
}

const deepValidation = new DeepValidation();

// ---- Reprs (edges) ----

export interface Dhcpv6ClientServerRepr {
  kind: 'message';
  msgType: number;
  /** 24 bits. */
  transactionId: number;
  options: Dhcpv6OptionRepr[];
}

export interface Dhcpv6RelayRepr {
  kind: 'relay';
  /** Relay-forw (12) or Relay-repl (13). */
  msgType: number;
  hopCount: number;
  linkAddress: Uint8Array;
  peerAddress: Uint8Array;
  options: Dhcpv6OptionRepr[];
}

export type Dhcpv6MessageRepr = Dhcpv6ClientServerRepr | Dhcpv6RelayRepr;

/** A suboption of Vendor-specific Information, or an option kept as bytes. */
export interface Dhcpv6RawOption {
  code: number;
  data: Uint8Array;
}

/** The name of option `K` in the option table: the `kind` of its Repr. */
type Kind<K extends keyof typeof dhcpv6Options> = (typeof dhcpv6Options)[K]['name'];
type NtpKind<K extends keyof typeof ntpSuboptions> = (typeof ntpSuboptions)[K]['name'];

export type NtpSuboptionRepr =
  | { kind: NtpKind<'ServerAddress'>; address: Uint8Array }
  | { kind: NtpKind<'MulticastAddress'>; address: Uint8Array }
  | { kind: NtpKind<'ServerFqdn'>; name: string }
  | { kind: 'unknown'; code: number; data: Uint8Array };

/** What an option is built from; `kind` is the option's name in the option table. */
export type Dhcpv6OptionRepr =
  | { kind: Kind<'ClientId'>; duid: DuidRepr }
  | { kind: Kind<'ServerId'>; duid: DuidRepr }
  | { kind: Kind<'IaNa'>; iaid: number; t1: number; t2: number; options: Dhcpv6OptionRepr[] }
  | { kind: Kind<'IaTa'>; iaid: number; options: Dhcpv6OptionRepr[] }
  | {
      kind: Kind<'IaAddress'>;
      address: Uint8Array;
      preferredLifetime: number;
      validLifetime: number;
      options: Dhcpv6OptionRepr[];
    }
  | { kind: Kind<'OptionRequest'>; codes: number[] }
  | { kind: Kind<'Preference'>; preference: number }
  /** Hundredths of a second. */
  | { kind: Kind<'ElapsedTime'>; elapsedTime: number }
  | { kind: Kind<'RelayMessage'>; message: Dhcpv6MessageRepr }
  | { kind: Kind<'StatusCode'>; statusCode: number; message: string }
  | { kind: Kind<'RapidCommit'> }
  | { kind: Kind<'UserClass'>; items: Uint8Array[] }
  | { kind: Kind<'VendorClass'>; enterpriseNumber: number; items: Uint8Array[] }
  | { kind: Kind<'VendorOptions'>; enterpriseNumber: number; options: Dhcpv6RawOption[] }
  | { kind: Kind<'InterfaceId'>; interfaceId: Uint8Array }
  | { kind: Kind<'ReconfigureMessage'>; msgType: number }
  | { kind: Kind<'ReconfigureAccept'> }
  | { kind: Kind<'SipServerDomains'>; names: string[] }
  | { kind: Kind<'SipServerAddresses'>; addresses: Uint8Array[] }
  | { kind: Kind<'DnsServers'>; addresses: Uint8Array[] }
  | { kind: Kind<'DomainSearchList'>; names: string[] }
  | { kind: Kind<'IaPd'>; iaid: number; t1: number; t2: number; options: Dhcpv6OptionRepr[] }
  | {
      kind: Kind<'IaPrefix'>;
      preferredLifetime: number;
      validLifetime: number;
      prefixLength: number;
      prefix: Uint8Array;
      options: Dhcpv6OptionRepr[];
    }
  | { kind: Kind<'SntpServers'>; addresses: Uint8Array[] }
  | { kind: Kind<'InformationRefreshTime'>; seconds: number }
  /** `name` "" with partial true is an empty name field; a partial name has no final dot. */
  | { kind: Kind<'ClientFqdn'>; flags: number; name: string; partial: boolean }
  | { kind: Kind<'NtpServer'>; suboptions: NtpSuboptionRepr[] }
  | { kind: Kind<'ClientLinkLayerAddress'>; hardwareType: number; address: Uint8Array }
  | { kind: Kind<'SolMaxRt'>; seconds: number }
  | { kind: Kind<'InfMaxRt'>; seconds: number }
  | { kind: 'unknown'; code: number; data: Uint8Array };

const codeOfKind = new Map<string, number>();
for (const row of dhcpv6OptionRows) if (row !== undefined) codeOfKind.set(row.name, row.code);

export function dhcpv6OptionCodeOf(r: Dhcpv6OptionRepr): number {
  return r.kind === 'unknown' ? r.code : (codeOfKind.get(r.kind) as number);
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

// ---- Lengths ----

export function dhcpv6MessageLength(r: Dhcpv6MessageRepr): number {
  return (r.kind === 'relay' ? DHCPV6_RELAY_HEADER_LENGTH : DHCPV6_HEADER_LENGTH) + dhcpv6OptionsLength(r.options);
}

function itemsLength(items: readonly Uint8Array[]): number {
  let n = 0;
  for (const item of items) n += ClassItemField.Data + item.length;
  return n;
}

function rawOptionsLength(list: readonly Dhcpv6RawOption[]): number {
  let n = 0;
  for (const o of list) n += DHCPV6_OPTION_HEADER_LENGTH + o.data.length;
  return n;
}

function ntpSuboptionLength(s: NtpSuboptionRepr): number {
  switch (s.kind) {
    case 'server-address':
    case 'multicast-address':
      return DHCPV6_OPTION_HEADER_LENGTH + 16;
    case 'server-fqdn':
      return DHCPV6_OPTION_HEADER_LENGTH + dnsNameLength(s.name);
    case 'unknown':
      return DHCPV6_OPTION_HEADER_LENGTH + s.data.length;
  }
}

/** Length of option-data (without the 4-octet header). */
export function dhcpv6OptionDataLength(r: Dhcpv6OptionRepr): number {
  switch (r.kind) {
    case 'client-id':
    case 'server-id':
      return duidLength(r.duid);
    case 'ia-na':
    case 'ia-pd':
      return IaField.Options + dhcpv6OptionsLength(r.options);
    case 'ia-ta':
      return IaTaField.Options + dhcpv6OptionsLength(r.options);
    case 'ia-address':
      return IaAddressField.Options + dhcpv6OptionsLength(r.options);
    case 'ia-prefix':
      return IaPrefixField.Options + dhcpv6OptionsLength(r.options);
    case 'option-request':
      return 2 * r.codes.length;
    case 'preference':
    case 'reconfigure-message':
      return 1;
    case 'elapsed-time':
      return 2;
    case 'relay-message':
      return dhcpv6MessageLength(r.message);
    case 'status-code':
      return StatusCodeField.Message + utf8Encoder.encode(r.message).length;
    case 'rapid-commit':
    case 'reconfigure-accept':
      return 0;
    case 'user-class':
      return itemsLength(r.items);
    case 'vendor-class':
      return VendorField.Data + itemsLength(r.items);
    case 'vendor-options':
      return VendorField.Data + rawOptionsLength(r.options);
    case 'interface-id':
      return r.interfaceId.length;
    case 'sip-server-domains':
    case 'domain-search-list':
      return dnsNameListLength(r.names);
    case 'sip-server-addresses':
    case 'dns-servers':
    case 'sntp-servers':
      return 16 * r.addresses.length;
    case 'information-refresh-time':
    case 'sol-max-rt':
    case 'inf-max-rt':
      return 4;
    case 'client-fqdn':
      return ClientFqdnField.DomainName + (r.name === '' ? 0 : dnsNameLength(r.name, r.partial));
    case 'ntp-server': {
      let n = 0;
      for (const s of r.suboptions) n += ntpSuboptionLength(s);
      return n;
    }
    case 'client-link-layer-address':
      return ClientLinkLayerAddressField.Address + r.address.length;
    case 'unknown':
      return r.data.length;
  }
}

/** Length of the whole option, header included. */
export function dhcpv6OptionLength(r: Dhcpv6OptionRepr): number {
  return DHCPV6_OPTION_HEADER_LENGTH + dhcpv6OptionDataLength(r);
}

export function dhcpv6OptionsLength(list: readonly Dhcpv6OptionRepr[]): number {
  let n = 0;
  for (const r of list) n += dhcpv6OptionLength(r);
  return n;
}

// ---- Emit (edges: strings are encoded on the fly) ----

/** Writes the message at b[off]; returns bytes written. Throws TypeError on an unencodable Repr. */
export function emitDhcpv6Message(r: Dhcpv6MessageRepr, b: Uint8Array, off: number): number {
  b[off + Dhcpv6Field.MsgType] = r.msgType;
  let p: number;
  if (r.kind === 'relay') {
    if (r.linkAddress.length !== 16 || r.peerAddress.length !== 16)
      throw new TypeError('relay link and peer addresses must be 16 octets');
    b[off + Dhcpv6Field.HopCount] = r.hopCount;
    copyBytes(r.linkAddress, 0, b, off + Dhcpv6Field.LinkAddress, 16);
    copyBytes(r.peerAddress, 0, b, off + Dhcpv6Field.PeerAddress, 16);
    p = off + DHCPV6_RELAY_HEADER_LENGTH;
  } else {
    setU24(b, off + Dhcpv6Field.TransactionId, r.transactionId);
    p = off + DHCPV6_HEADER_LENGTH;
  }
  p += emitDhcpv6Options(r.options, b, p);
  return p - off;
}

function emitAddresses(list: readonly Uint8Array[], b: Uint8Array, o: number): void {
  for (let i = 0; i < list.length; i++) copyBytes(list[i] as Uint8Array, 0, b, o + 16 * i, 16);
}

function emitItems(items: readonly Uint8Array[], b: Uint8Array, o: number): void {
  let p = o;
  for (const item of items) {
    setU16(b, p + ClassItemField.Length, item.length);
    copyBytes(item, 0, b, p + ClassItemField.Data, item.length);
    p += ClassItemField.Data + item.length;
  }
}

/** Suboptions framed like options; returns bytes written. */
function emitRawOptions(list: readonly Dhcpv6RawOption[], b: Uint8Array, o: number): number {
  let p = o;
  for (const s of list) {
    p += emitDhcpv6OptionHeader(b, p, s.code, s.data.length);
    copyBytes(s.data, 0, b, p, s.data.length);
    p += s.data.length;
  }
  return p - o;
}

function emitNtpSuboption(s: NtpSuboptionRepr, b: Uint8Array, o: number): number {
  const d = o + DHCPV6_OPTION_HEADER_LENGTH;
  const n = ntpSuboptionLength(s) - DHCPV6_OPTION_HEADER_LENGTH;
  switch (s.kind) {
    case 'server-address':
    case 'multicast-address':
      emitDhcpv6OptionHeader(
        b,
        o,
        s.kind === 'server-address' ? NtpSuboptionCode.ServerAddress : NtpSuboptionCode.MulticastAddress,
        16,
      );
      copyBytes(s.address, 0, b, d, 16);
      break;
    case 'server-fqdn':
      emitDhcpv6OptionHeader(b, o, NtpSuboptionCode.ServerFqdn, n);
      emitDnsName(s.name, b, d);
      break;
    case 'unknown':
      emitDhcpv6OptionHeader(b, o, s.code, n);
      copyBytes(s.data, 0, b, d, n);
      break;
  }
  return DHCPV6_OPTION_HEADER_LENGTH + n;
}

/**
 * Writes the option at b[o] and returns the bytes written (= dhcpv6OptionLength(r)). Throws
 * TypeError on a Repr that cannot be encoded (a bad name, an option longer than 65535 octets).
 */
export function emitDhcpv6Option(r: Dhcpv6OptionRepr, b: Uint8Array, o: number): number {
  const n = dhcpv6OptionDataLength(r);
  if (n > 0xffff) throw new TypeError(`${r.kind} option longer than 65535 octets`);
  emitDhcpv6OptionHeader(b, o, dhcpv6OptionCodeOf(r), n);
  const d = o + DHCPV6_OPTION_HEADER_LENGTH;
  switch (r.kind) {
    case 'client-id':
    case 'server-id':
      emitDuid(r.duid, b, d);
      break;
    case 'ia-na':
    case 'ia-pd':
      setU32(b, d + IaField.Iaid, r.iaid);
      setU32(b, d + IaField.T1, r.t1);
      setU32(b, d + IaField.T2, r.t2);
      emitDhcpv6Options(r.options, b, d + IaField.Options);
      break;
    case 'ia-ta':
      setU32(b, d + IaTaField.Iaid, r.iaid);
      emitDhcpv6Options(r.options, b, d + IaTaField.Options);
      break;
    case 'ia-address':
      copyBytes(r.address, 0, b, d + IaAddressField.Address, 16);
      setU32(b, d + IaAddressField.PreferredLifetime, r.preferredLifetime);
      setU32(b, d + IaAddressField.ValidLifetime, r.validLifetime);
      emitDhcpv6Options(r.options, b, d + IaAddressField.Options);
      break;
    case 'ia-prefix':
      setU32(b, d + IaPrefixField.PreferredLifetime, r.preferredLifetime);
      setU32(b, d + IaPrefixField.ValidLifetime, r.validLifetime);
      b[d + IaPrefixField.PrefixLength] = r.prefixLength;
      copyBytes(r.prefix, 0, b, d + IaPrefixField.Prefix, 16);
      emitDhcpv6Options(r.options, b, d + IaPrefixField.Options);
      break;
    case 'option-request':
      for (let i = 0; i < r.codes.length; i++) setU16(b, d + 2 * i, r.codes[i] as number);
      break;
    case 'preference':
      b[d] = r.preference;
      break;
    case 'reconfigure-message':
      b[d] = r.msgType;
      break;
    case 'elapsed-time':
      setU16(b, d, r.elapsedTime);
      break;
    case 'relay-message':
      emitDhcpv6Message(r.message, b, d);
      break;
    case 'status-code': {
      setU16(b, d + StatusCodeField.Code, r.statusCode);
      const m = utf8Encoder.encode(r.message);
      copyBytes(m, 0, b, d + StatusCodeField.Message, m.length);
      break;
    }
    case 'rapid-commit':
    case 'reconfigure-accept':
      break;
    case 'user-class':
      emitItems(r.items, b, d);
      break;
    case 'vendor-class':
      setU32(b, d + VendorField.EnterpriseNumber, r.enterpriseNumber);
      emitItems(r.items, b, d + VendorField.Data);
      break;
    case 'vendor-options':
      setU32(b, d + VendorField.EnterpriseNumber, r.enterpriseNumber);
      emitRawOptions(r.options, b, d + VendorField.Data);
      break;
    case 'interface-id':
      copyBytes(r.interfaceId, 0, b, d, r.interfaceId.length);
      break;
    case 'sip-server-domains':
    case 'domain-search-list':
      emitDnsNameList(r.names, b, d);
      break;
    case 'sip-server-addresses':
    case 'dns-servers':
    case 'sntp-servers':
      emitAddresses(r.addresses, b, d);
      break;
    case 'information-refresh-time':
    case 'sol-max-rt':
    case 'inf-max-rt':
      setU32(b, d, r.seconds);
      break;
    case 'client-fqdn':
      b[d + ClientFqdnField.Flags] = r.flags;
      if (r.name !== '') emitDnsName(r.name, b, d + ClientFqdnField.DomainName, r.partial);
      break;
    case 'ntp-server': {
      let p = d;
      for (const s of r.suboptions) p += emitNtpSuboption(s, b, p);
      break;
    }
    case 'client-link-layer-address':
      setU16(b, d + ClientLinkLayerAddressField.HardwareType, r.hardwareType);
      copyBytes(r.address, 0, b, d + ClientLinkLayerAddressField.Address, r.address.length);
      break;
    case 'unknown':
      copyBytes(r.data, 0, b, d, r.data.length);
      break;
  }
  return DHCPV6_OPTION_HEADER_LENGTH + n;
}

export function emitDhcpv6Options(list: readonly Dhcpv6OptionRepr[], b: Uint8Array, o: number): number {
  let p = o;
  for (const r of list) p += emitDhcpv6Option(r, b, p);
  return p - o;
}

// ---- Parse (edges: allocates; the bytes must have passed validateDhcpv6) ----

/** Repr of a message already validated (validateDhcpv6). */
export function parseDhcpv6MessageUnchecked(b: Uint8Array, off: number, len: number): Dhcpv6MessageRepr {
  const t = b[off + Dhcpv6Field.MsgType] as number;
  const end = off + len;
  if (isRelayMessageType(t)) {
    return {
      kind: 'relay',
      msgType: t,
      hopCount: b[off + Dhcpv6Field.HopCount] as number,
      linkAddress: sliceBytes(b, off + Dhcpv6Field.LinkAddress, off + Dhcpv6Field.LinkAddress + 16),
      peerAddress: sliceBytes(b, off + Dhcpv6Field.PeerAddress, off + Dhcpv6Field.PeerAddress + 16),
      options: parseDhcpv6Options(b, off + DHCPV6_RELAY_HEADER_LENGTH, end),
    };
  }
  return {
    kind: 'message',
    msgType: t,
    transactionId: u24(b, off + Dhcpv6Field.TransactionId),
    options: parseDhcpv6Options(b, off + DHCPV6_HEADER_LENGTH, end),
  };
}

/** Repr of the message b[off, off+len); throws {@link DecodeError} when it does not validate. */
export function parseDhcpv6Message(b: Uint8Array, off: number, len: number): Dhcpv6MessageRepr {
  const f = new Failure();
  if (validateDhcpv6(b, off, len, f) !== Status.Ok) throw f.toError();
  return parseDhcpv6MessageUnchecked(b, off, len);
}

function readAddresses(b: Uint8Array, d: number, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = d; p + 16 <= d + n; p += 16) out.push(sliceBytes(b, p, p + 16));
  return out;
}

function readItems(b: Uint8Array, p: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (end - p >= ClassItemField.Data) {
    const d = p + ClassItemField.Data;
    const n = Math.min(u16(b, p + ClassItemField.Length), end - d);
    out.push(sliceBytes(b, d, d + n));
    p = d + n;
  }
  return out;
}

/** Suboptions framed like options, kept as code and bytes (stops where the framing breaks). */
function readRawOptions(b: Uint8Array, p: number, end: number): Dhcpv6RawOption[] {
  const out: Dhcpv6RawOption[] = [];
  while (end - p >= DHCPV6_OPTION_HEADER_LENGTH) {
    const d = p + OptionField.Data;
    const n = Math.min(u16(b, p + OptionField.Length), end - d);
    out.push({ code: u16(b, p + OptionField.Code), data: sliceBytes(b, d, d + n) });
    p = d + n;
  }
  return out;
}

/** Names of a DNS name list (the root name "." included); stops at the first bad name. */
function readNames(b: Uint8Array, p: number, end: number): string[] {
  return formatDnsNameList(b, p, end, false);
}

/** Client FQDN name field: text and whether it is partial (no final zero octet). */
function readFqdn(b: Uint8Array, p: number, end: number): { name: string; partial: boolean } {
  if (p >= end) return { name: '', partial: true };
  const full = walkDnsName(b, p, end) === end;
  return { name: formatDnsName(b, p, end), partial: !full };
}

/**
 * The Repr of one option with data b[d, d+n). The option must have passed validation
 * (parseDhcpv6Message checks first); on unchecked bytes the result is unspecified but this does
 * not read past d + n.
 */
export function parseDhcpv6Option(b: Uint8Array, code: number, d: number, n: number): Dhcpv6OptionRepr {
  const end = d + n;
  switch (code) {
    case Dhcpv6OptionCode.ClientId:
      return { kind: 'client-id', duid: parseDuid(b, d, n) };
    case Dhcpv6OptionCode.ServerId:
      return { kind: 'server-id', duid: parseDuid(b, d, n) };
    case Dhcpv6OptionCode.IaNa:
    case Dhcpv6OptionCode.IaPd:
      return {
        kind: code === Dhcpv6OptionCode.IaNa ? 'ia-na' : 'ia-pd',
        iaid: u32(b, d + IaField.Iaid),
        t1: u32(b, d + IaField.T1),
        t2: u32(b, d + IaField.T2),
        options: parseDhcpv6Options(b, d + IaField.Options, end),
      };
    case Dhcpv6OptionCode.IaTa:
      return {
        kind: 'ia-ta',
        iaid: u32(b, d + IaTaField.Iaid),
        options: parseDhcpv6Options(b, d + IaTaField.Options, end),
      };
    case Dhcpv6OptionCode.IaAddress:
      return {
        kind: 'ia-address',
        address: sliceBytes(b, d + IaAddressField.Address, d + IaAddressField.Address + 16),
        preferredLifetime: u32(b, d + IaAddressField.PreferredLifetime),
        validLifetime: u32(b, d + IaAddressField.ValidLifetime),
        options: parseDhcpv6Options(b, d + IaAddressField.Options, end),
      };
    case Dhcpv6OptionCode.IaPrefix:
      return {
        kind: 'ia-prefix',
        preferredLifetime: u32(b, d + IaPrefixField.PreferredLifetime),
        validLifetime: u32(b, d + IaPrefixField.ValidLifetime),
        prefixLength: b[d + IaPrefixField.PrefixLength] as number,
        prefix: sliceBytes(b, d + IaPrefixField.Prefix, d + IaPrefixField.Prefix + 16),
        options: parseDhcpv6Options(b, d + IaPrefixField.Options, end),
      };
    case Dhcpv6OptionCode.OptionRequest:
      return { kind: 'option-request', codes: readCodes(b, d, end) };
    case Dhcpv6OptionCode.Preference:
      return { kind: 'preference', preference: b[d] as number };
    case Dhcpv6OptionCode.ElapsedTime:
      return { kind: 'elapsed-time', elapsedTime: u16(b, d) };
    case Dhcpv6OptionCode.RelayMessage:
      return { kind: 'relay-message', message: parseDhcpv6MessageUnchecked(b, d, n) };
    case Dhcpv6OptionCode.StatusCode:
      return {
        kind: 'status-code',
        statusCode: u16(b, d + StatusCodeField.Code),
        message: utf8Decoder.decode(b.subarray(d + StatusCodeField.Message, end)),
      };
    case Dhcpv6OptionCode.RapidCommit:
      return { kind: 'rapid-commit' };
    case Dhcpv6OptionCode.UserClass:
      return { kind: 'user-class', items: readItems(b, d, end) };
    case Dhcpv6OptionCode.VendorClass:
      return {
        kind: 'vendor-class',
        enterpriseNumber: u32(b, d + VendorField.EnterpriseNumber),
        items: readItems(b, d + VendorField.Data, end),
      };
    case Dhcpv6OptionCode.VendorOptions:
      return {
        kind: 'vendor-options',
        enterpriseNumber: u32(b, d + VendorField.EnterpriseNumber),
        options: readRawOptions(b, d + VendorField.Data, end),
      };
    case Dhcpv6OptionCode.InterfaceId:
      return { kind: 'interface-id', interfaceId: sliceBytes(b, d, end) };
    case Dhcpv6OptionCode.ReconfigureMessage:
      return { kind: 'reconfigure-message', msgType: b[d] as number };
    case Dhcpv6OptionCode.ReconfigureAccept:
      return { kind: 'reconfigure-accept' };
    case Dhcpv6OptionCode.SipServerDomains:
      return { kind: 'sip-server-domains', names: readNames(b, d, end) };
    case Dhcpv6OptionCode.DomainSearchList:
      return { kind: 'domain-search-list', names: readNames(b, d, end) };
    case Dhcpv6OptionCode.SipServerAddresses:
      return { kind: 'sip-server-addresses', addresses: readAddresses(b, d, n) };
    case Dhcpv6OptionCode.DnsServers:
      return { kind: 'dns-servers', addresses: readAddresses(b, d, n) };
    case Dhcpv6OptionCode.SntpServers:
      return { kind: 'sntp-servers', addresses: readAddresses(b, d, n) };
    case Dhcpv6OptionCode.InformationRefreshTime:
      return { kind: 'information-refresh-time', seconds: u32(b, d) };
    case Dhcpv6OptionCode.SolMaxRt:
      return { kind: 'sol-max-rt', seconds: u32(b, d) };
    case Dhcpv6OptionCode.InfMaxRt:
      return { kind: 'inf-max-rt', seconds: u32(b, d) };
    case Dhcpv6OptionCode.ClientFqdn:
      return {
        kind: 'client-fqdn',
        flags: b[d + ClientFqdnField.Flags] as number,
        ...readFqdn(b, d + ClientFqdnField.DomainName, end),
      };
    case Dhcpv6OptionCode.NtpServer:
      return { kind: 'ntp-server', suboptions: readRawOptions(b, d, end).map(ntpSuboptionOf) };
    case Dhcpv6OptionCode.ClientLinkLayerAddress:
      return {
        kind: 'client-link-layer-address',
        hardwareType: u16(b, d + ClientLinkLayerAddressField.HardwareType),
        address: sliceBytes(b, d + ClientLinkLayerAddressField.Address, end),
      };
    default:
      return { kind: 'unknown', code, data: sliceBytes(b, d, end) };
  }
}

function readCodes(b: Uint8Array, d: number, end: number): number[] {
  const codes: number[] = [];
  for (let p = d; p + 1 < end; p += 2) codes.push(u16(b, p));
  return codes;
}

function ntpSuboptionOf(s: Dhcpv6RawOption): NtpSuboptionRepr {
  switch (s.code) {
    case NtpSuboptionCode.ServerAddress:
      return { kind: 'server-address', address: s.data };
    case NtpSuboptionCode.MulticastAddress:
      return { kind: 'multicast-address', address: s.data };
    case NtpSuboptionCode.ServerFqdn:
      return { kind: 'server-fqdn', name: formatDnsName(s.data, 0, s.data.length) };
    default:
      return { kind: 'unknown', code: s.code, data: s.data };
  }
}

/** Reprs of the options in b[off, end), in wire order (validated bytes; see parseDhcpv6Option). */
export function parseDhcpv6Options(b: Uint8Array, off: number, end: number): Dhcpv6OptionRepr[] {
  const out: Dhcpv6OptionRepr[] = [];
  const c = new Dhcpv6OptionCursor().reset(b, off, end, true);
  while (c.next() === Status.Ok) out.push(parseDhcpv6Option(b, c.code, c.dataOffset, c.dataLength));
  return out;
}

// ---- JSON (edges: allocates; never throws, never reads past the message) ----

/**
 * Plain JSON of a message: type, transaction id or relay fields, options in order with nested
 * options nested. Never throws; broken framing ends the option list with an `{ error, offset }`.
 */
export function describeDhcpv6Message(b: Uint8Array, off: number, len: number, depth = 0): Record<string, unknown> {
  const end = Math.min(off + len, b.length);
  if (end - off < 1) return { error: 'empty message' };
  const t = b[off + Dhcpv6Field.MsgType] as number;
  const out: Record<string, unknown> = { msgType: t, msgTypeName: dhcpv6MessageTypeName(t) };
  if (isRelayMessageType(t)) {
    if (end - off < DHCPV6_RELAY_HEADER_LENGTH) {
      out['error'] = 'relay message shorter than its header';
      return out;
    }
    out['hopCount'] = b[off + Dhcpv6Field.HopCount] as number;
    out['linkAddress'] = formatIpv6(b, off + Dhcpv6Field.LinkAddress);
    out['peerAddress'] = formatIpv6(b, off + Dhcpv6Field.PeerAddress);
    out['options'] = describeDhcpv6Options(b, off + DHCPV6_RELAY_HEADER_LENGTH, end, depth > 0, depth);
  } else {
    if (end - off < DHCPV6_HEADER_LENGTH) {
      out['error'] = 'message shorter than its header';
      return out;
    }
    out['transactionId'] = u24(b, off + Dhcpv6Field.TransactionId);
    out['options'] = describeDhcpv6Options(b, off + DHCPV6_HEADER_LENGTH, end, depth > 0, depth);
  }
  return out;
}

/** JSON of a top-level message (what `punt6 decode` prints under `dhcpv6`). */
export function describeDhcpv6(b: Uint8Array, off: number, len: number): Record<string, unknown> {
  return describeDhcpv6Message(b, off, len, 0);
}

/** Deeper than this, describe gives the bytes instead of recursing (validation has its own limit). */
const DESCRIBE_MAX_DEPTH = 64;

const describeSink = new ByteView();

/**
 * Plain JSON for one option with data b[d, d+n): `{ code, name, ...fields }`, nested `options`
 * for IA_NA/IA_TA/IA_PD/IA Address/IA Prefix, `message` for Relay Message. An option that breaks
 * its rules is given as `{ code, name, data, error }`; unknown codes as `{ code, name: "unknown",
 * data }` (hex).
 */
export function describeDhcpv6Option(
  b: Uint8Array,
  code: number,
  d: number,
  n: number,
  depth = 0,
): Record<string, unknown> {
  const out: Record<string, unknown> = { code, name: dhcpv6OptionName(code) };
  const end = d + n;
  if (checkDhcpv6OptionData(b, code, d, n, describeSink) !== Status.Ok) {
    out['data'] = toHex(b, d, n);
    out['error'] = describeSink.errorReason;
    return out;
  }
  const nestedAt = nestedOptionsOffset(code);
  if ((nestedAt >= 0 || code === Dhcpv6OptionCode.RelayMessage) && depth >= DESCRIBE_MAX_DEPTH) {
    out['data'] = toHex(b, d, n);
    out['error'] = 'options nested too deep to describe';
    return out;
  }
  switch (code) {
    case Dhcpv6OptionCode.ClientId:
    case Dhcpv6OptionCode.ServerId:
      out['duid'] = describeDuid(b, d, n);
      break;
    case Dhcpv6OptionCode.IaNa:
    case Dhcpv6OptionCode.IaPd:
      out['iaid'] = u32(b, d + IaField.Iaid);
      out['t1'] = u32(b, d + IaField.T1);
      out['t2'] = u32(b, d + IaField.T2);
      break;
    case Dhcpv6OptionCode.IaTa:
      out['iaid'] = u32(b, d + IaTaField.Iaid);
      break;
    case Dhcpv6OptionCode.IaAddress:
      out['address'] = formatIpv6(b, d + IaAddressField.Address);
      out['preferredLifetime'] = u32(b, d + IaAddressField.PreferredLifetime);
      out['validLifetime'] = u32(b, d + IaAddressField.ValidLifetime);
      break;
    case Dhcpv6OptionCode.IaPrefix:
      out['preferredLifetime'] = u32(b, d + IaPrefixField.PreferredLifetime);
      out['validLifetime'] = u32(b, d + IaPrefixField.ValidLifetime);
      out['prefixLength'] = b[d + IaPrefixField.PrefixLength] as number;
      out['prefix'] = formatIpv6(b, d + IaPrefixField.Prefix);
      break;
    case Dhcpv6OptionCode.OptionRequest:
      out['codes'] = readCodes(b, d, end);
      break;
    case Dhcpv6OptionCode.Preference:
      out['preference'] = b[d] as number;
      break;
    case Dhcpv6OptionCode.ElapsedTime:
      out['elapsedTime'] = u16(b, d);
      break;
    case Dhcpv6OptionCode.RelayMessage:
      out['message'] = describeDhcpv6Message(b, d, n, depth + 1);
      break;
    case Dhcpv6OptionCode.StatusCode: {
      const status = u16(b, d + StatusCodeField.Code);
      out['statusCode'] = status;
      out['statusName'] = dhcpv6StatusName(status);
      out['message'] = utf8Decoder.decode(b.subarray(d + StatusCodeField.Message, end));
      break;
    }
    case Dhcpv6OptionCode.UserClass:
      out['items'] = readItems(b, d, end).map((x) => toHex(x));
      break;
    case Dhcpv6OptionCode.VendorClass:
      out['enterpriseNumber'] = u32(b, d + VendorField.EnterpriseNumber);
      out['items'] = readItems(b, d + VendorField.Data, end).map((x) => toHex(x));
      break;
    case Dhcpv6OptionCode.VendorOptions:
      out['enterpriseNumber'] = u32(b, d + VendorField.EnterpriseNumber);
      out['options'] = readRawOptions(b, d + VendorField.Data, end).map((s) => ({ code: s.code, data: toHex(s.data) }));
      break;
    case Dhcpv6OptionCode.InterfaceId:
      out['interfaceId'] = toHex(b, d, n);
      break;
    case Dhcpv6OptionCode.ReconfigureMessage:
      out['msgType'] = b[d] as number;
      out['msgTypeName'] = dhcpv6MessageTypeName(b[d] as number);
      break;
    case Dhcpv6OptionCode.SipServerDomains:
    case Dhcpv6OptionCode.DomainSearchList:
      out['names'] = readNames(b, d, end);
      break;
    case Dhcpv6OptionCode.SipServerAddresses:
    case Dhcpv6OptionCode.DnsServers:
    case Dhcpv6OptionCode.SntpServers:
      out['addresses'] = readAddresses(b, d, n).map((a) => formatIpv6(a));
      break;
    case Dhcpv6OptionCode.InformationRefreshTime:
      out['informationRefreshTime'] = u32(b, d);
      break;
    case Dhcpv6OptionCode.SolMaxRt:
      out['solMaxRt'] = u32(b, d);
      break;
    case Dhcpv6OptionCode.InfMaxRt:
      out['infMaxRt'] = u32(b, d);
      break;
    case Dhcpv6OptionCode.ClientFqdn: {
      const flags = b[d + ClientFqdnField.Flags] as number;
      const f = readFqdn(b, d + ClientFqdnField.DomainName, end);
      out['flags'] = flags;
      out['s'] = (flags & ClientFqdnFlag.S) !== 0;
      out['o'] = (flags & ClientFqdnFlag.O) !== 0;
      out['n'] = (flags & ClientFqdnFlag.N) !== 0;
      out['domainName'] = f.name;
      out['partial'] = f.partial;
      break;
    }
    case Dhcpv6OptionCode.NtpServer:
      out['suboptions'] = readRawOptions(b, d, end).map((s) => {
        const j: Record<string, unknown> = { code: s.code, name: ntpSuboptionName(s.code) };
        if (s.code === NtpSuboptionCode.ServerAddress || s.code === NtpSuboptionCode.MulticastAddress)
          j['address'] = formatIpv6(s.data);
        else if (s.code === NtpSuboptionCode.ServerFqdn) j['fqdn'] = formatDnsName(s.data, 0, s.data.length);
        else j['data'] = toHex(s.data);
        return j;
      });
      break;
    case Dhcpv6OptionCode.ClientLinkLayerAddress:
      out['hardwareType'] = u16(b, d + ClientLinkLayerAddressField.HardwareType);
      out['linkLayerAddress'] = formatColonHex(
        b,
        d + ClientLinkLayerAddressField.Address,
        n - ClientLinkLayerAddressField.Address,
      );
      break;
    case Dhcpv6OptionCode.RapidCommit:
    case Dhcpv6OptionCode.ReconfigureAccept:
      break;
    default:
      out['data'] = toHex(b, d, n);
      break;
  }
  if (nestedAt >= 0) out['options'] = describeDhcpv6Options(b, d + nestedAt, end, true, depth + 1);
  return out;
}

/**
 * JSON for the options in b[off, end), in wire order. Framing that breaks stops the list with a
 * last entry `{ error, offset }`. `nested` says whether [off, end) is inside an option.
 */
export function describeDhcpv6Options(
  b: Uint8Array,
  off: number,
  end: number,
  nested = false,
  depth = 0,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const c = new Dhcpv6OptionCursor().reset(b, off, end, nested);
  for (;;) {
    const s = c.next();
    if (s === Done) break;
    if (s !== Status.Ok) {
      out.push({ error: c.errorReason, offset: c.errorOffset });
      break;
    }
    out.push(describeDhcpv6Option(b, c.code, c.dataOffset, c.dataLength, depth));
  }
  return out;
}
