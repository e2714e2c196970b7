import test from 'ava';
import fc from 'fast-check';
import { formatIpv6, parseIpv6 } from './bytes.js';
import {
  emitIpv6,
  emitRouterAlertHopByHop,
  IpProtocol,
  ipProtocolName,
  Ipv6View,
  IPV6_HEADER_LENGTH,
  ROUTER_ALERT_MLD,
} from './ipv6.js';
import { Rule, Status } from './status.js';

const src = parseIpv6('fe80::1');
const dst = parseIpv6('fd00::2');

/** An IPv6 packet with the given extension headers (raw bytes) and an 8-byte upper layer. */
function packet(first: number, ext: number[], upper = [0x80, 0, 0, 0, 0, 1, 0, 1]): Uint8Array {
  const b = new Uint8Array(IPV6_HEADER_LENGTH + ext.length + upper.length);
  emitIpv6(
    {
      source: src,
      destination: dst,
      nextHeader: first,
      hopLimit: 255,
      payloadLength: ext.length + upper.length,
      trafficClass: 0xb8,
      flowLabel: 0x12345,
    },
    b,
    0,
  );
  b.set(ext, IPV6_HEADER_LENGTH);
  b.set(upper, IPV6_HEADER_LENGTH + ext.length);
  return b;
}

const hopByHopRouterAlert = [IpProtocol.DestinationOptions, 0, 5, 2, 0, 0, 1, 0];
const destOptsPadN = [IpProtocol.Fragment, 0, 1, 4, 0, 0, 0, 0];
const firstFragmentOnly = [IpProtocol.Icmpv6, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef];

test('fixed header fields', (t) => {
  const b = packet(IpProtocol.Icmpv6, []);
  const v = new Ipv6View().wrap(b, 0, b.length);
  t.is(v.check(), Status.Ok);
  t.is(v.version, 6);
  t.is(v.trafficClass, 0xb8);
  t.is(v.flowLabel, 0x12345);
  t.is(v.hopLimit, 255);
  t.is(formatIpv6(b, v.sourceOffset), 'fe80::1');
  t.is(formatIpv6(b, v.destinationOffset), 'fd00::2');
  t.is(v.upperProtocol, IpProtocol.Icmpv6);
  t.is(v.upperOffset, 40);
  t.is(v.upperLength, 8);
});

test('walks Hop-by-Hop, Destination Options and an atomic Fragment to the upper layer', (t) => {
  const b = packet(IpProtocol.HopByHop, [...hopByHopRouterAlert, ...destOptsPadN, ...firstFragmentOnly]);
  const v = new Ipv6View().wrap(b, 0, b.length);
  t.is(v.check(), Status.Ok);
  t.is(v.extensionCount, 3);
  t.is(v.hopByHopOffset, 40);
  t.is(v.destinationOptionsOffset, 48);
  t.is(v.fragmentHeaderOffset, 56);
  t.true(v.isFragment);
  t.false(v.moreFragments);
  t.is(v.fragmentIdentification, 0xdeadbeef);
  t.is(v.upperProtocol, IpProtocol.Icmpv6);
  t.is(v.upperOffset, 64);
});

test('a non-first fragment is reported, not decoded', (t) => {
  const b = packet(IpProtocol.Fragment, [IpProtocol.Icmpv6, 0, 0x00, 0x09, 0, 0, 0, 7]);
  const v = new Ipv6View().wrap(b, 0, b.length);
  t.is(v.check(), Status.Unsupported);
  t.is(v.fragmentOffset, 1);
  t.true(v.moreFragments);
  t.regex(v.errorReason, /fragment/);
});

test('Hop-by-Hop anywhere but first is Malformed', (t) => {
  const b = packet(IpProtocol.DestinationOptions, [
    IpProtocol.HopByHop,
    0,
    1,
    4,
    0,
    0,
    0,
    0,
    IpProtocol.Icmpv6,
    0,
    1,
    4,
    0,
    0,
    0,
    0,
  ]);
  t.is(new Ipv6View().wrap(b, 0, b.length).check(), Status.Malformed);
});

test('an option running past its extension header is Malformed', (t) => {
  const b = packet(IpProtocol.HopByHop, [IpProtocol.Icmpv6, 0, 1, 9, 0, 0, 0, 0]);
  const v = new Ipv6View().wrap(b, 0, b.length);
  t.is(v.check(), Status.Malformed);
  t.is(v.errorOffset, 42);
});

test('ESP is Unsupported; No Next Header is Ok with no upper layer', (t) => {
  t.is(new Ipv6View().wrap(packet(IpProtocol.Esp, []), 0, 48).check(), Status.Unsupported);
  const v = new Ipv6View().wrap(packet(IpProtocol.NoNextHeader, []), 0, 48);
  t.is(v.check(), Status.Ok);
  t.is(v.upperProtocol, IpProtocol.NoNextHeader);
});

test('payload length past the bytes is Truncated; trailing padding is ignored', (t) => {
  const b = packet(IpProtocol.HopByHop, [IpProtocol.Icmpv6, ...hopByHopRouterAlert.slice(1)]);
  for (let n = 0; n < b.length; n++) t.is(new Ipv6View().wrap(b, 0, n).check(), Status.Truncated, `length ${n}`);
  const padded = new Uint8Array(b.length + 6);
  padded.set(b);
  const v = new Ipv6View().wrap(padded, 0, padded.length);
  t.is(v.check(), Status.Ok);
  t.is(v.upperLength, 8);
});

test('a bad version is Malformed and a jumbogram Unsupported', (t) => {
  const b = packet(IpProtocol.Icmpv6, []);
  b[0] = 0x45;
  t.is(new Ipv6View().wrap(b, 0, b.length).check(), Status.Malformed);
  const j = packet(IpProtocol.HopByHop, hopByHopRouterAlert);
  j[4] = 0;
  j[5] = 0;
  t.is(new Ipv6View().wrap(j, 0, j.length).check(), Status.Unsupported);
});

test('a Routing header with segments left moves the checksum destination to the final address', (t) => {
  // Type 2 routing header (RFC 6275 §6.4): one home address.
  const home = parseIpv6('2001:db8::99');
  const rh = [IpProtocol.Icmpv6, 2, 2, 1, 0, 0, 0, 0, ...home];
  const b = packet(IpProtocol.Routing, rh);
  const v = new Ipv6View().wrap(b, 0, b.length);
  t.is(v.check(), Status.Ok);
  t.is(formatIpv6(b, v.checksumDestinationOffset), '2001:db8::99');
});

test('decodes at a non-zero offset', (t) => {
  const p = packet(IpProtocol.HopByHop, [...hopByHopRouterAlert, ...destOptsPadN, ...firstFragmentOnly]);
  const b = new Uint8Array(p.length + 20);
  b.set(p, 14);
  const v = new Ipv6View().wrap(b, 14, p.length);
  t.is(v.check(), Status.Ok);
  t.is(v.upperOffset, 14 + 64);
});

test('random bytes after a valid fixed header never throw and never read past len', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 255 }), (tail, nh) => {
      const p = new Uint8Array(40 + tail.length + 16);
      emitIpv6({ source: src, destination: dst, nextHeader: nh, hopLimit: 64, payloadLength: tail.length }, p, 0);
      p.set(tail, 40);
      const v = new Ipv6View().wrap(p, 0, 40 + tail.length);
      p.fill(0, 40 + tail.length);
      const s1 = v.check();
      const r1 = [s1, v.upperOffset, v.upperProtocol, v.errorOffset];
      p.fill(0xff, 40 + tail.length);
      const s2 = v.wrap(p, 0, 40 + tail.length).check();
      const r2 = [s2, v.upperOffset, v.upperProtocol, v.errorOffset];
      return JSON.stringify(r1) === JSON.stringify(r2) && v.errorOffset <= 40 + tail.length;
    }),
  );
  t.pass();
});

test('emitRouterAlertHopByHop writes the header the walk reads back', (t) => {
  const b = new Uint8Array(3 + 8);
  t.is(emitRouterAlertHopByHop(IpProtocol.DestinationOptions, ROUTER_ALERT_MLD, b, 3), 8);
  t.deepEqual(Array.from(b.subarray(3)), hopByHopRouterAlert);
  const p = packet(IpProtocol.HopByHop, [...b.subarray(3), ...destOptsPadN, ...firstFragmentOnly]);
  const v = new Ipv6View().wrap(p, 0, p.length);
  t.is(v.check(), Status.Ok);
  t.is(v.hopByHopOffset, IPV6_HEADER_LENGTH);
});

test('each failure names the rule it broke', (t) => {
  const cases: [Uint8Array, Status, Rule][] = [
    [packet(IpProtocol.Icmpv6, []).subarray(0, 39), Status.Truncated, Rule.Length],
    [Uint8Array.from(packet(IpProtocol.Icmpv6, []), (x, i) => (i === 0 ? 0x40 : x)), Status.Malformed, Rule.Value],
    [
      packet(IpProtocol.DestinationOptions, [
        IpProtocol.HopByHop,
        0,
        1,
        4,
        0,
        0,
        0,
        0,
        IpProtocol.Icmpv6,
        0,
        1,
        4,
        0,
        0,
        0,
        0,
      ]),
      Status.Malformed,
      Rule.HeaderChain,
    ],
    [
      packet(IpProtocol.DestinationOptions, [IpProtocol.Icmpv6, 0, 1, 9, 0, 0, 0, 0]),
      Status.Malformed,
      Rule.LengthField,
    ],
    [packet(IpProtocol.Esp, []), Status.Unsupported, Rule.NotDecoded],
  ];
  for (const [b, status, rule] of cases) {
    const v = new Ipv6View().wrap(b, 0, b.length);
    t.is(v.check(), status);
    t.is(v.errorRule, rule, v.errorReason);
  }
});

test('protocol names come from IpProtocol', (t) => {
  t.is(ipProtocolName(IpProtocol.HopByHop), 'hop-by-hop');
  t.is(ipProtocolName(IpProtocol.NoNextHeader), 'no-next-header');
  t.is(ipProtocolName(IpProtocol.Icmpv6), 'icmpv6');
  t.is(ipProtocolName(253), 'unknown');
});
