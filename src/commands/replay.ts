/**
 * `punt6 replay --config FILE IN.pcap [--out OUT.pcap]`: feeds every frame of a capture through
 * the dispatcher built from the configuration (as if it had arrived on the first punt
 * interface, or on `--interface NAME`), writes the replies to a pcap, and prints a table per
 * message kind: seen, answered, and dropped by reason.
 *
 * The clock follows the capture's timestamps (`--clock capture`, the default) and the RA jitter
 * has a fixed seed, so a replay is reproducible; `--clock wall` uses the real clock. Leases go
 * to a fresh journal in a temporary directory unless `--leases FILE` names one; the server DUID
 * is the configuration's `server.duid`, else one made for the run in that temporary directory.
 * A replay writes nothing into the configuration's state directory.
 *
 * Every path is checked before anything is written: a bad one is refused with `PATH: reason`,
 * and a replay creates no directory for a path it was given.
 *
 * A capture that cannot be read to its end (a CaptureReadError: cut short, or a record libpcap
 * cannot read) is replayed as far as it can be read: the frames before the fault are answered,
 * the replies written and the table printed, as from a capture that ended there; then the fault
 * is thrown, so the caller can say the replay was of part of the capture.
 */

import { open, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinkType } from '../../codecs/link-type.js';
import { CaptureFileError, loadCaptureUntilFault } from '../capture/reader.js';
import { CaptureWriter } from '../capture/writer.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { JournalCorruptError, startsLikeJournal } from '../dhcp/journal.js';
import { fileErrorReason, writeProblem } from '../system/files.js';
import { messageKindNames, outcomeNames, Outcome, type MessageKind } from '../responder/counters.js';
import { openResponder } from '../responder/responder.js';
import { defineCommand, integerOption, parseCommand, UsageError } from './command.js';

export interface ReplayOptions {
  configPath: string;
  input: string;
  output?: string;
  interfaceName?: string;
  clock: 'capture' | 'wall';
  leaseFile?: string;
  seed: number;
  verifyChecksums: boolean;
  /** Send periodic unsolicited RAs as the capture's clock passes their time. */
  periodicRas?: boolean;
  write: (line: string) => void;
}

export interface ReplayResult {
  frames: number;
  replies: number;
  /** kind -> outcome -> count, for every kind seen. */
  table: Map<string, Map<string, number>>;
  discards: Map<string, number>;
}

export class ReplayError extends Error {}

/** After the last frame, how far the clock runs on so that delayed RAs (≤ 3.5 s) go out. */
const DRAIN_MS = 4000;

/**
 * Why `path` cannot be the replay's lease journal: a directory, a missing directory, or a file
 * that is not a journal (the journal would cut such a file to nothing as a torn tail).
 */
async function leaseFileProblem(path: string): Promise<string | null> {
  const problem = writeProblem(path);
  if (problem !== null) return problem;
  let head: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      head = Buffer.alloc(4);
      head = head.subarray(0, (await fh.read(head, 0, 4, 0)).bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    // A file that is not there yet is created by the journal, in a directory that exists.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : fileErrorReason(e);
  }
  return startsLikeJournal(head) ? null : 'not a lease journal (it does not start with "P6LJ"); left untouched';
}

export async function replayCapture(o: ReplayOptions): Promise<ReplayResult> {
  const config = await loadConfig(o.configPath);
  const ifIndex = o.interfaceName === undefined ? 0 : config.interfaces.findIndex((i) => i.name === o.interfaceName);
  if (ifIndex < 0) throw new ReplayError(`no punt interface named "${o.interfaceName}" in ${o.configPath}`);
  const capture = await loadCaptureUntilFault(o.input);
  if (capture.linkType !== LinkType.Ethernet) {
    throw new ReplayError(`${o.input}: link type ${capture.linkType}: punt6 answers Ethernet frames only`);
  }
  const outProblem = o.output === undefined ? null : writeProblem(o.output);
  if (outProblem !== null) throw new ReplayError(`${o.output}: ${outProblem}`);
  const leaseProblem = o.leaseFile === undefined ? null : await leaseFileProblem(o.leaseFile);
  if (leaseProblem !== null) throw new ReplayError(`${o.leaseFile}: ${leaseProblem}`);

  let clock = 0;
  const now = o.clock === 'capture' ? () => clock : Date.now;
  let writer: CaptureWriter | null = null;
  let replies = 0;
  const emit = (frame: Uint8Array, off: number, len: number): void => {
    replies++;
    writer?.write(frame, off, len, now() / 1000);
  };
  const tmp = await mkdtemp(join(tmpdir(), 'punt6-replay-'));
  const leaseFile = o.leaseFile ?? join(tmp, 'leases.journal');
  try {
    let responder;
    try {
      responder = await openResponder(config, {
        now,
        seed: o.seed,
        verifyChecksums: o.verifyChecksums,
        leaseFile,
        duidFile: join(tmp, 'server-duid'),
        createDirectories: false,
        sink: (_if, frame, off, len) => emit(frame, off, len),
      });
    } catch (e) {
      if (e instanceof JournalCorruptError)
        throw new ReplayError(
          `${e.path}: not a lease journal, or a damaged one (offset ${e.offset}: ${e.reason}); left untouched`,
        );
      throw e;
    }
    if (o.output !== undefined) {
      try {
        writer = new CaptureWriter(o.output);
      } catch (e) {
        await responder.close();
        throw new ReplayError(`${o.output}: ${fileErrorReason(e)}`);
      }
    }
    const d = responder.dispatcher;
    let frames = 0;
    let started = false;
    for (const f of capture.frames) {
      frames++;
      clock = o.clock === 'capture' ? f.seconds * 1000 + Math.floor(f.microseconds / 1000) : Date.now();
      if (!started) {
        if (o.periodicRas === true) d.start();
        started = true;
      }
      d.poll(clock);
      const n = d.handle(f.data, 0, f.data.length, ifIndex);
      if (n > 0) emit(d.tx, 0, n);
      // A reply held for its lease commit goes out before the next request is read, so the
      // output keeps the order (and the clock) of the exchange.
      if (d.heldReplies > 0) await d.flush();
    }
    if (started) {
      clock += DRAIN_MS;
      d.poll(clock);
    }
    await responder.close();
    writer?.close();
    const table = new Map<string, Map<string, number>>();
    for (const row of d.counters.rows()) {
      const m = table.get(row.kind) ?? new Map<string, number>();
      m.set(row.outcome, (m.get(row.outcome) ?? 0) + row.count);
      table.set(row.kind, m);
    }
    const result: ReplayResult = { frames, replies, table, discards: new Map(responder.dhcpv6.discards) };
    printTable(result, d.counters.seen.bind(d.counters), o.write);
    if (capture.error !== null) throw capture.error;
    return result;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function printTable(r: ReplayResult, seen: (k: MessageKind) => number, write: (line: string) => void): void {
  const dropNames = outcomeNames.filter((n) => n !== 'answered' && n !== 'conflict');
  const used = dropNames.filter((n) => [...r.table.values()].some((m) => (m.get(n) ?? 0) > 0));
  const header = [
    'kind'.padEnd(28),
    'seen'.padStart(7),
    'answered'.padStart(9),
    ...used.map((n) => n.padStart(Math.max(8, n.length + 1))),
  ].join('');
  write(header);
  messageKindNames.forEach((name, k) => {
    const m = r.table.get(name);
    if (!m) return;
    const cells = [
      name.padEnd(28),
      String(seen(k as MessageKind)).padStart(7),
      String(m.get(outcomeNames[Outcome.Answered]) ?? 0).padStart(9),
    ];
    for (const n of used) cells.push(String(m.get(n) ?? 0).padStart(Math.max(8, n.length + 1)));
    write(cells.join(''));
  });
  const conflicts = [...r.table.values()].reduce((s, m) => s + (m.get('conflict') ?? 0), 0);
  if (conflicts > 0) write(`duplicate-address defences (answered, counted above): ${conflicts}`);
  for (const [reason, count] of r.discards) write(`dhcpv6 discarded: ${reason}: ${count}`);
  write(`${r.frames} frames in, ${r.replies} frames out`);
}

export const replayCommand = defineCommand<Omit<ReplayOptions, 'write'>>({
  name: 'replay',
  synopsis: 'replay --config FILE IN.pcap [--out OUT.pcap] [options]',
  summary: `answer every frame of a capture as the punt path would; print a table
per message kind (seen, answered, dropped by reason)`,
  details: `options:
  --config FILE          the punt6 configuration
  --out OUT.pcap         write the replies to this pcap
  --interface NAME       the punt interface the frames arrive on (default: the first)
  --clock capture|wall   time from the capture's timestamps (default) or the real clock
  --leases FILE          the lease journal (default: a fresh temporary one)
  --seed N               seed of the RA timing jitter (default 1)
  --periodic-ras         also send periodic unsolicited RAs as the capture's time passes
  --no-verify-checksums  accept bad checksums
`,
  parse: (args) => {
    const { values, positionals } = parseCommand(
      args,
      {
        config: { type: 'string' },
        out: { type: 'string' },
        interface: { type: 'string' },
        clock: { type: 'string', default: 'capture' },
        leases: { type: 'string' },
        seed: { type: 'string', default: '1' },
        'periodic-ras': { type: 'boolean', default: false },
        'no-verify-checksums': { type: 'boolean', default: false },
      },
      true,
    );
    if (values.config === undefined) throw new UsageError('--config FILE is required');
    const [input, ...extra] = positionals;
    if (input === undefined) throw new UsageError('the capture file IN.pcap is required');
    if (extra.length > 0)
      throw new UsageError(`one capture file only, not ${positionals.length}: ${positionals.join(' ')}`);
    if (values.clock !== 'capture' && values.clock !== 'wall') throw new UsageError('--clock is capture or wall');
    return {
      configPath: values.config,
      input,
      output: values.out,
      interfaceName: values.interface,
      clock: values.clock,
      leaseFile: values.leases,
      seed: integerOption(values.seed, '--seed') ?? 1,
      periodicRas: values['periodic-ras'],
      verifyChecksums: !values['no-verify-checksums'],
    };
  },
  run: async (a, io) => {
    try {
      await replayCapture({ ...a, write: (line) => io.write(line + '\n') });
      return 0;
    } catch (e) {
      if (e instanceof ConfigError || e instanceof CaptureFileError || e instanceof ReplayError) {
        io.error(`punt6 replay: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
});
