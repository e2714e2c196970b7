/**
 * Reading pcap and pcapng files through the `pcap` package's offline reader (libpcap), one
 * frame at a time. The package reuses one buffer for every frame: a callback must finish with
 * the bytes before it returns.
 */

import { createRequire } from 'node:module';
import { linkTypeFromPcapName } from '../codecs/link-type.js';
import { readProblem } from './file-problems.js';

type PcapModule = typeof import('pcap');
const require = createRequire(import.meta.url);
let pcapModule: PcapModule | undefined;

/** Loads the native binding once, with its IPv4-only warning silenced. */
export function loadPcap(): PcapModule {
  if (pcapModule === undefined) {
    const m = require('pcap') as PcapModule & { warningHandler: (x: string) => void };
    m.warningHandler = () => {};
    pcapModule = m;
  }
  return pcapModule;
}

export class CaptureFileError extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'CaptureFileError';
    this.path = path;
  }
}

/** One captured frame; `data` is only valid during the callback. */
/** The BPF filter given to a capture reader does not compile. */
export class CaptureFilterError extends Error {
  readonly filter: string;
  constructor(filter: string, reason: string) {
    super(`invalid filter ${JSON.stringify(filter)}: ${reason}`);
    this.name = 'CaptureFilterError';
    this.filter = filter;
  }
}

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

/**
 * Calls `onFrame` for every frame of a pcap or pcapng file, in order. Rejects with a
 * CaptureFileError when the file is missing, unreadable or not a capture.
 */
export async function readCaptureFile(path: string, onFrame: (frame: CapturedFrame, linkType: number) => void, filter = ''): Promise<CaptureSummary> {
  const problem = readProblem(path);
  if (problem !== null) throw new CaptureFileError(path, problem);
  const pcap = loadPcap();
  let session: ReturnType<PcapModule['createOfflineSession']>;
  try {
    session = pcap.createOfflineSession(path, { filter });
  } catch (e) {
    const message = (e as Error).message.replace(`${path}: `, '');
    if (filter !== '' && /filter/i.test(message)) throw new CaptureFilterError(filter, message);
    throw new CaptureFileError(path, `not a readable pcap or pcapng capture (${message})`);
  }
  const linkTypeName = String(session.link_type);
  const linkType = linkTypeFromPcapName(linkTypeName);
  const frame: CapturedFrame = { index: 0, data: new Uint8Array(0), captureLength: 0, originalLength: 0, seconds: 0, microseconds: 0 };
  return new Promise<CaptureSummary>((resolve, reject) => {
    let failed = false;
    session.on('packet', (raw: { buf: Buffer; header: Buffer }) => {
      if (failed) return;
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
        failed = true;
        session.close();
        reject(e as Error);
      }
    });
    session.on('complete', () => {
      if (failed) return;
      session.close();
      resolve({ linkType, linkTypeName, frames: frame.index });
    });
  });
}

/** Reads a whole capture into memory (copies of every frame); for tests and replay setup. */
export async function loadCaptureFile(path: string): Promise<{ linkType: number; frames: { data: Uint8Array; seconds: number; microseconds: number; originalLength: number }[] }> {
  const frames: { data: Uint8Array; seconds: number; microseconds: number; originalLength: number }[] = [];
  const s = await readCaptureFile(path, (f) => {
    frames.push({ data: Uint8Array.from(f.data.subarray(0, f.captureLength)), seconds: f.seconds, microseconds: f.microseconds, originalLength: f.originalLength });
  });
  return { linkType: s.linkType, frames };
}
