/**
 * `punt6 bench replay --config FILE CAPTURE...`: the user's captures looped through the
 * dispatcher built from the configuration, in process (src/benchmark/replay.ts says how), and a
 * row per message kind: frames, handled, answered, dropped, ns/packet, packets/s, heap growth.
 * A progress bar goes to standard error when it is a terminal; `--json` prints one JSON object
 * instead of the table.
 */

import { LinkType } from '../../codecs/link-type.js';
import { benchReplay, type BenchReplayResult, type KindResult } from '../benchmark/replay.js';
import { garbageCollector } from '../benchmark/loops.js';
import { CaptureFileError, loadCaptureFile } from '../capture/reader.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { V8_INLINING_FLAGS } from '../daemon/v8-tuning.js';
import { defineCommand, integerOption, parseCommand, UsageError, type CommandIo } from './command.js';
import { packageVersion } from './version.js';

interface BenchArgs {
  configPath: string;
  captures: string[];
  interfaceName?: string;
  seconds: number;
  rounds: number;
  batch: number;
  warmUp: number;
  verifyChecksums: boolean;
  json: boolean;
}

class BenchError extends Error {}

const grouped = (n: number): string => Math.round(n).toLocaleString('en');

/** The table's columns: header, width, and the cell of a row. */
const columns: readonly [string, number, (r: KindResult) => string][] = [
  ['kind', 28, (r) => r.kind],
  ['frames', 8, (r) => grouped(r.frames)],
  ['handled', 13, (r) => grouped(r.handled)],
  ['answered', 13, (r) => grouped(r.answered)],
  ['dropped', 13, (r) => grouped(r.dropped)],
  ['ns/pkt', 9, (r) => r.nsPerPacket.toFixed(1)],
  ['pkt/s', 12, (r) => grouped(r.packetsPerSecond)],
  ['best pkt/s', 12, (r) => grouped(r.bestPacketsPerSecond)],
  ['heap growth', 13, (r) => `${(r.heapGrowthBytes / 1024).toFixed(0)} KiB`],
];

function tableLine(cells: readonly string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(columns[i]![1]) : c.padStart(columns[i]![1]))).join('');
}

function printTable(a: BenchArgs, counts: number[], r: BenchReplayResult, v8Flags: string, write: (s: string) => void) {
  write(`punt6 ${packageVersion()}, Node.js ${process.version}, V8 ${process.versions.v8}; inlining: ${v8Flags}\n`);
  write(`captures: ${a.captures.map((c, i) => `${c} (${counts[i]} frames)`).join(', ')}\n`);
  write(
    `in process, one core; warm-up ${grouped(r.warmUpFrames)} frames; each row ${a.seconds} s in ${a.rounds} rounds ` +
      `(ns/pkt and pkt/s: the median round; best: the fastest); held replies flushed every ${a.batch} frames\n`,
  );
  write(tableLine(columns.map((c) => c[0])) + '\n');
  for (const row of r.rows) write(tableLine(columns.map((c) => c[2](row))) + '\n');
  for (const row of r.rows) {
    if (row.kind === 'all') continue;
    const drops = Object.entries(row.drops);
    if (drops.length > 0) write(`dropped ${row.kind}: ${drops.map(([why, n]) => `${why} ${grouped(n)}`).join(', ')}\n`);
  }
  if (r.journal !== null) {
    const j = r.journal;
    write(
      `lease journal: ${grouped(j.recordsInFile)} records, ${grouped(j.commits)} commits, ${grouped(j.fsyncs)} fsyncs\n`,
    );
  }
}

/** `[#####-----] 12/30 ns` on one line of a terminal, redrawn in place. */
function progressBar(io: CommandIo): (done: number, total: number, row: string) => void {
  const width = 30;
  return (done, total, row) => {
    const full = Math.round((done / total) * width);
    io.error(`\r[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${done}/${total} ${row}\x1b[K`);
    if (done === total) io.error('\r\x1b[K');
  };
}

async function benchReplayCommand(a: BenchArgs, io: CommandIo): Promise<number> {
  const config = await loadConfig(a.configPath);
  const interfaceIndex =
    a.interfaceName === undefined ? 0 : config.interfaces.findIndex((i) => i.name === a.interfaceName);
  if (interfaceIndex < 0) throw new BenchError(`no punt interface named "${a.interfaceName}" in ${a.configPath}`);
  const frames: Uint8Array[] = [];
  const counts: number[] = [];
  for (const path of a.captures) {
    const capture = await loadCaptureFile(path);
    if (capture.linkType !== LinkType.Ethernet)
      throw new BenchError(`${path}: link type ${capture.linkType}: punt6 answers Ethernet frames only`);
    for (const f of capture.frames) frames.push(f.data);
    counts.push(capture.frames.length);
  }
  if (frames.length === 0) throw new BenchError(`no frames in ${a.captures.join(', ')}`);
  const v8Flags = io.env['PUNT6_V8_DEFAULTS'] === '1' ? 'V8 defaults' : V8_INLINING_FLAGS.join(' ');
  const result = await benchReplay({
    config,
    frames,
    interfaceIndex,
    verifyChecksums: a.verifyChecksums,
    seconds: a.seconds,
    rounds: a.rounds,
    batch: a.batch,
    warmUp: a.warmUp,
    gc: garbageCollector(),
    progress: io.errorIsTerminal === true ? progressBar(io) : undefined,
  });
  if (a.json) {
    io.write(
      JSON.stringify({
        punt6: packageVersion(),
        node: process.version,
        v8: process.versions.v8,
        v8Flags,
        config: a.configPath,
        captures: a.captures.map((file, i) => ({ file, frames: counts[i] })),
        seconds: a.seconds,
        rounds: a.rounds,
        batch: a.batch,
        ...result,
      }) + '\n',
    );
  } else {
    printTable(a, counts, result, v8Flags, io.write);
  }
  return 0;
}

export const benchCommand = defineCommand<BenchArgs>({
  name: 'bench',
  synopsis: 'bench replay --config FILE CAPTURE... [options]',
  summary: `loop captures through the responder in process and time it per message kind:
packets/s, ns/packet, answered and dropped, heap growth`,
  details: `  replay   every frame of the captures (pcap, pcapng; Ethernet) through the dispatcher
           built from the configuration, as if it arrived on the punt interface, looped

options:
  --config FILE          the punt6 configuration (its state directory is not touched)
  --interface NAME       the punt interface the frames arrive on (default: the first)
  --seconds S            time each kind this long (default 2; 0.01..3600)
  --rounds N             in N rounds (default 5)
  --batch N              flush the DHCPv6 replies held for their journal commit every N
                         frames (default 1000)
  --warm-up N            handle at least N frames, the whole capture in order, before timing
                         (default 100000)
  --no-verify-checksums  accept bad checksums (captures taken where checksums are offloaded)
  --json                 one JSON object on standard output instead of the table
`,
  parse: (args) => {
    const { values, positionals } = parseCommand(
      args,
      {
        config: { type: 'string' },
        interface: { type: 'string' },
        seconds: { type: 'string' },
        rounds: { type: 'string' },
        batch: { type: 'string' },
        'warm-up': { type: 'string' },
        'no-verify-checksums': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      true,
    );
    const [sub, ...captures] = positionals;
    if (sub === undefined) throw new UsageError('a subcommand is required: replay');
    if (sub !== 'replay') throw new UsageError(`unknown subcommand ${sub}`);
    if (values.config === undefined) throw new UsageError('--config FILE is required');
    if (captures.length === 0) throw new UsageError('at least one capture file is required');
    const seconds = values.seconds === undefined ? 2 : Number(values.seconds);
    if (!(seconds >= 0.01 && seconds <= 3600)) throw new UsageError('--seconds is a number in 0.01..3600');
    return {
      configPath: values.config,
      captures,
      interfaceName: values.interface,
      seconds,
      rounds: integerOption(values.rounds, '--rounds', { min: 1, max: 1000 }) ?? 5,
      batch: integerOption(values.batch, '--batch', { min: 1, max: 1_000_000 }) ?? 1000,
      warmUp: integerOption(values['warm-up'], '--warm-up', { min: 0, max: 1e9 }) ?? 100_000,
      verifyChecksums: !values['no-verify-checksums'],
      json: values.json,
    };
  },
  run: async (a, io) => {
    try {
      return await benchReplayCommand(a, io);
    } catch (e) {
      if (e instanceof ConfigError || e instanceof CaptureFileError || e instanceof BenchError) {
        io.error(`punt6 bench replay: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
});
