import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { loadCaptureFile } from '../capture/reader.js';
import { loadConfig } from '../config/index.js';
import { MessageKind, Outcome } from '../responder/counters.js';
import { openResponder, type Responder } from '../responder/responder.js';
import { PuntLoop } from './loop.js';
import { MemoryDataplane } from '../test-support/memory-dataplane.js';
import type { PortEvent } from './dataplane.js';

const ICMPV6_AT = 14 + 40; // untagged frame, no extension header

async function firstFrame(file: string): Promise<Uint8Array> {
  const c = await loadCaptureFile(join(fixturesDirectory, file));
  return c.frames[0]?.data as Uint8Array;
}

async function withLoop(
  fn: (loop: PuntLoop, dp: MemoryDataplane, responder: Responder) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'punt6-loop-'));
  const dp = new MemoryDataplane(['punt0']);
  const loop = new PuntLoop(dp);
  const config = await loadConfig(join(fixturesDirectory, 'config', 'peers.yaml'));
  const responder = await openResponder(config, {
    sink: loop.sink,
    leaseFile: join(dir, 'leases'),
    duidFile: join(dir, 'duid'),
    seed: 7,
  });
  try {
    await fn(loop, dp, responder);
  } finally {
    loop.stop();
    await responder.close();
    await dp.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('a Neighbor Solicitation arriving on a port is answered on that port with an NA to the solicitor', async (t) => {
  const ns = await firstFrame('ndisc6-ns-na.pcap');
  await withLoop(async (loop, dp, responder) => {
    loop.start(responder);
    dp.sent.length = 0;
    t.true(dp.deliver(0, ns));
    t.is(dp.sent.length, 1);
    const reply = dp.sent[0]!;
    t.is(reply.port, 0);
    t.deepEqual([...reply.frame.subarray(0, 6)], [...ns.subarray(6, 12)]);
    t.is(reply.frame[ICMPV6_AT], 136);
    t.is(responder.dispatcher.counters.get(0, MessageKind.NeighborSolicitation, Outcome.Answered), 1);
  });
});

test('a Router Solicitation gets a unicast RA, and the RA timer is armed once started', async (t) => {
  const rs = await firstFrame('rdisc6-rs-ra.pcap');
  await withLoop(async (loop, dp, responder) => {
    t.is(loop.nextDue, Infinity);
    loop.start(responder);
    t.true(Number.isFinite(loop.nextDue), 'periodic RAs scheduled');
    const before = dp.sent.length;
    dp.deliver(0, rs);
    const ra = dp.sent[before]!;
    t.is(ra.frame[ICMPV6_AT], 134);
    t.deepEqual([...ra.frame.subarray(0, 6)], [...rs.subarray(6, 12)]);
  });
});

test('frames arriving while paused (a reload) are dropped and counted, then answered again', async (t) => {
  const ns = await firstFrame('ndisc6-ns-na.pcap');
  await withLoop(async (loop, dp, responder) => {
    loop.start(responder);
    t.is(loop.pause(), responder);
    const before = dp.sent.length;
    dp.deliver(0, ns);
    dp.deliver(0, ns);
    t.is(loop.droppedWhilePaused, 2);
    t.is(dp.sent.length, before);
    loop.start(responder);
    dp.deliver(0, ns);
    t.is(dp.sent.length, before + 1);
  });
});

test('final advertisements: three rounds of all-nodes RAs with router lifetime 0, then no timer', async (t) => {
  await withLoop(async (loop, dp, responder) => {
    loop.start(responder);
    dp.sent.length = 0;
    t.is(await loop.sendFinalAdvertisements(3, 0), 3);
    t.is(dp.sent.length, 3);
    for (const { frame } of dp.sent) {
      t.deepEqual([...frame.subarray(0, 6)], [0x33, 0x33, 0, 0, 0, 1]);
      t.is(frame[ICMPV6_AT], 134);
      t.is((frame[ICMPV6_AT + 6]! << 8) | frame[ICMPV6_AT + 7]!, 0, 'router lifetime 0');
    }
    t.is(loop.nextDue, Infinity);
  });
});

test('replies that cannot be sent (port gone) are counted, not thrown', async (t) => {
  const ns = await firstFrame('ndisc6-ns-na.pcap');
  await withLoop(async (loop, dp, responder) => {
    loop.start(responder);
    dp.deliver(0, ns);
    dp.unplug('punt0');
    t.false(dp.deliver(0, ns), 'nothing arrives on a vanished interface');
    t.false(dp.send(0, ns, 0, ns.length));
    loop.sink(0, ns, 0, ns.length);
    t.is(loop.sendFailures, 1);
    t.is(dp.status()[0]!.sendErrors, 2);
  });
});

test('memory dataplane: ports keep their state when renumbered, vanish and come back', (t) => {
  const events: PortEvent[] = [];
  const dp = new MemoryDataplane(['a', 'b'], (e) => events.push(e));
  dp.setReceiver(() => {});
  dp.deliver(1, new Uint8Array(20));
  dp.setPorts(['b', 'c']);
  t.deepEqual(dp.ports, ['b', 'c']);
  t.deepEqual(
    dp.status().map((s) => [s.port, s.name, s.received, s.attaches]),
    [
      [0, 'b', 1, 1],
      [1, 'c', 0, 1],
    ],
  );
  dp.unplug('c');
  t.false(dp.status()[1]!.attached);
  dp.plug('c');
  t.deepEqual(
    dp.status().map((s) => [s.name, s.attached, s.attaches]),
    [
      ['b', true, 1],
      ['c', true, 2],
    ],
  );
  t.deepEqual(
    events.map((e) => `${e.type} ${e.name}`),
    ['attached a', 'attached b', 'attached c', 'detached a', 'lost c', 'attached c'],
  );
});

test('the reused receive buffer: a receiver sees each frame at offset 0 with its length', (t) => {
  const dp = new MemoryDataplane(['a']);
  const seen: string[] = [];
  dp.setReceiver((port, frame, length) =>
    seen.push(`${port}:${Buffer.from(frame.subarray(0, length)).toString('hex')}`),
  );
  dp.deliver(0, Uint8Array.from([1, 2, 3]));
  dp.deliver(0, Uint8Array.from([4]));
  t.deepEqual(seen, ['0:010203', '0:04']);
});
