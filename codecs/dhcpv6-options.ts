/**
 * DHCPv6 options (RFC 9915 §21 and the RFCs named in codecs/dhcpv6-header.ts's table): the rule
 * each option's data must follow, which deep validation applies, and the hot-path readers and
 * writers of single-value options. The codes, names, shapes and field offsets are in
 * codecs/dhcpv6-header.ts; Reprs, emit, parse and describe in codecs/dhcpv6.ts, which re-exports
 * this module.
 *
 * The rule follows from the shape of the data (`OptionData`, offsets from the first octet of
 * option-data):
 *
 * - Fixed: exactly `length` octets (Preference 1, Elapsed Time 2, Rapid Commit and Reconfigure
 *   Accept 0, Reconfigure Message 1, Information Refresh Time, SOL_MAX_RT and INF_MAX_RT 4).
 * - Container and Fields: at least `length` octets (IA_NA and IA_PD 12, IA_TA 4, IA Address 24,
 *   IA Prefix 25 with a prefix length of 0..128, Status Code 2, Client Link-Layer Address 2).
 *   What a container encapsulates is checked by the caller, as options (codecs/dhcpv6.ts).
 * - Duid: codecs/duid.ts's rules. Codes: an even length.
 * - Items: User Class (§21.15) and Vendor Class (§21.16, after its enterprise number): items of a
 *   2-octet length and that many octets, filling the option.
 * - VendorOptions (§21.17): an enterprise number, then suboptions framed like options (code,
 *   length, data) filling the option; their codes belong to the vendor and are kept as bytes.
 * - Names: uncompressed DNS names filling the option (SIP Servers Domain Name List, RFC 3319
 *   §3.1; Domain Search List, RFC 3646 §4).
 * - Addresses: a non-zero multiple of 16 octets (RFC 3319 §3.2, RFC 3646 §3, RFC 4075 §4).
 * - Fqdn (RFC 4704 §4): the flags octet (N 0x04, O 0x02, S 0x01), then one domain name, complete
 *   or partial (no final zero octet), filling the option; the name may be empty.
 * - Ntp (RFC 5908 §4): at least one suboption, framed like options: server address and multicast
 *   address (16 octets each), server FQDN (one complete name filling the suboption).
 * - Opaque and Message: nothing here (a Relay Message's message is validated by codecs/dhcpv6.ts).
 *
 * A rule broken is Malformed: the option is all there but contradicts itself.
 *
 * Hot path: everything here allocates nothing, and reads the tables through module-local
 * bindings (codecs/code-table.ts says why).
 */

import { copyBytes, setU16, setU32, u16, u32 } from './bytes.js';
import { checkDnsNameList, dnsNameError, walkDnsName } from './dns-name.js';
import {
  ClassItemField,
  DHCPV6_OPTION_HEADER_LENGTH,
  Dhcpv6OptionCode,
  dhcpv6OptionRows,
  IaPrefixField,
  NtpSuboptionCode,
  OptionData,
  OptionField,
  StatusCodeField,
  emitDhcpv6OptionHeader,
  type Dhcpv6OptionRow,
} from './dhcpv6-header.js';
import { checkDuid } from './duid.js';
import { type Checked, Status } from './status.js';

/** The reason an option's length breaks its rule, by code (made once, so a failure allocates nothing). */
const lengthReasons: readonly (string | undefined)[] = dhcpv6OptionRows.map((row) => row && lengthReason(row));

// Module-local bindings of the hot path.
const { Ok, Malformed } = Status;
const optionRows = dhcpv6OptionRows;
const optionData = OptionData;
const optionField = OptionField;
const optionCode = Dhcpv6OptionCode;
const ntpCode = NtpSuboptionCode;
const classItemField = ClassItemField;
const prefixLengthAt = IaPrefixField.PrefixLength;

function lengthReason(row: Dhcpv6OptionRow): string {
  switch (row.data) {
    case OptionData.Fixed:
      return `${row.title} option length is not ${row.length}`;
    case OptionData.Codes:
      return `${row.title} option of odd length`;
    case OptionData.Addresses:
      return 'address list option length is not a non-zero multiple of 16';
    case OptionData.Fqdn:
      return `${row.title} option without its flags octet`;
    case OptionData.Ntp:
      return `${row.title} option without a suboption`;
    default:
      return `${row.title} option shorter than ${row.length} octets`;
  }
}

/** Leaves offset and reason in `sink`: every rule broken is Malformed. */
function malformed(sink: Checked, at: number, reason: string): Status {
  sink.errorOffset = at;
  sink.errorReason = reason;
  return Malformed;
}

/**
 * The rules of one option whose data b[d, d+n) is inside the buffer (the framing is checked by
 * the caller). Encapsulated options and the Relay Message's message are left to the caller
 * (codecs/dhcpv6.ts); everything else, suboptions included, is checked here. Leaves offset and
 * reason in `sink` on failure. Allocates nothing.
 */
export function checkDhcpv6OptionData(b: Uint8Array, code: number, d: number, n: number, sink: Checked): Status {
  const row = optionRows[code];
  // Unknown codes are data.
  if (row === undefined) return Ok;
  const lengthAt = d - optionField.Data + optionField.Length;
  const length = row.length;
  switch (row.data) {
    case optionData.Duid:
      return checkDuid(b, d, n, sink);
    case optionData.Fixed:
      return n === length ? Ok : malformed(sink, lengthAt, lengthReasons[code] as string);
    case optionData.Container:
    case optionData.Fields:
      if (n < length) return malformed(sink, lengthAt, lengthReasons[code] as string);
      return code === optionCode.IaPrefix ? checkPrefixLength(b, d, sink) : Ok;
    case optionData.Codes:
      return (n & 1) === 0 ? Ok : malformed(sink, lengthAt, lengthReasons[code] as string);
    case optionData.Items:
      if (n < length) return malformed(sink, lengthAt, lengthReasons[code] as string);
      return checkOpaqueItems(b, d + length, d + n, sink);
    case optionData.VendorOptions:
      if (n < length) return malformed(sink, lengthAt, lengthReasons[code] as string);
      return checkSuboptions(b, d + length, d + n, false, sink);
    case optionData.Names:
      return checkDnsNameList(b, d, d + n) === Ok ? Ok : malformed(sink, dnsNameError.offset, dnsNameError.reason);
    case optionData.Addresses:
      return n > 0 && (n & 15) === 0 ? Ok : malformed(sink, lengthAt, lengthReasons[code] as string);
    case optionData.Fqdn:
      if (n < length) return malformed(sink, lengthAt, lengthReasons[code] as string);
      return checkFqdnName(b, d + length, d + n, sink);
    case optionData.Ntp:
      if (n === 0) return malformed(sink, lengthAt, lengthReasons[code] as string);
      return checkSuboptions(b, d, d + n, true, sink);
    default:
      // Opaque data, and a Relay Message (its message is checked by the caller).
      return Ok;
  }
}

/** IA Prefix: prefix-length 0..128 (§21.22); the option holds its fixed fields. */
function checkPrefixLength(b: Uint8Array, d: number, sink: Checked): Status {
  return (b[d + prefixLengthAt] as number) <= 128 ? Ok : malformed(sink, d + prefixLengthAt, 'prefix length above 128');
}

/** User Class / Vendor Class data: items of a 2-octet length and that many octets, filling [p, end). */
function checkOpaqueItems(b: Uint8Array, p: number, end: number, sink: Checked): Status {
  while (p < end) {
    const d = p + classItemField.Data;
    if (d > end) return malformed(sink, p, 'class data item length cut short by its option');
    // In bounds: the length field is inside [p, end).
    const n = u16(b, p + classItemField.Length);
    if (n > end - d) return malformed(sink, p, 'class data item runs past its option');
    p = d + n;
  }
  return Ok;
}

/** Suboptions framed like options inside [p, end); `ntp` also applies RFC 5908 §4's rules. */
function checkSuboptions(b: Uint8Array, p: number, end: number, ntp: boolean, sink: Checked): Status {
  while (p < end) {
    if (end - p < optionField.Data) return malformed(sink, p, 'suboption header runs past its option');
    // In bounds: the suboption header is inside [p, end).
    const code = u16(b, p + optionField.Code);
    const n = u16(b, p + optionField.Length);
    const d = p + optionField.Data;
    if (n > end - d) return malformed(sink, p, 'suboption runs past its option');
    if (ntp) {
      if ((code === ntpCode.ServerAddress || code === ntpCode.MulticastAddress) && n !== 16) {
        return malformed(sink, p + optionField.Length, 'NTP server address suboption length is not 16');
      }
      if (code === ntpCode.ServerFqdn) {
        if (n === 0) return malformed(sink, p + optionField.Length, 'empty NTP server FQDN suboption');
        const next = walkDnsName(b, d, d + n);
        if (next < 0) return malformed(sink, dnsNameError.offset, dnsNameError.reason);
        if (next !== d + n) return malformed(sink, next, 'bytes after the NTP server FQDN');
      }
    }
    p = d + n;
  }
  return Ok;
}

/** The Client FQDN domain name in [p, end): empty, one complete name, or one partial name. */
function checkFqdnName(b: Uint8Array, p: number, end: number, sink: Checked): Status {
  if (p === end) return Ok;
  const next = walkDnsName(b, p, end, true);
  if (next < 0) return malformed(sink, dnsNameError.offset, dnsNameError.reason);
  if (next !== end) return malformed(sink, next, 'bytes after the Client FQDN domain name');
  return Ok;
}

// ---- Readers (hot path; only after the option has been checked) ----

/** Status Code's status-code (§21.13); the data starts at d. */
export function readStatusCode(b: Uint8Array, d: number): number {
  return u16(b, d + StatusCodeField.Code);
}
/** Elapsed Time, in hundredths of a second (§21.9). */
export function readElapsedTime(b: Uint8Array, d: number): number {
  return u16(b, d);
}
/** Information Refresh Time, SOL_MAX_RT, INF_MAX_RT, and any other 4-octet value at d. */
export function readU32Option(b: Uint8Array, d: number): number {
  return u32(b, d);
}
/** True when the Option Request option with data b[d, d+n) asks for `code` (§21.7). */
export function optionRequested(b: Uint8Array, d: number, n: number, code: number): boolean {
  for (let p = d; p + 1 < d + n; p += 2) if (u16(b, p) === code) return true;
  return false;
}

// ---- Writers (hot path; allocate nothing) ----

/** Copies the whole option whose data starts at src[d] (header included); returns bytes written. */
export function copyDhcpv6Option(src: Uint8Array, d: number, b: Uint8Array, o: number): number {
  const start = d - DHCPV6_OPTION_HEADER_LENGTH;
  const n = DHCPV6_OPTION_HEADER_LENGTH + u16(src, start + OptionField.Length);
  copyBytes(src, start, b, o, n);
  return n;
}

/**
 * Status Code option (§21.13). The message is written one octet per UTF-16 unit, so pass ASCII
 * text (a constant string allocates nothing); other characters are written as "?". Returns bytes
 * written (6 + message length).
 */
export function emitStatusCodeOption(b: Uint8Array, o: number, statusCode: number, asciiMessage: string): number {
  const m = asciiMessage.length;
  const d = o + DHCPV6_OPTION_HEADER_LENGTH;
  emitDhcpv6OptionHeader(b, o, Dhcpv6OptionCode.StatusCode, StatusCodeField.Message + m);
  setU16(b, d + StatusCodeField.Code, statusCode);
  for (let i = 0; i < m; i++) {
    const c = asciiMessage.charCodeAt(i);
    b[d + StatusCodeField.Message + i] = c < 0x80 ? c : 0x3f;
  }
  return DHCPV6_OPTION_HEADER_LENGTH + StatusCodeField.Message + m;
}

/** An option holding a 4-octet number (Information Refresh Time, SOL_MAX_RT, INF_MAX_RT). Returns 8. */
export function emitU32Option(b: Uint8Array, o: number, code: number, value: number): number {
  emitDhcpv6OptionHeader(b, o, code, 4);
  setU32(b, o + DHCPV6_OPTION_HEADER_LENGTH, value);
  return DHCPV6_OPTION_HEADER_LENGTH + 4;
}
