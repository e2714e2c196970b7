/**
 * The ring dataplane on real veth pairs, as root: the first frame after an attach reaches the
 * receiver and only the punted kinds do (the kernel filter), replies written during a batch
 * leave together even when they outnumber the transmit slots, its own sends do not come back, a
 * removed interface is detached and attached again when it returns, and a link that flaps a
 * hundred times stays attached with descriptors and mappings as they were.
 * Outside CI, without root, `ip` or the built addon, it skips saying why; with CI=true it must run.
 */

import type { PortEvent } from './dataplane.js';
import { RingDataplane } from './ring.js';
import { icmpv6Frame, ip6, mac, udpFrame } from '../test-support/frames.js';
import { collectingRing, ip, resources, ringTests, sendFrames, settle, sleep, vethPair } from '../test-support/ring.js';

const A = 'p6rg-da';
const B = 'p6rg-db';
const live = ringTests('src/dataplane/ring.e2e.test.ts', [A]);

const vm = mac('02:00:00:00:00:01');
const vmLl = ip6('fe80::1');
const router = ip6('fe80::2');

/** An echo request numbered `seq` (identifier 1), with `pad` bytes of data. */
function echo(seq: number, pad = 0): Uint8Array {
  return icmpv6Frame({ srcMac: vm, src: vmLl, dst: router, hopLimit: 64 }, 128, 0, [
    0,
    1,
    seq >> 8,
    seq & 0xff,
    ...new Array<number>(pad).fill(0xab),
  ]);
}

const seqOf = (f: Uint8Array): number => ((f[60] as number) << 8) | (f[61] as number);

/** A veth pair and a ring dataplane on A that records its events, the echo numbers it reads and their lengths. */
function watchedDataplane(retryMs: number): {
  dp: RingDataplane;
  events: PortEvent[];
  got: number[];
  lengths: number[];
} {
  vethPair(A, B);
  const events: PortEvent[] = [];
  const dp = new RingDataplane([A], { frames: 256, retryMs, onEvent: (e) => events.push(e) });
  const got: number[] = [];
  const lengths: number[] = [];
  dp.setReceiver((_port, frame, off, len) => {
    got.push(seqOf(frame.subarray(off)));
    lengths.push(len);
  });
  return { dp, events, got, lengths };
}

/** Sends echo request `seq` from a ring of its own on B; true once `got` holds it. */
async function deliveredFromPeer(seq: number, got: number[]): Promise<boolean> {
  const peer = collectingRing(B, { frames: 64 });
  try {
    return sendFrames(peer.ring, [echo(seq)]) === 1 && (await settle(() => got.includes(seq)));
  } finally {
    peer.ring.close();
  }
}

live('the first frame after attach arrives, only punted kinds pass, sends leave and do not come back', async (t) => {
  vethPair(A, B);
  const events: PortEvent[] = [];
  const dp = new RingDataplane([A], { frames: 256, onEvent: (e) => events.push(e) });
  const peer = collectingRing(B, { frames: 256 });
  const got: { port: number; seq: number; len: number; trusted: boolean }[] = [];
  dp.setReceiver((port, frame, off, len, trusted) =>
    got.push({ port, seq: seqOf(frame.subarray(off, off + len)), len, trusted }),
  );
  try {
    t.deepEqual(
      events.map((e) => e.type),
      ['attached'],
    );
    // An echo reply and a DHCPv6 reply are not punted kinds: the kernel filter keeps them out.
    const reply = icmpv6Frame({ srcMac: vm, src: vmLl, dst: router, hopLimit: 64 }, 129, 0, [0, 1, 0, 9]);
    const dhcpReply = udpFrame({ srcMac: vm, src: vmLl, dst: router, hopLimit: 1 }, 547, 546, [7, 0, 0, 1]);
    t.is(sendFrames(peer.ring, [echo(1), reply, dhcpReply, echo(2, 1000)]), 4);
    t.true(await settle(() => got.length >= 2));
    await sleep(100);
    t.deepEqual(
      got.map((g) => [g.port, g.seq, g.len, g.trusted]),
      [
        [0, 1, 62, false],
        [0, 2, 1062, false],
      ],
    );
    // punt6's own send reaches the peer and is not read back.
    const out = echo(7);
    t.true(dp.send(0, out, 0, out.length));
    t.true(await settle(() => peer.received.some((f) => seqOf(f) === 7)));
    await sleep(100);
    t.is(got.length, 2);
    const s = dp.status()[0]!;
    t.deepEqual([s.attached, s.received, s.sent, s.sendErrors], [true, 2, 1, 0]);
  } finally {
    peer.ring.close();
    await dp.close();
  }
});

live('replies written during one batch leave together, past the transmit slots too', async (t) => {
  vethPair(A, B);
  const dp = new RingDataplane([A], { frames: 1024, txFrames: 8 });
  const peer = collectingRing(B, { frames: 1024 });
  // Every frame is answered: the same bytes, sent back on its port during the batch.
  dp.setReceiver((port, frame, off, len) => dp.send(port, frame, off, len));
  try {
    const n = 200;
    let sent = 0;
    for (let i = 0; i < n; i += 100)
      sent += sendFrames(
        peer.ring,
        Array.from({ length: 100 }, (_, k) => echo(i + k)),
      );
    t.is(sent, n);
    t.true(await settle(() => peer.received.length >= n), `${peer.received.length} of ${n}`);
    t.deepEqual(
      peer.received.map(seqOf),
      Array.from({ length: n }, (_, k) => k),
    );
    const s = dp.status()[0]!;
    t.deepEqual([s.received, s.sent, s.sendErrors, s.captureDropped], [n, n, 0, 0]);
  } finally {
    peer.ring.close();
    await dp.close();
  }
});

live('a removed interface is detached, and attached again when it returns', async (t) => {
  const { dp, events, got } = watchedDataplane(100);
  try {
    ip('link', 'del', A);
    t.true(await settle(() => events.some((e) => e.type === 'lost')), events.map((e) => e.type).join());
    t.false(dp.status()[0]!.attached);
    const out = echo(1);
    t.false(dp.send(0, out, 0, out.length), 'nothing to send on');
    vethPair(A, B);
    t.true(await settle(() => dp.status()[0]!.attached));
    t.true(await deliveredFromPeer(3, got));
    t.is(dp.status()[0]!.attaches, 2);
  } finally {
    await dp.close();
  }
});

live('a link that flaps a hundred times stays attached; descriptors and memory stay flat', async (t) => {
  const { dp, events, got } = watchedDataplane(50);
  try {
    const before = await resources();
    const heap = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100; i++) {
      ip('link', 'set', A, 'down');
      ip('link', 'set', A, 'up');
      if (i % 10 === 0) await sleep(20);
    }
    await sleep(300);
    t.true(await deliveredFromPeer(5, got));
    const after = await resources();
    t.is(after.fds, before.fds);
    t.is(after.packetMaps, before.packetMaps);
    t.true(after.maps - before.maps < 20, `maps ${before.maps} -> ${after.maps}`);
    t.true(process.memoryUsage().heapUsed - heap < 8 << 20, 'heap');
    t.true(
      events.every((e) => e.type === 'attached' || e.type === 'link-down'),
      events.map((e) => e.type).join(),
    );
    t.true(events.some((e) => e.type === 'link-down'));
  } finally {
    await dp.close();
  }
});

live(
  'an MTU raised past the slots: the ring is opened again with larger slots, jumbo frames arrive whole',
  async (t) => {
    const { dp, events, got } = watchedDataplane(50);
    try {
      const small = dp.status()[0]!;
      t.is(small.attaches, 1);
      ip('link', 'set', A, 'mtu', '9000');
      ip('link', 'set', B, 'mtu', '9000');
      t.true(await settle(() => dp.status()[0]!.attaches === 2), events.map((e) => e.type).join());
      t.true(events.some((e) => e.type === 'lost' && e.reason === 'MTU raised to 9000'));
      const peer = collectingRing(B, { frames: 64, mtu: 9000 });
      try {
        t.is(sendFrames(peer.ring, [echo(77, 8000)]), 1);
        t.true(await settle(() => got.includes(77)));
      } finally {
        peer.ring.close();
      }
      t.is(dp.status()[0]!.received, 1);
    } finally {
      await dp.close();
    }
  },
);
