/**
 * Word access for the per-byte work (checksums, address copies and compares): a DataView over
 * the same bytes as a Uint8Array reads or writes a big-endian 16- or 32-bit word at any offset
 * in one step, with one bounds check, where byte indexing needs two or four loads, as many
 * checks, and the shifts to join them.
 *
 * Making a DataView allocates, so each array gets one view, made the first time it is seen and
 * kept as long as the array lives (a WeakMap). A dispatcher touches few arrays per packet: the
 * receive buffer, which a capture handle reuses for every frame, and its transmit buffer. The
 * last four arrays are also kept in four slots compared by identity, so the usual lookup is a few
 * compares and never reaches the WeakMap; more capture ports than that in turn cost a WeakMap
 * lookup, still no allocation. The view spans exactly the array's bytes, so a word read past the
 * array throws a RangeError rather than reading a neighbour's bytes in a shared ArrayBuffer;
 * callers still check bounds first.
 */

// Four slots, unrolled: a hit is a few identity compares and no memory beyond these variables.
const empty: DataView = new DataView(new ArrayBuffer(0));
let a0: Uint8Array | null = null;
let a1: Uint8Array | null = null;
let a2: Uint8Array | null = null;
let a3: Uint8Array | null = null;
let v0 = empty;
let v1 = empty;
let v2 = empty;
let v3 = empty;
let victim = 0;

/** The DataView over exactly b's bytes (cached; made on the first use of an array). */
export function wordView(b: Uint8Array): DataView {
  if (b === a0) return v0;
  if (b === a1) return v1;
  if (b === a2) return v2;
  if (b === a3) return v3;
  return remember(b);
}

const viewOf = new WeakMap<Uint8Array, DataView>();

function remember(b: Uint8Array): DataView {
  let v = viewOf.get(b);
  if (v === undefined) {
    v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    viewOf.set(b, v);
  }
  switch (victim) {
    case 0:
      a0 = b;
      v0 = v;
      break;
    case 1:
      a1 = b;
      v1 = v;
      break;
    case 2:
      a2 = b;
      v2 = v;
      break;
    default:
      a3 = b;
      v3 = v;
  }
  victim = (victim + 1) & 3;
  return v;
}

/**
 * Copies the 16 bytes at src[so] to dst[dO] as four 32-bit words (views of the two arrays) and
 * returns the sum of their eight 16-bit words, ready for a checksum (codecs/checksum.ts `fold`).
 */
export function copyAddressWords(src: DataView, so: number, dst: DataView, dO: number): number {
  const a = src.getUint32(so);
  const b = src.getUint32(so + 4);
  const c = src.getUint32(so + 8);
  const d = src.getUint32(so + 12);
  dst.setUint32(dO, a);
  dst.setUint32(dO + 4, b);
  dst.setUint32(dO + 8, c);
  dst.setUint32(dO + 12, d);
  return (a >>> 16) + (a & 0xffff) + (b >>> 16) + (b & 0xffff) + (c >>> 16) + (c & 0xffff) + (d >>> 16) + (d & 0xffff);
}

/** Copies n bytes from src[so] to dst[dO], four at a time (views of two different arrays). */
export function copyWords(src: DataView, so: number, dst: DataView, dO: number, n: number): void {
  let i = 0;
  for (const n16 = n & ~15; i < n16; i += 16) {
    dst.setUint32(dO + i, src.getUint32(so + i));
    dst.setUint32(dO + i + 4, src.getUint32(so + i + 4));
    dst.setUint32(dO + i + 8, src.getUint32(so + i + 8));
    dst.setUint32(dO + i + 12, src.getUint32(so + i + 12));
  }
  for (const n4 = n & ~3; i < n4; i += 4) dst.setUint32(dO + i, src.getUint32(so + i));
  for (; i < n; i++) dst.setUint8(dO + i, src.getUint8(so + i));
}

/**
 * Copies n bytes like {@link copyWords} and returns the sum of their 16-bit big-endian words (an
 * odd last byte padded with zero), for a checksum over what was copied: one pass, not two.
 */
export function copySumWords(src: DataView, so: number, dst: DataView, dO: number, n: number): number {
  let s = 0;
  let i = 0;
  for (const n16 = n & ~15; i < n16; i += 16) {
    const a = src.getUint32(so + i);
    const b = src.getUint32(so + i + 4);
    const c = src.getUint32(so + i + 8);
    const d = src.getUint32(so + i + 12);
    dst.setUint32(dO + i, a);
    dst.setUint32(dO + i + 4, b);
    dst.setUint32(dO + i + 8, c);
    dst.setUint32(dO + i + 12, d);
    s += (a >>> 16) + (a & 0xffff) + (b >>> 16) + (b & 0xffff) + (c >>> 16) + (c & 0xffff) + (d >>> 16) + (d & 0xffff);
  }
  for (const n4 = n & ~3; i < n4; i += 4) {
    const a = src.getUint32(so + i);
    dst.setUint32(dO + i, a);
    s += (a >>> 16) + (a & 0xffff);
  }
  for (; i < n; i++) {
    const x = src.getUint8(so + i);
    dst.setUint8(dO + i, x);
    s += (i & 1) === 0 ? x << 8 : x;
  }
  return s;
}

/** Copies a 6-byte MAC from src[so] to dst[dO] as one 32-bit and one 16-bit word. */
export function copyMacWords(src: DataView, so: number, dst: DataView, dO: number): void {
  dst.setUint32(dO, src.getUint32(so));
  dst.setUint16(dO + 4, src.getUint16(so + 4));
}

/**
 * A MAC address as two words, bytes 0–3 and 4–5, made once (at configuration time) for the
 * replies that write it: two word stores in place of six byte stores.
 */
export type MacWords = Uint32Array;

export function macWords(mac: Uint8Array): MacWords {
  const v = new DataView(mac.buffer, mac.byteOffset, 6);
  return Uint32Array.of(v.getUint32(0), v.getUint16(4));
}
