/**
 * `punt6 decode FILE...`: every frame of pcap/pcapng captures, one JSON object per line (or
 * one summary line per frame with --summary). Malformed frames are printed with their status,
 * layer and offset, and decoding goes on.
 */

import { FrameDecoder } from '../../codecs/frame.js';
import { readCaptureFile } from '../capture/reader.js';
import { describeFrame, summarizeFrame } from '../capture/describe.js';

export interface DecodeOptions {
  summary: boolean;
  verifyChecksums: boolean;
  filter: string;
  write: (line: string) => void;
}

export interface DecodeTotals {
  frames: number;
  ok: number;
  failed: number;
}

export async function decodeCaptureFile(path: string, opts: DecodeOptions): Promise<DecodeTotals> {
  const decoder = new FrameDecoder();
  decoder.verifyChecksums = opts.verifyChecksums;
  const totals: DecodeTotals = { frames: 0, ok: 0, failed: 0 };
  await readCaptureFile(
    path,
    (f, linkType) => {
      totals.frames++;
      const status = decoder.decode(f.data, 0, f.captureLength, linkType);
      if (status === 0) totals.ok++;
      else totals.failed++;
      const time = `${f.seconds}.${String(f.microseconds).padStart(6, '0')}`;
      if (opts.summary) {
        opts.write(`${f.index} ${time} ${summarizeFrame(decoder, f.data, status)}`);
      } else {
        const d = describeFrame(decoder, f.data, status);
        opts.write(
          JSON.stringify({ frame: f.index, time, captureLength: f.captureLength, length: f.originalLength, ...d }),
        );
      }
    },
    opts.filter,
  );
  return totals;
}
