/**
 * The Internet checksum (RFC 1071) over the IPv6 pseudo-header (RFC 8200 §8.1), used by ICMPv6
 * (RFC 4443 §2.3) and UDP (RFC 768).
 *
 *   +                         Source Address (16)                   +
 *   +                      Destination Address (16)                 +
 *   |                   Upper-Layer Packet Length (32)              |
 *   |                      zero (24)                |  Next Header  |
 *
 * 16-bit words are read two at a time through the array's word view (codecs/word-view.ts),
 * accumulated with plain `+` (exact up to 2^53, far beyond any packet) and folded once at the
 * end. Verification: the sum over pseudo-header and message, checksum field included, folds to
 * 0xffff. Filling: zero the field, sum, store the complement.
 */

import { wordView } from './word-view.js';

/**
 * A sum congruent to the sum of the 16-bit big-endian words of b[o, o+n) (an odd last byte padded
 * with zero); only `fold()` of it is meaningful. A range outside `b` is a RangeError.
 */
export function sumWords(b: Uint8Array, o: number, n: number): number {
  return sumWordsOf(wordView(b), o, n);
}

/**
 * The same through b's word view: two 16-bit words per 32-bit read, sixteen bytes a turn. The
 * sum stays below 2^53 for any length, so nothing is lost before `fold()`.
 */
function sumWordsOf(v: DataView, o: number, n: number): number {
  let s = 0;
  let i = o;
  const end16 = o + (n & ~15);
  for (; i < end16; i += 16) {
    const a = v.getUint32(i);
    const b = v.getUint32(i + 4);
    const c = v.getUint32(i + 8);
    const d = v.getUint32(i + 12);
    s += (a >>> 16) + (a & 0xffff) + (b >>> 16) + (b & 0xffff) + (c >>> 16) + (c & 0xffff) + (d >>> 16) + (d & 0xffff);
  }
  const end4 = o + (n & ~3);
  for (; i < end4; i += 4) {
    const a = v.getUint32(i);
    s += (a >>> 16) + (a & 0xffff);
  }
  if ((n & 2) !== 0) {
    s += v.getUint16(i);
    i += 2;
  }
  if ((n & 1) !== 0) s += v.getUint8(i) << 8;
  return s;
}

/** Folds a running sum to 16 bits with end-around carry. */
export function fold(sum: number): number {
  // Sums of real packets fit 31 bits: integer steps. Larger ones (only ever built by hand) are
  // brought down exactly first.
  while (sum > 0x7fffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum & 0xffff) + (sum >>> 16);
}

/** Pseudo-header sum; src and dst are 16-byte addresses inside `b`. */
export function pseudoHeaderSum(
  b: Uint8Array,
  srcOff: number,
  dstOff: number,
  upperLength: number,
  nextHeader: number,
): number {
  return pseudoHeaderSumOf(wordView(b), srcOff, dstOff, upperLength, nextHeader);
}

function pseudoHeaderSumOf(
  v: DataView,
  srcOff: number,
  dstOff: number,
  upperLength: number,
  nextHeader: number,
): number {
  // The usual case, destination right after source, is one 32-byte run.
  const addresses =
    dstOff === srcOff + 16 ? sumWordsOf(v, srcOff, 32) : sumWordsOf(v, srcOff, 16) + sumWordsOf(v, dstOff, 16);
  return addresses + (upperLength >>> 16) + (upperLength & 0xffff) + nextHeader;
}

/**
 * True when the upper-layer message at b[msgOff, msgOff+msgLen) carries a correct checksum for
 * the addresses at srcOff/dstOff. False, without reading, when a range lies outside `b` (a
 * message cannot verify with bytes it does not have).
 */
export function verifyUpperLayer(
  b: Uint8Array,
  srcOff: number,
  dstOff: number,
  nextHeader: number,
  msgOff: number,
  msgLen: number,
): boolean {
  const n = b.length;
  if (msgOff < 0 || msgLen < 0 || msgOff + msgLen > n || srcOff < 0 || srcOff + 16 > n || dstOff < 0 || dstOff + 16 > n)
    return false;
  const v = wordView(b);
  return fold(pseudoHeaderSumOf(v, srcOff, dstOff, msgLen, nextHeader) + sumWordsOf(v, msgOff, msgLen)) === 0xffff;
}

/**
 * Computes and stores the checksum at b[csumOff] for the message at b[msgOff, msgOff+msgLen).
 * Returns the value written. A range outside `b` is the builder's bug: a RangeError, nothing
 * read or written past the array. `zeroAs` is what a computed 0 is sent as (0xffff for UDP, RFC 768).
 */
export function fillUpperLayer(
  b: Uint8Array,
  srcOff: number,
  dstOff: number,
  nextHeader: number,
  msgOff: number,
  msgLen: number,
  csumOff: number,
  zeroAs = 0,
): number {
  const v = wordView(b);
  v.setUint16(csumOff, 0);
  let c = 0xffff - fold(pseudoHeaderSumOf(v, srcOff, dstOff, msgLen, nextHeader) + sumWordsOf(v, msgOff, msgLen));
  if (c === 0) c = zeroAs;
  v.setUint16(csumOff, c);
  return c;
}
