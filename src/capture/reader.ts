/**
 * Reading pcap and pcapng files through the `pcap` package's offline reader (libpcap), one
 * frame at a time. The package reuses one buffer for every frame: a callback must finish with
 * the bytes before it returns.
 *
 * The package takes libpcap's read errors for the end of the file, so before libpcap reads,
 * `checkCaptureStructure` walks the file's record headers (capture-structure.ts). The frames
 * before the first fault are delivered, then the read fails with a CaptureReadError saying
 * where and why, as tcpdump prints the packets before its error.
 */

import { linkTypeFromPcapName } from '../../codecs/link-type.js';
import { Status } from '../../codecs/status.js';
import { checkCaptureStructure, type CaptureFault, type CaptureStructure } from './structure.js';
import { readProblem } from '../system/files.js';
import { loadPcap, type PcapModule } from '../system/pcap.js';

export class CaptureFileError extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'CaptureFileError';
    this.path = path;
  }
}

/**
 * A capture that stops being readable part of the way through (see CaptureFault): the message
 * says `FILE: record N at byte offset X: reason` (pcap) or `FILE: block N at byte offset X:
 * reason` (pcapng, whose blocks are not all packets). The frames before it were delivered.
 */
export class CaptureReadError extends CaptureFileError {
  readonly status: CaptureFault['status'];
  readonly unit: CaptureFault['unit'];
  readonly number: number;
  readonly offset: number;
  /** Sound packets before the fault: all delivered when no filter is given. */
  readonly frames: number;
  readonly reason: string;
  constructor(path: string, fault: CaptureFault) {
    super(path, `${fault.unit} ${fault.number} at byte offset ${fault.offset}: ${fault.reason}`);
    this.name = 'CaptureReadError';
    this.status = fault.status;
    this.unit = fault.unit;
    this.number = fault.number;
    this.offset = fault.offset;
    this.frames = fault.frames;
    this.reason = fault.reason;
  }
}

/** The BPF filter given to a capture reader does not compile. */
export class CaptureFilterError extends Error {
  readonly filter: string;
  constructor(filter: string, reason: string) {
    super(`invalid filter ${JSON.stringify(filter)}: ${reason}`);
    this.name = 'CaptureFilterError';
    this.filter = filter;
  }
}

/** One captured frame; `data` is only valid during the callback. */
export interface CapturedFrame {
  /** Number of the frame among those read (those that passed the filter, when one is given), from 1. */
  index: number;
  data: Uint8Array;
  captureLength: number;
  originalLength: number;
  seconds: number;
  microseconds: number;
}

export interface CaptureSummary {
  linkType: number;
  linkTypeName: string;
  frames: number;
}

/** As a `limit` on the frames delivered: none. */
const NO_LIMIT = Number.POSITIVE_INFINITY;

/**
 * Calls `onFrame` for every frame of a pcap or pcapng file, in order (those that pass `filter`,
 * a BPF expression, when one is given). Rejects with a CaptureFileError when the file is
 * missing, unreadable or not a capture, and with a CaptureReadError after delivering the frames
 * before a structural fault.
 */
export async function readCaptureFile(
  path: string,
  onFrame: (frame: CapturedFrame, linkType: number) => void,
  filter = '',
): Promise<CaptureSummary> {
  const { summary, error } = await readUntilFault(path, onFrame, filter);
  if (error !== null) throw error;
  return summary;
}

/** Like readCaptureFile, but a structural fault is returned beside the summary instead of thrown. */
async function readUntilFault(
  path: string,
  onFrame: (frame: CapturedFrame, linkType: number) => void,
  filter: string,
): Promise<{ summary: CaptureSummary; error: CaptureReadError | null }> {
  const problem = readProblem(path);
  if (problem !== null) throw new CaptureFileError(path, problem);
  // libpcap first: it judges the file header and the filter. The walk is synchronous, so it
  // finishes before the reader's loop starts (on the next turn of the event loop).
  const reader = openReader(path, filter);
  let structure: CaptureStructure;
  try {
    structure = checkCaptureStructure(path);
  } catch (e) {
    reader.close();
    throw new CaptureFileError(path, `cannot read (${(e as Error).message})`);
  }
  const fault = structure.fault;
  const linkTypeName = String(reader.link_type);
  const linkType = linkTypeFromPcapName(linkTypeName);
  // libpcap stops at every fault the walk finds. Without a filter every sound record is one frame,
  // so libpcap must deliver exactly that many; a filter leaves the walk's word as the only one.
  const limit = filter === '' && structure.format !== 'unknown' ? structure.frames : NO_LIMIT;
  const frames = await deliverFrames(reader, onFrame, linkType, limit);
  const summary: CaptureSummary = { linkType, linkTypeName, frames };
  if (limit !== NO_LIMIT && frames < limit) return { summary, error: readerStopped(path, frames) };
  return { summary, error: fault === null ? null : new CaptureReadError(path, fault) };
}

type OfflineReader = ReturnType<PcapModule['createOfflineSession']>;

function openReader(path: string, filter: string): OfflineReader {
  try {
    return loadPcap().createOfflineSession(path, { filter });
  } catch (e) {
    const message = (e as Error).message.replace(`${path}: `, '');
    if (filter !== '' && /filter/i.test(message)) throw new CaptureFilterError(filter, message);
    throw new CaptureFileError(path, `not a readable pcap or pcapng capture (${message})`);
  }
}

/** Delivers the reader's frames to `onFrame`, at most `limit` of them; resolves with how many. */
function deliverFrames(
  reader: OfflineReader,
  onFrame: (frame: CapturedFrame, linkType: number) => void,
  linkType: number,
  limit: number,
): Promise<number> {
  const frame: CapturedFrame = {
    index: 0,
    data: new Uint8Array(0),
    captureLength: 0,
    originalLength: 0,
    seconds: 0,
    microseconds: 0,
  };
  return new Promise<number>((resolve, reject) => {
    let done = false;
    const finish = (e?: Error): void => {
      if (done) return;
      done = true;
      reader.close();
      if (e === undefined) resolve(frame.index);
      else reject(e);
    };
    reader.on('packet', (raw: { buf: Buffer; header: Buffer }) => {
      if (done) return;
      if (frame.index >= limit) {
        finish();
        return;
      }
      const h = raw.header;
      frame.index++;
      frame.seconds = h.readUInt32LE(0);
      frame.microseconds = h.readUInt32LE(4);
      frame.captureLength = Math.min(h.readUInt32LE(8), raw.buf.length);
      frame.originalLength = h.readUInt32LE(12);
      frame.data = raw.buf;
      try {
        onFrame(frame, linkType);
      } catch (e) {
        finish(e as Error);
      }
    });
    reader.on('complete', () => finish());
  });
}

/**
 * libpcap delivered fewer frames than the walk found sound records: it stopped at a fault the
 * walk does not know (or the file changed meanwhile), and the package does not say which. The
 * error names the first record (or block) after the last frame delivered.
 */
function readerStopped(path: string, frames: number): CaptureReadError {
  const s = checkCaptureStructure(path, frames);
  const unit = s.format === 'pcapng' ? 'block' : 'record';
  const reason = `libpcap stops reading after frame ${frames}, and the pcap package does not pass on why`;
  return new CaptureReadError(path, {
    status: Status.Unsupported,
    unit,
    number: s.stopNumber,
    offset: s.stopOffset,
    frames,
    reason,
  });
}

export interface LoadedFrame {
  data: Uint8Array;
  seconds: number;
  microseconds: number;
  originalLength: number;
}

export interface LoadedCapture {
  linkType: number;
  frames: LoadedFrame[];
}

/** Reads a whole capture into memory (copies of every frame); rejects as readCaptureFile does. */
export async function loadCaptureFile(path: string): Promise<LoadedCapture> {
  const c = await loadCaptureUntilFault(path);
  if (c.error !== null) throw c.error;
  return c;
}

/**
 * Reads a capture into memory up to its first structural fault: the frames before it, and the
 * fault (null when the whole file was read). Other errors reject as in readCaptureFile.
 */
export async function loadCaptureUntilFault(path: string): Promise<LoadedCapture & { error: CaptureReadError | null }> {
  const frames: LoadedFrame[] = [];
  const { summary, error } = await readUntilFault(
    path,
    (f) => {
      frames.push({
        data: Uint8Array.from(f.data.subarray(0, f.captureLength)),
        seconds: f.seconds,
        microseconds: f.microseconds,
        originalLength: f.originalLength,
      });
    },
    '',
  );
  return { linkType: summary.linkType, frames, error };
}
