/**
 * Builders of Ethernet frames for the dataplane tests and the end-to-end flood of malformed
 * packets: ICMPv6 and UDP over IPv6, optionally behind an 802.1Q tag or a Hop-by-Hop header,
 * with a correct checksum unless told otherwise. Not for the hot path.
 */

import { fillUpperLayer } from '../../codecs/checksum.js';
import { parseIpv6Address } from '../config/addr.js';

export function ip6(text: string): Uint8Array {
  const a = parseIpv6Address(text);
  if (a === null) throw new Error(`not an IPv6 address: ${text}`);
  return a.model.bytes;
}

export function mac(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((x) => Number.parseInt(x, 16)));
}

/** The multicast MAC of an IPv6 multicast address (RFC 2464 §7). */
export function multicastMac(dst: Uint8Array): Uint8Array {
  return Uint8Array.from([0x33, 0x33, dst[12] as number, dst[13] as number, dst[14] as number, dst[15] as number]);
}

export interface FrameSpec {
  srcMac: Uint8Array;
  /** Default: the multicast MAC of `dst`, or 02:00:00:00:00:fe. */
  dstMac?: Uint8Array;
  src: Uint8Array;
  dst: Uint8Array;
  hopLimit?: number;
  vlan?: number;
  /** Put an 8-byte Hop-by-Hop header with a Router Alert option before the upper layer. */
  hopByHop?: boolean;
  /** Write a wrong checksum. */
  badChecksum?: boolean;
  /** Cut the frame to this many bytes after building it (the IPv6 payload length is kept). */
  truncateTo?: number;
}

const ICMPV6 = 58;
const UDP = 17;

function build(s: FrameSpec, nextHeader: number, upper: Uint8Array, checksumAt: number): Uint8Array {
  const eth = s.vlan === undefined ? 14 : 18;
  const hbh = s.hopByHop === true ? 8 : 0;
  const f = new Uint8Array(eth + 40 + hbh + upper.length);
  const dstMac = s.dstMac ?? (s.dst[0] === 0xff ? multicastMac(s.dst) : mac('02:00:00:00:00:fe'));
  f.set(dstMac, 0);
  f.set(s.srcMac, 6);
  if (s.vlan !== undefined) {
    f[12] = 0x81;
    f[13] = 0x00;
    f[14] = (s.vlan >>> 8) & 0x0f;
    f[15] = s.vlan & 0xff;
  }
  f[eth - 2] = 0x86;
  f[eth - 1] = 0xdd;
  const ip = eth;
  f[ip] = 0x60;
  const payload = hbh + upper.length;
  f[ip + 4] = payload >>> 8;
  f[ip + 5] = payload & 0xff;
  f[ip + 6] = hbh > 0 ? 0 : nextHeader;
  f[ip + 7] = s.hopLimit ?? 255;
  f.set(s.src, ip + 8);
  f.set(s.dst, ip + 24);
  if (hbh > 0) {
    // Next header, length 0 (8 bytes), Router Alert (type 5, length 2, value 0 = MLD), PadN(0).
    f.set([nextHeader, 0, 5, 2, 0, 0, 1, 0], ip + 40);
  }
  const m = ip + 40 + hbh;
  f.set(upper, m);
  fillUpperLayer(f, ip + 8, ip + 24, nextHeader, m, upper.length, m + checksumAt, nextHeader === UDP ? 0xffff : 0);
  if (s.badChecksum === true) f[m + checksumAt + 1] = (f[m + checksumAt + 1] as number) ^ 0x5a;
  return s.truncateTo === undefined ? f : f.slice(0, s.truncateTo);
}

/** An ICMPv6 message: type, code, then `rest` after the 4-byte header. */
export function icmpv6Frame(s: FrameSpec, type: number, code: number, rest: Uint8Array | number[]): Uint8Array {
  const body = new Uint8Array(4 + rest.length);
  body[0] = type;
  body[1] = code;
  body.set(rest, 4);
  return build(s, ICMPV6, body, 2);
}

/** A UDP datagram. */
export function udpFrame(
  s: FrameSpec,
  sourcePort: number,
  destinationPort: number,
  data: Uint8Array | number[],
): Uint8Array {
  const body = new Uint8Array(8 + data.length);
  body[0] = sourcePort >>> 8;
  body[1] = sourcePort & 0xff;
  body[2] = destinationPort >>> 8;
  body[3] = destinationPort & 0xff;
  body[4] = body.length >>> 8;
  body[5] = body.length & 0xff;
  body.set(data, 8);
  return build(s, UDP, body, 6);
}

/** A Neighbor Solicitation for `target`, with a source link-layer address option unless `options` is given. */
export function neighborSolicitation(s: FrameSpec, target: Uint8Array, options?: number[]): Uint8Array {
  const rest = [0, 0, 0, 0, ...target, ...(options ?? [1, 1, ...s.srcMac])];
  return icmpv6Frame(s, 135, 0, rest);
}

/** The solicited-node multicast address of `a` (RFC 4291 §2.7.1). */
export function solicitedNode(a: Uint8Array): Uint8Array {
  return Uint8Array.from([
    0xff,
    2,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    0xff,
    a[13] as number,
    a[14] as number,
    a[15] as number,
  ]);
}
