/**
 * DHCPv6 on the wire (RFC 9915): the tables of codes (message types §7.3, option codes §21 and
 * the RFCs named in the table, status codes §21.13), the client/server header (§8), the relay
 * header (§9), the option framing (§21.1) and the cursor that walks it, and views over the fixed
 * fields of the options a server reads and writes (IA_NA §21.4, IA_PD §21.21, IA Address §21.6,
 * IA Prefix §21.22).
 *
 * This is the base of codecs/dhcpv6-options.ts (what each option's data must be) and
 * codecs/dhcpv6.ts (deep validation, Reprs, emit, parse, describe), which re-exports everything
 * here and is the module to import. A Relay Message option carries a whole message, so messages
 * and options are described together above this module; nothing here imports either of them.
 *
 * Client/server message (§8):
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    msg-type   |               transaction-id                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                            options                            .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * Relay-forward / Relay-reply (§9):
 * ```text
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    msg-type   |   hop-count   |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 * |                         link-address  (16 octets)             |
 * |                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 * |                         peer-address  (16 octets)             |
 * |                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               .
 * .            options (variable number and length)   ....        .
 * ```
 * Every option (§21.1):
 * ```text
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          option-code          |           option-len          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          option-data                          |
 * |                      (option-len octets)                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * IA_NA and IA_PD option-data (§21.4, §21.21), IA Address (§21.6) and IA Prefix (§21.22); the
 * field tables below give the offsets from the first octet of option-data:
 * ```text
 * |                        IAID (4 octets)                        |
 * |                              T1                               |
 * |                              T2                               |
 * .                     IA_NA-options / IA_PD-options             .
 *
 * |                 IPv6-address (16 octets)                      |
 * |                      preferred-lifetime                       |
 * |                        valid-lifetime                         |
 * .                        IAaddr-options                         .
 *
 * |                      preferred-lifetime                       |
 * |                        valid-lifetime                         |
 * | prefix-length |          IPv6-prefix (16 octets)              |
 * .                       IAprefix-options                        .
 * ```
 *
 * Hot path: the cursor and the views allocate nothing and never read past their range. They read
 * the tables through module-local bindings (codecs/code-table.ts says why).
 */

import { copyAddr, setU16, setU24, setU32, u16, u24, u32 } from './bytes.js';
import { codesOf, nameOf, namesOf, rowsOf } from './code-table.js';
import { ByteView, type Checked, Done, Status } from './status.js';

// ---- Message types (§7.3) and headers (§8, §9) ----

/** DHCPv6 message types (RFC 9915 §7.3): code and the name used in JSON. */
export const dhcpv6MessageTypes = {
  Solicit: { code: 1, name: 'solicit' },
  Advertise: { code: 2, name: 'advertise' },
  Request: { code: 3, name: 'request' },
  Confirm: { code: 4, name: 'confirm' },
  Renew: { code: 5, name: 'renew' },
  Rebind: { code: 6, name: 'rebind' },
  Reply: { code: 7, name: 'reply' },
  Release: { code: 8, name: 'release' },
  Decline: { code: 9, name: 'decline' },
  Reconfigure: { code: 10, name: 'reconfigure' },
  InformationRequest: { code: 11, name: 'information-request' },
  RelayForw: { code: 12, name: 'relay-forw' },
  RelayRepl: { code: 13, name: 'relay-repl' },
} as const;

export const Dhcpv6MessageType = codesOf(dhcpv6MessageTypes);
export type Dhcpv6MessageType = (typeof Dhcpv6MessageType)[keyof typeof Dhcpv6MessageType];

const messageTypeNames = namesOf(dhcpv6MessageTypes);

/** The name of a message type ("information-request"), or "unknown". */
export function dhcpv6MessageTypeName(t: number): string {
  return nameOf(messageTypeNames, t);
}

/** Relay-forw and Relay-repl, the messages with the relay header (§9). */
export function isRelayMessageType(t: number): boolean {
  return t === messageType.RelayForw || t === messageType.RelayRepl;
}

/** Offsets from the first octet of a message: client/server header (§8) and relay header (§9). */
export const Dhcpv6Field = { MsgType: 0, TransactionId: 1, HopCount: 1, LinkAddress: 2, PeerAddress: 18 } as const;
export const DHCPV6_HEADER_LENGTH = 4;
export const DHCPV6_RELAY_HEADER_LENGTH = 34;
/** HOP_COUNT_LIMIT (RFC 9915 §7.6). */
export const DHCPV6_HOP_COUNT_LIMIT = 32;

/** A view of one DHCPv6 message (client/server or relay). */
export class Dhcpv6View extends ByteView {
  /** The header only: present and in the buffer. Options: `validateDhcpv6` (codecs/dhcpv6.ts). */
  check(): Status {
    if (this.off < 0 || this.len < 0 || this.off + this.len > this.buf.length) {
      this.errorOffset = this.off;
      this.errorReason = 'message extends past the buffer';
      return Truncated;
    }
    if (this.len < 1 || this.len < this.headerLength) {
      this.errorOffset = this.off + this.len;
      this.errorReason = 'message shorter than its header';
      return Truncated;
    }
    return Ok;
  }

  get msgType(): number {
    return this.buf[this.off + dhcpv6Field.MsgType] as number;
  }
  set msgType(t: number) {
    this.buf[this.off + dhcpv6Field.MsgType] = t;
  }
  get isRelay(): boolean {
    return isRelayMessageType(this.msgType);
  }
  get headerLength(): number {
    return this.isRelay ? relayHeaderLength : headerLength;
  }
  /** Client/server messages: 24 bits. */
  get transactionId(): number {
    return u24(this.buf, this.off + dhcpv6Field.TransactionId);
  }
  set transactionId(x: number) {
    setU24(this.buf, this.off + dhcpv6Field.TransactionId, x);
  }
  /** Relay messages. */
  get hopCount(): number {
    return this.buf[this.off + dhcpv6Field.HopCount] as number;
  }
  set hopCount(x: number) {
    this.buf[this.off + dhcpv6Field.HopCount] = x;
  }
  get linkAddressOffset(): number {
    return this.off + dhcpv6Field.LinkAddress;
  }
  get peerAddressOffset(): number {
    return this.off + dhcpv6Field.PeerAddress;
  }
  get optionsOffset(): number {
    return this.off + this.headerLength;
  }
  get end(): number {
    return this.off + this.len;
  }

  /**
   * Data offset of the first top-level option `code`, or -1; its data length is the option-len
   * before it. Stops quietly at broken framing (validate first).
   */
  findOption(code: number): number {
    const c = findCursor.reset(this.buf, this.optionsOffset, this.end, false);
    while (c.next() === Ok) if (c.code === code) return c.dataOffset;
    return -1;
  }
}

// ---- Options: framing (§21.1), codes and the shapes of their data ----

/** Offsets from the first octet of an option: its header (§21.1), then its data. */
export const OptionField = { Code: 0, Length: 2, Data: 4 } as const;
export const DHCPV6_OPTION_HEADER_LENGTH = OptionField.Data;

/** Offsets inside option-data of IA_NA (§21.4) and IA_PD (§21.21); `Options` is where the encapsulated options start. */
export const IaField = { Iaid: 0, T1: 4, T2: 8, Options: 12 } as const;
/** IA_TA (§21.5, obsoleted by RFC 9915 but still seen). */
export const IaTaField = { Iaid: 0, Options: 4 } as const;
export const IaAddressField = { Address: 0, PreferredLifetime: 16, ValidLifetime: 20, Options: 24 } as const;
export const IaPrefixField = {
  PreferredLifetime: 0,
  ValidLifetime: 4,
  PrefixLength: 8,
  Prefix: 9,
  Options: 25,
} as const;
export const StatusCodeField = { Code: 0, Message: 2 } as const;
/** One item of User Class (§21.15) and Vendor Class (§21.16) data: a 2-octet length, then that many octets. */
export const ClassItemField = { Length: 0, Data: 2 } as const;
/** Vendor Class (§21.16) and Vendor-specific Information (§21.17). */
export const VendorField = { EnterpriseNumber: 0, Data: 4 } as const;
/** Client FQDN (RFC 4704 §4). */
export const ClientFqdnField = { Flags: 0, DomainName: 1 } as const;
/** Client Link-Layer Address (RFC 6939 §4). */
export const ClientLinkLayerAddressField = { HardwareType: 0, Address: 2 } as const;

/** How an option's data is laid out: it decides the rule deep validation applies (codecs/dhcpv6-options.ts). */
export const OptionData = {
  /** Any octets. */
  Opaque: 0,
  /** A DUID (codecs/duid.ts). */
  Duid: 1,
  /** Exactly `length` octets. */
  Fixed: 2,
  /** `length` octets of fields, then encapsulated options. */
  Container: 3,
  /** At least `length` octets: fields, the last of which takes the rest. */
  Fields: 4,
  /** 2-octet option codes. */
  Codes: 5,
  /** A whole DHCPv6 message. */
  Message: 6,
  /** `length` octets of fields (none, or an enterprise number), then items of a 2-octet length and data. */
  Items: 7,
  /** An enterprise number (`length` octets), then suboptions framed like options, in the vendor's code space. */
  VendorOptions: 8,
  /** Uncompressed DNS names (RFC 9915 §10). */
  Names: 9,
  /** IPv6 addresses: a non-zero multiple of 16 octets. */
  Addresses: 10,
  /** A flags octet (`length`), then one domain name, complete or partial, or none (RFC 4704 §4). */
  Fqdn: 11,
  /** Time source suboptions, at least one (RFC 5908 §4). */
  Ntp: 12,
} as const;
export type OptionData = (typeof OptionData)[keyof typeof OptionData];

/** A row of {@link dhcpv6Options}. */
export interface Dhcpv6OptionRow {
  readonly code: number;
  /** The name used in JSON and as the Repr `kind`. */
  readonly name: string;
  /** The option's name in its RFC, for error reasons. */
  readonly title: string;
  readonly data: OptionData;
  /** The octets `data` counts: see {@link OptionData}; 0 where it counts none. */
  readonly length: number;
}

const D = OptionData;

/**
 * The DHCPv6 options this codec decodes (RFC 9915 §21 unless another RFC is named): code, names
 * and the shape of the data. Other codes are data: code and bytes.
 */
export const dhcpv6Options = {
  /** §21.2 */
  ClientId: { code: 1, name: 'client-id', title: 'Client Identifier', data: D.Duid, length: 0 },
  /** §21.3 */
  ServerId: { code: 2, name: 'server-id', title: 'Server Identifier', data: D.Duid, length: 0 },
  /** §21.4 */
  IaNa: { code: 3, name: 'ia-na', title: 'IA_NA', data: D.Container, length: IaField.Options },
  /** §21.5 (obsoleted by RFC 9915, still seen) */
  IaTa: { code: 4, name: 'ia-ta', title: 'IA_TA', data: D.Container, length: IaTaField.Options },
  /** §21.6 */
  IaAddress: { code: 5, name: 'ia-address', title: 'IA Address', data: D.Container, length: IaAddressField.Options },
  /** §21.7 */
  OptionRequest: { code: 6, name: 'option-request', title: 'Option Request', data: D.Codes, length: 0 },
  /** §21.8 */
  Preference: { code: 7, name: 'preference', title: 'Preference', data: D.Fixed, length: 1 },
  /** §21.9: hundredths of a second. */
  ElapsedTime: { code: 8, name: 'elapsed-time', title: 'Elapsed Time', data: D.Fixed, length: 2 },
  /** §21.10 */
  RelayMessage: { code: 9, name: 'relay-message', title: 'Relay Message', data: D.Message, length: 0 },
  /** §21.13: status-code, then a UTF-8 message. */
  StatusCode: { code: 13, name: 'status-code', title: 'Status Code', data: D.Fields, length: StatusCodeField.Message },
  /** §21.14 */
  RapidCommit: { code: 14, name: 'rapid-commit', title: 'Rapid Commit', data: D.Fixed, length: 0 },
  /** §21.15 */
  UserClass: { code: 15, name: 'user-class', title: 'User Class', data: D.Items, length: 0 },
  /** §21.16 */
  VendorClass: { code: 16, name: 'vendor-class', title: 'Vendor Class', data: D.Items, length: VendorField.Data },
  /** §21.17 */
  VendorOptions: {
    code: 17,
    name: 'vendor-options',
    title: 'Vendor-specific Information',
    data: D.VendorOptions,
    length: VendorField.Data,
  },
  /** §21.18 */
  InterfaceId: { code: 18, name: 'interface-id', title: 'Interface-Id', data: D.Opaque, length: 0 },
  /** §21.19: a msg-type. */
  ReconfigureMessage: {
    code: 19,
    name: 'reconfigure-message',
    title: 'Reconfigure Message',
    data: D.Fixed,
    length: 1,
  },
  /** §21.20 */
  ReconfigureAccept: { code: 20, name: 'reconfigure-accept', title: 'Reconfigure Accept', data: D.Fixed, length: 0 },
  /** RFC 3319 §3.1 */
  SipServerDomains: {
    code: 21,
    name: 'sip-server-domains',
    title: 'SIP Servers Domain Name List',
    data: D.Names,
    length: 0,
  },
  /** RFC 3319 §3.2 */
  SipServerAddresses: {
    code: 22,
    name: 'sip-server-addresses',
    title: 'SIP Servers IPv6 Address List',
    data: D.Addresses,
    length: 0,
  },
  /** RFC 3646 §3 */
  DnsServers: { code: 23, name: 'dns-servers', title: 'DNS Recursive Name Server', data: D.Addresses, length: 0 },
  /** RFC 3646 §4 */
  DomainSearchList: { code: 24, name: 'domain-search-list', title: 'Domain Search List', data: D.Names, length: 0 },
  /** §21.21 */
  IaPd: { code: 25, name: 'ia-pd', title: 'IA_PD', data: D.Container, length: IaField.Options },
  /** §21.22 */
  IaPrefix: { code: 26, name: 'ia-prefix', title: 'IA Prefix', data: D.Container, length: IaPrefixField.Options },
  /** RFC 4075 §4 */
  SntpServers: { code: 31, name: 'sntp-servers', title: 'SNTP Servers', data: D.Addresses, length: 0 },
  /** §21.23: seconds. */
  InformationRefreshTime: {
    code: 32,
    name: 'information-refresh-time',
    title: 'Information Refresh Time',
    data: D.Fixed,
    length: 4,
  },
  /** RFC 4704 §4 */
  ClientFqdn: { code: 39, name: 'client-fqdn', title: 'Client FQDN', data: D.Fqdn, length: ClientFqdnField.DomainName },
  /** RFC 5908 §4 */
  NtpServer: { code: 56, name: 'ntp-server', title: 'NTP Server', data: D.Ntp, length: 0 },
  /** RFC 6939 §4 */
  ClientLinkLayerAddress: {
    code: 79,
    name: 'client-link-layer-address',
    title: 'Client Link-Layer Address',
    data: D.Fields,
    length: ClientLinkLayerAddressField.Address,
  },
  /** §21.24: seconds. */
  SolMaxRt: { code: 82, name: 'sol-max-rt', title: 'SOL_MAX_RT', data: D.Fixed, length: 4 },
  /** §21.25: seconds. */
  InfMaxRt: { code: 83, name: 'inf-max-rt', title: 'INF_MAX_RT', data: D.Fixed, length: 4 },
} as const satisfies Record<string, Dhcpv6OptionRow>;

export const Dhcpv6OptionCode = codesOf(dhcpv6Options);
export type Dhcpv6OptionCode = (typeof Dhcpv6OptionCode)[keyof typeof Dhcpv6OptionCode];

/** The rows of {@link dhcpv6Options} by code. */
export const dhcpv6OptionRows: readonly (Dhcpv6OptionRow | undefined)[] = rowsOf<Dhcpv6OptionRow>(dhcpv6Options);

const optionNames = namesOf(dhcpv6Options);

/** The name of an option code this codec decodes ("ia-na"), or "unknown". */
export function dhcpv6OptionName(code: number): string {
  return nameOf(optionNames, code);
}

/**
 * Where encapsulated DHCPv6 options start inside the option-data of `code`, or -1 when the
 * option does not encapsulate options (a Relay Message carries a message; Vendor and NTP
 * suboptions have code spaces of their own).
 */
export function nestedOptionsOffset(code: number): number {
  const row = optionRows[code];
  return row !== undefined && row.data === optionData.Container ? row.length : -1;
}

/** Status codes (RFC 9915 §21.13, §7.5); the name is the RFC's. */
export const dhcpv6StatusCodes = {
  Success: { code: 0, name: 'Success' },
  UnspecFail: { code: 1, name: 'UnspecFail' },
  NoAddrsAvail: { code: 2, name: 'NoAddrsAvail' },
  NoBinding: { code: 3, name: 'NoBinding' },
  NotOnLink: { code: 4, name: 'NotOnLink' },
  UseMulticast: { code: 5, name: 'UseMulticast' },
  NoPrefixAvail: { code: 6, name: 'NoPrefixAvail' },
} as const;

export const Dhcpv6StatusCode = codesOf(dhcpv6StatusCodes);
export type Dhcpv6StatusCode = (typeof Dhcpv6StatusCode)[keyof typeof Dhcpv6StatusCode];

const statusNames = namesOf(dhcpv6StatusCodes);

/** The RFC's name of a status code ("NoAddrsAvail"), or "unknown". */
export function dhcpv6StatusName(code: number): string {
  return nameOf(statusNames, code);
}

/** NTP Server suboptions (RFC 5908 §4). */
export const ntpSuboptions = {
  ServerAddress: { code: 1, name: 'server-address' },
  MulticastAddress: { code: 2, name: 'multicast-address' },
  ServerFqdn: { code: 3, name: 'server-fqdn' },
} as const;

export const NtpSuboptionCode = codesOf(ntpSuboptions);

const ntpSuboptionNames = namesOf(ntpSuboptions);

/** The name of an NTP Server suboption code ("server-address"), or "unknown". */
export function ntpSuboptionName(code: number): string {
  return nameOf(ntpSuboptionNames, code);
}

/** Client FQDN flags (RFC 4704 §4.1). */
export const ClientFqdnFlag = {
  /** The server should perform the AAAA update. */
  S: 0x01,
  /** Set by the server: it overrode the client's S bit. */
  O: 0x02,
  /** The server should not perform any DNS update. */
  N: 0x04,
} as const;

// ---- Module-local bindings of the hot path (codecs/code-table.ts says why) ----

const { Ok, Truncated, Malformed } = Status;
const DONE = Done;
const messageType = Dhcpv6MessageType;
const dhcpv6Field = Dhcpv6Field;
const headerLength = DHCPV6_HEADER_LENGTH;
const relayHeaderLength = DHCPV6_RELAY_HEADER_LENGTH;
const optionField = OptionField;
const optionData = OptionData;
const optionRows = dhcpv6OptionRows;
const iaField = IaField;
const iaAddressField = IaAddressField;
const iaPrefixField = IaPrefixField;

// ---- The option walk ----

/**
 * Walks the options in b[off, end) by offset. After `next()` returned Ok, `code`, `offset`
 * (of the option header), `dataOffset` and `dataLength` describe the option; the framing is
 * checked (the option lies inside [off, end)), its contents are not. `nested` says whether
 * [off, end) is the inside of an option (overrun -> Malformed) or a whole message (-> Truncated).
 */
export class Dhcpv6OptionCursor implements Checked {
  buf: Uint8Array = new Uint8Array(0);
  end = 0;
  nested = false;
  position = 0;
  code = 0;
  offset = 0;
  dataOffset = 0;
  dataLength = 0;
  errorOffset = 0;
  errorReason = '';

  reset(b: Uint8Array, off: number, end: number, nested: boolean): this {
    this.buf = b;
    this.position = off;
    this.end = Math.min(end, b.length);
    this.nested = nested;
    return this;
  }

  next(): Status | Done {
    const p = this.position;
    const left = this.end - p;
    if (left <= 0) return DONE;
    const overrun = this.nested ? Malformed : Truncated;
    if (left < optionField.Data) {
      this.errorOffset = p;
      this.errorReason = this.nested ? 'option header runs past its container' : 'option header cut short';
      return overrun;
    }
    // In bounds: the option header is inside [p, end).
    const n = u16(this.buf, p + optionField.Length);
    if (n > left - optionField.Data) {
      this.errorOffset = p + optionField.Length;
      this.errorReason = this.nested ? 'option runs past its container' : 'option runs past the end of the message';
      return overrun;
    }
    this.code = u16(this.buf, p + optionField.Code);
    this.offset = p;
    this.dataOffset = p + optionField.Data;
    this.dataLength = n;
    this.position = p + optionField.Data + n;
    return Ok;
  }
}

const findCursor = new Dhcpv6OptionCursor();

/** Writes an option header (code and option-len) at b[o]; returns its length, 4. */
export function emitDhcpv6OptionHeader(b: Uint8Array, o: number, code: number, dataLength: number): number {
  setU16(b, o + optionField.Code, code);
  setU16(b, o + optionField.Length, dataLength);
  return optionField.Data;
}

// ---- Views over the fixed fields of IA options (data checked by validateDhcpv6) ----

/** IA_NA or IA_PD option-data (§21.4, §21.21): wrap it at the data offset, with the option-len. */
export class IaView extends ByteView {
  get iaid(): number {
    return u32(this.buf, this.off + iaField.Iaid);
  }
  set iaid(x: number) {
    setU32(this.buf, this.off + iaField.Iaid, x);
  }
  get t1(): number {
    return u32(this.buf, this.off + iaField.T1);
  }
  set t1(x: number) {
    setU32(this.buf, this.off + iaField.T1, x);
  }
  get t2(): number {
    return u32(this.buf, this.off + iaField.T2);
  }
  set t2(x: number) {
    setU32(this.buf, this.off + iaField.T2, x);
  }
  get optionsOffset(): number {
    return this.off + iaField.Options;
  }
  get end(): number {
    return this.off + this.len;
  }
}

/** IA Address option-data (§21.6). */
export class IaAddressView extends ByteView {
  get addressOffset(): number {
    return this.off + iaAddressField.Address;
  }
  /** Writes the 16-byte address at src[so] into the address field. */
  setAddress(src: Uint8Array, so: number): void {
    copyAddr(src, so, this.buf, this.off + iaAddressField.Address);
  }
  get preferredLifetime(): number {
    return u32(this.buf, this.off + iaAddressField.PreferredLifetime);
  }
  set preferredLifetime(x: number) {
    setU32(this.buf, this.off + iaAddressField.PreferredLifetime, x);
  }
  get validLifetime(): number {
    return u32(this.buf, this.off + iaAddressField.ValidLifetime);
  }
  set validLifetime(x: number) {
    setU32(this.buf, this.off + iaAddressField.ValidLifetime, x);
  }
  get optionsOffset(): number {
    return this.off + iaAddressField.Options;
  }
}

/** IA Prefix option-data (§21.22). */
export class IaPrefixView extends ByteView {
  get preferredLifetime(): number {
    return u32(this.buf, this.off + iaPrefixField.PreferredLifetime);
  }
  set preferredLifetime(x: number) {
    setU32(this.buf, this.off + iaPrefixField.PreferredLifetime, x);
  }
  get validLifetime(): number {
    return u32(this.buf, this.off + iaPrefixField.ValidLifetime);
  }
  set validLifetime(x: number) {
    setU32(this.buf, this.off + iaPrefixField.ValidLifetime, x);
  }
  get prefixLength(): number {
    return this.buf[this.off + iaPrefixField.PrefixLength] as number;
  }
  set prefixLength(x: number) {
    this.buf[this.off + iaPrefixField.PrefixLength] = x;
  }
  get prefixOffset(): number {
    return this.off + iaPrefixField.Prefix;
  }
  /** Writes the 16-byte prefix at src[so] into the prefix field. */
  setPrefix(src: Uint8Array, so: number): void {
    copyAddr(src, so, this.buf, this.off + iaPrefixField.Prefix);
  }
  get optionsOffset(): number {
    return this.off + iaPrefixField.Options;
  }
}
