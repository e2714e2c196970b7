/**
 * In-process replay benchmark of the responder, one core: frames go straight into
 * `Dispatcher.handle()` (no capture, no injection), built from fixtures/config/peers.yaml.
 * Prints packets/s and ns/packet per kind, and heap growth over the run of each kind:
 *
 * - NS -> NA (the ndisc6 fixture's NS for the router's address), echo -> echo reply (the ping
 *   fixture), RS -> unicast RA (the rdisc6 fixture): the no-allocation paths;
 * - DHCPv6 Solicit -> Advertise from fresh clients (a distinct DUID per Solicit, so every one
 *   is a pool allocation proposal);
 * - DHCPv6 Request -> Reply from fresh clients with the lease journal on a real file: replies
 *   wait for the journal's fsync, one fsync per batch (group commit).
 *
 *   npm run build && node --expose-gc dist/bench/replay.js [--seconds S] [--clients N] [--batch B]
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { emitDhcpv6Message, type Dhcpv6MessageRepr } from '../codecs/dhcpv6.js';
import { fillUdpChecksum } from '../codecs/udp.js';
import { loadCaptureFile } from '../src/capture-file.js';
import { parseConfig } from '../src/config/index.js';
import { openResponder } from '../src/responder/service.js';
import { fixturesDirectory } from '../fixtures/paths.js';
import { tuneV8 } from '../src/v8-tuning.js';

// The budgets punt6 itself runs with (src/v8-tuning.ts), before any hot code is optimized.
const v8Flags = tuneV8();

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    clients: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '1000' },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const batch = Number(values.batch);

const gc = (globalThis as { gc?: () => void }).gc;
/**
 * Heap in use after collecting. Two collections: what survives both, the frames of the next run
 * included, is in the old generation, as a capture handle's buffer is in a process that has
 * been running a while. A frame left young would make every store of it into the (old) codec
 * views go through V8's write barrier, a cost a live capture does not have.
 */
function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

// The peers configuration with a pool big enough for every fresh client of the run.
const config = parseConfig(
  `
interfaces: [{ name: punt0, network: lab }]
networks:
  - name: lab
    routerMac: 02:00:00:00:00:02
    routerLinkLocal: fe80::ff:fe00:2
    routerAddresses: [fd00::2]
    prefixes: [{ prefix: fd00::/64, slaac: true }, { prefix: 2001:db8:1::/64 }]
    dns: { servers: [2001:db8:1::53], search: [example.com.] }
    dhcpv6:
      mode: stateful
      addressPools: [2001:db8:1::1:0-2001:db8:1::ff:ffff]
server:
  duid: "00:03:00:01:02:00:00:00:00:02"
`,
  'bench',
);

const dir = await mkdtemp(join(tmpdir(), 'punt6-bench-'));
let sent = 0;
const responder = await openResponder(config, {
  leaseFile: join(dir, 'leases.journal'),
  duidFile: join(dir, 'server-duid'),
  seed: 1,
  // One sender at millions of frames per second: measure the responder, not the rate limiter.
  rateLimit: null,
  sink: () => {
    sent++;
  },
});
const d = responder.dispatcher;

async function frameOf(file: string, index: number): Promise<Uint8Array> {
  const cap = await loadCaptureFile(join(fixturesDirectory, file));
  return Uint8Array.from((cap.frames[index] as { data: Uint8Array }).data);
}

function run(name: string, frame: Uint8Array): void {
  const len = frame.length;
  for (let i = 0; i < 100_000; i++) d.handle(frame, 0, len, 0);
  const before = heap();
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let n = 0;
  let answered = 0;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 100_000; i++) if (d.handle(frame, 0, len, 0) > 0) answered++;
    n += 100_000;
    now = process.hrtime.bigint();
  }
  const ns = Number(now - start) / n;
  const growth = (heap() - before) / 1024;
  report(name, n, answered, ns, growth);
}

function report(name: string, n: number, answered: number, ns: number, growthKiB: number): void {
  console.log(
    name.padEnd(34) + n.toLocaleString('en').padStart(12) + answered.toLocaleString('en').padStart(12) + ns.toFixed(1).padStart(10) +
      Math.round(1e9 / ns).toLocaleString('en').padStart(13) + `${growthKiB.toFixed(0)} KiB`.padStart(12),
  );
}

/**
 * A client's Solicit or Request frame: Ethernet/IPv6/UDP to ff02::1:2 from a fresh MAC, built in
 * one scratch buffer (the result is valid until the next call).
 */
const frameScratch = new Uint8Array(14 + 40 + 8 + 256);
function dhcpFrame(type: number, client: number, xid: number, serverDuid: Uint8Array | null): Uint8Array {
  const mac = Uint8Array.of(0x02, 0x10, (client >>> 24) & 0xff, (client >>> 16) & 0xff, (client >>> 8) & 0xff, client & 0xff);
  const msg: Dhcpv6MessageRepr = {
    kind: 'message',
    msgType: type,
    transactionId: xid,
    options: [
      { kind: 'client-id', duid: { kind: 'll', hardwareType: 1, linkLayerAddress: mac } },
      ...(serverDuid ? [{ kind: 'server-id' as const, duid: { kind: 'll' as const, hardwareType: 1, linkLayerAddress: serverDuid.subarray(4) } }] : []),
      { kind: 'elapsed-time', elapsedTime: 0 },
      { kind: 'option-request', codes: [23, 24] },
      { kind: 'ia-na', iaid: 1, t1: 0, t2: 0, options: [] },
    ],
  };
  const f = frameScratch.fill(0);
  f.set([0x33, 0x33, 0, 1, 0, 2], 0);
  f.set(mac, 6);
  f[12] = 0x86;
  f[13] = 0xdd;
  const n = emitDhcpv6Message(msg, f, 62);
  f.set([0x60, 0, 0, 0, 0, 8 + n, 17, 1], 14);
  f[18] = (8 + n) >>> 8;
  f[19] = (8 + n) & 0xff;
  // fe80::10:<client> -> ff02::1:2
  f.set([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0], 22);
  f.set(mac.subarray(2), 34);
  f.set([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2], 38);
  f.set([2, 0x22, 2, 0x23, (8 + n) >>> 8, (8 + n) & 0xff, 0, 0], 54);
  fillUdpChecksum(f, 22, 38, 54);
  return f.subarray(0, 62 + n);
}

/**
 * Frames that would arrive one after another go into one receive buffer, RING_SLOT bytes apart,
 * as a capture handle delivers them (one buffer for every frame): per-array state such as the
 * word view (codecs/word-view.ts) is made once, as in a live run, not once per frame.
 */
const RING_SLOT = 512;
function inOneBuffer(n: number, build: (i: number) => Uint8Array): { ring: Uint8Array; lengths: number[] } {
  const ring = new Uint8Array(RING_SLOT * n);
  const lengths: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = build(i); // valid until the next build
    ring.set(f, i * RING_SLOT);
    lengths.push(f.length);
  }
  return { ring, lengths };
}

console.log(`V8 inlining budgets: ${v8Flags.length > 0 ? v8Flags.join(' ') : 'V8 defaults (PUNT6_V8_DEFAULTS=1)'}`);
console.log(`node ${process.version}, one core, in process (no capture, no injection)${gc ? '' : '; run with --expose-gc for heap figures'}`);
console.log('kind'.padEnd(34) + 'handled'.padStart(12) + 'answered'.padStart(12) + 'ns/pkt'.padStart(10) + 'pkt/s'.padStart(13) + 'heap growth'.padStart(12));
run('NS -> NA', await frameOf('ndisc6-ns-na.pcap', 0));
run('echo request -> reply', await frameOf('ping6-echo.pcap', 0));
run('RS -> RA (unicast)', await frameOf('rdisc6-rs-ra.pcap', 0));

// Solicit -> Advertise, a fresh client each time (frames built beforehand).
{
  const n = Math.min(clients, 200_000);
  const frames = inOneBuffer(n, (i) => dhcpFrame(1, i, i & 0xffffff, null));
  for (let i = 0; i < Math.min(n, 20_000); i++) d.handle(frames.ring, i * RING_SLOT, frames.lengths[i] as number, 0);
  const before = heap();
  const start = process.hrtime.bigint();
  let answered = 0;
  for (let i = 0; i < n; i++) if (d.handle(frames.ring, i * RING_SLOT, frames.lengths[i] as number, 0) > 0) answered++;
  const ns = Number(process.hrtime.bigint() - start) / n;
  report('DHCPv6 Solicit -> Advertise (fresh)', n, answered, ns, (heap() - before) / 1024);
}

// Request -> Reply with the journal on a real file, group commit per batch.
{
  const n = Math.min(clients, 100_000);
  const frames = inOneBuffer(n, (i) => dhcpFrame(3, 1_000_000 + i, i & 0xffffff, config.server.duid));
  const before = heap();
  const sentBefore = sent;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i += batch) {
    for (let j = i; j < Math.min(n, i + batch); j++) d.handle(frames.ring, j * RING_SLOT, frames.lengths[j] as number, 0);
    await d.flush();
  }
  const ns = Number(process.hrtime.bigint() - start) / n;
  const stats = responder.leases?.journalStats();
  report(`DHCPv6 Request -> Reply (batch ${batch})`, n, sent - sentBefore, ns, (heap() - before) / 1024);
  if (stats) console.log(`journal: ${JSON.stringify(stats)}`);
}

await responder.close();
await rm(dir, { recursive: true, force: true });
