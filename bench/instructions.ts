/**
 * Machine instructions per packet on the responder's paths, counted by valgrind's callgrind.
 * A timed run on a shared machine moves by up to a half with the neighbours' load; this count is
 * the same on every run for a path that allocates nothing (NS, echo, RS), and within a few
 * percent for the Solicit (garbage collection's share), so it shows changes that timing hides.
 *
 * For each kind, a child process builds the responder of bench/replay.ts, warms the path up
 * (the optimizing compiler has compiled it), collects garbage twice (the frames are in the old
 * generation, as a capture buffer is in a long-running process), then handles the measured
 * packets inside one `Array.prototype.forEach` call: callgrind counts only while that call runs
 * (`--toggle-collect`), so start-up, compilation and warm-up are left out. Each kind is counted
 * twice, over N and 2N packets, and the figure is the difference over N: what a run pays once
 * drops out. The child runs with
 * punt6's inlining budgets (src/v8-tuning.ts), `--single-threaded` (no background compiler thread
 * in the count) and `--no-use-osr` (the measured loop is a function compiled as a whole).
 *
 *   npm run build && node dist/bench/instructions.js [--kinds ns,echo,rs,solicit] [--packets N]
 *
 * Needs valgrind (Debian package `valgrind`). A run takes about two minutes per kind: code under
 * callgrind runs some fifty times slower.
 */

import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tuneV8, V8_INLINING_FLAGS } from '../src/v8-tuning.js';
import { dhcpFrame, frameOf, inOneBuffer, openBenchResponder, RING_SLOT } from './replay-support.js';

const KINDS: Record<string, { name: string; fixture?: string }> = {
  ns: { name: 'NS -> NA', fixture: 'ndisc6-ns-na.pcap' },
  echo: { name: 'echo request -> reply', fixture: 'ping6-echo.pcap' },
  rs: { name: 'RS -> RA (unicast)', fixture: 'rdisc6-rs-ra.pcap' },
  solicit: { name: 'DHCPv6 Solicit -> Advertise (fresh)' },
};
/** Packets handled before the count starts, in calls of the loop, then calls of one packet. */
const WARM_UP = 20_000;
const COMPILE_CALLS = 3;

const { values } = parseArgs({
  options: {
    kinds: { type: 'string', default: Object.keys(KINDS).join(',') },
    packets: { type: 'string', default: '40000' },
    child: { type: 'string' },
  },
});
const packets = Number(values.packets);
if (!Number.isInteger(packets) || packets < 1) throw new RangeError(`--packets: "${values.packets}" is not a positive whole number`);

if (values.child !== undefined) await child(values.child);
else await parent(values.kinds.split(','));

async function parent(kinds: string[]): Promise<void> {
  for (const k of kinds) if (KINDS[k] === undefined) throw new RangeError(`--kinds: unknown kind "${k}" (known: ${Object.keys(KINDS).join(', ')})`);
  const probe = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  console.log(`${probe.stdout.trim()}, node ${process.version}, ${V8_INLINING_FLAGS.join(' ')}; each kind counted over ${packets.toLocaleString('en')} and ${(2 * packets).toLocaleString('en')} packets`);
  console.log('kind'.padEnd(38) + 'instructions/packet'.padStart(20));
  const dir = await mkdtemp(join(tmpdir(), 'punt6-instructions-'));
  try {
    for (const k of kinds) {
      // What is counted once per run (the first entry into the loop's code...) drops out of the
      // difference between a run of 2N packets and one of N.
      const once = await count(dir, k, packets);
      const twice = await count(dir, k, 2 * packets);
      console.log((KINDS[k] as { name: string }).name.padEnd(38) + Math.round((twice - once) / packets).toLocaleString('en').padStart(20));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Instructions counted in a child run of `n` packets of kind `k`. */
async function count(dir: string, k: string, n: number): Promise<number> {
  const out = join(dir, `callgrind.${k}.${n}`);
  const r = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${out}`,
      '--toggle-collect=Builtins_ArrayForEach',
      // V8 writes and rewrites machine code in its heap: have valgrind notice.
      '--smc-check=all-non-file',
      process.execPath,
      ...V8_INLINING_FLAGS,
      '--single-threaded',
      '--no-use-osr',
      '--expose-gc',
      fileURLToPath(import.meta.url),
      '--child',
      k,
      '--packets',
      String(n),
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`${k}: the counted run failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  return callgrindTotal(await readFile(out, 'utf8'));
}

/** The instruction count of a callgrind output file (its `summary:` line). */
function callgrindTotal(text: string): number {
  const m = /^summary:\s+(\d+)/m.exec(text);
  if (m === null) throw new Error('callgrind output without a summary line');
  return Number(m[1]);
}

async function child(kind: string): Promise<void> {
  tuneV8();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const dir = await mkdtemp(join(tmpdir(), 'punt6-instructions-'));
  let answered = 0;
  const responder = await openBenchResponder(dir, () => {});
  const d = responder.dispatcher;
  const fixture = (KINDS[kind] as { fixture?: string }).fixture;
  let measured: (n: number) => void;
  if (fixture !== undefined) {
    const frame = await frameOf(fixture, 0);
    const loop = (n: number): void => {
      for (let i = 0; i < n; i++) if (d.handle(frame, 0, frame.length, 0) > 0) answered++;
    };
    // Several calls: without on-stack replacement the loop itself is compiled between calls.
    for (let r = 0; r < 15; r++) loop(WARM_UP);
    measured = loop;
  } else {
    // A fresh client per Solicit; the warm-up's clients are others than the counted ones.
    const frames = inOneBuffer(WARM_UP + COMPILE_CALLS + packets, (i) => dhcpFrame(1, i, i & 0xffffff, null));
    let next = 0;
    const loop = (n: number): void => {
      for (const end = next + n; next < end; next++) if (d.handle(frames.ring, next * RING_SLOT, frames.lengths[next] as number, 0) > 0) answered++;
    };
    for (let r = 0; r < 10; r++) loop(WARM_UP / 10);
    measured = loop;
  }
  // A few more calls: compiling the loop happens at a call, not inside the count.
  for (let r = 0; r < COMPILE_CALLS; r++) measured(1);
  gc();
  gc();
  answered = 0;
  [packets].forEach(measured);
  await responder.close();
  await rm(dir, { recursive: true, force: true });
  if (answered !== packets) throw new Error(`${kind}: ${answered} of ${packets} packets answered`);
}
