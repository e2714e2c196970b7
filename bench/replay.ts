/**
 * In-process replay benchmark of the responder, one core: frames go straight into
 * `Dispatcher.handle()` (no capture, no injection), built from the benchmark configuration
 * (bench/replay-support.ts), through the measuring loops `punt6 bench replay` uses too
 * (src/benchmark/loops.ts).
 * Prints packets/s and ns/packet per kind, and heap growth over the run of each kind. Every
 * kind goes through the dispatcher before any is timed, so the compiled code is what a sidecar
 * seeing all of them runs, not code specialised for the first kind measured. A kind's time is
 * split into rounds: the median round is the figure, and the best round is printed beside it
 * (on a shared machine the neighbours' load only ever adds time; the best round is the
 * machine's speed when they were quiet). Between rounds the `pcap` package's decode of the NS
 * frame is timed for a tenth of a second, the gauge (bench/replay-support.ts): its median says
 * whether the machine was quiet or busy while the kind ran (docs/bench.md gives quiet figures).
 *
 * - NS -> NA (the ndisc6 fixture's NS for the router's address), echo -> echo reply (the ping
 *   fixture), RS -> unicast RA (the rdisc6 fixture): the no-allocation paths;
 * - DHCPv6 Solicit -> Advertise from fresh clients (a distinct DUID per Solicit, so every one
 *   is a pool allocation proposal);
 * - DHCPv6 Request -> Reply from fresh clients with the lease journal on a real file: replies
 *   wait for the journal's fsync, one fsync per batch (group commit).
 *
 *   npm run build && node --expose-gc dist/bench/replay.js [--seconds S] [--rounds R] [--clients N] [--batch B]
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  handleRepeatedly,
  handleRing,
  heapAfterCollecting,
  inOneBuffer,
  median,
  warmUpEveryKind,
} from '../src/benchmark/loops.js';
import {
  benchConfig as config,
  dhcpFrame,
  FIXTURE_KINDS,
  frameOf,
  machineGauge,
  openBenchResponder,
} from './replay-support.js';
import { tuneV8 } from '../src/daemon/v8-tuning.js';

// The budgets punt6 itself runs with (src/daemon/v8-tuning.ts), before any hot code is optimized.
const v8Flags = tuneV8();

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '1000' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new RangeError(`--rounds: "${values.rounds}" is not a positive whole number`);
const clients = Number(values.clients);
const batch = Number(values.batch);

const gc = (globalThis as { gc?: () => void }).gc;
/** Heap in use after collecting (src/benchmark/loops.ts), or as it is without --expose-gc. */
function heap(): number {
  return gc === undefined ? process.memoryUsage().heapUsed : heapAfterCollecting(gc);
}

const dir = await mkdtemp(join(tmpdir(), 'punt6-bench-'));
let sent = 0;
const responder = await openBenchResponder(dir, () => {
  sent++;
});
const d = responder.dispatcher;

/** Times one fixture frame, over and over, in `rounds` rounds of seconds/rounds each. */
function run(name: string, frame: Uint8Array): void {
  const len = frame.length;
  handleRepeatedly(d, frame, len, 100_000);
  const before = heap();
  const roundNs: number[] = [];
  const gaugeNs: number[] = [];
  let n = 0;
  let answered = 0;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round((seconds / rounds) * 1e9));
    let m = 0;
    let now = start;
    while (now < deadline) {
      answered += handleRepeatedly(d, frame, len, 100_000);
      m += 100_000;
      now = process.hrtime.bigint();
    }
    roundNs.push(Number(now - start) / m);
    n += m;
    gaugeNs.push(gauge(GAUGE_SECONDS));
  }
  report(name, n, answered, roundNs, gaugeNs, (heap() - before) / 1024);
}

/**
 * One row: the median round's ns/packet and packets/s, the best round's packets/s, and the median
 * of the gauge timed between the rounds (blank for a kind timed in one go).
 */
function report(
  name: string,
  n: number,
  answered: number,
  roundNs: number[],
  gaugeNs: number[],
  growthKiB: number,
): void {
  const ns = median(roundNs);
  const best = Math.min(...roundNs);
  console.log(
    name.padEnd(38) +
      n.toLocaleString('en').padStart(12) +
      answered.toLocaleString('en').padStart(12) +
      ns.toFixed(1).padStart(10) +
      Math.round(1e9 / ns)
        .toLocaleString('en')
        .padStart(13) +
      Math.round(1e9 / best)
        .toLocaleString('en')
        .padStart(13) +
      (gaugeNs.length > 0 ? median(gaugeNs).toFixed(0) : '').padStart(10) +
      `${growthKiB.toFixed(0)} KiB`.padStart(12),
  );
}

console.log(`V8 inlining budgets: ${v8Flags.length > 0 ? v8Flags.join(' ') : 'V8 defaults (PUNT6_V8_DEFAULTS=1)'}`);
console.log(
  `node ${process.version}, one core, in process (no capture, no injection)${gc ? '' : '; run with --expose-gc for heap figures'}`,
);
console.log(`${rounds} rounds per kind; ns/pkt and pkt/s: the median round; best: the fastest round`);
console.log(
  `gauge: the pcap package's decode of the NS frame between rounds, median ns (lower when the machine is quieter; quiet figures in docs/bench.md)`,
);
console.log(
  'kind'.padEnd(38) +
    'handled'.padStart(12) +
    'answered'.padStart(12) +
    'ns/pkt'.padStart(10) +
    'pkt/s'.padStart(13) +
    'best pkt/s'.padStart(13) +
    'gauge ns'.padStart(10) +
    'heap growth'.padStart(12),
);

const frames = await Promise.all(FIXTURE_KINDS.map((k) => frameOf(k.file, 0)));
const GAUGE_SECONDS = 0.1;
const gauge = machineGauge(frames[0] as Uint8Array);
const solicitCount = Math.min(clients, 200_000);
const solicits = inOneBuffer(solicitCount, (i) => dhcpFrame(1, i, i & 0xffffff, null));
// The warm-up's Solicits come from other clients than the measured ones.
warmUpEveryKind(
  d,
  frames,
  inOneBuffer(20_000, (i) => dhcpFrame(1, 5_000_000 + i, i & 0xffffff, null)),
  10,
  20_000,
  2_000,
);

for (const [i, k] of FIXTURE_KINDS.entries()) run(k.name, frames[i] as Uint8Array);

// Solicit -> Advertise, a fresh client each time (frames built beforehand), in rounds of
// solicitCount/rounds clients.
{
  const before = heap();
  const roundNs: number[] = [];
  const gaugeNs: number[] = [];
  let answered = 0;
  const per = Math.max(1, Math.floor(solicitCount / rounds));
  for (let first = 0; first + per <= solicitCount; first += per) {
    const start = process.hrtime.bigint();
    answered += handleRing(d, solicits, first, per);
    roundNs.push(Number(process.hrtime.bigint() - start) / per);
    gaugeNs.push(gauge(GAUGE_SECONDS));
  }
  report(
    'DHCPv6 Solicit -> Advertise (fresh)',
    per * roundNs.length,
    answered,
    roundNs,
    gaugeNs,
    (heap() - before) / 1024,
  );
}

// Request -> Reply with the journal on a real file, group commit per batch.
{
  const n = Math.min(clients, 100_000);
  const frames = inOneBuffer(n, (i) => dhcpFrame(3, 1_000_000 + i, i & 0xffffff, config.server.duid));
  const before = heap();
  const sentBefore = sent;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i += batch) {
    handleRing(d, frames, i, Math.min(batch, n - i));
    await d.flush();
  }
  const ns = Number(process.hrtime.bigint() - start) / n;
  const stats = responder.leases?.journalStats();
  report(`DHCPv6 Request -> Reply (batch ${batch})`, n, sent - sentBefore, [ns], [], (heap() - before) / 1024);
  if (stats) console.log(`journal: ${JSON.stringify(stats)}`);
}

await responder.close();
await rm(dir, { recursive: true, force: true });
