/**
 * `punt6 bench replay` on the fixture captures, in process: it reproduces the kinds
 * bench/replay.ts times (each answered), accounts for every frame, and prints its table, its
 * JSON and, on a terminal, its progress. Speed is not asserted (docs/bench.md has figures).
 */

import test from 'ava';
import { join } from 'node:path';
import { REPLAY_BENCH_KINDS } from '../../bench/replay-support.js';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { fixtureNames, fixturePath } from '../../fixtures/test-support.js';
import type { BenchReplayResult } from '../benchmark/replay.js';
import { benchCommand } from './bench.js';
import type { CommandIo } from './command.js';

const peers = join(fixturesDirectory, 'config', 'peers.yaml');
const captures = fixtureNames.map(fixturePath);
const quick = ['--seconds', '0.05', '--rounds', '2', '--warm-up', '2000'];

async function bench(args: string[], terminal = false): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CommandIo = { write: (t) => (out += t), error: (t) => (err += t), env: {}, errorIsTerminal: terminal };
  const code = await benchCommand.main(['replay', ...args], io);
  return { code, out, err };
}

test('on the fixtures: every kind bench/replay.ts times is a row, answered; every frame in one row', async (t) => {
  const r = await bench(['--config', peers, ...captures, ...quick, '--json']);
  t.is(r.code, 0, r.err);
  t.is(r.err, '');
  const result = JSON.parse(r.out) as BenchReplayResult & { node: string; captures: { frames: number }[] };
  t.is(result.node, process.version);
  const rows = new Map(result.rows.map((row) => [row.kind, row]));
  for (const kind of REPLAY_BENCH_KINDS) {
    const row = rows.get(kind);
    t.truthy(row, `${kind} is a row`);
    t.true(row!.handled > 0 && row!.answered > 0, `${kind}: ${row!.answered} of ${row!.handled} answered`);
  }
  t.is(result.rows.at(-1)?.kind, 'all');
  const total = result.captures.reduce((s, c) => s + c.frames, 0);
  t.is(result.frames, total);
  t.is(
    result.rows.filter((row) => row.kind !== 'all').reduce((s, row) => s + row.frames, 0),
    total,
    'each frame has one kind',
  );
  for (const row of result.rows) {
    t.is(row.dropped, row.handled - row.answered, row.kind);
    t.is(
      Object.values(row.drops).reduce((s, n) => s + n, 0),
      row.dropped,
      `${row.kind}: every drop has its reason`,
    );
    t.true(row.nsPerPacket > 0 && row.packetsPerSecond > 0 && row.bestPacketsPerSecond >= row.packetsPerSecond);
  }
  t.true(result.journal !== null && result.journal.pendingRecords === 0, 'every held reply committed');
});

test('the table, and the progress bar on a terminal', async (t) => {
  const r = await bench(['--config', peers, fixturePath('ping6-echo'), ...quick], true);
  t.is(r.code, 0, r.err);
  const lines = r.out.split('\n');
  t.regex(lines[0]!, /^punt6 \S+, Node\.js v[\d.]+, V8 /);
  t.is(lines[1], `captures: ${fixturePath('ping6-echo')} (6 frames)`);
  t.regex(r.out, /^kind +frames +handled +answered +dropped +ns\/pkt +pkt\/s +best pkt\/s +heap growth$/m);
  t.regex(r.out, /^echo-request +3 +[\d,]+ +[\d,]+ +0 +[\d.]+ /m);
  t.regex(r.out, /^dropped echo-reply: bad-source [\d,]+$/m);
  const frames = r.err.split('\r');
  t.regex(frames[1]!, /^\[#+-+\] 1\/6 echo-request/);
  t.is(frames.length, 8, 'six rounds drawn, then cleared');
  t.true(r.err.endsWith('\r\x1b[K'), 'the bar is cleared at the end');
});

test('usage and input errors', async (t) => {
  t.is((await bench(['--config', peers])).code, 2);
  t.is((await bench([fixturePath('ping6-echo')])).code, 2);
  t.is((await bench(['--config', peers, fixturePath('ping6-echo'), '--seconds', '0'])).code, 2);
  const missing = await bench(['--config', peers, join(fixturesDirectory, 'no-such.pcap'), ...quick]);
  t.is(missing.code, 1);
  t.regex(missing.err, /^punt6 bench replay: .*no-such\.pcap/);
  const wrongIf = await bench(['--config', peers, fixturePath('ping6-echo'), '--interface', 'eth9', ...quick]);
  t.is(wrongIf.code, 1);
  t.regex(wrongIf.err, /no punt interface named "eth9"/);
});
