/**
 * Test helpers for the responder: configurations from fixtures/config, a dispatcher with an
 * injected clock and seed whose sink records every deferred frame, frame builders (Ethernet,
 * optional 802.1Q tag, IPv6 with optional Hop-by-Hop Router Alert or Fragment header, ICMPv6
 * with its checksum filled), mutation of real fixture frames with the checksum recomputed, a
 * decoder of replies into plain values, and a pcap of replies checked by tshark.
 *
 * Test code only: nothing in src/ or codecs/ imports it.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyBytes, formatIpv6, formatMac, parseIpv6, parseMac, setU16, u16, u32 } from '../../codecs/bytes.js';
import { fillUpperLayer, verifyUpperLayer } from '../../codecs/checksum.js';
import { emitEthernet, NO_VLAN } from '../../codecs/ethernet.js';
import { FrameDecoder } from '../../codecs/frame.js';
import { IpProtocol } from '../../codecs/ipv6.js';
import { ndpOptionJson, readNdpOptions } from '../../codecs/ndp-options.js';
import { Status } from '../../codecs/status.js';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { loadCaptureFile } from '../capture/reader.js';
import { CaptureWriter } from '../capture/writer.js';
import { loadConfig, parseConfig, type Punt6Config } from '../config/index.js';
import { Dispatcher, type DispatcherOptions } from '../responder/dispatcher.js';
import { buildRuntime } from '../responder/from-config.js';

export const onCi = process.env['CI'] === 'true';

// ---- Configurations ----

/** fixtures/config/NAME.yaml, loaded and normalized. */
export function fixtureConfig(name: 'peers' | 'lab' | 'trunk'): Promise<Punt6Config> {
  return loadConfig(join(fixturesDirectory, 'config', `${name}.yaml`));
}

/** A configuration given as YAML text (state directory: the temporary directory). */
export function configFromYaml(text: string): Punt6Config {
  return parseConfig(text, 'test.yaml', tmpdir());
}

// ---- A dispatcher under test ----

/** One frame the dispatcher sent through its sink (a copy), with the clock when it was sent. */
export interface SentFrame {
  ifIndex: number;
  at: number;
  frame: Uint8Array;
}

export interface Harness {
  dispatcher: Dispatcher;
  /** The injected clock (ms): set `clock.now` before handle()/poll(). */
  clock: { now: number };
  /** Everything the sink received, in order. */
  sent: SentFrame[];
  /** handle() and a copy of the reply (undefined: no reply). */
  handle(frame: Uint8Array, ifIndex?: number): Uint8Array | undefined;
}

/** A dispatcher built from `config` (no DHCPv6 server), clock at `start` ms, RA jitter seeded. */
export function harness(
  config: Punt6Config,
  options: { seed?: number; start?: number } & Pick<DispatcherOptions, 'verifyChecksums'> = {},
): Harness {
  const clock = { now: options.start ?? 1_000_000 };
  const sent: SentFrame[] = [];
  const dispatcher = new Dispatcher(buildRuntime(config), {
    now: () => clock.now,
    seed: options.seed ?? 1,
    verifyChecksums: options.verifyChecksums,
    sink: (ifIndex, frame, off, len) => sent.push({ ifIndex, at: clock.now, frame: frame.slice(off, off + len) }),
  });
  return {
    dispatcher,
    clock,
    sent,
    handle(frame, ifIndex = 0) {
      const n = dispatcher.handle(frame, 0, frame.length, ifIndex);
      return n > 0 ? dispatcher.tx.slice(0, n) : undefined;
    },
  };
}

// ---- Fixture frames ----

/** The frames of fixtures/NAME.pcap (copies), in capture order. */
export async function fixtureFrames(name: string): Promise<Uint8Array[]> {
  const c = await loadCaptureFile(join(fixturesDirectory, `${name}.pcap`));
  return c.frames.map((f) => Uint8Array.from(f.data));
}

// ---- Building frames ----

export interface FrameSpec {
  srcMac: string;
  dstMac: string;
  /** 802.1Q VLAN id; absent: untagged. */
  vlan?: number;
  pcp?: number;
  src: string;
  dst: string;
  hopLimit?: number;
  /** A Hop-by-Hop header with a Router Alert option (value 0, RFC 2711) before the ICMPv6 message. */
  routerAlert?: boolean;
  /** A Fragment header before the ICMPv6 message (offset in 8-byte units). */
  fragment?: { offset: number; more: boolean; id: number };
  /** The ICMPv6 message; its checksum is filled (unless `badChecksum`). */
  message: Uint8Array;
  badChecksum?: boolean;
}

/** An Ethernet frame carrying one ICMPv6 message, checksum filled. */
export function icmpv6Frame(s: FrameSpec): Uint8Array {
  const ext = (s.routerAlert === true ? 8 : 0) + (s.fragment ? 8 : 0);
  const ethLen = s.vlan === undefined ? 14 : 18;
  const b = new Uint8Array(ethLen + 40 + ext + s.message.length);
  emitEthernet(
    {
      destination: parseMac(s.dstMac),
      source: parseMac(s.srcMac),
      etherType: 0x86dd,
      vlanId: s.vlan ?? NO_VLAN,
      vlanPcp: s.pcp ?? 0,
    },
    b,
    0,
  );
  const ip = ethLen;
  b[ip] = 0x60;
  setU16(b, ip + 4, ext + s.message.length);
  b[ip + 7] = s.hopLimit ?? 255;
  parseIpv6(s.src, b, ip + 8);
  parseIpv6(s.dst, b, ip + 24);
  let p = ip + 40;
  let nhAt = ip + 6;
  if (s.routerAlert === true) {
    b[nhAt] = IpProtocol.HopByHop;
    b.set([0, 0, 5, 2, 0, 0, 1, 0], p); // next header (set below), length 0, Router Alert, PadN
    nhAt = p;
    p += 8;
  }
  if (s.fragment) {
    b[nhAt] = IpProtocol.Fragment;
    setU16(b, p + 2, (s.fragment.offset << 3) | (s.fragment.more ? 1 : 0));
    b[p + 4] = (s.fragment.id >>> 24) & 0xff;
    b[p + 5] = (s.fragment.id >>> 16) & 0xff;
    b[p + 6] = (s.fragment.id >>> 8) & 0xff;
    b[p + 7] = s.fragment.id & 0xff;
    nhAt = p;
    p += 8;
  }
  b[nhAt] = IpProtocol.Icmpv6;
  b.set(s.message, p);
  fillUpperLayer(b, ip + 8, ip + 24, IpProtocol.Icmpv6, p, s.message.length, p + 2);
  if (s.badChecksum === true) b[p + 2] = (b[p + 2] as number) ^ 0x5a;
  return b;
}

/** Writes an ICMPv6 message with `emit` into a fresh buffer of its exact length. */
export function message(length: number, emit: (b: Uint8Array, o: number) => number): Uint8Array {
  const b = new Uint8Array(length);
  const n = emit(b, 0);
  if (n !== length) throw new Error(`message emitted ${n} bytes, expected ${length}`);
  return b;
}

/** Where the layers of a frame are (the frame may fail validation; the offsets are still set). */
export interface Layout {
  ipv6: number;
  icmpv6: number;
  icmpv6Length: number;
}

export function layoutOf(frame: Uint8Array): Layout {
  const d = new FrameDecoder();
  d.verifyChecksums = false;
  d.decode(frame, 0, frame.length);
  if (d.ipv6Offset < 0 || d.upperProtocol !== IpProtocol.Icmpv6) throw new Error('not an ICMPv6 frame');
  return { ipv6: d.ipv6Offset, icmpv6: d.upperOffset, icmpv6Length: d.upperLength };
}

/** Fills the ICMPv6 checksum of `frame` in place (for mutated frames); returns the frame. */
export function refreshChecksum(frame: Uint8Array): Uint8Array {
  const l = layoutOf(frame);
  fillUpperLayer(frame, l.ipv6 + 8, l.ipv6 + 24, IpProtocol.Icmpv6, l.icmpv6, l.icmpv6Length, l.icmpv6 + 2);
  return frame;
}

/**
 * A copy of a real frame changed by `edit` (given the frame and its layout); the ICMPv6
 * checksum is recomputed afterwards unless `keepChecksum`.
 */
export function mutate(
  frame: Uint8Array,
  edit: (b: Uint8Array, l: Layout) => Uint8Array | void,
  keepChecksum = false,
): Uint8Array {
  const copy = Uint8Array.from(frame);
  const out = edit(copy, layoutOf(copy)) ?? copy;
  return keepChecksum ? out : refreshChecksum(out);
}

/**
 * The ICMPv6 message of `frame` cut to `length` bytes (IPv6 payload length adjusted, checksum
 * recomputed).
 */
export function truncateIcmpv6(frame: Uint8Array, length: number): Uint8Array {
  const l = layoutOf(frame);
  const out = frame.slice(0, l.icmpv6 + length);
  setU16(out, l.ipv6 + 4, l.icmpv6 + length - l.ipv6 - 40);
  return refreshChecksum(out);
}

/** A copy of `frame` with bytes appended to its ICMPv6 message (an option, say). */
export function appendToIcmpv6(frame: Uint8Array, extra: Uint8Array): Uint8Array {
  const l = layoutOf(frame);
  const end = l.icmpv6 + l.icmpv6Length;
  const out = new Uint8Array(end + extra.length);
  out.set(frame.subarray(0, end));
  out.set(extra, end);
  setU16(out, l.ipv6 + 4, end + extra.length - l.ipv6 - 40);
  return refreshChecksum(out);
}

// ---- Decoding replies ----

/** A reply as plain values, for field-by-field assertions. */
export interface DecodedReply {
  /** FrameDecoder status of the reply with checksum verification on (0 = Ok). */
  status: number;
  ethDst: string;
  ethSrc: string;
  etherType: number;
  /** VLAN id, or NO_VLAN. */
  vlan: number;
  /** The whole TCI (PCP, DEI, VLAN id), or -1 without a tag. */
  tci: number;
  trafficClass: number;
  flowLabel: number;
  hopLimit: number;
  /** Next Header of the fixed IPv6 header. */
  nextHeader: number;
  src: string;
  dst: string;
  /** IPv6 payload length field, and the bytes actually behind the header. */
  payloadLength: number;
  payloadPresent: number;
  /** Offset of the Hop-by-Hop header, or -1. */
  hopByHop: number;
  icmpv6: number;
  icmpv6Length: number;
  type: number;
  code: number;
  checksumOk: boolean;
  bytes: Uint8Array;
}

export function decodeReply(bytes: Uint8Array): DecodedReply {
  const d = new FrameDecoder();
  const status = d.decode(bytes, 0, bytes.length);
  const tagged = u16(bytes, 12) === 0x8100;
  const ip = tagged ? 18 : 14;
  const ipv6 = d.ipv6;
  const icmp = d.ipv6Offset >= 0 ? d.upperOffset : -1;
  return {
    status,
    ethDst: formatMac(bytes, 0),
    ethSrc: formatMac(bytes, 6),
    etherType: u16(bytes, ip - 2),
    vlan: tagged ? u16(bytes, 14) & 0xfff : NO_VLAN,
    tci: tagged ? u16(bytes, 14) : -1,
    trafficClass: (u16(bytes, ip) >>> 4) & 0xff,
    flowLabel: u32(bytes, ip) & 0xfffff,
    hopLimit: bytes[ip + 7] as number,
    nextHeader: bytes[ip + 6] as number,
    src: formatIpv6(bytes, ip + 8),
    dst: formatIpv6(bytes, ip + 24),
    payloadLength: u16(bytes, ip + 4),
    payloadPresent: bytes.length - ip - 40,
    hopByHop: d.ipv6Offset >= 0 ? ipv6.hopByHopOffset : -1,
    icmpv6: icmp,
    icmpv6Length: icmp >= 0 ? d.upperLength : 0,
    type: icmp >= 0 ? (bytes[icmp] as number) : -1,
    code: icmp >= 0 ? (bytes[icmp + 1] as number) : -1,
    checksumOk: icmp >= 0 && verifyUpperLayer(bytes, ip + 8, ip + 24, IpProtocol.Icmpv6, icmp, d.upperLength),
    bytes,
  };
}

export const STATUS_OK = Status.Ok;

/** The ICMPv6 message of a decoded reply (a copy). */
export function icmpv6Of(r: DecodedReply): Uint8Array {
  return r.bytes.slice(r.icmpv6, r.icmpv6 + r.icmpv6Length);
}

/** The ND options of a decoded reply behind a fixed part of `fixedLength` bytes, as JSON. */
export function ndOptionsOf(r: DecodedReply, fixedLength: number): Record<string, unknown>[] {
  return readNdpOptions(r.bytes, r.icmpv6 + fixedLength, r.icmpv6 + r.icmpv6Length).map(ndpOptionJson);
}

export function hex(b: Uint8Array, o = 0, n = b.length - o): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ((b[o + i] as number) + 0x100).toString(16).slice(1);
  return s;
}

export function ipv6Text(b: Uint8Array, o = 0): string {
  return formatIpv6(b, o);
}

export function macText(b: Uint8Array, o = 0): string {
  return formatMac(b, o);
}

/** Copy of `n` bytes of `src` at `so`. */
export function bytesAt(src: Uint8Array, so: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  copyBytes(src, so, b, 0, n);
  return b;
}

// ---- tshark over the replies ----

export interface TsharkVerdict {
  /** Lines of `tshark -V` that report a malformed packet, a bad checksum or an expert error. */
  problems: string[];
  /** Packets tshark dissected. */
  packets: number;
  /** The full `-V` text, for further checks. */
  text: string;
}

export function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore', timeout: 30_000 }).error === undefined;
}

/**
 * Writes `frames` to a pcap (CaptureWriter), runs `tshark -r F -o udp.check_checksum:TRUE -V`
 * and collects every line that reports a malformed packet, an incorrect or bad checksum, or an
 * expert error. Under CI=true a missing tshark is an error; otherwise the caller skips.
 */
export function tsharkCheck(frames: readonly Uint8Array[]): TsharkVerdict {
  const dir = mkdtempSync(join(tmpdir(), 'punt6-replies-'));
  try {
    const path = join(dir, 'replies.pcap');
    const w = new CaptureWriter(path);
    frames.forEach((f, i) => w.write(f, 0, f.length, 1_700_000_000 + i));
    w.close();
    const r = spawnSync('tshark', ['-r', path, '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-V'], {
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 1 << 28,
    });
    if (r.error !== undefined) throw r.error;
    if (r.status !== 0) throw new Error(`tshark exited with ${r.status}: ${r.stderr}`);
    const text = r.stdout;
    const problems = text
      .split('\n')
      .filter((line) =>
        /\[Malformed|incorrect|Checksum Status: Bad|\[Severity level: Error\]|Severity level: Warning|\[Expert Info \(Error/i.test(
          line,
        ),
      );
    const packets = (text.match(/^Frame \d+:/gm) ?? []).length;
    return { problems, packets, text };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
