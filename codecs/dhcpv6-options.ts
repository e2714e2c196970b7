/**
 * DHCPv6 options (RFC 9915 §21 and the RFCs named below): codes, field offsets, the per-option
 * rules used by deep validation, read helpers, Reprs, emit, parse and JSON.
 *
 * Every option has the same framing (RFC 9915 §21.1):
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          option-code          |           option-len          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          option-data                          |
 * |                      (option-len octets)                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Options this module decodes (offsets are from the first octet of option-data, `d`):
 *
 * - 1 Client Identifier, 2 Server Identifier (§21.2, §21.3): a DUID (codecs/duid.ts).
 * - 3 IA_NA (§21.4) and 25 IA_PD (§21.21), at least 12 octets: IAID at 0, T1 at 4, T2 at 8,
 *   encapsulated options at 12.
 *   ```text
 *   |                        IAID (4 octets)                        |
 *   |                              T1                               |
 *   |                              T2                               |
 *   .                         IA_NA-options                         .
 *   ```
 * - 4 IA_TA (RFC 8415 §21.5; obsoleted by RFC 9915 but still seen), at least 4 octets: IAID at 0,
 *   encapsulated options at 4.
 * - 5 IA Address (§21.6), at least 24 octets: address at 0, preferred lifetime at 16, valid
 *   lifetime at 20, encapsulated options (typically Status Code) at 24.
 * - 6 Option Request (§21.7): a list of 2-octet option codes; an odd length is Malformed.
 * - 7 Preference (§21.8): 1 octet. 8 Elapsed Time (§21.9): 2 octets, hundredths of a second.
 * - 9 Relay Message (§21.10): a whole DHCPv6 message (validated by codecs/dhcpv6.ts).
 * - 13 Status Code (§21.13), at least 2 octets: status-code at 0, UTF-8 message at 2.
 * - 14 Rapid Commit (§21.14) and 20 Reconfigure Accept (§21.20): length 0.
 * - 15 User Class (§21.15): opaque items, each a 2-octet length and data. 16 Vendor Class
 *   (§21.16): enterprise number at 0, then items in the same form.
 * - 17 Vendor-specific Information (§21.17): enterprise number at 0, then suboptions framed like
 *   options (code, length, data); their codes belong to the vendor and are kept as bytes.
 * - 18 Interface-Id (§21.18): opaque. 19 Reconfigure Message (§21.19): 1 octet, a msg-type.
 * - 21 SIP Servers Domain Name List (RFC 3319 §3.1) and 24 Domain Search List (RFC 3646 §4):
 *   uncompressed DNS names. 22 SIP Servers IPv6 Address List (RFC 3319 §3.2), 23 DNS Recursive
 *   Name Server (RFC 3646 §3) and 31 SNTP Servers (RFC 4075 §4): IPv6 addresses; the length is a
 *   non-zero multiple of 16.
 * - 26 IA Prefix (§21.22), at least 25 octets: preferred lifetime at 0, valid lifetime at 4,
 *   prefix length at 8 (0..128), prefix at 9, encapsulated options at 25.
 *   ```text
 *   |                      preferred-lifetime                       |
 *   |                        valid-lifetime                         |
 *   | prefix-length |                                               |
 *   +-+-+-+-+-+-+-+-+          IPv6 prefix (16 octets)              |
 *   .                       IAprefix-options                        .
 *   ```
 * - 32 Information Refresh Time (§21.23), 82 SOL_MAX_RT (§21.24), 83 INF_MAX_RT (§21.25):
 *   4 octets, seconds.
 * - 39 Client FQDN (RFC 4704 §4): flags at 0 (N 0x04, O 0x02, S 0x01), then one domain name,
 *   complete or partial (no final zero octet), filling the option; the name may be empty.
 * - 56 NTP Server (RFC 5908 §4): suboptions framed like options: 1 server address and 2
 *   multicast address (16 octets each), 3 server FQDN (one complete name filling the suboption);
 *   at least one suboption (an empty option is Malformed).
 * - 79 Client Link-Layer Address (RFC 6939 §4), at least 2 octets: hardware type at 0, address
 *   at 2.
 *
 * Fixed-length options with another length, and minimum lengths not met, are Malformed; so is
 * anything encapsulated that runs past its option. Other option codes are data: code and bytes.
 *
 * Hot path: {@link checkDhcpv6OptionData} and the `read*`/`emit*Option` helpers allocate nothing.
 * Reprs, `parseDhcpv6Option(s)` and `describeDhcpv6Option(s)` allocate and are for configuration,
 * the CLI and tests.
 */

import { TextDecoder, TextEncoder } from 'node:util';
import { copyAddr, copyBytes, formatIpv6, setU16, setU32, toHex, u16, u32 } from './bytes.js';
import { checkDnsNameList, dnsNameError, dnsNameLength, emitDnsName, formatDnsName, walkDnsName } from './dns-name.js';
import { checkDuid, describeDuid, duidLength, emitDuid, parseDuid, type DuidRepr } from './duid.js';
import {
  describeDhcpv6Message,
  dhcpv6MessageLength,
  dhcpv6MessageTypeName,
  Dhcpv6OptionCursor,
  Done,
  emitDhcpv6Message,
  parseDhcpv6MessageUnchecked,
  type Dhcpv6MessageRepr,
} from './dhcpv6.js';
import { Status, type Checked } from './status.js';

export const Dhcpv6OptionCode = {
  ClientId: 1,
  ServerId: 2,
  IaNa: 3,
  IaTa: 4,
  IaAddress: 5,
  OptionRequest: 6,
  Preference: 7,
  ElapsedTime: 8,
  RelayMessage: 9,
  StatusCode: 13,
  RapidCommit: 14,
  UserClass: 15,
  VendorClass: 16,
  VendorOptions: 17,
  InterfaceId: 18,
  ReconfigureMessage: 19,
  ReconfigureAccept: 20,
  SipServerDomains: 21,
  SipServerAddresses: 22,
  DnsServers: 23,
  DomainSearchList: 24,
  IaPd: 25,
  IaPrefix: 26,
  SntpServers: 31,
  InformationRefreshTime: 32,
  ClientFqdn: 39,
  NtpServer: 56,
  ClientLinkLayerAddress: 79,
  SolMaxRt: 82,
  InfMaxRt: 83,
} as const;
export type Dhcpv6OptionCode = (typeof Dhcpv6OptionCode)[keyof typeof Dhcpv6OptionCode];

/** Names used in JSON (`name`) and as the Repr `kind`. */
export const dhcpv6OptionNames: Readonly<Record<number, string>> = {
  1: 'client-id',
  2: 'server-id',
  3: 'ia-na',
  4: 'ia-ta',
  5: 'ia-address',
  6: 'option-request',
  7: 'preference',
  8: 'elapsed-time',
  9: 'relay-message',
  13: 'status-code',
  14: 'rapid-commit',
  15: 'user-class',
  16: 'vendor-class',
  17: 'vendor-options',
  18: 'interface-id',
  19: 'reconfigure-message',
  20: 'reconfigure-accept',
  21: 'sip-server-domains',
  22: 'sip-server-addresses',
  23: 'dns-servers',
  24: 'domain-search-list',
  25: 'ia-pd',
  26: 'ia-prefix',
  31: 'sntp-servers',
  32: 'information-refresh-time',
  39: 'client-fqdn',
  56: 'ntp-server',
  79: 'client-link-layer-address',
  82: 'sol-max-rt',
  83: 'inf-max-rt',
};

/** The name of an option code this module decodes, or "unknown". */
export function dhcpv6OptionName(code: number): string {
  return dhcpv6OptionNames[code] ?? 'unknown';
}

/** Status codes (RFC 9915 §21.13, §7.5). */
export const Dhcpv6StatusCode = {
  Success: 0,
  UnspecFail: 1,
  NoAddrsAvail: 2,
  NoBinding: 3,
  NotOnLink: 4,
  UseMulticast: 5,
  NoPrefixAvail: 6,
} as const;
export type Dhcpv6StatusCode = (typeof Dhcpv6StatusCode)[keyof typeof Dhcpv6StatusCode];

const statusCodeNames = [
  'Success',
  'UnspecFail',
  'NoAddrsAvail',
  'NoBinding',
  'NotOnLink',
  'UseMulticast',
  'NoPrefixAvail',
] as const;

/** The RFC's name of a status code ("NoAddrsAvail"), or "unknown". */
export function dhcpv6StatusName(code: number): string {
  return statusCodeNames[code] ?? 'unknown';
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

/** NTP Server suboption codes (RFC 5908 §4). */
export const NtpSuboptionCode = {
  ServerAddress: 1,
  MulticastAddress: 2,
  ServerFqdn: 3,
} as const;
const ntpSuboptionNames: Readonly<Record<number, string>> = {
  1: 'server-address',
  2: 'multicast-address',
  3: 'server-fqdn',
};

export const DHCPV6_OPTION_HEADER_LENGTH = 4;

/** Offsets inside option-data of IA_NA and IA_PD. */
export const IaField = { Iaid: 0, T1: 4, T2: 8, Options: 12 } as const;
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
/** Vendor Class and Vendor-specific Information. */
export const VendorField = { EnterpriseNumber: 0, Data: 4 } as const;
export const ClientFqdnField = { Flags: 0, DomainName: 1 } as const;
export const ClientLinkLayerAddressField = { HardwareType: 0, Address: 2 } as const;

/**
 * Where encapsulated DHCPv6 options start inside the option-data of `code`, or -1 when the
 * option does not encapsulate options. (Relay Message carries a message, not options; Vendor
 * and NTP suboptions have their own code spaces and are checked by checkDhcpv6OptionData.)
 */
export function nestedOptionsOffset(code: number): number {
  switch (code) {
    case Dhcpv6OptionCode.IaNa:
    case Dhcpv6OptionCode.IaPd:
      return IaField.Options;
    case Dhcpv6OptionCode.IaTa:
      return IaTaField.Options;
    case Dhcpv6OptionCode.IaAddress:
      return IaAddressField.Options;
    case Dhcpv6OptionCode.IaPrefix:
      return IaPrefixField.Options;
    default:
      return -1;
  }
}

function fail(sink: Checked, at: number, reason: string): Status {
  sink.errorOffset = at;
  sink.errorReason = reason;
  return Status.Malformed;
}

/**
 * The rules of one option whose data b[d, d+n) is inside the buffer (the framing is checked by
 * the caller). Encapsulated options and the Relay Message's message are left to the caller
 * (codecs/dhcpv6.ts); everything else, suboptions included, is checked here. Leaves offset and
 * reason in `sink` on failure. Allocates nothing.
 */
export function checkDhcpv6OptionData(b: Uint8Array, code: number, d: number, n: number, sink: Checked): Status {
  const lengthAt = d - 2;
  switch (code) {
    case Dhcpv6OptionCode.ClientId:
    case Dhcpv6OptionCode.ServerId:
      return checkDuid(b, d, n, sink);
    case Dhcpv6OptionCode.IaNa:
      return n >= 12 ? Status.Ok : fail(sink, lengthAt, 'IA_NA option shorter than 12 octets');
    case Dhcpv6OptionCode.IaPd:
      return n >= 12 ? Status.Ok : fail(sink, lengthAt, 'IA_PD option shorter than 12 octets');
    case Dhcpv6OptionCode.IaTa:
      return n >= 4 ? Status.Ok : fail(sink, lengthAt, 'IA_TA option shorter than 4 octets');
    case Dhcpv6OptionCode.IaAddress:
      return n >= 24 ? Status.Ok : fail(sink, lengthAt, 'IA Address option shorter than 24 octets');
    case Dhcpv6OptionCode.IaPrefix:
      if (n < 25) return fail(sink, lengthAt, 'IA Prefix option shorter than 25 octets');
      // In bounds: n >= 25.
      return (b[d + IaPrefixField.PrefixLength] as number) <= 128
        ? Status.Ok
        : fail(sink, d + IaPrefixField.PrefixLength, 'prefix length above 128');
    case Dhcpv6OptionCode.OptionRequest:
      return (n & 1) === 0 ? Status.Ok : fail(sink, lengthAt, 'Option Request option of odd length');
    case Dhcpv6OptionCode.Preference:
      return n === 1 ? Status.Ok : fail(sink, lengthAt, 'Preference option length is not 1');
    case Dhcpv6OptionCode.ElapsedTime:
      return n === 2 ? Status.Ok : fail(sink, lengthAt, 'Elapsed Time option length is not 2');
    case Dhcpv6OptionCode.StatusCode:
      return n >= 2 ? Status.Ok : fail(sink, lengthAt, 'Status Code option shorter than 2 octets');
    case Dhcpv6OptionCode.RapidCommit:
      return n === 0 ? Status.Ok : fail(sink, lengthAt, 'Rapid Commit option length is not 0');
    case Dhcpv6OptionCode.ReconfigureAccept:
      return n === 0 ? Status.Ok : fail(sink, lengthAt, 'Reconfigure Accept option length is not 0');
    case Dhcpv6OptionCode.ReconfigureMessage:
      return n === 1 ? Status.Ok : fail(sink, lengthAt, 'Reconfigure Message option length is not 1');
    case Dhcpv6OptionCode.UserClass:
      return checkOpaqueItems(b, d, d + n, sink);
    case Dhcpv6OptionCode.VendorClass:
      if (n < 4) return fail(sink, lengthAt, 'Vendor Class option shorter than 4 octets');
      return checkOpaqueItems(b, d + 4, d + n, sink);
    case Dhcpv6OptionCode.VendorOptions:
      if (n < 4) return fail(sink, lengthAt, 'Vendor-specific Information option shorter than 4 octets');
      return checkSuboptions(b, d + 4, d + n, false, sink);
    case Dhcpv6OptionCode.SipServerDomains:
    case Dhcpv6OptionCode.DomainSearchList:
      return checkDnsNameList(b, d, d + n) === Status.Ok
        ? Status.Ok
        : fail(sink, dnsNameError.offset, dnsNameError.reason);
    case Dhcpv6OptionCode.SipServerAddresses:
    case Dhcpv6OptionCode.DnsServers:
    case Dhcpv6OptionCode.SntpServers:
      return n > 0 && (n & 15) === 0
        ? Status.Ok
        : fail(sink, lengthAt, 'address list option length is not a non-zero multiple of 16');
    case Dhcpv6OptionCode.InformationRefreshTime:
      return n === 4 ? Status.Ok : fail(sink, lengthAt, 'Information Refresh Time option length is not 4');
    case Dhcpv6OptionCode.SolMaxRt:
      return n === 4 ? Status.Ok : fail(sink, lengthAt, 'SOL_MAX_RT option length is not 4');
    case Dhcpv6OptionCode.InfMaxRt:
      return n === 4 ? Status.Ok : fail(sink, lengthAt, 'INF_MAX_RT option length is not 4');
    case Dhcpv6OptionCode.ClientFqdn:
      if (n < 1) return fail(sink, lengthAt, 'Client FQDN option without its flags octet');
      return checkFqdnName(b, d + 1, d + n, sink);
    case Dhcpv6OptionCode.NtpServer:
      // RFC 5908 §4: the option carries at least one time source suboption.
      if (n === 0) return fail(sink, lengthAt, 'NTP Server option without a suboption');
      return checkSuboptions(b, d, d + n, true, sink);
    case Dhcpv6OptionCode.ClientLinkLayerAddress:
      return n >= 2 ? Status.Ok : fail(sink, lengthAt, 'Client Link-Layer Address option shorter than 2 octets');
    default:
      // Relay Message (checked by the caller), Interface-Id (opaque) and unknown codes.
      return Status.Ok;
  }
}

/** User Class / Vendor Class data: items of a 2-octet length and that many octets, filling [p, end). */
function checkOpaqueItems(b: Uint8Array, p: number, end: number, sink: Checked): Status {
  while (p < end) {
    if (end - p < 2) return fail(sink, p, 'class data item length cut short by its option');
    // In bounds: p + 1 < end.
    const n = u16(b, p);
    if (n > end - p - 2) return fail(sink, p, 'class data item runs past its option');
    p += 2 + n;
  }
  return Status.Ok;
}

/** Suboptions framed like options inside [p, end); `ntp` also applies RFC 5908 §4's rules. */
function checkSuboptions(b: Uint8Array, p: number, end: number, ntp: boolean, sink: Checked): Status {
  while (p < end) {
    if (end - p < 4) return fail(sink, p, 'suboption header runs past its option');
    // In bounds: p + 3 < end.
    const code = u16(b, p);
    const n = u16(b, p + 2);
    if (n > end - p - 4) return fail(sink, p, 'suboption runs past its option');
    if (ntp) {
      if ((code === NtpSuboptionCode.ServerAddress || code === NtpSuboptionCode.MulticastAddress) && n !== 16) {
        return fail(sink, p + 2, 'NTP server address suboption length is not 16');
      }
      if (code === NtpSuboptionCode.ServerFqdn) {
        if (n === 0) return fail(sink, p + 2, 'empty NTP server FQDN suboption');
        const next = walkDnsName(b, p + 4, p + 4 + n);
        if (next < 0) return fail(sink, dnsNameError.offset, dnsNameError.reason);
        if (next !== p + 4 + n) return fail(sink, next, 'bytes after the NTP server FQDN');
      }
    }
    p += 4 + n;
  }
  return Status.Ok;
}

/** The Client FQDN domain name in [p, end): empty, one complete name, or one partial name. */
function checkFqdnName(b: Uint8Array, p: number, end: number, sink: Checked): Status {
  if (p === end) return Status.Ok;
  const next = walkDnsName(b, p, end, true);
  if (next < 0) return fail(sink, dnsNameError.offset, dnsNameError.reason);
  if (next !== end) return fail(sink, next, 'bytes after the Client FQDN domain name');
  return Status.Ok;
}

// ---- Read helpers (hot path; only after the option has been checked) ----

/** Data length of the option whose data starts at d. */
export function readOptionDataLength(b: Uint8Array, d: number): number {
  return u16(b, d - 2);
}
/** IAID of IA_NA, IA_TA or IA_PD. */
export function readIaid(b: Uint8Array, d: number): number {
  return u32(b, d);
}
/** T1 of IA_NA or IA_PD. */
export function readT1(b: Uint8Array, d: number): number {
  return u32(b, d + IaField.T1);
}
export function readT2(b: Uint8Array, d: number): number {
  return u32(b, d + IaField.T2);
}
export function readStatusCode(b: Uint8Array, d: number): number {
  return u16(b, d);
}
export function readElapsedTime(b: Uint8Array, d: number): number {
  return u16(b, d);
}
/** Information Refresh Time, SOL_MAX_RT, INF_MAX_RT, and any other 4-octet value at d. */
export function readU32Option(b: Uint8Array, d: number): number {
  return u32(b, d);
}
/** True when the Option Request option with data b[d, d+n) asks for `code`. */
export function optionRequested(b: Uint8Array, d: number, n: number, code: number): boolean {
  for (let p = d; p + 1 < d + n; p += 2) if (u16(b, p) === code) return true;
  return false;
}

// ---- Hot-path writers (allocate nothing) ----

/** Writes code and length at b[o]; returns 4. */
export function emitDhcpv6OptionHeader(b: Uint8Array, o: number, code: number, dataLength: number): number {
  setU16(b, o, code);
  setU16(b, o + 2, dataLength);
  return DHCPV6_OPTION_HEADER_LENGTH;
}

/** Copies the whole option whose data starts at src[d] (header included); returns bytes written. */
export function copyDhcpv6Option(src: Uint8Array, d: number, b: Uint8Array, o: number): number {
  const n = DHCPV6_OPTION_HEADER_LENGTH + u16(src, d - 2);
  copyBytes(src, d - DHCPV6_OPTION_HEADER_LENGTH, b, o, n);
  return n;
}

/**
 * IA_NA or IA_PD header (code, length = 12 + nestedLength, IAID, T1, T2); the caller writes
 * `nestedLength` octets of options after it. Returns 16.
 */
export function emitIaHeader(
  b: Uint8Array,
  o: number,
  code: number,
  iaid: number,
  t1: number,
  t2: number,
  nestedLength: number,
): number {
  emitDhcpv6OptionHeader(b, o, code, 12 + nestedLength);
  setU32(b, o + 4, iaid);
  setU32(b, o + 8, t1);
  setU32(b, o + 12, t2);
  return 16;
}

/** IA Address option with the address at a[ao]; the caller writes `nestedLength` octets after it. Returns 28. */
export function emitIaAddressHeader(
  b: Uint8Array,
  o: number,
  a: Uint8Array,
  ao: number,
  preferred: number,
  valid: number,
  nestedLength: number,
): number {
  emitDhcpv6OptionHeader(b, o, Dhcpv6OptionCode.IaAddress, 24 + nestedLength);
  copyAddr(a, ao, b, o + 4);
  setU32(b, o + 20, preferred);
  setU32(b, o + 24, valid);
  return 28;
}

/** IA Prefix option with the prefix at a[ao]; the caller writes `nestedLength` octets after it. Returns 29. */
export function emitIaPrefixHeader(
  b: Uint8Array,
  o: number,
  preferred: number,
  valid: number,
  prefixLength: number,
  a: Uint8Array,
  ao: number,
  nestedLength: number,
): number {
  emitDhcpv6OptionHeader(b, o, Dhcpv6OptionCode.IaPrefix, 25 + nestedLength);
  setU32(b, o + 4, preferred);
  setU32(b, o + 8, valid);
  b[o + 12] = prefixLength;
  copyAddr(a, ao, b, o + 13);
  return 29;
}

/**
 * Status Code option. The message is written one octet per UTF-16 unit, so pass ASCII text
 * (a constant string allocates nothing); other characters are written as "?". Returns bytes
 * written (6 + message length).
 */
export function emitStatusCodeOption(b: Uint8Array, o: number, statusCode: number, asciiMessage: string): number {
  const m = asciiMessage.length;
  emitDhcpv6OptionHeader(b, o, Dhcpv6OptionCode.StatusCode, 2 + m);
  setU16(b, o + 4, statusCode);
  for (let i = 0; i < m; i++) {
    const c = asciiMessage.charCodeAt(i);
    b[o + 6 + i] = c < 0x80 ? c : 0x3f;
  }
  return 6 + m;
}

/** An option holding a 4-octet number (Information Refresh Time, SOL_MAX_RT, INF_MAX_RT). Returns 8. */
export function emitU32Option(b: Uint8Array, o: number, code: number, value: number): number {
  emitDhcpv6OptionHeader(b, o, code, 4);
  setU32(b, o + 4, value);
  return 8;
}

// ---- Reprs ----

/** A suboption of Vendor-specific Information, or an option kept as bytes. */
export interface Dhcpv6RawOption {
  code: number;
  data: Uint8Array;
}

export type NtpSuboptionRepr =
  | { kind: 'server-address'; address: Uint8Array }
  | { kind: 'multicast-address'; address: Uint8Array }
  | { kind: 'server-fqdn'; name: string }
  | { kind: 'unknown'; code: number; data: Uint8Array };

/** What an option is built from; `kind` is the option's name. */
export type Dhcpv6OptionRepr =
  | { kind: 'client-id'; duid: DuidRepr }
  | { kind: 'server-id'; duid: DuidRepr }
  | { kind: 'ia-na'; iaid: number; t1: number; t2: number; options: Dhcpv6OptionRepr[] }
  | { kind: 'ia-ta'; iaid: number; options: Dhcpv6OptionRepr[] }
  | {
      kind: 'ia-address';
      address: Uint8Array;
      preferredLifetime: number;
      validLifetime: number;
      options: Dhcpv6OptionRepr[];
    }
  | { kind: 'option-request'; codes: number[] }
  | { kind: 'preference'; preference: number }
  /** Hundredths of a second. */
  | { kind: 'elapsed-time'; elapsedTime: number }
  | { kind: 'relay-message'; message: Dhcpv6MessageRepr }
  | { kind: 'status-code'; statusCode: number; message: string }
  | { kind: 'rapid-commit' }
  | { kind: 'user-class'; items: Uint8Array[] }
  | { kind: 'vendor-class'; enterpriseNumber: number; items: Uint8Array[] }
  | { kind: 'vendor-options'; enterpriseNumber: number; options: Dhcpv6RawOption[] }
  | { kind: 'interface-id'; interfaceId: Uint8Array }
  | { kind: 'reconfigure-message'; msgType: number }
  | { kind: 'reconfigure-accept' }
  | { kind: 'sip-server-domains'; names: string[] }
  | { kind: 'sip-server-addresses'; addresses: Uint8Array[] }
  | { kind: 'dns-servers'; addresses: Uint8Array[] }
  | { kind: 'domain-search-list'; names: string[] }
  | { kind: 'ia-pd'; iaid: number; t1: number; t2: number; options: Dhcpv6OptionRepr[] }
  | {
      kind: 'ia-prefix';
      preferredLifetime: number;
      validLifetime: number;
      prefixLength: number;
      prefix: Uint8Array;
      options: Dhcpv6OptionRepr[];
    }
  | { kind: 'sntp-servers'; addresses: Uint8Array[] }
  | { kind: 'information-refresh-time'; seconds: number }
  /** `name` "" with partial true is an empty name field; a partial name has no final dot. */
  | { kind: 'client-fqdn'; flags: number; name: string; partial: boolean }
  | { kind: 'ntp-server'; suboptions: NtpSuboptionRepr[] }
  | { kind: 'client-link-layer-address'; hardwareType: number; address: Uint8Array }
  | { kind: 'sol-max-rt'; seconds: number }
  | { kind: 'inf-max-rt'; seconds: number }
  | { kind: 'unknown'; code: number; data: Uint8Array };

const codeOfKind: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(dhcpv6OptionNames).map(([c, name]) => [name, Number(c)]),
);

export function dhcpv6OptionCodeOf(r: Dhcpv6OptionRepr): number {
  return r.kind === 'unknown' ? r.code : (codeOfKind[r.kind] as number);
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

function namesLength(names: readonly string[]): number {
  let n = 0;
  for (const name of names) n += dnsNameLength(name);
  return n;
}

function itemsLength(items: readonly Uint8Array[]): number {
  let n = 0;
  for (const item of items) n += 2 + item.length;
  return n;
}

function rawOptionsLength(list: readonly Dhcpv6RawOption[]): number {
  let n = 0;
  for (const o of list) n += 4 + o.data.length;
  return n;
}

function ntpSuboptionLength(s: NtpSuboptionRepr): number {
  switch (s.kind) {
    case 'server-address':
    case 'multicast-address':
      return 20;
    case 'server-fqdn':
      return 4 + dnsNameLength(s.name);
    case 'unknown':
      return 4 + s.data.length;
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
      return 12 + dhcpv6OptionsLength(r.options);
    case 'ia-ta':
      return 4 + dhcpv6OptionsLength(r.options);
    case 'ia-address':
      return 24 + dhcpv6OptionsLength(r.options);
    case 'ia-prefix':
      return 25 + dhcpv6OptionsLength(r.options);
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
      return 2 + utf8Encoder.encode(r.message).length;
    case 'rapid-commit':
    case 'reconfigure-accept':
      return 0;
    case 'user-class':
      return itemsLength(r.items);
    case 'vendor-class':
      return 4 + itemsLength(r.items);
    case 'vendor-options':
      return 4 + rawOptionsLength(r.options);
    case 'interface-id':
      return r.interfaceId.length;
    case 'sip-server-domains':
    case 'domain-search-list':
      return namesLength(r.names);
    case 'sip-server-addresses':
    case 'dns-servers':
    case 'sntp-servers':
      return 16 * r.addresses.length;
    case 'information-refresh-time':
    case 'sol-max-rt':
    case 'inf-max-rt':
      return 4;
    case 'client-fqdn':
      return 1 + (r.name === '' ? 0 : dnsNameLength(r.name, r.partial));
    case 'ntp-server': {
      let n = 0;
      for (const s of r.suboptions) n += ntpSuboptionLength(s);
      return n;
    }
    case 'client-link-layer-address':
      return 2 + r.address.length;
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

function emitAddresses(list: readonly Uint8Array[], b: Uint8Array, o: number): void {
  for (let i = 0; i < list.length; i++) copyBytes(list[i] as Uint8Array, 0, b, o + 16 * i, 16);
}

function emitItems(items: readonly Uint8Array[], b: Uint8Array, o: number): void {
  let p = o;
  for (const item of items) {
    setU16(b, p, item.length);
    copyBytes(item, 0, b, p + 2, item.length);
    p += 2 + item.length;
  }
}

function emitNames(names: readonly string[], b: Uint8Array, o: number): void {
  let p = o;
  for (const name of names) p += emitDnsName(name, b, p);
}

/**
 * Writes the option at b[o] and returns the bytes written (= dhcpv6OptionLength(r)). Cold path:
 * strings are encoded on the fly. Throws TypeError on a Repr that cannot be encoded (a bad name,
 * an option longer than 65535 octets).
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
      setU32(b, d, r.iaid);
      setU32(b, d + 4, r.t1);
      setU32(b, d + 8, r.t2);
      emitDhcpv6Options(r.options, b, d + 12);
      break;
    case 'ia-ta':
      setU32(b, d, r.iaid);
      emitDhcpv6Options(r.options, b, d + 4);
      break;
    case 'ia-address':
      copyBytes(r.address, 0, b, d, 16);
      setU32(b, d + 16, r.preferredLifetime);
      setU32(b, d + 20, r.validLifetime);
      emitDhcpv6Options(r.options, b, d + 24);
      break;
    case 'ia-prefix':
      setU32(b, d, r.preferredLifetime);
      setU32(b, d + 4, r.validLifetime);
      b[d + 8] = r.prefixLength;
      copyBytes(r.prefix, 0, b, d + 9, 16);
      emitDhcpv6Options(r.options, b, d + 25);
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
      setU16(b, d, r.statusCode);
      const m = utf8Encoder.encode(r.message);
      copyBytes(m, 0, b, d + 2, m.length);
      break;
    }
    case 'rapid-commit':
    case 'reconfigure-accept':
      break;
    case 'user-class':
      emitItems(r.items, b, d);
      break;
    case 'vendor-class':
      setU32(b, d, r.enterpriseNumber);
      emitItems(r.items, b, d + 4);
      break;
    case 'vendor-options': {
      setU32(b, d, r.enterpriseNumber);
      let p = d + 4;
      for (const s of r.options) {
        emitDhcpv6OptionHeader(b, p, s.code, s.data.length);
        copyBytes(s.data, 0, b, p + 4, s.data.length);
        p += 4 + s.data.length;
      }
      break;
    }
    case 'interface-id':
      copyBytes(r.interfaceId, 0, b, d, r.interfaceId.length);
      break;
    case 'sip-server-domains':
    case 'domain-search-list':
      emitNames(r.names, b, d);
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
      b[d] = r.flags;
      if (r.name !== '') emitDnsName(r.name, b, d + 1, r.partial);
      break;
    case 'ntp-server': {
      let p = d;
      for (const s of r.suboptions) {
        const sn = ntpSuboptionLength(s) - 4;
        switch (s.kind) {
          case 'server-address':
          case 'multicast-address':
            emitDhcpv6OptionHeader(
              b,
              p,
              s.kind === 'server-address' ? NtpSuboptionCode.ServerAddress : NtpSuboptionCode.MulticastAddress,
              16,
            );
            copyBytes(s.address, 0, b, p + 4, 16);
            break;
          case 'server-fqdn':
            emitDhcpv6OptionHeader(b, p, NtpSuboptionCode.ServerFqdn, sn);
            emitDnsName(s.name, b, p + 4);
            break;
          case 'unknown':
            emitDhcpv6OptionHeader(b, p, s.code, sn);
            copyBytes(s.data, 0, b, p + 4, sn);
            break;
        }
        p += 4 + sn;
      }
      break;
    }
    case 'client-link-layer-address':
      setU16(b, d, r.hardwareType);
      copyBytes(r.address, 0, b, d + 2, r.address.length);
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

function readAddresses(b: Uint8Array, d: number, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = d; p + 16 <= d + n; p += 16) out.push(b.slice(p, p + 16));
  return out;
}

function readItems(b: Uint8Array, p: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (end - p >= 2) {
    const n = Math.min(u16(b, p), end - p - 2);
    out.push(b.slice(p + 2, p + 2 + n));
    p += 2 + n;
  }
  return out;
}

/** Names of a DNS name list (the root name "." included); stops at the first bad name. */
function readNames(b: Uint8Array, p: number, end: number): string[] {
  const out: string[] = [];
  while (p < end) {
    const next = walkDnsName(b, p, end);
    if (next < 0) break;
    out.push(formatDnsName(b, p, next));
    p = next;
  }
  return out;
}

function readRawOptions(b: Uint8Array, p: number, end: number): Dhcpv6RawOption[] {
  const out: Dhcpv6RawOption[] = [];
  while (end - p >= 4) {
    const n = Math.min(u16(b, p + 2), end - p - 4);
    out.push({ code: u16(b, p), data: b.slice(p + 4, p + 4 + n) });
    p += 4 + n;
  }
  return out;
}

/** Client FQDN name field: text and whether it is partial (no final zero octet). */
function readFqdn(b: Uint8Array, p: number, end: number): { name: string; partial: boolean } {
  if (p >= end) return { name: '', partial: true };
  const full = walkDnsName(b, p, end) === end;
  return { name: formatDnsName(b, p, end), partial: !full };
}

/**
 * The Repr of one option with data b[d, d+n). The option must have passed validation (see
 * parseDhcpv6Message in codecs/dhcpv6.ts, which checks first); on unchecked bytes the result is
 * unspecified but this does not read past d + n.
 */
export function parseDhcpv6Option(b: Uint8Array, code: number, d: number, n: number): Dhcpv6OptionRepr {
  const end = d + n;
  switch (code) {
    case Dhcpv6OptionCode.ClientId:
      return { kind: 'client-id', duid: parseDuid(b, d, n) };
    case Dhcpv6OptionCode.ServerId:
      return { kind: 'server-id', duid: parseDuid(b, d, n) };
    case Dhcpv6OptionCode.IaNa:
      return {
        kind: 'ia-na',
        iaid: u32(b, d),
        t1: u32(b, d + 4),
        t2: u32(b, d + 8),
        options: parseDhcpv6Options(b, d + 12, end),
      };
    case Dhcpv6OptionCode.IaPd:
      return {
        kind: 'ia-pd',
        iaid: u32(b, d),
        t1: u32(b, d + 4),
        t2: u32(b, d + 8),
        options: parseDhcpv6Options(b, d + 12, end),
      };
    case Dhcpv6OptionCode.IaTa:
      return { kind: 'ia-ta', iaid: u32(b, d), options: parseDhcpv6Options(b, d + 4, end) };
    case Dhcpv6OptionCode.IaAddress:
      return {
        kind: 'ia-address',
        address: b.slice(d, d + 16),
        preferredLifetime: u32(b, d + 16),
        validLifetime: u32(b, d + 20),
        options: parseDhcpv6Options(b, d + 24, end),
      };
    case Dhcpv6OptionCode.IaPrefix:
      return {
        kind: 'ia-prefix',
        preferredLifetime: u32(b, d),
        validLifetime: u32(b, d + 4),
        prefixLength: b[d + 8] as number,
        prefix: b.slice(d + 9, d + 25),
        options: parseDhcpv6Options(b, d + 25, end),
      };
    case Dhcpv6OptionCode.OptionRequest: {
      const codes: number[] = [];
      for (let p = d; p + 1 < end; p += 2) codes.push(u16(b, p));
      return { kind: 'option-request', codes };
    }
    case Dhcpv6OptionCode.Preference:
      return { kind: 'preference', preference: b[d] as number };
    case Dhcpv6OptionCode.ElapsedTime:
      return { kind: 'elapsed-time', elapsedTime: u16(b, d) };
    case Dhcpv6OptionCode.RelayMessage:
      return { kind: 'relay-message', message: parseDhcpv6MessageUnchecked(b, d, n) };
    case Dhcpv6OptionCode.StatusCode:
      return { kind: 'status-code', statusCode: u16(b, d), message: utf8Decoder.decode(b.subarray(d + 2, end)) };
    case Dhcpv6OptionCode.RapidCommit:
      return { kind: 'rapid-commit' };
    case Dhcpv6OptionCode.UserClass:
      return { kind: 'user-class', items: readItems(b, d, end) };
    case Dhcpv6OptionCode.VendorClass:
      return { kind: 'vendor-class', enterpriseNumber: u32(b, d), items: readItems(b, d + 4, end) };
    case Dhcpv6OptionCode.VendorOptions:
      return { kind: 'vendor-options', enterpriseNumber: u32(b, d), options: readRawOptions(b, d + 4, end) };
    case Dhcpv6OptionCode.InterfaceId:
      return { kind: 'interface-id', interfaceId: b.slice(d, end) };
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
      return { kind: 'client-fqdn', flags: b[d] as number, ...readFqdn(b, d + 1, end) };
    case Dhcpv6OptionCode.NtpServer: {
      const suboptions: NtpSuboptionRepr[] = [];
      for (const s of readRawOptions(b, d, end)) {
        if (s.code === NtpSuboptionCode.ServerAddress) suboptions.push({ kind: 'server-address', address: s.data });
        else if (s.code === NtpSuboptionCode.MulticastAddress)
          suboptions.push({ kind: 'multicast-address', address: s.data });
        else if (s.code === NtpSuboptionCode.ServerFqdn)
          suboptions.push({ kind: 'server-fqdn', name: formatDnsName(s.data, 0, s.data.length) });
        else suboptions.push({ kind: 'unknown', code: s.code, data: s.data });
      }
      return { kind: 'ntp-server', suboptions };
    }
    case Dhcpv6OptionCode.ClientLinkLayerAddress:
      return { kind: 'client-link-layer-address', hardwareType: u16(b, d), address: b.slice(d + 2, end) };
    default:
      return { kind: 'unknown', code, data: b.slice(d, end) };
  }
}

/** Reprs of the options in b[off, end), in wire order (validated bytes; see parseDhcpv6Option). */
export function parseDhcpv6Options(b: Uint8Array, off: number, end: number): Dhcpv6OptionRepr[] {
  const out: Dhcpv6OptionRepr[] = [];
  const c = new Dhcpv6OptionCursor().reset(b, off, end, true);
  while (c.next() === Status.Ok) out.push(parseDhcpv6Option(b, c.code, c.dataOffset, c.dataLength));
  return out;
}

// ---- JSON (edges: allocates; never throws, never reads past the option) ----

/** Deeper than this, describe gives the bytes instead of recursing (validation has its own limit). */
const DESCRIBE_MAX_DEPTH = 64;

const describeSink: Checked = { errorOffset: 0, errorReason: '' };

function colonHex(b: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += (i === 0 ? '' : ':') + toHex(b, o + i, 1);
  return s;
}

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
      out['iaid'] = u32(b, d);
      out['t1'] = u32(b, d + 4);
      out['t2'] = u32(b, d + 8);
      break;
    case Dhcpv6OptionCode.IaTa:
      out['iaid'] = u32(b, d);
      break;
    case Dhcpv6OptionCode.IaAddress:
      out['address'] = formatIpv6(b, d);
      out['preferredLifetime'] = u32(b, d + 16);
      out['validLifetime'] = u32(b, d + 20);
      break;
    case Dhcpv6OptionCode.IaPrefix:
      out['preferredLifetime'] = u32(b, d);
      out['validLifetime'] = u32(b, d + 4);
      out['prefixLength'] = b[d + 8] as number;
      out['prefix'] = formatIpv6(b, d + 9);
      break;
    case Dhcpv6OptionCode.OptionRequest: {
      const codes: number[] = [];
      for (let p = d; p + 1 < end; p += 2) codes.push(u16(b, p));
      out['codes'] = codes;
      break;
    }
    case Dhcpv6OptionCode.Preference:
      out['preference'] = b[d] as number;
      break;
    case Dhcpv6OptionCode.ElapsedTime:
      out['elapsedTime'] = u16(b, d);
      break;
    case Dhcpv6OptionCode.RelayMessage:
      out['message'] = describeDhcpv6Message(b, d, n, depth + 1);
      break;
    case Dhcpv6OptionCode.StatusCode:
      out['statusCode'] = u16(b, d);
      out['statusName'] = dhcpv6StatusName(u16(b, d));
      out['message'] = utf8Decoder.decode(b.subarray(d + 2, end));
      break;
    case Dhcpv6OptionCode.UserClass:
      out['items'] = readItems(b, d, end).map((x) => toHex(x));
      break;
    case Dhcpv6OptionCode.VendorClass:
      out['enterpriseNumber'] = u32(b, d);
      out['items'] = readItems(b, d + 4, end).map((x) => toHex(x));
      break;
    case Dhcpv6OptionCode.VendorOptions:
      out['enterpriseNumber'] = u32(b, d);
      out['options'] = readRawOptions(b, d + 4, end).map((s) => ({ code: s.code, data: toHex(s.data) }));
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
      const flags = b[d] as number;
      const f = readFqdn(b, d + 1, end);
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
        const j: Record<string, unknown> = { code: s.code, name: ntpSuboptionNames[s.code] ?? 'unknown' };
        if (s.code === NtpSuboptionCode.ServerAddress || s.code === NtpSuboptionCode.MulticastAddress)
          j['address'] = formatIpv6(s.data);
        else if (s.code === NtpSuboptionCode.ServerFqdn) j['fqdn'] = formatDnsName(s.data, 0, s.data.length);
        else j['data'] = toHex(s.data);
        return j;
      });
      break;
    case Dhcpv6OptionCode.ClientLinkLayerAddress:
      out['hardwareType'] = u16(b, d);
      out['linkLayerAddress'] = colonHex(b, d + 2, n - 2);
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
