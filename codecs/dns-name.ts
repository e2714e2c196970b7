/**
 * Domain names in DNS wire format (RFC 1035 §3.1), uncompressed, as carried by DHCPv6 options
 * (RFC 9915 §10: Domain Search List option 24, RFC 4704 Client FQDN option 39, RFC 5908 NTP
 * FQDN suboption) and the NDP DNSSL option (RFC 8106 §5.2).
 *
 * ```text
 *  +--------+---------- … ----+--------+---------- … ----+--------+
 *  | len=3  |  'e' 'x' 'a'    | len=3  |  'c' 'o' 'm'    | len=0  |
 *  +--------+---------- … ----+--------+---------- … ----+--------+
 * ```
 *
 * A label length is 1..63; a zero byte ends the name; names are at most 255 bytes; compression
 * pointers (top bits 11) are not allowed in these options. A label that runs past its option is
 * Malformed (the option is a complete container whose content contradicts its length). RFC 4704
 * also allows a partial name (no final zero byte): `allowPartial` accepts that.
 */

import { Status } from './status.js';

export const MAX_NAME_LENGTH = 255;
export const MAX_LABEL_LENGTH = 63;

/** Set by walkDnsName when it returns a negative value. */
export const dnsNameError = { offset: 0, reason: '', status: Status.Ok as Status };

/**
 * Walks one name starting at b[off], not reading at or past `end`. Returns the offset just past
 * the name, or -1 on failure (then `dnsNameError` says why). With `allowPartial`, a name that
 * reaches `end` without its terminating zero is accepted (RFC 4704 §4.2 partial names).
 */
export function walkDnsName(b: Uint8Array, off: number, end: number, allowPartial = false): number {
  let p = off;
  let total = 0;
  for (;;) {
    if (p >= end) {
      if (allowPartial && p > off) return p;
      return nameFail(p, 'domain name runs past its option');
    }
    const l = b[p] as number; // p < end <= buffer end, checked by the caller's container check.
    if (l === 0) return p + 1;
    if (l > MAX_LABEL_LENGTH)
      return nameFail(p, (l & 0xc0) === 0xc0 ? 'compression pointer in a domain name' : 'label longer than 63 bytes');
    if (p + 1 + l > end) return nameFail(p, 'label runs past its option');
    total += l + 1;
    if (total + 1 > MAX_NAME_LENGTH) return nameFail(p, 'domain name longer than 255 bytes');
    p += 1 + l;
  }
}

function nameFail(at: number, reason: string): number {
  dnsNameError.offset = at;
  dnsNameError.reason = reason;
  dnsNameError.status = Status.Malformed;
  return -1;
}

/**
 * Checks that b[off, end) is a sequence of complete names. `zeroPadding` accepts trailing zero
 * bytes after the last name (the DNSSL option pads to 8 octets, RFC 8106 §5.2).
 */
export function checkDnsNameList(b: Uint8Array, off: number, end: number, zeroPadding = false): Status {
  let p = off;
  while (p < end) {
    if (zeroPadding && b[p] === 0) {
      for (let q = p; q < end; q++) {
        if (b[q] !== 0) {
          nameFail(q, 'non-zero byte in the padding after the domain names');
          return Status.Malformed;
        }
      }
      return Status.Ok;
    }
    const next = walkDnsName(b, p, end);
    if (next < 0) return Status.Malformed;
    p = next;
  }
  return Status.Ok;
}

/** Text of the name at b[off] ("example.com."; the root is "."). Edges only: allocates. */
export function formatDnsName(b: Uint8Array, off: number, end: number): string {
  let s = '';
  let p = off;
  while (p < end) {
    const l = b[p] as number;
    if (l === 0) return s === '' ? '.' : s;
    if (l > MAX_LABEL_LENGTH || p + 1 + l > end) break;
    for (let i = 1; i <= l; i++) {
      const c = b[p + i] as number;
      s +=
        c === 0x2e || c === 0x5c
          ? '\\' + String.fromCharCode(c)
          : c > 0x20 && c < 0x7f
            ? String.fromCharCode(c)
            : '\\' + c.toString().padStart(3, '0');
    }
    s += '.';
    p += 1 + l;
  }
  // Partial name (RFC 4704): no terminating zero; drop the final dot to say so.
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

/**
 * All names of a list, up to the first bad one. `padded`: a zero byte where a name would start
 * is padding and ends the list (the NDP DNSSL option); otherwise it is the root name ".". Edges
 * only.
 */
export function formatDnsNameList(b: Uint8Array, off: number, end: number, padded = true): string[] {
  const names: string[] = [];
  let p = off;
  while (p < end && !(padded && b[p] === 0)) {
    const next = walkDnsName(b, p, end);
    if (next < 0) break;
    names.push(formatDnsName(b, p, next));
    p = next;
  }
  return names;
}

function labelsOf(name: string): string[] {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return [];
  const labels = trimmed.split('.');
  for (const l of labels) {
    if (l.length === 0 || l.length > MAX_LABEL_LENGTH)
      throw new TypeError(`bad label in domain name ${JSON.stringify(name)}`);
    if (!/^[\x21-\x7e]+$/.test(l)) throw new TypeError(`domain name ${JSON.stringify(name)} is not printable ASCII`);
  }
  return labels;
}

/** Wire length of a name: labels plus the final zero (no final zero when `partial`). */
export function dnsNameLength(name: string, partial = false): number {
  let n = partial ? 0 : 1;
  for (const l of labelsOf(name)) n += 1 + l.length;
  if (n > MAX_NAME_LENGTH) throw new TypeError(`domain name ${JSON.stringify(name)} longer than 255 bytes`);
  return n;
}

/** Writes a name at b[off]; returns bytes written. Cold path (config-time encoding). */
export function emitDnsName(name: string, b: Uint8Array, off: number, partial = false): number {
  let p = off;
  for (const l of labelsOf(name)) {
    b[p++] = l.length;
    for (let i = 0; i < l.length; i++) b[p++] = l.charCodeAt(i);
  }
  if (!partial) b[p++] = 0;
  return p - off;
}

export function dnsNameListLength(names: readonly string[]): number {
  let n = 0;
  for (const name of names) n += dnsNameLength(name);
  return n;
}

export function emitDnsNameList(names: readonly string[], b: Uint8Array, off: number): number {
  let p = off;
  for (const name of names) p += emitDnsName(name, b, p);
  return p - off;
}
