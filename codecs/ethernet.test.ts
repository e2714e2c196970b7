import test from 'ava';
import fc from 'fast-check';
import { formatMac, parseIpv6, parseMac } from './bytes.js';
import {
  EthernetView,
  EtherType,
  emitEthernet,
  emitEthernetWords,
  ethernetHeaderLength,
  ipv6MulticastMac,
  NO_VLAN,
} from './ethernet.js';
import { Status } from './status.js';
import { macWords, wordView } from './word-view.js';

// tcpdump -xx of a tagged IPv6 frame header: 3333 0000 0001 0200 0000 0001 8100 0064 86dd
const tagged = Uint8Array.from([0x33, 0x33, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x64, 0x86, 0xdd, 0x60]);

test('decodes an 802.1Q-tagged IPv6 frame', (t) => {
  const v = new EthernetView().wrap(tagged, 0, tagged.length);
  t.is(v.check(), Status.Ok);
  t.true(v.hasVlan);
  t.is(v.vlanId, 100);
  t.is(v.etherType, EtherType.Ipv6);
  t.is(v.payloadOffset, 18);
  t.is(formatMac(tagged, v.sourceOffset), '02:00:00:00:00:01');
});

test('emits tagged and untagged headers at an offset, and they decode back', (t) => {
  for (const vlanId of [undefined, 0, 100, 4095]) {
    const r = {
      destination: parseMac('33:33:00:00:00:01'),
      source: parseMac('02:00:00:00:00:fe'),
      etherType: EtherType.Ipv6,
      ...(vlanId === undefined ? {} : { vlanId, vlanPcp: 5 }),
    };
    const b = new Uint8Array(64).fill(0xee);
    const n = emitEthernet(r, b, 10);
    t.is(n, ethernetHeaderLength(r));
    const v = new EthernetView().wrap(b, 10, 30);
    t.is(v.check(), Status.Ok);
    t.is(v.vlanId, vlanId ?? NO_VLAN);
    if (vlanId !== undefined) t.is(v.vlanPcp, 5);
    t.is(v.etherType, EtherType.Ipv6);
    t.is(b[9], 0xee);
  }
});

test('every truncation is Truncated', (t) => {
  for (let n = 0; n < 18; n++) {
    const v = new EthernetView().wrap(tagged, 0, n);
    t.is(v.check(), Status.Truncated, `length ${n}`);
  }
});

test('QinQ is recognised as Unsupported, not misread', (t) => {
  const qinq = Uint8Array.from([...tagged.slice(0, 12), 0x88, 0xa8, 0, 10, 0x81, 0, 0, 20, 0x86, 0xdd]);
  t.is(new EthernetView().wrap(qinq, 0, qinq.length).check(), Status.Unsupported);
  const stacked = Uint8Array.from([...tagged.slice(0, 12), 0x81, 0, 0, 10, 0x81, 0, 0, 20, 0x86, 0xdd]);
  const v = new EthernetView().wrap(stacked, 0, stacked.length);
  t.is(v.check(), Status.Unsupported);
  t.regex(v.errorReason, /QinQ/);
});

test('random bytes never throw and never read past len', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), (bytes, tail) => {
      const a = new Uint8Array(bytes.length + 8);
      a.set(bytes);
      a.set(tail, bytes.length);
      const v = new EthernetView().wrap(a, 0, bytes.length);
      const s = v.check();
      const r1 = s === Status.Ok ? [v.vlanId, v.etherType, v.payloadLength] : [s];
      a.fill(0x81, bytes.length);
      const s2 = v.check();
      const r2 = s2 === Status.Ok ? [v.vlanId, v.etherType, v.payloadLength] : [s2];
      return JSON.stringify(r1) === JSON.stringify(r2);
    }),
  );
  t.pass();
});

test('emitEthernetWords writes what emitEthernet writes, the tag copied from the frame answered', (t) => {
  const source = parseMac('02:00:00:00:00:fe');
  for (const vlanId of [NO_VLAN, 0, 100, 4095]) {
    // The frame answered: its source MAC is the answer's destination; its tag (PCP 5) is kept.
    const frame = new Uint8Array(40);
    emitEthernet(
      { destination: source, source: parseMac('02:00:00:00:00:01'), etherType: EtherType.Ipv6, vlanId, vlanPcp: 5 },
      frame,
      3,
    );
    const want = new Uint8Array(30).fill(0xee);
    const n = emitEthernet(
      { destination: parseMac('02:00:00:00:00:01'), source, etherType: EtherType.Ipv6, vlanId, vlanPcp: 5 },
      want,
      2,
    );
    const got = new Uint8Array(30).fill(0xee);
    const fw = wordView(frame);
    const m = emitEthernetWords(
      wordView(got),
      2,
      fw,
      3 + 6,
      macWords(source),
      fw,
      vlanId === NO_VLAN ? -1 : 3 + 12,
      EtherType.Ipv6,
    );
    t.is(m, n);
    t.deepEqual(got, want);
  }
});

test('an IPv6 group MAC is 33:33 and the group low 32 bits (RFC 2464 §7)', (t) => {
  t.is(formatMac(ipv6MulticastMac(parseIpv6('ff02::1'))), '33:33:00:00:00:01');
  t.is(formatMac(ipv6MulticastMac(parseIpv6('ff02::1:ff12:3456'))), '33:33:ff:12:34:56');
});
