/**
 * The OpenFlow messages of openflow.ts against bytes Open vSwitch 3.1 itself wrote: what
 * `ovs-ofctl` sent for `add-meter`, `mod-meter` and `del-meter` to a unix socket standing in for
 * the bridge, and what ovs-vswitchd answered on a bridge's management socket. Each fixture is
 * preceded by the way `ovs-ofctl ofp-print HEX` reads it.
 */

import test from 'ava';
import fc from 'fast-check';
import { fromHex, toHex } from '../../codecs/bytes.js';
import { Status } from '../../codecs/status.js';
import {
  describeError,
  emitBarrierRequest,
  emitEchoReply,
  emitHello,
  emitMeterMod,
  ErrorType,
  METER_VERSIONS_BITMAP,
  MeterCommand,
  MeterFlag,
  meterModLength,
  negotiateVersion,
  nextMessageLength,
  OfMessageView,
  OfType,
  OfVersion,
  type MeterModRepr,
} from './openflow.js';

const PKTPS_BURST_STATS = MeterFlag.Pktps | MeterFlag.Burst | MeterFlag.Stats;
const band = { rate: 100, burstSize: 200 };

/** Sent by ovs-ofctl, xid 2 (its HELLO was xid 1, its BARRIER_REQUEST xid 3). */
const fromOfctl: readonly { name: string; repr: MeterModRepr; hex: string }[] = [
  {
    // OFPT_METER_MOD (OF1.5) (xid=0x2): ADD meter=60000 pktps burst stats bands=
    // type=drop rate=100 burst_size=200
    name: 'add-meter',
    repr: { command: MeterCommand.Add, meterId: 60000, flags: PKTPS_BURST_STATS, band },
    hex: '061d0020000000020000000e0000ea600001001000000064000000c800000000',
  },
  {
    // OFPT_METER_MOD (OF1.5) (xid=0x2): MOD meter=60001 pktps burst stats bands=
    // type=drop rate=100 burst_size=200
    name: 'mod-meter',
    repr: { command: MeterCommand.Modify, meterId: 60001, flags: PKTPS_BURST_STATS, band },
    hex: '061d0020000000020001000e0000ea610001001000000064000000c800000000',
  },
  {
    // OFPT_METER_MOD (OF1.5) (xid=0x2): DEL meter=61000 bands=
    name: 'del-meter',
    repr: { command: MeterCommand.Delete, meterId: 61000, flags: 0, band: null },
    hex: '061d001000000002000200000000ee48',
  },
];

for (const f of fromOfctl) {
  test(`METER_MOD: the bytes ovs-ofctl ${f.name} sends, at offset 0 and inside a larger buffer`, (t) => {
    const want = fromHex(f.hex);
    t.is(meterModLength(f.repr), want.length);
    const b = new Uint8Array(want.length);
    t.is(emitMeterMod(f.repr, OfVersion.Of15, 2, b, 0), want.length);
    t.is(toHex(b), f.hex);
    const big = new Uint8Array(10 + want.length + 10).fill(0xee);
    t.is(emitMeterMod(f.repr, OfVersion.Of15, 2, big, 10), want.length);
    t.is(toHex(big, 10, want.length), f.hex);
    t.is(toHex(big, 0, 10) + toHex(big, 10 + want.length), 'ee'.repeat(20), 'nothing written outside');
    const v = new OfMessageView().wrap(big, 10, want.length);
    t.is(v.check(), Status.Ok);
    t.like(v, { version: OfVersion.Of15, type: OfType.MeterMod, length: want.length, xid: 2 });
  });
}

test('METER_MOD in OpenFlow 1.3: the same bytes under version 0x04, as ovs-ofctl -O OpenFlow13 sends them', (t) => {
  // OFPT_METER_MOD (OF1.3) (xid=0x2): ADD meter=60000 pktps burst stats bands=
  // type=drop rate=100 burst_size=200
  const b = new Uint8Array(32);
  emitMeterMod(fromOfctl[0]!.repr, OfVersion.Of13, 2, b, 0);
  t.is(toHex(b), '041d0020000000020000000e0000ea600001001000000064000000c800000000');
});

test('HELLO and BARRIER_REQUEST: the bytes ovs-ofctl -O OpenFlow15 sends; punt6 offers 1.3 to 1.5', (t) => {
  // OFPT_HELLO (OF1.5) (xid=0x1):
  //  version bitmap: 0x06
  const b = new Uint8Array(16);
  t.is(emitHello(1 << OfVersion.Of15, 1, b, 0), 16);
  t.is(toHex(b), '06000010000000010001000800000040');
  emitHello(METER_VERSIONS_BITMAP, 1, b, 0);
  // OFPT_HELLO (OF1.5) (xid=0x1):
  //  version bitmap: 0x04, 0x05, 0x06
  t.is(toHex(b), '06000010000000010001000800000070');
  // OFPT_BARRIER_REQUEST (OF1.5) (xid=0x3):
  const r = new Uint8Array(8);
  t.is(emitBarrierRequest(OfVersion.Of15, 3, r, 0), 8);
  t.is(toHex(r), '0614000800000003');
});

/** What ovs-vswitchd 3.1 wrote on a bridge's management socket. */
const fromSwitch = {
  // OFPT_HELLO (OF1.5) (xid=0x1):
  //  version bitmap: 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
  // (the default `protocols`: no bitmap, every version up to the header's)
  hello: '0600000800000001',
  // OFPT_HELLO (OF1.3) (xid=0x6):
  //  version bitmap: 0x01, 0x04
  // (`ovs-vsctl set bridge BR protocols=OpenFlow10,OpenFlow13`)
  hello13: '04000010000000060001000800000012',
  // OFPT_HELLO (OF1.0) (xid=0x7):
  // (`protocols=OpenFlow10`: no version with meters)
  hello10: '0100000800000007',
  // OFPT_ERROR (OF1.5) (xid=0x3): OFPMMFC_METER_EXISTS
  // OFPT_METER_MOD (OF1.5) (xid=0x3): ADD meter=1 pktps burst stats bands=
  // type=drop rate=100 burst_size=200
  meterExists: '0601002c00000003000c0001061d0020000000030000000e000000010001001000000064000000c800000000',
  // OFPT_ERROR (OF1.5) (xid=0x4): OFPMMFC_UNKNOWN_METER
  // OFPT_METER_MOD (OF1.5) (xid=0x4): MOD meter=7 pktps burst stats bands=
  // type=drop rate=100 burst_size=200
  unknownMeter: '0601002c00000004000c0003061d0020000000040001000e000000070001001000000064000000c800000000',
  // OFPT_BARRIER_REPLY (OF1.5) (xid=0x6):
  barrierReply: '0615000800000006',
};

function view(hex: string): OfMessageView {
  const b = fromHex(hex);
  const v = new OfMessageView().wrap(b, 0, b.length);
  if (v.check() !== Status.Ok) throw new Error(`${hex}: ${v.errorReason}`);
  return v;
}

test('ERROR: type, code and xid of what the switch refused, named as the spec names them', (t) => {
  const e = view(fromSwitch.meterExists);
  t.like(e, { version: 6, type: OfType.Error, xid: 3, errorType: ErrorType.MeterModFailed, errorCode: 1 });
  t.is(describeError(e.errorType, e.errorCode), 'OFPMMFC_METER_EXISTS: a meter with this id exists already');
  const u = view(fromSwitch.unknownMeter);
  t.is(u.xid, 4);
  t.is(describeError(u.errorType, u.errorCode), 'OFPMMFC_UNKNOWN_METER: no meter with this id to modify');
  t.is(describeError(ErrorType.HelloFailed, 0), 'OFPHFC_INCOMPATIBLE: no version in common');
  t.is(describeError(ErrorType.BadRequest, 0), 'OFPBRC_BAD_VERSION: header version not supported');
  t.is(describeError(ErrorType.MeterModFailed, 99), 'OFPET_METER_MOD_FAILED, code 99');
  t.is(describeError(0xffff, 2), 'OFPET_EXPERIMENTER, code 2');
  t.is(describeError(77, 1), 'error type 77, code 1');
  t.like(view(fromSwitch.barrierReply), { type: OfType.BarrierReply, xid: 6, length: 8 });
});

test('version negotiation with the HELLOs ovs-vswitchd sends', (t) => {
  // No bitmap: the smaller header version, when punt6 speaks it.
  t.is(negotiateVersion(METER_VERSIONS_BITMAP, view(fromSwitch.hello)), OfVersion.Of15);
  // A bitmap: the highest version in both.
  t.is(negotiateVersion(METER_VERSIONS_BITMAP, view(fromSwitch.hello13)), OfVersion.Of13);
  t.is(negotiateVersion(METER_VERSIONS_BITMAP, view(fromSwitch.hello10)), -1);
  t.is(negotiateVersion(1 << OfVersion.Of13, view(fromSwitch.hello)), OfVersion.Of13, 'no bitmap: any version below');
  t.is(negotiateVersion(1 << OfVersion.Of15, view('0400000800000001')), -1, 'the smaller header version is not ours');
  t.is(negotiateVersion(METER_VERSIONS_BITMAP, view('0500000800000001')), OfVersion.Of14);
  // Elements are walked by their padded length; unknown ones are skipped.
  t.is(
    negotiateVersion(METER_VERSIONS_BITMAP, view('0600001800000001' + '0009000500000000' + '0001000800000050')),
    OfVersion.Of15,
  );
  t.is(negotiateVersion(METER_VERSIONS_BITMAP, view('0600001000000001' + '0001000300000050')), -1, 'element length 3');
  t.is(negotiateVersion(METER_VERSIONS_BITMAP, view('0600001000000001' + '0001001000000050')), -1, 'past the end');
});

test('ECHO_REPLY: the request with its type changed, data and xid kept', (t) => {
  const request = view('060200100000002a' + '0102030405060708');
  const b = new Uint8Array(16);
  t.is(emitEchoReply(request, b, 0), 16);
  t.is(toHex(b), '060300100000002a0102030405060708');
});

test('framing a stream: whole messages only, a length below 8 stops it', (t) => {
  const stream = fromHex(fromSwitch.meterExists + fromSwitch.barrierReply);
  t.is(nextMessageLength(stream, 0, stream.length), 44);
  t.is(nextMessageLength(stream, 44, stream.length), 8);
  t.is(nextMessageLength(stream, 0, 43), 0, 'one byte missing');
  t.is(nextMessageLength(stream, 44, 51), 0);
  t.is(nextMessageLength(stream, 0, 7), 0, 'not even a header');
  t.is(nextMessageLength(fromHex('0601000400000000'), 0, 8), -1);
});

test('every truncation of a valid message is Truncated, a bad length Malformed, and nothing throws', (t) => {
  for (const hex of [...Object.values(fromSwitch), ...fromOfctl.map((f) => f.hex)]) {
    const b = fromHex(hex);
    for (let n = 0; n < b.length; n++) {
      const v = new OfMessageView().wrap(b, 0, n);
      t.is(v.check(), Status.Truncated, `${hex} cut to ${n}`);
    }
  }
  t.is(new OfMessageView().wrap(fromHex('0600000600000001'), 0, 8).check(), Status.Malformed);
  t.is(new OfMessageView().wrap(fromHex('0601000a000000010001'), 0, 10).check(), Status.Malformed, 'short ERROR');
  t.is(new OfMessageView().wrap(fromHex('0600000800000001'), 4, 8).check(), Status.Truncated, 'past the buffer');
});

test('random bytes never throw, and a message that checks frames as its length', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(10), (bytes, off) => {
      const v = new OfMessageView().wrap(bytes, off, Math.max(0, bytes.length - off));
      const s = v.check();
      const n = nextMessageLength(bytes, off, bytes.length);
      if (s === Status.Ok) {
        if (n !== v.length) throw new Error(`framed ${n}, length ${v.length}`);
        if (v.type === OfType.Hello) negotiateVersion(METER_VERSIONS_BITMAP, v);
        if (v.type === OfType.Error) describeError(v.errorType, v.errorCode);
      }
    }),
  );
  t.pass();
});
