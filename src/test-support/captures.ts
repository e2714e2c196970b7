/**
 * Captures for the capture reader's tests, made from a fixture's frames: the fixture's pcap bytes
 * with each record's offset (to cut and patch), the same file in the other byte order, and pcapng
 * files block by block (draft-ietf-opsawg-pcapng §3.1 block structure, §4.1-4.4, appendix A).
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Status } from '../../codecs/status.js';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { loadCaptureFile, type LoadedFrame } from '../capture/reader.js';

export interface PcapFixture {
  bytes: Uint8Array;
  frames: LoadedFrame[];
  /** The byte offset of each record, from the frames' lengths (not by walking the file). */
  recordOffsets: number[];
}

const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;

/** A fixture pcap (little-endian, microseconds, as tcpdump wrote it) and where its records start. */
export async function pcapFixture(path: string): Promise<PcapFixture> {
  const bytes = new Uint8Array(readFileSync(path));
  const { frames } = await loadCaptureFile(path);
  const recordOffsets: number[] = [];
  let o = PCAP_HEADER;
  for (const f of frames) {
    recordOffsets.push(o);
    o += PCAP_RECORD_HEADER + f.data.length;
  }
  if (o !== bytes.length) throw new Error(`${path}: the records do not add up to the file`);
  return { bytes, frames, recordOffsets };
}

/** A copy of a little-endian pcap with every header field in big-endian order. */
export function pcapBigEndian(fx: PcapFixture): Uint8Array {
  const b = fx.bytes.slice();
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const swap32 = (o: number) => v.setUint32(o, v.getUint32(o, true), false);
  const swap16 = (o: number) => v.setUint16(o, v.getUint16(o, true), false);
  swap32(0);
  swap16(4);
  swap16(6);
  for (const o of [8, 12, 16, 20]) swap32(o);
  for (const r of fx.recordOffsets) for (let i = 0; i < PCAP_RECORD_HEADER; i += 4) swap32(r + i);
  return b;
}

export const PcapngBlock = {
  SectionHeader: 0x0a0d0d0a,
  InterfaceDescription: 1,
  Packet: 2,
  SimplePacket: 3,
  EnhancedPacket: 6,
} as const;

/** Builds a pcapng file block by block and remembers where each block starts. */
export class PcapngBuilder {
  private readonly le: boolean;
  private readonly parts: Uint8Array[] = [];
  /** The byte offset of each block, in order (block N of the file is blockOffsets[N - 1]). */
  readonly blockOffsets: number[] = [];
  length = 0;

  constructor(order: 'le' | 'be' = 'le') {
    this.le = order === 'le';
  }

  /** Any block: type, body padded to 32 bits, and the total length before and after (or `trailer` after). */
  block(type: number, body: Uint8Array, trailer?: number): this {
    const padded = (body.length + 3) & ~3;
    const total = 12 + padded;
    const b = new Uint8Array(total);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, this.le);
    v.setUint32(4, total, this.le);
    b.set(body, 8);
    v.setUint32(total - 4, trailer ?? total, this.le);
    return this.raw(b);
  }

  /** Bytes as they are (a cut or hand-made block). */
  raw(bytes: Uint8Array): this {
    this.blockOffsets.push(this.length);
    this.parts.push(bytes);
    this.length += bytes.length;
    return this;
  }

  /** §4.1: byte-order magic, version 1.0, section length unknown (-1). */
  shb(): this {
    const body = new Uint8Array(16);
    const v = new DataView(body.buffer);
    v.setUint32(0, 0x1a2b3c4d, this.le);
    v.setUint16(4, 1, this.le);
    v.setUint16(6, 0, this.le);
    v.setBigInt64(8, -1n, this.le);
    return this.block(PcapngBlock.SectionHeader, body);
  }

  /** §4.2: link type, snap length and options (from `option()`). */
  idb(linkType = 1, snapLength = 262144, options: Uint8Array = new Uint8Array(0)): this {
    const body = new Uint8Array(8 + options.length);
    const v = new DataView(body.buffer);
    v.setUint16(0, linkType, this.le);
    v.setUint32(4, snapLength, this.le);
    body.set(options, 8);
    return this.block(PcapngBlock.InterfaceDescription, body);
  }

  /** One option (code, length, value padded to 32 bits) for an options field. */
  option(code: number, value: Uint8Array): Uint8Array {
    const b = new Uint8Array(4 + ((value.length + 3) & ~3));
    const v = new DataView(b.buffer);
    v.setUint16(0, code, this.le);
    v.setUint16(2, value.length, this.le);
    b.set(value, 4);
    return b;
  }

  /** §4.3, with microsecond timestamps (the default if_tsresol); `captureLength` overrides the frame's. */
  epb(f: LoadedFrame, iface = 0, captureLength = f.data.length, trailer?: number): this {
    const body = new Uint8Array(20 + f.data.length);
    const v = new DataView(body.buffer);
    v.setUint32(0, iface, this.le);
    this.timestamp(v, 4, f);
    v.setUint32(12, captureLength, this.le);
    v.setUint32(16, f.originalLength, this.le);
    body.set(f.data, 20);
    return this.block(PcapngBlock.EnhancedPacket, body, trailer);
  }

  /** §4.4: the original length and the data, on the section's first interface, without a timestamp. */
  spb(f: LoadedFrame): this {
    const body = new Uint8Array(4 + f.data.length);
    new DataView(body.buffer).setUint32(0, f.originalLength, this.le);
    body.set(f.data, 4);
    return this.block(PcapngBlock.SimplePacket, body);
  }

  /** Appendix A, the obsolete Packet Block: a 16-bit interface id and a drops count before the timestamp. */
  pb(f: LoadedFrame, iface = 0): this {
    const body = new Uint8Array(20 + f.data.length);
    const v = new DataView(body.buffer);
    v.setUint16(0, iface, this.le);
    this.timestamp(v, 4, f);
    v.setUint32(12, f.data.length, this.le);
    v.setUint32(16, f.originalLength, this.le);
    body.set(f.data, 20);
    return this.block(PcapngBlock.Packet, body);
  }

  private timestamp(v: DataView, o: number, f: LoadedFrame): void {
    const t = f.seconds * 1e6 + f.microseconds;
    v.setUint32(o, Math.floor(t / 2 ** 32), this.le);
    v.setUint32(o + 4, t % 2 ** 32, this.le);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** A capture the walk must pass and libpcap read to its end. */
export interface SoundCapture {
  name: string;
  bytes: Uint8Array;
  frames: LoadedFrame[];
  /** false where the format has none (simple packet blocks): compare the data only. */
  timestamps: boolean;
}

/** A capture with a structural fault, the frames before it and the fault expected. */
export interface FaultyCapture {
  name: string;
  bytes: Uint8Array;
  /** The frames a reader delivers before the fault. */
  frames: LoadedFrame[];
  fault: { status: number; unit: 'record' | 'block'; number: number; offset: number; reason: RegExp };
}

const { Truncated, Malformed, Unsupported } = Status;

/** The fixture with each record's fraction of a second in nanoseconds, under the nanosecond magic. */
function pcapNanoseconds(fx: PcapFixture): Uint8Array {
  const b = fx.bytes.slice();
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  v.setUint32(0, 0xa1b23c4d, true);
  for (const r of fx.recordOffsets) v.setUint32(r + 4, v.getUint32(r + 4, true) * 1000, true);
  return b;
}

/** A pcapng file of `frames` as enhanced packet blocks on one Ethernet interface. */
function pcapngOf(frames: LoadedFrame[], order: 'le' | 'be' = 'le'): PcapngBuilder {
  const b = new PcapngBuilder(order).shb().idb();
  for (const f of frames) b.epb(f);
  return b;
}

/**
 * Sound and faulty captures made from `ping` (fixtures/ping6-echo.pcap: six 118-byte frames)
 * and `relay` (fixtures/dhcp6-relay.pcap: frames of 110, 148, 246… bytes).
 */
export function builtCaptures(
  ping: PcapFixture,
  relay: PcapFixture,
): { sound: SoundCapture[]; faulty: FaultyCapture[] } {
  const pf = ping.frames;
  const f = (i: number): LoadedFrame => pf[i] as LoadedFrame;
  const at = (i: number): number => ping.recordOffsets[i] as number;
  const last = pf.length - 1;
  const pcapng = pcapngOf(pf);
  const pcapngLast = pcapng.blockOffsets[pcapng.blockOffsets.length - 1] as number;
  /** shb, idb, epb(0), epb(1), then `fifth` (block 5), then epb(2..) */
  const withFifth = (fifth: (b: PcapngBuilder) => void): PcapngBuilder => {
    const b = new PcapngBuilder().shb().idb().epb(f(0)).epb(f(1));
    fifth(b);
    for (const x of pf.slice(2)) b.epb(x);
    return b;
  };
  const block5 = withFifth(() => {}).blockOffsets[4] as number;
  /** shb, idb, epb(0..2), then `sixth` and what follows it (block 6 on) */
  const afterThree = (order: 'le' | 'be', rest: (b: PcapngBuilder) => void): Uint8Array => {
    const b = pcapngOf(pf.slice(0, 3), order);
    rest(b);
    return b.bytes();
  };
  const block6 = pcapngOf(pf.slice(0, 3)).length;
  const block7 = block6 + new PcapngBuilder().shb().length;

  const relaySnap = relay.bytes.slice();
  new DataView(relaySnap.buffer).setUint32(16, 200, true);
  const pingHuge = ping.bytes.slice();
  new DataView(pingHuge.buffer).setUint32(at(2) + 8, 300000, true);
  const twoSections = pcapngOf(pf.slice(0, 3));
  twoSections.shb().idb();
  for (const x of pf.slice(3)) twoSections.epb(x);
  const twoInterfaces = new PcapngBuilder().shb().idb().idb();
  pf.forEach((x, i) => twoInterfaces.epb(x, i % 2));
  const unknownBlocks = new PcapngBuilder()
    .shb()
    .block(0x40000bad, new Uint8Array([1, 2, 3]))
    .idb();
  pf.forEach((x) => unknownBlocks.epb(x).block(4, new Uint8Array(4)));
  const withOptions = new PcapngBuilder().shb();
  withOptions.idb(
    1,
    262144,
    new Uint8Array([
      ...withOptions.option(2, new TextEncoder().encode('eth0')),
      ...withOptions.option(9, new Uint8Array([6])),
      ...withOptions.option(14, new Uint8Array(8)),
      ...withOptions.option(0, new Uint8Array(0)),
    ]),
  );
  pf.forEach((x) => withOptions.epb(x));

  const sound: SoundCapture[] = [
    { name: 'pcap, big-endian', bytes: pcapBigEndian(ping), frames: pf, timestamps: true },
    { name: 'pcap, nanoseconds', bytes: pcapNanoseconds(ping), frames: pf, timestamps: true },
    // As libpcap reads them (and tcpdump prints them): cut to the snap length, the rest skipped.
    {
      name: "pcap, records longer than the file's snap length",
      bytes: relaySnap,
      frames: relay.frames.map((x) => ({ ...x, data: x.data.slice(0, 200) })),
      timestamps: true,
    },
    { name: 'pcapng, enhanced packet blocks', bytes: pcapng.bytes(), frames: pf, timestamps: true },
    { name: 'pcapng, big-endian', bytes: pcapngOf(pf, 'be').bytes(), frames: pf, timestamps: true },
    {
      name: 'pcapng, simple packet blocks',
      bytes: pf.reduce((b, x) => b.spb(x), new PcapngBuilder().shb().idb()).bytes(),
      frames: pf,
      timestamps: false,
    },
    {
      name: 'pcapng, obsolete packet blocks',
      bytes: pf.reduce((b, x) => b.pb(x), new PcapngBuilder().shb().idb()).bytes(),
      frames: pf,
      timestamps: true,
    },
    { name: 'pcapng, two interfaces of one link type', bytes: twoInterfaces.bytes(), frames: pf, timestamps: true },
    { name: 'pcapng, two sections', bytes: twoSections.bytes(), frames: pf, timestamps: true },
    {
      name: 'pcapng, blocks of other types between the packets',
      bytes: unknownBlocks.bytes(),
      frames: pf,
      timestamps: true,
    },
    {
      name: 'pcapng, interface options (name, if_tsresol, if_tsoffset, end)',
      bytes: withOptions.bytes(),
      frames: pf,
      timestamps: true,
    },
  ];

  const faulty: FaultyCapture[] = [
    {
      name: 'pcap: the last record header cut short',
      bytes: ping.bytes.slice(0, at(last) + 7),
      frames: pf.slice(0, last),
      fault: {
        status: Truncated,
        unit: 'record',
        number: last + 1,
        offset: at(last),
        reason: /^the file ends 7 bytes into the 16-byte record header$/,
      },
    },
    {
      name: "pcap: the last record's packet cut short",
      bytes: ping.bytes.slice(0, at(last) + 16 + 10),
      frames: pf.slice(0, last),
      fault: {
        status: Truncated,
        unit: 'record',
        number: last + 1,
        offset: at(last),
        reason: /^the file ends 10 bytes into the record's 118-byte packet$/,
      },
    },
    {
      name: "pcap, big-endian: the last record's packet cut short",
      bytes: pcapBigEndian(ping).slice(0, at(last) + 16 + 100),
      frames: pf.slice(0, last),
      fault: {
        status: Truncated,
        unit: 'record',
        number: last + 1,
        offset: at(last),
        reason: /^the file ends 100 bytes into the record's 118-byte packet$/,
      },
    },
    {
      name: 'pcap, nanoseconds: the last record header cut short',
      bytes: pcapNanoseconds(ping).slice(0, at(last) + 15),
      frames: pf.slice(0, last),
      fault: {
        status: Truncated,
        unit: 'record',
        number: last + 1,
        offset: at(last),
        reason: /^the file ends 15 bytes into the 16-byte record header$/,
      },
    },
    {
      name: 'pcap: a captured length larger than the 262144-byte maximum',
      bytes: pingHuge,
      frames: pf.slice(0, 2),
      fault: {
        status: Malformed,
        unit: 'record',
        number: 3,
        offset: at(2),
        reason: /^captured length 300000 exceeds the 262144-byte maximum$/,
      },
    },
    {
      name: 'pcapng: a packet on interface 5 where only interface 0 is described',
      bytes: withFifth((b) => b.epb(f(2), 5)).bytes(),
      frames: pf.slice(0, 2),
      fault: {
        status: Malformed,
        unit: 'block',
        number: 5,
        offset: block5,
        reason: /^enhanced packet block on interface 5, but the section describes interface 0 only$/,
      },
    },
    {
      name: 'pcapng: two interfaces of different link types',
      bytes: withFifth((b) => b.idb(101)).bytes(),
      frames: pf.slice(0, 2),
      fault: {
        status: Unsupported,
        unit: 'block',
        number: 5,
        offset: block5,
        reason:
          /^interface description block with link type 101, where the first interface's is 1: libpcap reads one link type per file$/,
      },
    },
    {
      name: 'pcapng: two interfaces of different snap lengths',
      bytes: withFifth((b) => b.idb(1, 65535)).bytes(),
      frames: pf.slice(0, 2),
      fault: {
        status: Unsupported,
        unit: 'block',
        number: 5,
        offset: block5,
        reason: /^interface description block with snap length 65535, where the first interface's is 262144/,
      },
    },
    {
      name: 'pcapng: two raw-IP interfaces (libpcap reads only one)',
      bytes: new PcapngBuilder().shb().idb(101).idb(101).epb(f(0)).bytes(),
      frames: [],
      fault: {
        status: Unsupported,
        unit: 'block',
        number: 3,
        offset: 48,
        reason:
          /^interface description block with link type 101, like the first, but libpcap cannot read a second interface of this type$/,
      },
    },
    {
      name: 'pcapng: an interface option libpcap refuses (if_tsresol of two bytes)',
      bytes: withFifth((b) => b.idb(1, 262144, b.option(9, new Uint8Array([6, 0])))).bytes(),
      frames: pf.slice(0, 2),
      fault: {
        status: Malformed,
        unit: 'block',
        number: 5,
        offset: block5,
        reason: /^interface description block: if_tsresol has length 2, not 1$/,
      },
    },
    {
      name: 'pcapng: a trailing block length that disagrees with the leading one',
      bytes: withFifth((b) => b.epb(f(2), 0, f(2).data.length, 999)).bytes(),
      frames: pf.slice(0, 2),
      fault: {
        status: Malformed,
        unit: 'block',
        number: 5,
        offset: block5,
        reason:
          /^enhanced packet block: the block length at its end \(999\) differs from the one at its start \(152\)$/,
      },
    },
    {
      name: "pcapng: a captured length past the block's end",
      bytes: withFifth((b) => b.epb(f(2), 0, 500)).bytes(),
      frames: pf.slice(0, 2),
      fault: {
        status: Malformed,
        unit: 'block',
        number: 5,
        offset: block5,
        reason: /^enhanced packet block: captured length 500 runs past the block's end \(room for 120 bytes\)$/,
      },
    },
    {
      name: "pcapng: a captured length larger than the interface's snap length",
      bytes: pf.reduce((b, x) => b.epb(x), new PcapngBuilder().shb().idb(1, 100)).bytes(),
      frames: [],
      fault: {
        status: Malformed,
        unit: 'block',
        number: 3,
        offset: 48,
        reason: /^enhanced packet block: captured length 118 exceeds the interface's snap length 100$/,
      },
    },
    {
      name: 'pcapng: the last block cut short',
      bytes: pcapng.bytes().slice(0, pcapngLast + 50),
      frames: pf.slice(0, last),
      fault: {
        status: Truncated,
        unit: 'block',
        number: pcapng.blockOffsets.length,
        offset: pcapngLast,
        reason: /^enhanced packet block: the file ends 50 bytes into the 152-byte block$/,
      },
    },
    {
      name: 'pcapng: the last block header cut short',
      bytes: pcapng.bytes().slice(0, pcapngLast + 5),
      frames: pf.slice(0, last),
      fault: {
        status: Truncated,
        unit: 'block',
        number: pcapng.blockOffsets.length,
        offset: pcapngLast,
        reason: /^the file ends 5 bytes into the 8-byte block header$/,
      },
    },
    {
      name: 'pcapng: a block length that is not a multiple of 4',
      bytes: afterThree('le', (b) => b.raw(new Uint8Array([99, 0, 0, 0, 14, 0, 0, 0, 0, 0, 14, 0, 0, 0, 0, 0]))),
      frames: pf.slice(0, 3),
      fault: {
        status: Malformed,
        unit: 'block',
        number: 6,
        offset: block6,
        reason: /^block of type 0x00000063: block length 14 is not a multiple of 4$/,
      },
    },
    {
      name: 'pcapng, big-endian: a second section in little-endian',
      bytes: afterThree('be', (b) => b.raw(pcapngOf(pf.slice(3)).bytes())),
      frames: pf.slice(0, 3),
      fault: {
        status: Unsupported,
        unit: 'block',
        number: 6,
        offset: block6,
        reason: /^section header block in the other byte order: libpcap reads one byte order per file$/,
      },
    },
    {
      name: 'pcapng: a second section with packets before any interface',
      bytes: afterThree('le', (b) => pf.slice(3).reduce((x, y) => x.spb(y), b.shb())),
      frames: pf.slice(0, 3),
      fault: {
        status: Malformed,
        unit: 'block',
        number: 7,
        offset: block7,
        reason: /^simple packet block on interface 0, but the section describes no interface$/,
      },
    },
  ];
  return { sound, faulty };
}

/** builtCaptures over the two fixtures it is made from. */
export async function fixtureCaptures(): Promise<{ sound: SoundCapture[]; faulty: FaultyCapture[] }> {
  const fixture = (name: string) => pcapFixture(join(fixturesDirectory, `${name}.pcap`));
  return builtCaptures(await fixture('ping6-echo'), await fixture('dhcp6-relay'));
}

/** A temporary directory for built captures, each written to a file named after it. */
export class ScratchFiles {
  readonly dir: string;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  write(name: string, bytes: Uint8Array): string {
    const path = join(this.dir, name.replace(/[^a-z0-9]+/gi, '-'));
    writeFileSync(path, bytes);
    return path;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
