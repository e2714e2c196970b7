/**
 * Writes classic pcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html):
 *
 * ```text
 * global header (24 bytes, once):  magic 0xa1b2c3d4 | version 2.4 | thiszone | sigfigs | snaplen | linktype
 * record header (16 bytes, per frame): ts_sec | ts_usec | incl_len | orig_len
 * ```
 *
 * The global header is a cold-path record, laid out declaratively with `buffer-layout`; record
 * headers are written per frame by hand into a reused buffer. Frames are batched in memory and
 * written with one write per batch.
 */

import { closeSync, openSync, writeSync } from 'node:fs';
import * as layout from 'buffer-layout';

const PCAP_MAGIC = 0xa1b2c3d4;
export const PCAP_LINKTYPE_ETHERNET = 1;

interface PcapFileHeader {
  magic: number;
  versionMajor: number;
  versionMinor: number;
  thisZone: number;
  sigFigs: number;
  snapLength: number;
  linkType: number;
}

/** Little-endian, as written by libpcap on the machines punt6 runs on. */
export const pcapFileHeaderLayout = layout.struct<PcapFileHeader>([
  layout.u32('magic'),
  layout.u16('versionMajor'),
  layout.u16('versionMinor'),
  layout.s32('thisZone'),
  layout.u32('sigFigs'),
  layout.u32('snapLength'),
  layout.u32('linkType'),
]);

export class CaptureWriter {
  private readonly fd: number;
  private readonly batch: Buffer;
  private used = 0;
  frames = 0;

  constructor(path: string, linkType = PCAP_LINKTYPE_ETHERNET, snapLength = 262144, batchBytes = 1 << 20) {
    this.fd = openSync(path, 'w');
    this.batch = Buffer.alloc(Math.max(batchBytes, 16 + snapLength));
    const header = Buffer.alloc(pcapFileHeaderLayout.span);
    pcapFileHeaderLayout.encode(
      { magic: PCAP_MAGIC, versionMajor: 2, versionMinor: 4, thisZone: 0, sigFigs: 0, snapLength, linkType },
      header,
      0,
    );
    writeSync(this.fd, header);
  }

  /** Appends one frame; `seconds` may carry a fraction (microsecond resolution). */
  write(frame: Uint8Array, off: number, len: number, seconds: number): void {
    if (this.used + 16 + len > this.batch.length) this.flush();
    const b = this.batch;
    const sec = Math.floor(seconds);
    const usec = Math.min(999999, Math.round((seconds - sec) * 1e6));
    b.writeUInt32LE(sec >>> 0, this.used);
    b.writeUInt32LE(usec, this.used + 4);
    b.writeUInt32LE(len, this.used + 8);
    b.writeUInt32LE(len, this.used + 12);
    b.set(frame.subarray(off, off + len), this.used + 16);
    this.used += 16 + len;
    this.frames++;
  }

  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.batch, 0, this.used);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
