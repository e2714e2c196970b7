/**
 * The in-process replay benchmark runs to the end and prints a sane row per kind. Its speed is
 * not asserted here (figures are the benchmark's to print, docs/bench.md): only that every frame
 * it handled was answered, that the gauge was timed, and that the journal committed every lease
 * in as many fsyncs as commits.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repositoryRoot } from '../fixtures/paths.js';

test('bench/replay.ts: every kind handled and answered, the gauge timed, the journal committed in batches', (t) => {
  const r = spawnSync(
    process.execPath,
    [
      '--import=tsx',
      '--expose-gc',
      join(repositoryRoot, 'bench', 'replay.ts'),
      '--seconds',
      '0.2',
      '--rounds',
      '2',
      '--clients',
      '2000',
      '--batch',
      '500',
    ],
    { cwd: repositoryRoot, encoding: 'utf8', timeout: 180_000 },
  );
  t.is(r.status, 0, r.stderr);
  // The report's fixed columns (bench/replay.ts, report()): kind, handled, answered, ns/pkt,
  // pkt/s, best pkt/s, gauge ns, heap growth.
  const widths = [38, 12, 12, 10, 13, 13, 10, 12];
  const rows = new Map<string, string[]>();
  for (const line of r.stdout.split('\n')) {
    if (!line.endsWith(' KiB') || line.length !== widths.reduce((a, b) => a + b, 0)) continue;
    const cells: string[] = [];
    let at = 0;
    for (const w of widths) {
      cells.push(line.slice(at, at + w).trim());
      at += w;
    }
    rows.set(cells[0] as string, cells.slice(1));
  }
  const kinds = [
    'NS -> NA',
    'echo request -> reply',
    'RS -> RA (unicast)',
    'DHCPv6 Solicit -> Advertise (fresh)',
    'DHCPv6 Request -> Reply (batch 500)',
  ];
  t.deepEqual([...rows.keys()], kinds, r.stdout);
  const n = (s: string | undefined): number => Number((s ?? '').replaceAll(',', ''));
  for (const k of kinds) {
    const [handled, answered, ns, , , gauge] = rows.get(k) as string[];
    t.true(n(handled) > 0, k);
    t.is(n(answered), n(handled), `${k}: every frame answered`);
    t.true(Number(ns) > 0, k);
    // Timed in rounds: a gauge figure; the Request row is timed in one go, without.
    if (k.startsWith('DHCPv6 Request')) t.is(gauge, '', k);
    else t.true(Number(gauge) > 0, `${k}: gauge`);
  }
  t.is(n(rows.get('DHCPv6 Request -> Reply (batch 500)')?.[0]), 2000);
  const journal = /^journal: (.*)$/m.exec(r.stdout);
  t.truthy(journal, r.stdout);
  const stats = JSON.parse((journal as RegExpExecArray)[1] as string) as {
    recordsInFile: number;
    pendingRecords: number;
    commits: number;
    fsyncs: number;
  };
  t.is(stats.recordsInFile, 2000);
  t.is(stats.pendingRecords, 0);
  t.is(stats.commits, 4);
  t.is(stats.fsyncs, stats.commits);
});
