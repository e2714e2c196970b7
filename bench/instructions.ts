/**
 * Machine instructions per packet on the responder's paths, counted by valgrind's callgrind.
 * A timed run on a shared machine moves with the neighbours' load; this count is the same on
 * every run for a path that allocates nothing (NS, echo, RS), and close to it for the Solicit
 * (garbage collection's share varies), so it shows changes that timing hides.
 *
 * For each kind, a child process builds the responder of bench/replay.ts, warms the path up
 * (the optimizing compiler has compiled it), collects garbage twice (the frames are in the old
 * generation, as a capture buffer is in a long-running process), runs the measured loop over N
 * packets once more uncounted, then over N packets inside one `Array.prototype.findLastIndex`
 * call and over 3N inside one `findLast` call. Callgrind counts only inside those two calls
 * (`--toggle-collect`; nothing else in the process uses them), and the figure is the difference
 * of their inclusive counts over 2N: what the measured loop pays once per call drops out, and
 * both counts come from the same process, the same compiled code and the same memory layout.
 * The child runs with punt6's inlining budgets (src/daemon/v8-tuning.ts), `--single-threaded` (no
 * background compiler thread in the count) and `--no-use-osr` (the measured loop is a function
 * compiled as a whole).
 *
 * Each kind is counted twice: alone (only that kind has been through the dispatcher) and after
 * all (every kind has been through it first, interleaved, as in a sidecar): the optimizing
 * compiler inlines by how often each call was taken, so what it makes of a path depends on the
 * traffic it has seen.
 *
 *   npm run build && node dist/bench/instructions.js [--kinds ns,echo,rs,solicit] [--packets N]
 *
 * Needs valgrind (Debian package `valgrind`, with its `callgrind_annotate`). A run takes minutes
 * per kind: code under callgrind runs many times slower.
 */

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tuneV8, V8_INLINING_FLAGS } from '../src/daemon/v8-tuning.js';

/** The budgets the counted process runs with: punt6's, or V8's own with PUNT6_V8_DEFAULTS=1. */
const childV8Flags = process.env.PUNT6_V8_DEFAULTS === '1' ? [] : V8_INLINING_FLAGS;
import { handleRepeatedly, handleRing, inOneBuffer, warmUpEveryKind } from '../src/benchmark/loops.js';
import { dhcpFrame, FIXTURE_KINDS, frameOf, openBenchResponder } from './replay-support.js';

const KINDS: Record<string, { name: string; fixture?: string }> = {
  ...Object.fromEntries(FIXTURE_KINDS.map((k) => [k.key, { name: k.name, fixture: k.file }])),
  solicit: { name: 'DHCPv6 Solicit -> Advertise (fresh)' },
};
/** Packets handled before the count starts, in calls of the loop, then calls of one packet. */
const WARM_UP = 20_000;
const COMPILE_CALLS = 3;
/** Warm-up calls of WARM_UP / 10 fresh Solicits each: enough for every tier to have compiled the path. */
const SOLICIT_WARM_UP_CALLS = 40;
/** The "after all" warm-up: ten rounds of this many of each fixture frame and fresh Solicits. */
const MIXED_FRAMES = WARM_UP / 2;
const MIXED_SOLICITS = WARM_UP / 20;
/** The builtins whose calls are counted: the loop over N packets, and over 3N. */
const ONCE = 'Builtins_ArrayPrototypeFindLastIndex';
const THRICE = 'Builtins_ArrayPrototypeFindLast';

const { values } = parseArgs({
  options: {
    kinds: { type: 'string', default: Object.keys(KINDS).join(',') },
    packets: { type: 'string', default: '20000' },
    child: { type: 'string' },
    mixed: { type: 'boolean', default: false },
  },
});
const packets = Number(values.packets);
if (!Number.isInteger(packets) || packets < 1)
  throw new RangeError(`--packets: "${values.packets}" is not a positive whole number`);

if (values.child !== undefined) await child(values.child, values.mixed);
else await parent(values.kinds.split(','));

async function parent(kinds: string[]): Promise<void> {
  for (const k of kinds)
    if (KINDS[k] === undefined)
      throw new RangeError(`--kinds: unknown kind "${k}" (known: ${Object.keys(KINDS).join(', ')})`);
  const probe = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  console.log(
    `${probe.stdout.trim()}, node ${process.version}, ${childV8Flags.length > 0 ? childV8Flags.join(' ') : 'V8 defaults (PUNT6_V8_DEFAULTS=1)'}; each kind counted over ${packets.toLocaleString('en')} and ${(3 * packets).toLocaleString('en')} packets in one process`,
  );
  console.log(
    'instructions/packet'.padStart(58) + '\n' + 'kind'.padEnd(38) + 'alone'.padStart(10) + 'after all'.padStart(10),
  );
  const dir = await mkdtemp(join(tmpdir(), 'punt6-instructions-'));
  try {
    for (const k of kinds) {
      const figures = [];
      for (const mixed of [false, true])
        figures.push(
          Math.round(await count(dir, k, packets, mixed))
            .toLocaleString('en')
            .padStart(10),
        );
      console.log((KINDS[k] as { name: string }).name.padEnd(38) + figures.join(''));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Instructions per packet of kind `k`: (count over 3N - count over N) / 2N, from one child run. */
async function count(dir: string, k: string, n: number, mixed: boolean): Promise<number> {
  const out = join(dir, `callgrind.${k}${mixed ? '.mixed' : ''}`);
  const r = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${out}`,
      `--toggle-collect=${ONCE}`,
      `--toggle-collect=${THRICE}`,
      // V8 writes and rewrites machine code in its heap: have valgrind notice.
      '--smc-check=all-non-file',
      process.execPath,
      ...childV8Flags,
      '--single-threaded',
      '--no-use-osr',
      '--expose-gc',
      fileURLToPath(import.meta.url),
      '--child',
      k,
      '--packets',
      String(n),
      ...(mixed ? ['--mixed'] : []),
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`${k}: the counted run failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  const a = spawnSync('callgrind_annotate', ['--inclusive=yes', out], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (a.status !== 0) throw new Error(`callgrind_annotate failed (exit ${a.status}): ${a.stderr.slice(-500)}`);
  return (inclusive(a.stdout, THRICE) - inclusive(a.stdout, ONCE)) / (2 * n);
}

/** Array's ES2023 methods (Node 18 and later), beyond this project's `lib` setting. */
interface FindLast {
  findLast(f: (n: number) => void): number | undefined;
  findLastIndex(f: (n: number) => void): number;
}

/** A function's inclusive count in `callgrind_annotate --inclusive=yes` output. */
function inclusive(annotated: string, fn: string): number {
  for (const line of annotated.split('\n')) {
    const m = /^\s*([\d,]+)\s.*:(\S+)\s/.exec(line);
    if (m !== null && m[2] === fn) return Number((m[1] as string).replaceAll(',', ''));
  }
  throw new Error(`callgrind output without ${fn}: was the measured loop run?`);
}

async function child(kind: string, mixed: boolean): Promise<void> {
  tuneV8();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const dir = await mkdtemp(join(tmpdir(), 'punt6-instructions-'));
  let answered = 0;
  const responder = await openBenchResponder(dir, () => {});
  const d = responder.dispatcher;
  const frames = await Promise.all(FIXTURE_KINDS.map((k) => frameOf(k.file, 0)));
  // Fresh clients' Solicits: the mixed warm-up's, then the measured kind's (other clients).
  const solicits = inOneBuffer(
    (mixed ? 10 * MIXED_SOLICITS : 0) +
      (kind === 'solicit' ? (SOLICIT_WARM_UP_CALLS * WARM_UP) / 10 + COMPILE_CALLS + 5 * packets : 0),
    (i) => dhcpFrame(1, i, i & 0xffffff, null),
  );
  let next = mixed ? warmUpEveryKind(d, frames, solicits, 10, MIXED_FRAMES, MIXED_SOLICITS) : 0;
  const frame = frames[FIXTURE_KINDS.findIndex((k) => k.key === kind)];
  const measured =
    frame === undefined
      ? (n: number): void => {
          answered += handleRing(d, solicits, next, n);
          next += n;
        }
      : (n: number): void => {
          answered += handleRepeatedly(d, frame, frame.length, n);
        };
  // Several calls: without on-stack replacement the loop itself is compiled between calls.
  if (kind === 'solicit') for (let r = 0; r < SOLICIT_WARM_UP_CALLS; r++) measured(WARM_UP / 10);
  else for (let r = 0; r < 15; r++) measured(WARM_UP);
  // A few more calls: compiling the loop happens at a call, not inside the count.
  for (let r = 0; r < COMPILE_CALLS; r++) measured(1);
  gc();
  gc();
  measured(packets);
  answered = 0;
  // What callgrind counts (see ONCE, THRICE): a returned undefined keeps both going to the end.
  ([packets] as unknown as FindLast).findLastIndex(measured);
  ([3 * packets] as unknown as FindLast).findLast(measured);
  await responder.close();
  await rm(dir, { recursive: true, force: true });
  if (answered !== 4 * packets) throw new Error(`${kind}: ${answered} of ${4 * packets} packets answered`);
}
