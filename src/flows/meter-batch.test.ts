/**
 * The meter batch against a stand-in switch on a unix socket: HELLO and version negotiation,
 * the METER_MODs and the barrier as bytes, ERRORs matched to changes by xid, ECHO answered, and
 * every way the batch can end without an answer. OvsClient.meterBatch: the socket where
 * ovs-ofctl looks for it, and `ovs-ofctl` when it is not there. (flows.e2e.test.ts runs the batch
 * against a real ovs-vswitchd.)
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { fromHex, toHex } from '../../codecs/bytes.js';
import {
  DEFAULT_OVS_RUNDIR,
  encodeMeterBatch,
  FIRST_XID,
  managementSocket,
  MeterSocketError,
  sendMeterBatch,
  type MeterChange,
} from './meter-batch.js';
import { emitHeader, nextMessageLength, OfType } from './openflow.js';
import { OvsClient } from './ovs.js';

const directory = mkdtempSync(join(tmpdir(), 'punt6-meter-batch-'));
test.after.always(() => rmSync(directory, { recursive: true, force: true }));
let sockets = 0;

const vm = (id: number, port: string): MeterChange => ({
  command: 'add',
  meter: { id, port, rate: 100, burst: 200 },
});
const changes: MeterChange[] = [
  vm(60000, 'vm1'),
  vm(60001, 'vm2'),
  { command: 'modify', meter: { id: 60002, port: 'vm3', rate: 50, burst: 60 } },
  { command: 'delete', id: 61000 },
];

/** A switch on a fresh socket: sends `hello` on connect, hands every message to `onMessage`. */
async function fakeSwitch(
  hello: string,
  onMessage: (m: Uint8Array, socket: Socket) => void,
  path = join(directory, `s${sockets++}.mgmt`),
): Promise<{ path: string; received: string[]; server: Server }> {
  const received: string[] = [];
  const server = createServer((socket) => {
    socket.unref();
    let pending = new Uint8Array(0);
    socket.write(fromHex(hello));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      const b = new Uint8Array(pending.length + chunk.length);
      b.set(pending, 0);
      b.set(chunk, pending.length);
      let o = 0;
      for (let n = nextMessageLength(b, o, b.length); n > 0; n = nextMessageLength(b, o, b.length)) {
        const m = b.slice(o, o + n);
        received.push(toHex(m));
        onMessage(m, socket);
        o += n;
      }
      pending = b.slice(o);
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  server.unref();
  return { path, received, server };
}

function header(type: number, version: number, length: number, xid: number): Uint8Array {
  const b = new Uint8Array(length);
  emitHeader(type, version, length, xid, b, 0);
  return b;
}

/** An ERROR for the message m, quoting it, as ovs-vswitchd sends one. */
function errorFor(m: Uint8Array, type: number, code: number): Uint8Array {
  const e = header(OfType.Error, m[0] as number, 12 + m.length, (m[4]! << 24) | (m[5]! << 16) | (m[6]! << 8) | m[7]!);
  e.set([type >> 8, type & 255, code >> 8, code & 255], 8);
  e.set(m, 12);
  return e;
}

const isType = (m: Uint8Array, type: number): boolean => m[1] === type;

test('a batch: HELLO offering 1.3 to 1.5, every METER_MOD with its xid, the barrier; refusals come back by xid', async (t) => {
  let echoed: (m: string) => void = () => {};
  const echo = new Promise<string>((resolve) => (echoed = resolve));
  const sw = await fakeSwitch('0600000800000001', (m, socket) => {
    if (isType(m, OfType.EchoReply)) echoed(toHex(m));
    if (isType(m, OfType.MeterMod) && m[15] === 0x61) {
      // The second add (meter 60001): out of meters. And a probe in the middle of the batch.
      socket.write(errorFor(m, 12, 10));
      socket.write(fromHex('0602000c000000aa' + 'cafe0000'));
    }
    if (isType(m, OfType.BarrierRequest)) socket.write(header(OfType.BarrierReply, 6, 8, m[7] as number));
  });
  const failures = await sendMeterBatch(sw.path, changes);
  sw.server.close();
  t.deepEqual(failures, [{ change: changes[1], reason: 'OFPMMFC_OUT_OF_METERS: the switch has no more meters' }]);
  t.deepEqual(sw.received, [
    // OFPT_HELLO (OF1.5) (xid=0x1): version bitmap: 0x04, 0x05, 0x06
    '06000010000000010001000800000070',
    // ADD meter=60000 pktps burst stats bands= type=drop rate=100 burst_size=200 (xid=0x2)
    '061d0020000000020000000e0000ea600001001000000064000000c800000000',
    '061d0020000000030000000e0000ea610001001000000064000000c800000000',
    // MOD meter=60002 pktps burst stats bands= type=drop rate=50 burst_size=60 (xid=0x4)
    '061d0020000000040001000e0000ea620001001000000032000000' + '3c00000000',
    // DEL meter=61000 (xid=0x5)
    '061d001000000005000200000000ee48',
    // OFPT_BARRIER_REQUEST (OF1.5) (xid=0x6)
    '0614000800000006',
  ]);
  // OFPT_ECHO_REPLY (OF1.5) (xid=0xaa), the probe's data (sent when the probe came, after the batch)
  t.is(await echo, '0603000c000000aacafe0000');
  t.is(toHex(encodeMeterBatch(changes, 6)), sw.received.slice(1, 5).join('') + '0614000800000006');
  t.is(FIRST_XID, 2);
});

test('a bridge that allows OpenFlow 1.0 and 1.3 only: the batch is sent in 1.3', async (t) => {
  const sw = await fakeSwitch('04000010000000060001000800000012', (m, socket) => {
    if (isType(m, OfType.BarrierRequest)) socket.write(header(OfType.BarrierReply, 4, 8, m[7] as number));
  });
  t.deepEqual(await sendMeterBatch(sw.path, changes.slice(0, 1)), []);
  sw.server.close();
  t.deepEqual(
    sw.received.slice(1).map((h) => h.slice(0, 4)),
    ['041d', '0414'],
  );
});

test('every way a batch ends without an answer is an error that says whether meters may have changed', async (t) => {
  const only10 = await fakeSwitch('0100000800000007', () => {});
  await t.throwsAsync(sendMeterBatch(only10.path, changes), {
    instanceOf: MeterSocketError,
    message:
      'the switch speaks no OpenFlow version with meters (1.3 to 1.5); its HELLO says version 1; no meter was changed',
  });
  const closes = await fakeSwitch('0600000800000001', (m, socket) => {
    if (isType(m, OfType.BarrierRequest)) socket.destroy();
  });
  await t.throwsAsync(sendMeterBatch(closes.path, changes), {
    message: 'the switch closed the connection; some of the 4 meter changes may have taken effect',
  });
  const silent = await fakeSwitch('0600000800000001', () => {});
  await t.throwsAsync(sendMeterBatch(silent.path, changes, 300), {
    message: 'no answer to the barrier within 300 ms; some of the 4 meter changes may have taken effect',
  });
  const garbled = await fakeSwitch('0600000400000001', () => {});
  await t.throwsAsync(sendMeterBatch(garbled.path, changes), {
    message: 'the switch sent a malformed OpenFlow message; no meter was changed',
  });
  const refuses = await fakeSwitch('0600000800000001', (m, socket) => {
    if (isType(m, OfType.Hello)) socket.write(errorFor(m, 0, 0));
  });
  await t.throwsAsync(sendMeterBatch(refuses.path, changes), {
    message: /^the switch failed the connection: OFPHFC_INCOMPATIBLE: no version in common; /,
  });
  const missing = await t.throwsAsync(sendMeterBatch(join(directory, 'none.mgmt'), changes), {
    instanceOf: MeterSocketError,
  });
  t.is(missing?.code, 'ENOENT');
  for (const s of [only10, closes, silent, garbled, refuses]) s.server.close();
});

test("the management socket is where ovs-ofctl looks: OVS_RUNDIR, else the build's rundir", (t) => {
  t.is(managementSocket('br0', { OVS_RUNDIR: '/srv/ovs' }), '/srv/ovs/br0.mgmt');
  t.is(managementSocket('br0', { OVS_RUNDIR: '' }), `${DEFAULT_OVS_RUNDIR}/br0.mgmt`);
  t.is(managementSocket('br-int', {}), '/var/run/openvswitch/br-int.mgmt');
});

/** An OvsClient whose ovs-ofctl calls are recorded, not run. */
class RecordingClient extends OvsClient {
  readonly calls: string[] = [];
  override async ofctl(args: readonly string[]): Promise<string> {
    this.calls.push(args.join(' '));
    return '';
  }
}

test('OvsClient.meterBatch: through the socket when it is there; through ovs-ofctl, and saying so, when not', async (t) => {
  const rundir = mkdtempSync(join(directory, 'run-'));
  const client = new RecordingClient({ OVS_RUNDIR: rundir });
  t.deepEqual(await client.meterBatch('br0', changes), []);
  t.deepEqual(client.calls, [
    'add-meter br0 meter=60000,pktps,burst,stats,bands=type=drop,rate=100,burst_size=200',
    'add-meter br0 meter=60001,pktps,burst,stats,bands=type=drop,rate=100,burst_size=200',
    'mod-meter br0 meter=60002,pktps,burst,stats,bands=type=drop,rate=50,burst_size=60',
    'del-meter br0 meter=61000',
  ]);
  t.is(
    client.meterFallback,
    `no OpenFlow socket ${rundir}/br0.mgmt: meters changed with one ovs-ofctl each (set OVS_RUNDIR to the directory of br0.mgmt)`,
  );

  const sw = await fakeSwitch(
    '0600000800000001',
    (m, socket) => {
      if (isType(m, OfType.BarrierRequest)) socket.write(header(OfType.BarrierReply, 6, 8, m[7] as number));
    },
    join(rundir, 'br0.mgmt'),
  );
  client.calls.length = 0;
  t.deepEqual(await client.meterBatch('br0', changes), []);
  t.deepEqual(client.calls, []);
  t.is(client.meterFallback, null);
  t.is(sw.received.length, 6, 'HELLO, four METER_MODs, BARRIER_REQUEST');
  sw.server.close();
});
