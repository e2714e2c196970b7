/**
 * Shared helpers for the codec tests: every packet of the fixture captures (fixtures/*.pcap)
 * located by the frame decoder, buffers with a canary around the bytes under test, and checks
 * used by the property tests. Test code only; nothing here is imported by the codecs.
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { loadCaptureFile } from '../capture/reader.js';
import { FrameDecoder } from '../../codecs/frame.js';
import { Status } from '../../codecs/status.js';

/** The captures the tests are written against; a missing or extra file fails the tests that list them. */
export const fixtureFiles = [
  'dhclient-pd.pcap',
  'dhclient-stateful.pcap',
  'dhclient-stateless.pcap',
  'dhcp6-relay.pcap',
  'kernel-link-up.pcap',
  'ndisc6-ns-na.pcap',
  'ping6-echo.pcap',
  'rdisc6-rs-ra.pcap',
] as const;

/** The .pcap files actually present in fixtures/. */
export function fixturePcapFiles(): string[] {
  return readdirSync(fixturesDirectory)
    .filter((f) => f.endsWith('.pcap'))
    .sort();
}

/** One frame of a fixture capture with where its layers are (absolute offsets into `frame`). */
export interface FixturePacket {
  /** `dhclient-pd.pcap#2` (frame index from 0). */
  name: string;
  file: string;
  index: number;
  linkType: number;
  /** A private copy of the frame. */
  frame: Uint8Array;
  kind: 'icmpv6' | 'dhcpv6';
  ipv6Offset: number;
  /** The ICMPv6 message or the UDP datagram. */
  upperOffset: number;
  upperLength: number;
  /** ICMPv6 type, or -1. */
  icmpv6Type: number;
  /** DHCPv6 message type, or -1. */
  dhcpv6Type: number;
  /** The DHCPv6 message (UDP payload); 0/0 for ICMPv6. */
  dhcpv6Offset: number;
  dhcpv6Length: number;
}

let cache: Promise<FixturePacket[]> | undefined;

/**
 * Every frame of every fixture capture, in file then frame order. Throws when a frame does not
 * decode or carries neither ICMPv6 nor DHCPv6: the fixtures are known-good real traffic.
 */
export function loadFixturePackets(): Promise<FixturePacket[]> {
  cache ??= loadAll();
  return cache;
}

async function loadAll(): Promise<FixturePacket[]> {
  const out: FixturePacket[] = [];
  const d = new FrameDecoder();
  for (const file of fixturePcapFiles()) {
    const capture = await loadCaptureFile(join(fixturesDirectory, file));
    capture.frames.forEach((f, index) => {
      const name = `${file}#${index}`;
      const s = d.decode(f.data, 0, f.data.length, capture.linkType);
      if (s !== Status.Ok) throw new Error(`${name} does not decode: ${d.failure.toError().message}`);
      const dhcp = d.dhcpv6Type >= 0;
      if (!dhcp && d.icmpv6Type < 0) throw new Error(`${name} carries neither ICMPv6 nor DHCPv6`);
      out.push({
        name,
        file,
        index,
        linkType: capture.linkType,
        frame: f.data,
        kind: dhcp ? 'dhcpv6' : 'icmpv6',
        ipv6Offset: d.ipv6Offset,
        upperOffset: d.upperOffset,
        upperLength: d.upperLength,
        icmpv6Type: d.icmpv6Type,
        dhcpv6Type: d.dhcpv6Type,
        dhcpv6Offset: dhcp ? d.dhcpv6Offset : 0,
        dhcpv6Length: dhcp ? d.dhcpv6Length : 0,
      });
    });
  }
  return out;
}

/** A copy of the DHCPv6 message of a packet (exact length: reading past it yields undefined). */
export function dhcpv6Bytes(p: FixturePacket): Uint8Array {
  return p.frame.slice(p.dhcpv6Offset, p.dhcpv6Offset + p.dhcpv6Length);
}

/** A copy of the ICMPv6 message of a packet. */
export function icmpv6Bytes(p: FixturePacket): Uint8Array {
  return p.frame.slice(p.upperOffset, p.upperOffset + p.upperLength);
}

export function fixturePacket(packets: readonly FixturePacket[], file: string, index: number): FixturePacket {
  const p = packets.find((x) => x.file === file && x.index === index);
  if (p === undefined) throw new Error(`no frame ${index} in ${file}`);
  return p;
}

/**
 * `bytes` copied to offset `before` of a buffer with `after` more bytes behind, everything else
 * set to `canary`. A decoder given (buf, before, bytes.length) must not let the canary change
 * its answer.
 */
export function embed(bytes: Uint8Array, before: number, after: number, canary: number): Uint8Array {
  const b = new Uint8Array(before + bytes.length + after).fill(canary);
  b.set(bytes, before);
  return b;
}

/** The canaries used by the out-of-bounds checks: opposite bit patterns, so any read shows. */
export const canaries = [0x00, 0xff, 0x55] as const;

export const allStatuses: readonly number[] = [
  Status.Ok,
  Status.Truncated,
  Status.Malformed,
  Status.BadChecksum,
  Status.Unsupported,
];

/**
 * Paths inside `value` (a Repr or JSON) holding a number that is NaN or not finite, or holding
 * `undefined`: what an out-of-bounds read leaves behind. Empty when clean.
 */
export function badNumbers(value: unknown, path = '$'): string[] {
  if (value === undefined) return [path];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return [];
  const out: string[] = [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...badNumbers(v, `${path}[${i}]`)));
  else for (const [k, v] of Object.entries(value)) out.push(...badNumbers(v, `${path}.${k}`));
  return out;
}

/** XOR of `mask` into the byte at `at` of a copy. */
export function flipped(bytes: Uint8Array, at: number, mask: number): Uint8Array {
  const b = Uint8Array.from(bytes);
  b[at] = ((b[at] as number) ^ mask) & 0xff;
  return b;
}
