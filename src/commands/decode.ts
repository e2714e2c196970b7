/**
 * `punt6 decode FILE...`: every frame of pcap/pcapng captures, one JSON object per line (or
 * one summary line per frame with --summary). Malformed frames are printed with their status,
 * layer and offset, and decoding goes on. A file that cannot be read (or not to its end) is
 * reported on standard error and the next one decoded; the exit status is then 1.
 */

import { FrameDecoder } from '../../codecs/frame.js';
import { CaptureFileError, CaptureFilterError, readCaptureFile } from '../capture/reader.js';
import { describeFrame, summarizeFrame } from '../capture/describe.js';
import { defineCommand, parseCommand, UsageError } from './command.js';

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

interface DecodeArgs extends Omit<DecodeOptions, 'write'> {
  files: string[];
}

export const decodeCommand = defineCommand<DecodeArgs>({
  name: 'decode',
  synopsis: 'decode FILE... [--summary] [--no-verify-checksums] [--filter EXPR]',
  summary: 'print every frame of pcap/pcapng captures as JSON lines',
  details: `options:
  --summary              one line per frame instead of JSON
  --no-verify-checksums  accept bad checksums (captures with offloaded checksums)
  --filter EXPR          a BPF filter applied while reading
`,
  parse: (args) => {
    const { values, positionals } = parseCommand(
      args,
      {
        summary: { type: 'boolean', default: false },
        'no-verify-checksums': { type: 'boolean', default: false },
        filter: { type: 'string', default: '' },
      },
      true,
    );
    if (positionals.length === 0) throw new UsageError('at least one capture file is required');
    return {
      files: positionals,
      summary: values.summary,
      verifyChecksums: !values['no-verify-checksums'],
      filter: values.filter,
    };
  },
  run: async (a, io) => {
    let status = 0;
    for (const path of a.files) {
      try {
        await decodeCaptureFile(path, { ...a, write: (line) => io.write(line + '\n') });
      } catch (e) {
        // Every file has the same filter: it fails on the first, before any frame is printed.
        if (e instanceof CaptureFilterError) throw new UsageError(e.message);
        if (e instanceof CaptureFileError) {
          io.error(`punt6 decode: ${e.message}\n`);
          status = 1;
          continue;
        }
        throw e;
      }
    }
    return status;
  },
});
