/**
 * Byte helpers for every codec: big-endian reads and writes, 16-byte address compare and copy,
 * and the text forms used at the edges (RFC 5952 IPv6 text, colon-separated MAC).
 *
 * The readers do no bounds checks: call them only after the view's `check()` has proven the
 * range is inside the buffer. An out-of-range `Uint8Array` read yields `undefined`, which the
 * arithmetic below would silently turn into 0 or NaN.
 */

export function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

/** Unsigned 32-bit read (multiplication keeps the result positive). */
export function u32(b: Uint8Array, o: number): number {
  return (
    (b[o] as number) * 0x1000000 + (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number))
  );
}

export function u24(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 16) | ((b[o + 1] as number) << 8) | (b[o + 2] as number);
}

export function setU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function setU24(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 16) & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = v & 0xff;
}

export function setU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** Compare `n` bytes at a[ao] and b[bo]. */
export function bytesEqual(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** Compare two 16-byte IPv6 addresses. */
export function addrEqual(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  return bytesEqual(a, ao, b, bo, 16);
}

/** Whether two arrays hold the same bytes (their lengths included). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && bytesEqual(a, 0, b, 0, a.length);
}

/** Orders the 16-byte addresses at a[ao] and b[bo] as unsigned numbers: negative, 0 or positive. */
export function compareAddr(a: Uint8Array, ao: number, b: Uint8Array, bo: number): number {
  for (let i = 0; i < 16; i++) {
    const d = (a[ao + i] as number) - (b[bo + i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** True when the 16-byte address at a[ao] lies in prefix/length (the prefix's 16 bytes at prefix[0]). */
export function inPrefix(a: Uint8Array, ao: number, prefix: Uint8Array, length: number): boolean {
  let bits = length;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((((a[ao + i] as number) ^ (prefix[i] as number)) & mask) !== 0) return false;
  }
  return true;
}

/** True when every bit of the 16-byte address at a[ao] after its first `length` bits is zero. */
export function hostBitsZero(a: Uint8Array, ao: number, length: number): boolean {
  for (let bit = length; bit < 128; bit++)
    if (((a[ao + (bit >>> 3)] as number) & (0x80 >>> (bit & 7))) !== 0) return false;
  return true;
}

/** Copy 8 bytes in straight-line code. */
function copy8(src: Uint8Array, so: number, dst: Uint8Array, dO: number): void {
  dst[dO] = src[so] as number;
  dst[dO + 1] = src[so + 1] as number;
  dst[dO + 2] = src[so + 2] as number;
  dst[dO + 3] = src[so + 3] as number;
  dst[dO + 4] = src[so + 4] as number;
  dst[dO + 5] = src[so + 5] as number;
  dst[dO + 6] = src[so + 6] as number;
  dst[dO + 7] = src[so + 7] as number;
}

/**
 * Copy `n` bytes between ranges that do not overlap, allocating nothing (`set(subarray())` makes
 * a view per call). Eight bytes a turn: V8's optimizing compiler does not hoist the arrays' map,
 * length and data-pointer loads out of a loop, so each turn pays them again, and within one turn
 * they are shared. The last eight bytes are copied in one more turn that may overlap the one
 * before (rewriting bytes already copied), not byte by byte.
 */
export function copyBytes(src: Uint8Array, so: number, dst: Uint8Array, dO: number, n: number): void {
  if (n < 8) {
    for (let i = 0; i < n; i++) dst[dO + i] = src[so + i] as number;
    return;
  }
  for (let i = 0; i < n - 8; i += 8) copy8(src, so + i, dst, dO + i);
  copy8(src, so + n - 8, dst, dO + n - 8);
}

/** Copy a 16-byte address: straight-line code, no loop (see copyBytes). */
export function copyAddr(src: Uint8Array, so: number, dst: Uint8Array, dO: number): void {
  copy8(src, so, dst, dO);
  copy8(src, so + 8, dst, dO + 8);
}

/**
 * A copy of b[from, to) that shares no memory with b, even when b is a Buffer (whose own `slice`
 * is a view of b's bytes). Edges only: it allocates.
 */
export function sliceBytes(b: Uint8Array, from: number, to: number): Uint8Array {
  return Uint8Array.prototype.slice.call(b, from, to);
}

export function fillZero(b: Uint8Array, o: number, n: number): void {
  for (let i = 0; i < n; i++) b[o + i] = 0;
}

export function isZero(b: Uint8Array, o: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[o + i] !== 0) return false;
  return true;
}

/** The unspecified address `::`. */
export function isUnspecified(b: Uint8Array, o: number): boolean {
  return isZero(b, o, 16);
}

/** ff00::/8 (RFC 4291 §2.7). */
export function isMulticast(b: Uint8Array, o: number): boolean {
  return b[o] === 0xff;
}

/** fe80::/10 (RFC 4291 §2.5.6). */
export function isLinkLocal(b: Uint8Array, o: number): boolean {
  return b[o] === 0xfe && ((b[o + 1] as number) & 0xc0) === 0x80;
}

/** ff02::1:ffXX:XXXX, the solicited-node multicast address (RFC 4291 §2.7.1). */
export function isSolicitedNode(b: Uint8Array, o: number): boolean {
  return b[o] === 0xff && b[o + 1] === 0x02 && isZero(b, o + 2, 9) && b[o + 11] === 0x01 && b[o + 12] === 0xff;
}

/** Writes the solicited-node multicast address for the target at t[to] into d[dO]. */
export function writeSolicitedNode(t: Uint8Array, to: number, d: Uint8Array, dO: number): void {
  d[dO] = 0xff;
  d[dO + 1] = 0x02;
  fillZero(d, dO + 2, 9);
  d[dO + 11] = 0x01;
  d[dO + 12] = 0xff;
  d[dO + 13] = t[to + 13] as number;
  d[dO + 14] = t[to + 14] as number;
  d[dO + 15] = t[to + 15] as number;
}

/** Group/broadcast bit of a MAC address. */
export function isMacMulticast(b: Uint8Array, o: number): boolean {
  return ((b[o] as number) & 0x01) !== 0;
}

// ---- Text forms, for the edges only (they allocate). ----

const hex = '0123456789abcdef';

export function hexByte(v: number): string {
  return (hex[(v >>> 4) & 0xf] as string) + (hex[v & 0xf] as string);
}

export function toHex(b: Uint8Array, o = 0, n = b.length - o): string {
  let s = '';
  for (let i = 0; i < n; i++) s += hexByte(b[o + i] as number);
  return s;
}

export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new TypeError(`not a hex string: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The n bytes at b[o] as colon-separated hex: `00:0c:29:38:f3:68`; "" for none. */
export function formatColonHex(b: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += (i === 0 ? '' : ':') + hexByte(b[o + i] as number);
  return s;
}

/** `02:00:00:00:00:01` */
export function formatMac(b: Uint8Array, o = 0): string {
  return formatColonHex(b, o, 6);
}

export function parseMac(text: string): Uint8Array {
  const m = /^([0-9a-fA-F]{2})([:-][0-9a-fA-F]{2}){5}$/.exec(text);
  if (!m) throw new TypeError(`not a MAC address: ${text}`);
  return fromHex(text.replace(/-/g, ':'));
}

/**
 * RFC 5952 §4 text form: lower case, no leading zeros, the longest run of two or more zero
 * groups (the first one on a tie) compressed to `::`.
 */
export function formatIpv6(b: Uint8Array, o = 0): string {
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    const zero = b[o + 2 * i] === 0 && b[o + 2 * i + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = i;
      const runLen = i - runStart + 1;
      if (runLen > bestLen) {
        bestLen = runLen;
        bestStart = runStart;
      }
    } else {
      runStart = -1;
    }
  }
  if (bestLen < 2) bestStart = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    s += u16(b, o + 2 * i).toString(16);
    if (i < 7) s += ':';
  }
  return s;
}

/** The 16-bit groups parseIpv6 has read so far (it never runs twice at once). */
const groups = new Uint16Array(8);

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20; // ASCII lower case
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/**
 * The dotted quad at text[i..] to its end (RFC 4291 §2.2 form 3, each part one to three decimal
 * digits up to 255) as two 16-bit groups; -1 when it is not one.
 */
function dottedQuad(text: string, i: number): number {
  let v = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (text.charCodeAt(i) !== 0x2e) return -1;
      i++;
    }
    let n = 0;
    let digits = 0;
    for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39 && digits < 3; c = text.charCodeAt(++i)) {
      n = n * 10 + (c - 0x30);
      digits++;
    }
    if (digits === 0 || n > 255) return -1;
    v = v * 256 + n;
  }
  return i === text.length ? v : -1;
}

/**
 * Parses IPv6 text (any RFC 4291 §2.2 form, IPv4-embedded included) into 16 bytes: groups of one
 * to four hex digits, at most one `::`, a dotted quad only at the end and after a colon. Edges only.
 */
export function parseIpv6(text: string, out: Uint8Array = new Uint8Array(16), o = 0): Uint8Array {
  const fail = (): never => {
    throw new TypeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  };
  const n = text.length;
  let count = 0;
  /** Where `::` stands among the groups, or -1. */
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 0x3a) {
    if (text.charCodeAt(1) !== 0x3a) fail();
    gap = 0;
    i = 2;
  }
  while (i < n) {
    const start = i;
    let v = 0;
    let digits = 0;
    for (let d = hexValue(text.charCodeAt(i)); d >= 0; d = hexValue(text.charCodeAt(++i))) {
      v = v * 16 + d;
      digits++;
    }
    if (text.charCodeAt(i) === 0x2e) {
      // An embedded IPv4 address: the last two groups, after a colon.
      const quad = start === 0 || count > 6 ? -1 : dottedQuad(text, start);
      if (quad < 0) fail();
      groups[count++] = quad >>> 16;
      groups[count++] = quad & 0xffff;
      break;
    }
    if (digits === 0 || digits > 4 || count === 8) fail();
    groups[count++] = v;
    if (i === n) break;
    if (text.charCodeAt(i) !== 0x3a) fail();
    i++;
    if (text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) fail();
      gap = count;
      i++;
    } else if (i === n) {
      fail();
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) fail();
  const zeros = 8 - count;
  for (let g = 0, k = 0; g < 8; g++) {
    const w = gap >= 0 && g >= gap && g < gap + zeros ? 0 : (groups[k++] as number);
    setU16(out, o + 2 * g, w);
  }
  return out;
}
