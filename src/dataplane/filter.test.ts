import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCaptureFile } from '../capture/reader.js';
import { CaptureWriter } from '../capture/writer.js';
import { puntCaptureFilter, puntFilterBody, puntSocketFilter } from './filter.js';
import { runSocketFilter } from '../test-support/bpf.js';
import {
  icmpv6Frame,
  ip6,
  mac,
  neighborSolicitation,
  solicitedNode,
  udpFrame,
  type FrameSpec,
} from '../test-support/frames.js';

const vm = mac('02:00:00:00:00:01');
const router = ip6('2001:db8:1::1');
const ll = ip6('fe80::ff:fe00:1');
const allRouters = ip6('ff02::2');
const allNodes = ip6('ff02::1');
const dhcpServers = ip6('ff02::1:2');
const snoopers = ip6('ff02::6a');
const mldv2 = ip6('ff02::16');

function cases(vlan?: number): { name: string; frame: Uint8Array; kept: boolean }[] {
  const s = (dst: Uint8Array, extra: Partial<FrameSpec> = {}): FrameSpec => ({
    srcMac: vm,
    src: ll,
    dst,
    vlan,
    ...extra,
  });
  const tag = vlan === undefined ? '' : ` (VLAN ${vlan})`;
  return [
    { name: 'neighbor solicitation', frame: neighborSolicitation(s(solicitedNode(router)), router), kept: true },
    { name: 'neighbor advertisement', frame: icmpv6Frame(s(allNodes), 136, 0, [0x20, 0, 0, 0, ...ll]), kept: false },
    { name: 'router solicitation', frame: icmpv6Frame(s(allRouters), 133, 0, [0, 0, 0, 0]), kept: true },
    { name: 'router advertisement', frame: icmpv6Frame(s(allNodes), 134, 0, new Array(12).fill(0)), kept: false },
    { name: 'echo request', frame: icmpv6Frame(s(router, { hopLimit: 64 }), 128, 0, [0, 1, 0, 1]), kept: true },
    { name: 'echo reply', frame: icmpv6Frame(s(router, { hopLimit: 64 }), 129, 0, [0, 1, 0, 1]), kept: false },
    {
      name: 'inverse ND solicitation',
      frame: icmpv6Frame(s(allNodes), 141, 0, [0, 0, 0, 0, 1, 1, ...vm, 2, 1, ...vm]),
      kept: true,
    },
    { name: 'MRD solicitation', frame: icmpv6Frame(s(snoopers, { hopLimit: 1 }), 152, 0, []), kept: true },
    {
      name: 'MRD solicitation behind a Hop-by-Hop header',
      frame: icmpv6Frame(s(snoopers, { hopLimit: 1, hopByHop: true }), 152, 0, []),
      kept: true,
    },
    {
      name: 'MLDv2 report behind a Hop-by-Hop header',
      frame: icmpv6Frame(s(mldv2, { hopLimit: 1, hopByHop: true }), 143, 0, [0, 0, 0, 0]),
      kept: false,
    },
    {
      name: 'DHCPv6 Solicit to port 547',
      frame: udpFrame(s(dhcpServers, { hopLimit: 1 }), 546, 547, [1, 0, 0, 1]),
      kept: true,
    },
    { name: 'DHCPv6 Reply to port 546', frame: udpFrame(s(ll, { hopLimit: 1 }), 547, 546, [7, 0, 0, 1]), kept: false },
    { name: 'UDP to another port', frame: udpFrame(s(router, { hopLimit: 64 }), 5353, 53, [0]), kept: false },
  ].map((c) => ({ ...c, name: c.name + tag }));
}

test('the punt filter keeps exactly the frames punt6 answers, untagged and 802.1Q-tagged', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'punt6-filter-'));
  try {
    const all = [...cases(), ...cases(100), ...cases(4094)];
    const path = join(dir, 'frames.pcap');
    const w = new CaptureWriter(path);
    for (const c of all) w.write(c.frame, 0, c.frame.length, 1);
    w.close();
    // The reader numbers the frames that pass the filter: tell them apart by their bytes.
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const kept = new Set<string>();
    await readCaptureFile(path, (f) => kept.add(hex(f.data.subarray(0, f.captureLength))), puntFilterBody());
    const got = all.map((c) => ({ name: c.name, kept: kept.has(hex(c.frame)) }));
    t.deepEqual(
      got,
      all.map((c) => ({ name: c.name, kept: c.kept })),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the socket filter of the ring keeps the same frames, seen as the kernel shows them (tag removed)', (t) => {
  const prog = puntSocketFilter();
  // What a packet socket's filter sees of a tagged frame: the kernel moved the tag into the
  // packet's metadata (TPID and TCI, bytes 12-15, gone).
  const untagged = (f: Uint8Array): Uint8Array =>
    f[12] === 0x81 && f[13] === 0 ? Uint8Array.from([...f.subarray(0, 12), ...f.subarray(16)]) : f;
  const all = [...cases(), ...cases(100), ...cases(4094)];
  t.deepEqual(
    all.map((c) => ({ name: c.name, kept: runSocketFilter(prog, untagged(c.frame)) !== 0 })),
    all.map((c) => ({ name: c.name, kept: c.kept })),
  );
  // Kept frames are kept whole; every truncation of a kept frame is read safely (kept or not).
  const ns = cases()[0]!.frame;
  t.true(runSocketFilter(prog, ns) >= 65535);
  for (let n = 0; n < ns.length; n++) t.notThrows(() => runSocketFilter(prog, ns.subarray(0, n)));
  t.is(runSocketFilter(prog, ns.subarray(0, 54)), 0);
});

test('the live filter is the body, without inbound (libpcap loses the first frame with it)', (t) => {
  t.is(puntCaptureFilter(), puntFilterBody());
});

test("the fixtures: requests pass both filters, the peers' answers do not", async (t) => {
  const { fixturesDirectory } = await import('../../fixtures/paths.js');
  // [file, frames, frames that are requests punt6 answers]
  const prog = puntSocketFilter();
  const expected: [string, number, number][] = [
    ['ndisc6-ns-na.pcap', 2, 1],
    ['rdisc6-rs-ra.pcap', 2, 1],
    ['ping6-echo.pcap', 6, 3],
    ['dhclient-stateful.pcap', 8, 4],
  ];
  for (const [file, frames, requests] of expected) {
    let all = 0;
    let kept = 0;
    let keptBySocket = 0;
    await readCaptureFile(join(fixturesDirectory, file), (f) => {
      all++;
      if (runSocketFilter(prog, f.data.subarray(0, f.captureLength)) !== 0) keptBySocket++;
    });
    await readCaptureFile(join(fixturesDirectory, file), () => kept++, puntFilterBody());
    t.deepEqual([file, all, kept, keptBySocket], [file, frames, requests, requests]);
  }
});
