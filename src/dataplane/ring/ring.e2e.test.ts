/**
 * The native packet ring on real veth pairs, as root: frames of every length up to the MTU and
 * jumbo frames arrive whole and in order, the ring wraps around, a full ring drops and counts,
 * a batch larger than the transmit slots is refused past them, a removed interface is reported
 * without a crash, and close/reopen and link flaps leave descriptors and mappings as they were.
 * Outside CI, without root, `ip` or the built addon, it skips saying why; with CI=true it must run.
 */

import { constants } from 'node:os';
import {
  addon,
  collectingRing,
  ip,
  numberedFrame,
  resources,
  ringTests,
  sendFrames,
  settle,
  sleep,
  vethPair,
} from '../../test-support/ring.js';
import { slotSize, type NativeRing } from './addon.js';

const A = 'p6rg-ra';
const B = 'p6rg-rb';
const live = ringTests('src/dataplane/ring/ring.e2e.test.ts', [A]);

/** Sends `frames` from a ring on B in transmit-sized chunks; the receiver is on A. */
async function sendAll(frames: Uint8Array[], txFrames = 256): Promise<number> {
  const a = addon();
  const maxLen = Math.max(...frames.map((f) => f.length));
  const tx = new a.Ring(B, {
    frames: 64,
    frameSize: slotSize(Math.max(maxLen, 1500), a.headroom),
    txFrames,
    batch: 64,
    onReadable: () => tx.receive(),
  });
  let sent = 0;
  try {
    for (let i = 0; i < frames.length; i += txFrames) {
      sent += sendFrames(tx, frames.slice(i, i + txFrames));
      await sleep(1);
    }
  } finally {
    tx.close();
  }
  return sent;
}

/**
 * A veth pair of this MTU, a ring on A: `frames` sent from B, and the copies of what arrived
 * once `frames.length` did (or 3 s passed), with the ring's slot size and drops.
 */
async function roundTrip(
  frames: Uint8Array[],
  options: { frames: number; mtu?: number },
): Promise<{ sent: number; received: Uint8Array[]; frameSize: number; dropped: number }> {
  vethPair(A, B, options.mtu);
  const { ring, received } = collectingRing(A, options);
  try {
    const sent = await sendAll(frames);
    await settle(() => received.length >= frames.length);
    return { sent, received, frameSize: ring.frameSize, dropped: ring.stats().dropped };
  } finally {
    ring.close();
  }
}

live('every frame length from the minimum to the MTU arrives whole, in order', async (t) => {
  const frames: Uint8Array[] = [];
  for (let len = 60, seq = 0; len <= 1514; len++, seq++) frames.push(numberedFrame(len, seq));
  const r = await roundTrip(frames, { frames: 2048 });
  t.is(r.sent, frames.length);
  t.is(r.received.length, frames.length);
  t.true(
    r.received.every((f, i) => Buffer.compare(f, frames[i] as Uint8Array) === 0),
    'byte for byte',
  );
  t.is(r.dropped, 0);
});

live('jumbo frames up to a 9000-byte MTU arrive whole (slots sized from the MTU)', async (t) => {
  const lengths = [1515, 2048, 4096, 8191, 9000, 9013, 9014];
  const frames = lengths.map((len, seq) => numberedFrame(len, seq));
  const r = await roundTrip(frames, { frames: 512, mtu: 9000 });
  t.true(r.frameSize >= 9000 + 14);
  t.deepEqual(
    r.received.map((f) => f.length),
    lengths,
  );
  t.true(r.received.every((f, i) => Buffer.compare(f, frames[i] as Uint8Array) === 0));
});

live('the ring wraps around: ten times its size goes through in order', async (t) => {
  vethPair(A, B);
  // The smallest ring: one kernel block.
  const { ring, received } = collectingRing(A, { frames: 1 });
  try {
    const total = ring.frames * 10 + 7;
    const frames = Array.from({ length: total }, (_, seq) => numberedFrame(64 + (seq % 200), seq));
    // Chunks smaller than the ring, each read before the next is sent.
    let sent = 0;
    for (let i = 0; i < total; i += 32) {
      sent += await sendAll(frames.slice(i, i + 32), 32);
      await settle(() => received.length >= Math.min(i + 32, total));
    }
    t.is(sent, total);
    t.is(received.length, total);
    t.deepEqual(
      received.map((r) => new DataView(r.buffer).getUint32(14)),
      frames.map((_, seq) => seq),
    );
    t.is(ring.stats().dropped, 0);
  } finally {
    ring.close();
  }
});

live('a full receive ring drops and counts what does not fit, then goes on', async (t) => {
  vethPair(A, B);
  const a = addon();
  let wakeups = 0;
  // Nothing is read while the burst arrives: the readable callback only counts.
  const ring = new a.Ring(A, {
    frames: 1,
    frameSize: slotSize(1500, a.headroom),
    txFrames: 8,
    batch: 4096,
    onReadable: () => wakeups++,
  });
  try {
    const size = ring.frames;
    const burst = Array.from({ length: size + 100 }, (_, seq) => numberedFrame(100, seq));
    t.is(await sendAll(burst), burst.length);
    t.true(await settle(() => ring.stats().dropped + ring.stats().received >= burst.length));
    t.true(wakeups > 0);
    const n = ring.receive();
    t.is(n, size, 'every slot full');
    t.is(new DataView(ring.rx).getUint32((ring.descriptors[0] as number) + 14), 0, 'the first frames were kept');
    const stats = ring.stats();
    t.is(stats.dropped, 100);
    ring.release();
    // Room again: the next frame is taken.
    t.is(await sendAll([numberedFrame(100, 9999)]), 1);
    t.true(await settle(() => ring.receive() === 1));
  } finally {
    ring.close();
  }
});

live('send() refuses a count past the transmit slots and sends the slots it has', async (t) => {
  vethPair(A, B);
  const { ring, received } = collectingRing(A, { frames: 1024 });
  const a = addon();
  const tx = new a.Ring(B, {
    frames: 64,
    frameSize: slotSize(1500, a.headroom),
    txFrames: 16,
    batch: 16,
    onReadable: () => tx.receive(),
  });
  try {
    for (let k = 0; k < 16; k++) {
      new Uint8Array(tx.tx).set(numberedFrame(80, k), k * tx.frameSize);
      tx.txLengths[k] = 80;
    }
    t.is(tx.send(1000), 16, 'clamped to the slots');
    // A slot whose length is impossible is skipped, not sent.
    tx.txLengths[3] = tx.frameSize + 1;
    tx.txLengths[4] = 0;
    t.is(tx.send(16), 14);
    t.true(await settle(() => received.length >= 30));
    t.is(received.length, 30);
  } finally {
    tx.close();
    ring.close();
  }
});

live('an interface removed under the ring is reported, and the ring stays safe to use and close', async (t) => {
  vethPair(A, B);
  const { ring, codes } = collectingRing(A);
  const rx = new Uint8Array(ring.rx);
  ip('link', 'del', A);
  t.true(await settle(() => codes.some((c) => c < 0)), `codes ${codes.join(',')}`);
  const ENODEV = constants.errno.ENODEV;
  const ENETDOWN = constants.errno.ENETDOWN;
  t.true(
    codes.every((c) => c === 0 || c === -ENODEV || c === -ENETDOWN),
    `codes ${codes.join(',')}`,
  );
  t.is(ring.receive(), 0);
  t.is(sendFrames(ring, [numberedFrame(64, 1)]), 0, 'nothing sent');
  t.not(ring.stats().error, '');
  ring.close();
  ring.close();
  t.is(rx.length, 0, 'views over the ring are detached by close');
  t.is(ring.receive(), 0);
  t.is(ring.send(1), 0);
});

live('the first frame after the ring opens arrives (filter and ring are in place before the bind)', async (t) => {
  vethPair(A, B);
  for (let i = 0; i < 5; i++) {
    const { ring, received } = collectingRing(A, { frames: 64 });
    try {
      t.is(await sendAll([numberedFrame(70, i)]), 1);
      t.true(await settle(() => received.length === 1, 2000), `round ${i}`);
    } finally {
      ring.close();
    }
  }
});

live('close and reopen 200 times: no descriptor, mapping or socket mapping left behind', async (t) => {
  vethPair(A, B);
  const a = addon();
  const make = (onReadable: (r: NativeRing) => void): NativeRing => {
    const r: NativeRing = new a.Ring(A, {
      frames: 256,
      frameSize: slotSize(1500, a.headroom),
      txFrames: 64,
      batch: 64,
      onReadable: () => onReadable(r),
    });
    return r;
  };
  make((r) => r.receive()).close();
  const before = await resources();
  for (let i = 0; i < 200; i++) make((r) => r.receive()).close();
  // Rings never closed, only dropped, are freed by the garbage collector.
  for (let i = 0; i < 50; i++) t.true(make(() => {}).frames >= 256);
  const after = await resources();
  t.is(after.fds, before.fds);
  t.is(after.packetMaps, before.packetMaps);
  t.true(after.maps - before.maps < 20, `maps ${before.maps} -> ${after.maps}`);
});

live('a link that flaps 100 times: the ring reports it, frames still arrive, nothing grows', async (t) => {
  vethPair(A, B);
  const { ring, received, codes } = collectingRing(A, { frames: 256 });
  try {
    const before = await resources();
    for (let i = 0; i < 100; i++) {
      ip('link', 'set', A, 'down');
      ip('link', 'set', A, 'up');
      if (i % 10 === 0) await sleep(5);
    }
    await sleep(200);
    t.true(codes.includes(-constants.errno.ENETDOWN), 'link down reported');
    t.is(await sendAll([numberedFrame(90, 42)]), 1);
    t.true(await settle(() => received.some((r) => new DataView(r.buffer).getUint32(14) === 42)));
    const after = await resources();
    t.is(after.fds, before.fds);
    t.is(after.packetMaps, before.packetMaps);
    t.true(after.maps - before.maps < 20, `maps ${before.maps} -> ${after.maps}`);
  } finally {
    ring.close();
  }
});

live('an 802.1Q tag the kernel took off is put back in front of the EtherType', async (t) => {
  const untagged = numberedFrame(100, 5);
  const tagged = new Uint8Array(104);
  tagged.set(untagged.subarray(0, 12));
  tagged.set([0x81, 0x00, 0x20, 0x64], 12); // priority 1, VLAN 100
  tagged.set(untagged.subarray(12), 16);
  const r = await roundTrip([tagged], { frames: 64 });
  t.deepEqual(
    r.received.map((f) => [...f]),
    [[...tagged]],
  );
});
