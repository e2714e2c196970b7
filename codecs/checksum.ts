/**
 * The Internet checksum (RFC 1071) over the IPv6 pseudo-header (RFC 8200 §8.1), used by ICMPv6
 * (RFC 4443 §2.3) and UDP (RFC 768).
 *
 *   +                         Source Address (16)                   +
 *   +                      Destination Address (16)                 +
 *   |                   Upper-Layer Packet Length (32)              |
 *   |                      zero (24)                |  Next Header  |
 *
 * 16-bit words are accumulated with plain `+` in a double (exact up to 2^53, far beyond any
 * packet) and folded once at the end. Verification: the sum over pseudo-header and message,
 * checksum field included, folds to 0xffff. Filling: zero the field, sum, store the complement.
 */

/**
 * A sum congruent to the sum of the 16-bit big-endian words of b[o, o+n) (an odd last byte padded
 * with zero); only `fold()` of it is meaningful. High and low bytes are summed apart, eight bytes
 * a turn, and joined once: fewer shifts and loop tests than word by word.
 */
export function sumWords(b: Uint8Array, o: number, n: number): number {
  let hi = 0;
  let lo = 0;
  let i = o;
  const end = o + n;
  const end8 = o + (n & ~7);
  for (; i < end8; i += 8) {
    hi += (b[i] as number) + (b[i + 2] as number) + (b[i + 4] as number) + (b[i + 6] as number);
    lo += (b[i + 1] as number) + (b[i + 3] as number) + (b[i + 5] as number) + (b[i + 7] as number);
  }
  for (; i + 1 < end; i += 2) {
    hi += b[i] as number;
    lo += b[i + 1] as number;
  }
  if (i < end) hi += b[i] as number;
  return hi * 256 + lo;
}

/** Folds a running sum to 16 bits with end-around carry. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** Pseudo-header sum; src and dst are 16-byte addresses inside `b`. */
export function pseudoHeaderSum(b: Uint8Array, srcOff: number, dstOff: number, upperLength: number, nextHeader: number): number {
  return sumWords(b, srcOff, 16) + sumWords(b, dstOff, 16) + Math.floor(upperLength / 0x10000) + (upperLength % 0x10000) + nextHeader;
}

/**
 * True when the upper-layer message at b[msgOff, msgOff+msgLen) carries a correct checksum for
 * the addresses at srcOff/dstOff.
 */
export function verifyUpperLayer(b: Uint8Array, srcOff: number, dstOff: number, nextHeader: number, msgOff: number, msgLen: number): boolean {
  return fold(pseudoHeaderSum(b, srcOff, dstOff, msgLen, nextHeader) + sumWords(b, msgOff, msgLen)) === 0xffff;
}

/**
 * Computes and stores the checksum at b[csumOff] for the message at b[msgOff, msgOff+msgLen).
 * Returns the value written. `zeroAs` is what a computed 0 is sent as (0xffff for UDP, RFC 768).
 */
export function fillUpperLayer(b: Uint8Array, srcOff: number, dstOff: number, nextHeader: number, msgOff: number, msgLen: number, csumOff: number, zeroAs = 0): number {
  b[csumOff] = 0;
  b[csumOff + 1] = 0;
  let c = 0xffff - fold(pseudoHeaderSum(b, srcOff, dstOff, msgLen, nextHeader) + sumWords(b, msgOff, msgLen));
  if (c === 0) c = zeroAs;
  b[csumOff] = c >>> 8;
  b[csumOff + 1] = c & 0xff;
  return c;
}
