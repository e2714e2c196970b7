/**
 * What the in-process benchmarks (bench/replay.ts, bench/instructions.ts) share beside the
 * measuring loops (src/benchmark/loops.ts, which `punt6 bench replay` uses too): the peers'
 * configuration with a pool big enough for every fresh client of a run, the fixtures' request
 * frames, fresh DHCPv6 clients' frames, and the machine's gauge.
 */

import { join } from 'node:path';
import { emitDhcpv6Message, type Dhcpv6MessageRepr } from '../codecs/dhcpv6.js';
import { fillUdpChecksum } from '../codecs/udp.js';
import { loadCaptureFile } from '../src/capture/reader.js';
import { loadPcap } from '../src/system/pcap.js';
import { parseConfig } from '../src/config/index.js';
import { openResponder, type Responder } from '../src/responder/responder.js';
import { fixturesDirectory } from '../fixtures/paths.js';

export const benchConfig = parseConfig(
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

/**
 * The responder of the benchmark configuration, with its lease journal and server DUID in `dir`;
 * every reply goes to `sink`.
 */
export function openBenchResponder(dir: string, sink: () => void): Promise<Responder> {
  return openResponder(benchConfig, {
    leaseFile: join(dir, 'leases.journal'),
    duidFile: join(dir, 'server-duid'),
    seed: 1,
    // One sender at millions of frames per second: measure the responder, not the rate limiter.
    rateLimit: null,
    sink,
  });
}

/** Frame `index` of a fixture capture, in an array of its own. */
export async function frameOf(file: string, index: number): Promise<Uint8Array> {
  const cap = await loadCaptureFile(join(fixturesDirectory, file));
  return Uint8Array.from((cap.frames[index] as { data: Uint8Array }).data);
}

/**
 * A client's Solicit or Request frame: Ethernet/IPv6/UDP to ff02::1:2 from a fresh MAC, built in
 * one scratch buffer (the result is valid until the next call).
 */
const frameScratch = new Uint8Array(14 + 40 + 8 + 256);
export function dhcpFrame(type: number, client: number, xid: number, serverDuid: Uint8Array | null): Uint8Array {
  const mac = Uint8Array.of(
    0x02,
    0x10,
    (client >>> 24) & 0xff,
    (client >>> 16) & 0xff,
    (client >>> 8) & 0xff,
    client & 0xff,
  );
  const msg: Dhcpv6MessageRepr = {
    kind: 'message',
    msgType: type,
    transactionId: xid,
    options: [
      { kind: 'client-id', duid: { kind: 'll', hardwareType: 1, linkLayerAddress: mac } },
      ...(serverDuid
        ? [
            {
              kind: 'server-id' as const,
              duid: { kind: 'll' as const, hardwareType: 1, linkLayerAddress: serverDuid.subarray(4) },
            },
          ]
        : []),
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
 * The kinds timed on one fixture frame (the first of each capture), in the order they run;
 * `kind` is the message kind as the dispatcher counts it (src/responder/counters.ts).
 */
export const FIXTURE_KINDS: readonly { key: string; kind: string; name: string; file: string }[] = [
  { key: 'ns', kind: 'ns', name: 'NS -> NA', file: 'ndisc6-ns-na.pcap' },
  { key: 'echo', kind: 'echo-request', name: 'echo request -> reply', file: 'ping6-echo.pcap' },
  { key: 'rs', kind: 'rs', name: 'RS -> RA (unicast)', file: 'rdisc6-rs-ra.pcap' },
];

/** Every message kind bench/replay.ts times: the fixture frames', then fresh DHCPv6 clients'. */
export const REPLAY_BENCH_KINDS: readonly string[] = [
  ...FIXTURE_KINDS.map((k) => k.kind),
  'dhcpv6-solicit',
  'dhcpv6-request',
];

/**
 * The machine's gauge: the `pcap` package's decode of one frame (code punt6 does not touch),
 * timed for `seconds`; returns ns per decode. Timed between the rounds of a benchmark, it says
 * what the machine was doing while they ran: it reads higher when the neighbours are busy
 * (docs/bench.md gives its quiet reading per machine).
 */
export function machineGauge(frame: Uint8Array): (seconds: number) => number {
  const pcap = loadPcap();
  const buf = Buffer.from(frame);
  const header = Buffer.alloc(16);
  header.writeUInt32LE(frame.length, 8);
  header.writeUInt32LE(frame.length, 12);
  const packet = { buf, header, link_type: 'LINKTYPE_ETHERNET' };
  const batch = (n: number): number => {
    let ok = 0;
    for (let i = 0; i < n; i++)
      if ((pcap.decode.packet(packet) as { pcap_header?: unknown }).pcap_header !== undefined) ok++;
    return ok;
  };
  batch(20_000);
  return (seconds) => {
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(seconds * 1e9));
    let n = 0;
    let now = start;
    while (now < deadline) {
      if (batch(10_000) !== 10_000) throw new Error('the pcap package did not decode the gauge frame');
      n += 10_000;
      now = process.hrtime.bigint();
    }
    return Number(now - start) / n;
  };
}
