/**
 * The structure of a pcap or pcapng file, walked header by header without reading the packets:
 * where the file ends inside a record, where a length contradicts the file, where a pcapng block
 * names an interface the section never described. libpcap (through the `pcap` package) reads the
 * packets; this walk says where and why a reader must stop, which the package cannot (it takes
 * libpcap's read error for the end of the file).
 *
 * pcap (draft-ietf-opsawg-pcap §4 file header, §5 packet record):
 *
 * ```text
 * file header (24 bytes):  magic | major | minor | thiszone | sigfigs | snaplen | linktype
 * record (16 + caplen):    ts_sec | ts_frac | caplen | len | caplen bytes of packet
 * ```
 *
 * pcapng (draft-ietf-opsawg-pcapng §3.1 block structure, §4.1-4.4 blocks, appendix A Packet Block):
 *
 * ```text
 * every block:  type (4) | total length (4) | body | total length (4)
 * SHB 0x0A0D0D0A:  byte-order magic 0x1A2B3C4D (4) | major (2) | minor (2) | section length (8) | options
 * IDB 1:           link type (2) | reserved (2) | snaplen (4) | options
 * EPB 6:           interface (4) | timestamp (8) | caplen (4) | len (4) | data | options
 * SPB 3:           len (4) | data (min(len, snaplen) bytes)
 * PB 2:            interface (2) | drops (2) | timestamp (8) | caplen (4) | len (4) | data | options
 * ```
 *
 * The limits are libpcap's (sf-pcap.c, sf-pcapng.c): where the walk finds a fault libpcap stops
 * too, and a file the walk passes is one libpcap reads to its end. A pcap record longer than the
 * file's snap length (but within the maximum) is no fault: libpcap cuts it to the snap length and
 * reads on, and tcpdump prints it so. The walk is a cold path: it allocates freely and throws
 * only on I/O errors.
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Status } from '../../codecs/status.js';

/** The first structural fault of a capture file: what, where, and how many packets came before it. */
export interface CaptureFault {
  /**
   * `Truncated`: the file ends inside the record or block. `Malformed`: a field contradicts the
   * file. `Unsupported`: well-formed, but libpcap cannot read it (a second link type, a second
   * byte order).
   */
  status: typeof Status.Truncated | typeof Status.Malformed | typeof Status.Unsupported;
  /** pcap counts records (one per packet); pcapng counts blocks of every type. */
  unit: 'record' | 'block';
  /** The record's or block's number in the file, from 1 (in pcapng the first block is the SHB). */
  number: number;
  /** The byte offset of the record's or block's first byte. */
  offset: number;
  /** Sound packets before it: the ones a reader delivers. */
  frames: number;
  reason: string;
}

export interface CaptureStructure {
  /** `unknown`: neither magic; the walk leaves the verdict to libpcap. */
  format: 'pcap' | 'pcapng' | 'unknown';
  /** Sound packet records walked. */
  frames: number;
  /** The number of the record or block where the walk stopped (one past the last at the end). */
  stopNumber: number;
  /** The byte offset where the walk stopped: the fault's offset, or the end of the file. */
  stopOffset: number;
  fault: CaptureFault | null;
}

/** libpcap's `MAXIMUM_SNAPLEN`: no record of an ordinary link type is longer. */
export const MAXIMUM_SNAPLEN = 262144;

/** libpcap's `max_snaplen_for_dlt`: three link types carry messages longer than MAXIMUM_SNAPLEN. */
function maxSnaplen(linkType: number): number {
  switch (linkType) {
    case 231:
      return 128 * 1024 * 1024; // D-Bus
    case 279:
      return 8 * 1024 * 1024; // EBHSCR
    case 249:
      return 1024 * 1024; // USBPcap
    default:
      return MAXIMUM_SNAPLEN;
  }
}

/** libpcap's `pcap_adjust_snapshot`: 0 or a length past the maximum means the maximum. */
function adjustSnaplen(linkType: number, snaplen: number): number {
  const max = maxSnaplen(linkType);
  return snaplen === 0 || snaplen > max ? max : snaplen;
}

const PcapMagic = { Micro: 0xa1b2c3d4, Nano: 0xa1b23c4d, Kuznetzov: 0xa1b2cd34 } as const;

const PcapHeader = { Magic: 0, Major: 4, Minor: 6, SnapLength: 16, LinkType: 20, Length: 24 } as const;
const PcapRecord = { CaptureLength: 8, OriginalLength: 12, Length: 16, KuznetzovLength: 24 } as const;

const BlockType = {
  SectionHeader: 0x0a0d0d0a,
  InterfaceDescription: 1,
  Packet: 2,
  SimplePacket: 3,
  EnhancedPacket: 6,
} as const;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Type and length before the body, the length again after it. */
const Block = { Type: 0, Length: 4, HeaderLength: 8, Overhead: 12 } as const;
/** Offsets inside a block (from its first byte) and each type's smallest total length. */
const Shb = { ByteOrderMagic: 8, Major: 12, Minor: 14, MinLength: 28 } as const;
const Idb = { LinkType: 8, SnapLength: 12, Options: 16, MinLength: 20 } as const;
/** The EPB's fields, and the obsolete PB's: the same but for a 16-bit interface (and a drops count). */
const Epb = { Interface: 8, CaptureLength: 20, Data: 28, MinLength: 32 } as const;
const Spb = { OriginalLength: 8, Data: 12, MinLength: 16 } as const;
const IdbOption = { EndOfOptions: 0, TimestampResolution: 9, TimestampOffset: 14 } as const;
/** The IDB options that say how to read timestamps: each at most once, of one length. */
const timestampOptions: Readonly<Record<number, { name: string; length: number }>> = {
  [IdbOption.TimestampResolution]: { name: 'if_tsresol', length: 1 },
  [IdbOption.TimestampOffset]: { name: 'if_tsoffset', length: 8 },
};

/** libpcap's `INITIAL_MAX_BLOCKSIZE`, raised for the first interface's link type (below). */
const INITIAL_MAX_BLOCK = 16 * 1024 * 1024;
/** libpcap's `MAX_BLOCKSIZE_FOR_SNAPLEN`: an EPB of the longest packet and 128 KiB of options. */
function maxBlockFor(linkType: number): number {
  return Math.max(INITIAL_MAX_BLOCK, Block.HeaderLength + 20 + maxSnaplen(linkType) + 131072 + 4);
}

/**
 * libpcap compares a later IDB's link type with the DLT_ number it mapped the first IDB's link
 * type to (sf-pcapng.c, `linktype_to_dlt`); these four map to other numbers on Linux, so a second
 * IDB of the same type fails the comparison.
 */
const libpcapDltOnLinux: Readonly<Record<number, number>> = { 100: 11, 101: 12, 102: 15, 103: 16 };

const WINDOW = 1 << 16;

/** Reads a file through one window, for a walk that goes forward and looks only at headers. */
class FileBytes {
  readonly size: number;
  private readonly fd: number;
  private buf = Buffer.alloc(WINDOW);
  private start = 0;
  private filled = 0;

  constructor(fd: number) {
    this.fd = fd;
    this.size = fstatSync(fd).size;
  }

  /**
   * Makes bytes [offset, offset + n) resident and returns where they start in the window. The
   * caller has checked offset + n <= size; a shorter read means the file shrank meanwhile.
   */
  private at(offset: number, n: number): number {
    if (offset < this.start || offset + n > this.start + this.filled) {
      if (n > this.buf.length) this.buf = Buffer.alloc(n);
      const want = Math.min(this.buf.length, this.size - offset);
      this.start = offset;
      this.filled = readSync(this.fd, this.buf, 0, want, offset);
      if (this.filled < n) throw new Error('the file shrank while it was read');
    }
    return offset - this.start;
  }

  u16(offset: number, le: boolean): number {
    const i = this.at(offset, 2);
    return le ? this.buf.readUInt16LE(i) : this.buf.readUInt16BE(i);
  }

  u32(offset: number, le: boolean): number {
    const i = this.at(offset, 4);
    return le ? this.buf.readUInt32LE(i) : this.buf.readUInt32BE(i);
  }

  u8(offset: number): number {
    return this.buf[this.at(offset, 1)] as number;
  }
}

/**
 * Walks a capture file's record or block headers and returns the first fault. With `maxFrames`,
 * stops before the packet after that many (to say where a reader that delivered that many stood).
 */
export function checkCaptureStructure(path: string, maxFrames = Infinity): CaptureStructure {
  const fd = openSync(path, 'r');
  try {
    const f = new FileBytes(fd);
    if (f.size >= PcapHeader.Length) {
      const magic = f.u32(0, true);
      if (isPcapMagic(magic)) return walkPcap(f, true, maxFrames);
      if (isPcapMagic(f.u32(0, false))) return walkPcap(f, false, maxFrames);
      if (magic === BlockType.SectionHeader) {
        const bom = f.u32(Shb.ByteOrderMagic, true);
        if (bom === BYTE_ORDER_MAGIC) return walkPcapng(f, true, maxFrames);
        if (f.u32(Shb.ByteOrderMagic, false) === BYTE_ORDER_MAGIC) return walkPcapng(f, false, maxFrames);
      }
    }
    return { format: 'unknown', frames: 0, stopNumber: 0, stopOffset: 0, fault: null };
  } finally {
    closeSync(fd);
  }
}

function isPcapMagic(m: number): boolean {
  return m === PcapMagic.Micro || m === PcapMagic.Nano || m === PcapMagic.Kuznetzov;
}

function walkPcap(f: FileBytes, le: boolean, maxFrames: number): CaptureStructure {
  const magic = f.u32(PcapHeader.Magic, le);
  const major = f.u16(PcapHeader.Major, le);
  const minor = f.u16(PcapHeader.Minor, le);
  // LT_LINKTYPE: the upper bits carry the FCS length, not the type.
  const linkType = f.u32(PcapHeader.LinkType, le) & 0x03ffffff;
  const max = maxSnaplen(linkType);
  const kuznetzov = magic === PcapMagic.Kuznetzov;
  const headerLength = kuznetzov ? PcapRecord.KuznetzovLength : PcapRecord.Length;
  // Before 2.3 (and in DG/UX's 543.0) caplen and len were written the other way round; 2.3 files exist both ways.
  const swapped = (major === 2 && minor < 3) || major === 543;
  const maybeSwapped = major === 2 && minor === 3;

  let offset: number = PcapHeader.Length;
  let record = 1;
  let frames = 0;
  const fault = (status: CaptureFault['status'], reason: string): CaptureStructure => ({
    format: 'pcap',
    frames,
    stopNumber: record,
    stopOffset: offset,
    fault: { status, unit: 'record', number: record, offset, frames, reason },
  });
  while (offset < f.size && frames < maxFrames) {
    const left = f.size - offset;
    if (left < headerLength)
      return fault(Status.Truncated, `the file ends ${left} bytes into the ${headerLength}-byte record header`);
    let caplen = f.u32(offset + PcapRecord.CaptureLength, le);
    const len = f.u32(offset + PcapRecord.OriginalLength, le);
    if (swapped || (maybeSwapped && caplen > len)) caplen = len;
    if (caplen > max) return fault(Status.Malformed, `captured length ${caplen} exceeds the ${max}-byte maximum`);
    // Longer than the file's snap length is sound: libpcap delivers the first snap-length bytes.
    if (left - headerLength < caplen) {
      return fault(
        Status.Truncated,
        `the file ends ${left - headerLength} bytes into the record's ${caplen}-byte packet`,
      );
    }
    offset += headerLength + caplen;
    record++;
    frames++;
  }
  return { format: 'pcap', frames, stopNumber: record, stopOffset: offset, fault: null };
}

function blockName(type: number): string {
  switch (type) {
    case BlockType.SectionHeader:
      return 'section header block';
    case BlockType.InterfaceDescription:
      return 'interface description block';
    case BlockType.EnhancedPacket:
      return 'enhanced packet block';
    case BlockType.SimplePacket:
      return 'simple packet block';
    case BlockType.Packet:
      return 'packet block';
    default:
      return `block of type 0x${type.toString(16).padStart(8, '0')}`;
  }
}

function walkPcapng(f: FileBytes, le: boolean, maxFrames: number): CaptureStructure {
  let offset = 0;
  let block = 1;
  let frames = 0;
  /** The first IDB's link type and adjusted snap length: libpcap reads only one of each per file. */
  let linkType = -1;
  let snap = 0;
  let maxBlock = INITIAL_MAX_BLOCK;
  /** IDBs in the current section; packet blocks name them by index from 0. */
  let interfaces = 0;

  const fault = (status: CaptureFault['status'], reason: string): CaptureStructure => ({
    format: 'pcapng',
    frames,
    stopNumber: block,
    stopOffset: offset,
    fault: { status, unit: 'block', number: block, offset, frames, reason },
  });
  /** The checks every packet block goes through, in libpcap's order; null when sound. */
  const packetFault = (name: string, iface: number, caplen: number, room: number): CaptureStructure | null => {
    if (iface >= interfaces) {
      const described =
        interfaces === 0 ? 'no interface' : interfaces === 1 ? 'interface 0 only' : `interfaces 0 to ${interfaces - 1}`;
      return fault(Status.Malformed, `${name} on interface ${iface}, but the section describes ${described}`);
    }
    if (caplen > snap)
      return fault(Status.Malformed, `${name}: captured length ${caplen} exceeds the interface's snap length ${snap}`);
    if (caplen > room)
      return fault(
        Status.Malformed,
        `${name}: captured length ${caplen} runs past the block's end (room for ${room} bytes)`,
      );
    return null;
  };

  while (offset < f.size && frames < maxFrames) {
    const left = f.size - offset;
    if (left < Block.HeaderLength)
      return fault(Status.Truncated, `the file ends ${left} bytes into the ${Block.HeaderLength}-byte block header`);
    const type = f.u32(offset + Block.Type, le);
    const name = blockName(type);
    if (type === BlockType.SectionHeader) {
      // The type reads the same in both byte orders; the magic after the length says which one this section uses.
      if (left < Shb.ByteOrderMagic + 4)
        return fault(Status.Truncated, `${name}: the file ends ${left} bytes into the block`);
      const bom = f.u32(offset + Shb.ByteOrderMagic, le);
      if (bom !== BYTE_ORDER_MAGIC) {
        if (f.u32(offset + Shb.ByteOrderMagic, !le) === BYTE_ORDER_MAGIC) {
          return fault(Status.Unsupported, `${name} in the other byte order: libpcap reads one byte order per file`);
        }
        return fault(Status.Malformed, `${name} with byte-order magic 0x${bom.toString(16)}, not 0x1a2b3c4d`);
      }
    }
    const length = f.u32(offset + Block.Length, le);
    if (length < Block.Overhead)
      return fault(
        Status.Malformed,
        `${name}: block length ${length} is shorter than a block's ${Block.Overhead}-byte header and trailer`,
      );
    if (length % 4 !== 0) return fault(Status.Malformed, `${name}: block length ${length} is not a multiple of 4`);
    if (length > maxBlock)
      return fault(Status.Malformed, `${name}: block length ${length} exceeds the ${maxBlock} bytes libpcap accepts`);
    if (left < length)
      return fault(Status.Truncated, `${name}: the file ends ${left} bytes into the ${length}-byte block`);
    const trailer = f.u32(offset + length - 4, le);
    if (trailer !== length) {
      return fault(
        Status.Malformed,
        `${name}: the block length at its end (${trailer}) differs from the one at its start (${length})`,
      );
    }
    const tooShort = (min: number) =>
      fault(Status.Malformed, `${name}: block length ${length} is shorter than the ${min} bytes of its fixed fields`);

    switch (type) {
      case BlockType.SectionHeader: {
        if (length < Shb.MinLength) return tooShort(Shb.MinLength);
        const major = f.u16(offset + Shb.Major, le);
        if (major !== 1)
          return fault(
            Status.Unsupported,
            `${name} of pcapng version ${major}.${f.u16(offset + Shb.Minor, le)}: libpcap reads version 1`,
          );
        interfaces = 0;
        break;
      }
      case BlockType.InterfaceDescription: {
        if (length < Idb.MinLength) return tooShort(Idb.MinLength);
        const lt = f.u16(offset + Idb.LinkType, le);
        const rawSnap = f.u32(offset + Idb.SnapLength, le);
        if (linkType < 0) {
          linkType = lt;
          snap = adjustSnaplen(lt, rawSnap);
          maxBlock = maxBlockFor(lt);
        } else {
          if (lt !== linkType || libpcapDltOnLinux[lt] !== undefined) {
            const why =
              lt === linkType
                ? 'like the first, but libpcap cannot read a second interface of this type'
                : `where the first interface's is ${linkType}: libpcap reads one link type per file`;
            return fault(Status.Unsupported, `${name} with link type ${lt}, ${why}`);
          }
          if (adjustSnaplen(lt, rawSnap) !== snap) {
            return fault(
              Status.Unsupported,
              `${name} with snap length ${rawSnap}, where the first interface's is ${snap}: libpcap reads one snap length per file`,
            );
          }
        }
        const bad = idbOptionFault(f, offset + Idb.Options, offset + length - 4, le);
        if (bad !== null) return fault(Status.Malformed, `${name}: ${bad}`);
        interfaces++;
        break;
      }
      case BlockType.EnhancedPacket:
      case BlockType.Packet:
      case BlockType.SimplePacket: {
        const simple = type === BlockType.SimplePacket;
        const min = simple ? Spb.MinLength : Epb.MinLength;
        if (length < min) return tooShort(min);
        // §4.4: an SPB belongs to the section's first interface and holds min(len, snaplen) bytes.
        const iface = simple
          ? 0
          : type === BlockType.Packet
            ? f.u16(offset + Epb.Interface, le)
            : f.u32(offset + Epb.Interface, le);
        const caplen = simple
          ? interfaces > 0
            ? Math.min(f.u32(offset + Spb.OriginalLength, le), snap)
            : 0
          : f.u32(offset + Epb.CaptureLength, le);
        const bad = packetFault(name, iface, caplen, length - min);
        if (bad !== null) return bad;
        frames++;
        break;
      }
      default:
        // Name resolution, statistics, custom and future blocks: libpcap skips them, so does the walk.
        break;
    }
    offset += length;
    block++;
  }
  return { format: 'pcapng', frames, stopNumber: block, stopOffset: offset, fault: null };
}

/**
 * The IDB options libpcap reads (sf-pcapng.c, `process_idb_options`): every option header and
 * value inside the block, opt_endofopt empty, if_tsresol one byte and fine enough for a 64-bit
 * count, if_tsoffset eight bytes, neither twice. Returns null when they are sound.
 */
function idbOptionFault(f: FileBytes, start: number, end: number, le: boolean): string | null {
  const seen = new Set<number>();
  for (let o = start; o < end;) {
    if (end - o < 4) return 'an option header runs past the block';
    const code = f.u16(o, le);
    const length = f.u16(o + 2, le);
    const padded = (length + 3) & ~3;
    if (end - o - 4 < padded) return `option ${code} (${length} bytes) runs past the block`;
    if (code === IdbOption.EndOfOptions) return length === 0 ? null : `opt_endofopt has length ${length}, not 0`;
    const timing = timestampOptions[code];
    if (timing !== undefined) {
      if (length !== timing.length) return `${timing.name} has length ${length}, not ${timing.length}`;
      if (seen.has(code)) return `${timing.name} appears twice`;
      seen.add(code);
    }
    if (code === IdbOption.TimestampResolution) {
      // Bit 7 set: 2^-n seconds, else 10^-n; libpcap counts in a 64-bit integer.
      const v = f.u8(o + 4);
      if ((v & 0x80) !== 0 ? (v & 0x7f) > 63 : v > 19)
        return `if_tsresol 0x${v.toString(16)} is finer than a 64-bit timestamp can count`;
    }
    o += 4 + padded;
  }
  return null;
}
