import test from 'ava';
import fc from 'fast-check';
import { fromHex, parseIpv6, parseMac, toHex } from './bytes.js';
import {
  CaptivePortalOptionView,
  DnsslOptionView,
  LinkLayerAddressOptionView,
  MtuOptionView,
  NdpOptionCursor,
  NdpOptionType,
  NonceOptionView,
  Pref64OptionView,
  PrefixInformationOptionView,
  RdnssOptionView,
  RouteInformationOptionView,
  AddressListOptionView,
  checkNdpOptions,
  describeNdpOption,
  emitLinkLayerAddressOption,
  emitNdpOption,
  emitNdpOptions,
  findNdpOption,
  ndpOptionLength,
  ndpOptionName,
  ndpOptionType,
  ndpOptionsLength,
  pref64LengthCode,
  readNdpOption,
  readNdpOptions,
  type NdpOptionRepr,
} from './ndp-options.js';
import { Done, Status } from './status.js';

const a = (text: string): Uint8Array => parseIpv6(text);

// Options of a router advertisement from tcpdump's tests/icmpv6_opt24.pcap:
//   12:30:49.777243 IP6 fe80::16cf:92ff:fe87:23d6 > ff02::1: ICMP6, router advertisement, length 120
//   source link-address option (1): 14:cf:92:87:23:d6; mtu option (5): 1500;
//   prefix info option (3): fd8d:4fb3:5b2e::/64, Flags [onlink, auto], valid time 7200s, pref. time 1800s;
//   route info option (24): fd8d:4fb3:5b2e::/48, pref=medium, lifetime=7200s;
//   rdnss option (25): lifetime 1800s, addr: fd8d:4fb3:5b2e::1; dnssl option (31): lifetime 1800s, domain(s): lan.
const opt24Options = fromHex(
  '010114cf928723d6' +
    '05010000000005dc' +
    '030440c000001c200000070800000000fd8d4fb35b2e00000000000000000000' +
    '1802300000001c20fd8d4fb35b2e0000' +
    '1903000000000708fd8d4fb35b2e00000000000000000001' +
    '1f02000000000708036c616e00000000',
);

test('walks the options of a captured RA and reads every field', (t) => {
  const c = new NdpOptionCursor().reset(opt24Options, 0, opt24Options.length);
  const seen: [number, number, number][] = [];
  let s;
  while ((s = c.next()) === Status.Ok) seen.push([c.type, c.offset, c.length]);
  t.is(s, Done);
  t.deepEqual(seen, [
    [1, 0, 8],
    [5, 8, 8],
    [3, 16, 32],
    [24, 48, 16],
    [25, 64, 24],
    [31, 88, 16],
  ]);
  const b = opt24Options;
  const lla = new LinkLayerAddressOptionView().wrap(b, 0, 8);
  t.is(lla.check(), Status.Ok);
  t.is(toHex(b, lla.addressOffset, lla.addressLength), '14cf928723d6');
  const mtu = new MtuOptionView().wrap(b, 8, b.length - 8);
  t.is(mtu.check(), Status.Ok);
  t.is(mtu.mtu, 1500);
  const pio = new PrefixInformationOptionView().wrap(b, 16, b.length - 16);
  t.is(pio.check(), Status.Ok);
  t.like(pio, {
    prefixLength: 64,
    onLink: true,
    autonomous: true,
    routerAddress: false,
    validLifetime: 7200,
    preferredLifetime: 1800,
  });
  t.is(toHex(b, pio.prefixOffset, 16), toHex(a('fd8d:4fb3:5b2e::')));
  const rio = new RouteInformationOptionView().wrap(b, 48, 16);
  t.is(rio.check(), Status.Ok);
  t.like(rio, { prefixLength: 48, preference: 0, routeLifetime: 7200, prefixBytes: 8 });
  const p16 = new Uint8Array(16).fill(0xee);
  rio.copyPrefix(p16, 0);
  t.deepEqual(p16, a('fd8d:4fb3:5b2e::'));
  const rdnss = new RdnssOptionView().wrap(b, 64, 24);
  t.is(rdnss.check(), Status.Ok);
  t.is(rdnss.lifetime, 1800);
  t.is(rdnss.addressCount, 1);
  t.is(toHex(b, rdnss.addressOffset(0), 16), toHex(a('fd8d:4fb3:5b2e::1')));
  const dnssl = new DnsslOptionView().wrap(b, 88, 16);
  t.is(dnssl.check(), Status.Ok);
  t.is(dnssl.lifetime, 1800);
  t.deepEqual(describeNdpOption(b, 88, 16), { type: 31, name: 'dnssl', lifetime: 1800, domains: ['lan.'] });
  t.deepEqual(describeNdpOption(b, 48, 16), {
    type: 24,
    name: 'route-information',
    prefix: 'fd8d:4fb3:5b2e::/48',
    prefixAddress: 'fd8d:4fb3:5b2e::',
    prefixLength: 48,
    preference: 'medium',
    routeLifetime: 7200,
  });
});

test('a view refuses an option of another type', (t) => {
  const v = new MtuOptionView().wrap(opt24Options, 0, 8);
  t.is(v.check(), Status.Malformed);
  t.is(v.errorReason, 'option of another type');
});

test('PREF64 from a capture: scaled lifetime and an ignorable prefix length code', (t) => {
  // tests/icmpv6-ra-pref64.pcap, packet 2: pref64 option (38), length 16 (2):
  //   2001:db8:0:64:ff9b::/?? (plc 6), lifetime 1800s   0x0000:  070e 2001 0db8 0000 0064 ff9b 0000
  const b = fromHex('2602070e20010db800000064ff9b0000');
  const v = new Pref64OptionView().wrap(b, 0, b.length);
  t.is(v.check(), Status.Ok);
  t.like(v, { scaledLifetime: 225, lifetime: 1800, prefixLengthCode: 6, prefixLength: -1 });
  t.like(describeNdpOption(b, 0, 16), {
    prefix: null,
    prefixLength: null,
    prefixAddress: '2001:db8:0:64:ff9b::',
    lifetime: 1800,
  });
  // Packet 1: 2001:db8:1:64:ff9b::/96 (plc 0), lifetime 0s.
  const b1 = fromHex('2602000020010db800010064ff9b0000');
  t.like(describeNdpOption(b1, 0, 16), { prefix: '2001:db8:1:64:ff9b::/96', prefixLength: 96, lifetime: 0 });
});

const reprs: NdpOptionRepr[] = [
  { kind: 'source-link-layer-address', address: parseMac('02:00:00:00:00:01') },
  { kind: 'target-link-layer-address', address: parseMac('02:00:00:00:00:02') },
  {
    kind: 'prefix-information',
    prefixLength: 64,
    onLink: true,
    autonomous: false,
    routerAddress: true,
    pdPreferred: false,
    validLifetime: 0xffffffff,
    preferredLifetime: 600,
    prefix: a('2001:db8:1::'),
  },
  { kind: 'redirected-header', data: fromHex('6000000000083a40') },
  { kind: 'mtu', mtu: 9000 },
  { kind: 'advertisement-interval', interval: 5000 },
  { kind: 'home-agent-information', preference: 1, lifetime: 300 },
  { kind: 'source-address-list', addresses: [a('2001:db8::1')] },
  { kind: 'target-address-list', addresses: [a('2001:db8::1'), a('fe80::1')] },
  { kind: 'nonce', nonce: fromHex('0102030405060708090a0b0c0d0e') },
  { kind: 'route-information', prefixLength: 0, preference: 1, routeLifetime: 60, prefix: new Uint8Array(16) },
  { kind: 'route-information', prefixLength: 48, preference: 3, routeLifetime: 60, prefix: a('2001:db8:2::') },
  { kind: 'route-information', prefixLength: 96, preference: 0, routeLifetime: 60, prefix: a('2001:db8:2:3:4:5::') },
  { kind: 'rdnss', lifetime: 300, addresses: [a('2001:db8::53'), a('2001:db8::54')] },
  { kind: 'dnssl', lifetime: 300, domains: ['example.com.', 'lab.punt6.test.'] },
  { kind: 'captive-portal', uri: 'https://portal.example/api' },
  {
    kind: 'pref64',
    scaledLifetime: 225,
    prefixLengthCode: pref64LengthCode(64),
    prefix: a('64:ff9b::').subarray(0, 12),
  },
  { kind: 'unknown', type: 200, data: fromHex('000102030405') },
];

for (const r of reprs) {
  test(`${r.kind} ${ndpOptionLength(r)} bytes: emit at offset 10, walk, read back`, (t) => {
    const n = ndpOptionLength(r);
    t.is(n % 8, 0);
    const b = new Uint8Array(n + 20).fill(0xaa);
    t.is(emitNdpOption(r, b, 10), n);
    t.is(b[9], 0xaa);
    t.is(b[10 + n], 0xaa);
    const c = new NdpOptionCursor().reset(b, 10, 10 + n);
    t.is(c.next(), Status.Ok, c.errorReason);
    t.is(c.offset, 10);
    t.is(c.length, n);
    t.is(c.next(), Done);
    const back = readNdpOption(b, 10, n);
    const want = r.kind === 'pref64' ? { ...r, prefix: Uint8Array.from(r.prefix) } : r;
    t.deepEqual(back, want);
  });
}

test('emit writes the exact captured bytes', (t) => {
  const b = new Uint8Array(48);
  // tests/icmpv6.pcap packet 1: prefix info option (3): 2222:3333:4444:5555:6600::/72,
  // Flags [onlink, auto], valid time 2592000s, pref. time 604800s
  let n = emitNdpOption(
    {
      kind: 'prefix-information',
      prefixLength: 72,
      onLink: true,
      autonomous: true,
      validLifetime: 2592000,
      preferredLifetime: 604800,
      prefix: a('2222:3333:4444:5555:6600::'),
    },
    b,
    0,
  );
  t.is(toHex(b, 0, n), '030448c000278d0000093a800000000022223333444455556600000000000000');
  n = emitLinkLayerAddressOption(NdpOptionType.SourceLinkLayerAddress, parseMac('b0:99:28:c8:d6:6c'), 0, b, 0);
  t.is(toHex(b, 0, n), '0101b09928c8d66c');
  const list: NdpOptionRepr[] = [
    { kind: 'source-link-layer-address', address: parseMac('14:cf:92:87:23:d6') },
    { kind: 'mtu', mtu: 1500 },
    {
      kind: 'prefix-information',
      prefixLength: 64,
      onLink: true,
      autonomous: true,
      validLifetime: 7200,
      preferredLifetime: 1800,
      prefix: a('fd8d:4fb3:5b2e::'),
    },
    { kind: 'route-information', prefixLength: 48, preference: 0, routeLifetime: 7200, prefix: a('fd8d:4fb3:5b2e::') },
    { kind: 'rdnss', lifetime: 1800, addresses: [a('fd8d:4fb3:5b2e::1')] },
    { kind: 'dnssl', lifetime: 1800, domains: ['lan'] },
  ];
  const out = new Uint8Array(ndpOptionsLength(list));
  t.is(emitNdpOptions(list, out, 0), opt24Options.length);
  t.is(toHex(out), toHex(opt24Options));
  t.is(readNdpOptions(opt24Options, 0, opt24Options.length).length, 6);
});

test('view getters after check', (t) => {
  const b = new Uint8Array(64);
  let n = emitNdpOption({ kind: 'nonce', nonce: fromHex('a1a2a3a4a5a6') }, b, 0);
  const nonce = new NonceOptionView().wrap(b, 0, n);
  t.is(nonce.check(), Status.Ok);
  t.is(toHex(b, nonce.nonceOffset, nonce.nonceLength), 'a1a2a3a4a5a6');
  n = emitNdpOption({ kind: 'captive-portal', uri: 'http://x/' }, b, 0);
  const cp = new CaptivePortalOptionView().wrap(b, 0, n);
  t.is(cp.check(), Status.Ok);
  t.is(n, 16);
  t.is(cp.uriLength, 9);
  n = emitNdpOption({ kind: 'target-address-list', addresses: [a('2001:db8::7')] }, b, 0);
  const list = new AddressListOptionView().wrap(b, 0, n);
  t.is(list.check(), Status.Ok);
  t.is(list.addressCount, 1);
  t.is(toHex(b, list.addressOffset(0), 16), toHex(a('2001:db8::7')));
});

// [description, option bytes, status, offset of the failure, reason pattern]
const bad: [string, string, Status, number, RegExp][] = [
  ['zero length', '0100b09928c8d66c', Status.Malformed, 1, /length 0/],
  ['zero length, unknown type', 'c800', Status.Malformed, 1, /length 0/],
  ['option header cut short', '01', Status.Truncated, 0, /header cut short/],
  ['runs past the end', '0102b09928c8d66c', Status.Truncated, 0, /past the end/],
  ['prefix information of length 3', '0303' + '00'.repeat(22), Status.Malformed, 1, /prefix information/],
  ['prefix length 129', '030481' + '00'.repeat(29), Status.Malformed, 2, /above 128/],
  ['MTU of length 2', '0502' + '00'.repeat(14), Status.Malformed, 1, /MTU/],
  ['RDNSS of length 2', '1902' + '00'.repeat(14), Status.Malformed, 1, /RDNSS/],
  ['RDNSS of length 4', '1904' + '00'.repeat(30), Status.Malformed, 1, /RDNSS/],
  ['RDNSS of length 1', '1901' + '00'.repeat(6), Status.Malformed, 1, /RDNSS/],
  ['DNSSL of length 1', '1f01' + '00'.repeat(6), Status.Malformed, 1, /DNSSL/],
  ['DNSSL without a name', '1f02' + '00'.repeat(14), Status.Malformed, 8, /without a domain name/],
  ['DNSSL label past the option', '1f02000000000708' + '096c616e00000000', Status.Malformed, 8, /past its option/],
  ['DNSSL compression pointer', '1f02000000000708' + 'c00c000000000000', Status.Malformed, 8, /compression/],
  ['route information of length 4', '1804' + '00'.repeat(30), Status.Malformed, 1, /above 3/],
  ['route information /48 in length 1', '1801300000001c20', Status.Malformed, 1, /2 or 3/],
  ['route information /65 in length 2', '1802410000001c20' + '00'.repeat(8), Status.Malformed, 1, /needs length 3/],
  ['route information /129', '1803810000001c20' + '00'.repeat(16), Status.Malformed, 2, /above 128/],
  ['PREF64 of length 1', '2601000000000000', Status.Malformed, 1, /PREF64/],
  ['PREF64 of length 3', '2603' + '00'.repeat(22), Status.Malformed, 1, /PREF64/],
  ['target address list of length 2', '0a02' + '00'.repeat(14), Status.Malformed, 1, /address list/],
  ['source address list of length 1', '0901' + '00'.repeat(6), Status.Malformed, 1, /address list/],
  ['advertisement interval of length 2', '0702' + '00'.repeat(14), Status.Malformed, 1, /advertisement interval/],
  ['home agent information of length 2', '0802' + '00'.repeat(14), Status.Malformed, 1, /home agent/],
];

for (const [what, hex, status, at, reason] of bad) {
  test(`${what} after a good option is ${status === Status.Truncated ? 'Truncated' : 'Malformed'}`, (t) => {
    // A good MTU option first, so offsets are checked as absolute, at a non-zero base.
    const body = fromHex('0501000000000578' + hex);
    const b = new Uint8Array(body.length + 4);
    b.set(body, 4);
    const c = new NdpOptionCursor();
    t.is(checkNdpOptions(c, b, 4, b.length), status);
    t.is(c.errorOffset, 4 + 8 + at);
    t.regex(c.errorReason, reason);
    t.is(c.next(), Done, 'the walk is over after a failure');
  });
}

test('length 1 for a route information option with prefix length 0 is fine, as are /64 in length 2', (t) => {
  const c = new NdpOptionCursor();
  const b = fromHex('1801000000001c20' + '1802400800001c20' + '2001db8000000000');
  t.is(checkNdpOptions(c, b, 0, b.length), Status.Ok);
});

test('unknown options are data: kept as type and bytes', (t) => {
  const b = fromHex('c8010102030405060e016069604c0aaa');
  const c = new NdpOptionCursor().reset(b, 0, b.length);
  t.is(c.next(), Status.Ok);
  t.is(c.type, 200);
  t.deepEqual(describeNdpOption(b, c.offset, c.length), { type: 200, name: 'unknown', data: '010203040506' });
  t.is(c.next(), Status.Ok);
  t.deepEqual(describeNdpOption(b, c.offset, c.length), { type: 14, name: 'nonce', nonce: '6069604c0aaa' });
  t.is(c.next(), Done);
});

test('findNdpOption returns the offset of the first option of a type, or -1', (t) => {
  const c = new NdpOptionCursor();
  t.is(findNdpOption(c, opt24Options, 0, opt24Options.length, NdpOptionType.Rdnss), 64);
  t.is(findNdpOption(c, opt24Options, 0, opt24Options.length, NdpOptionType.Nonce), -1);
});

test('the cursor never reads past end: bytes after it do not change any result', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes, tail) => {
      const run = (fill: Uint8Array): string => {
        const b = new Uint8Array(bytes.length + 16);
        b.set(bytes);
        b.set(fill, bytes.length);
        const c = new NdpOptionCursor().reset(b, 0, bytes.length);
        const out: unknown[] = [];
        for (let i = 0; i < 200; i++) {
          const s = c.next();
          out.push(s, c.type, c.offset, c.length);
          if (s !== Status.Ok) {
            out.push(c.errorOffset, c.errorReason);
            break;
          }
          out.push(describeNdpOption(b, c.offset, c.length));
        }
        return JSON.stringify(out);
      };
      t.is(run(tail), run(new Uint8Array(16).fill(0xff)));
    }),
  );
});

test('the walk remembers the first link-layer address options and Target Address List', (t) => {
  const options: NdpOptionRepr[] = [
    { kind: 'mtu', mtu: 1500 },
    { kind: 'target-link-layer-address', address: parseMac('02:00:00:00:00:02') },
    { kind: 'source-link-layer-address', address: parseMac('02:00:00:00:00:01') },
    { kind: 'target-address-list', addresses: [a('fd00::1')] },
    { kind: 'source-link-layer-address', address: parseMac('02:00:00:00:00:03') },
  ];
  const b = new Uint8Array(4 + ndpOptionsLength(options));
  const n = emitNdpOptions(options, b, 4);
  const checked = new NdpOptionCursor();
  t.is(checkNdpOptions(checked, b, 4, 4 + n), Status.Ok);
  const walked = new NdpOptionCursor().reset(b, 4, 4 + n);
  while (walked.next() === Status.Ok);
  for (const c of [checked, walked]) {
    t.is(c.targetLinkLayerOption, 12);
    t.is(c.sourceLinkLayerOption, 20);
    t.is(c.targetAddressListOption, 28);
  }
  t.is(checkNdpOptions(checked, b, 4, 12), Status.Ok);
  t.deepEqual(
    [checked.sourceLinkLayerOption, checked.targetLinkLayerOption, checked.targetAddressListOption],
    [-1, -1, -1],
    'none among the options walked',
  );
});

test('each option type has one name, the Repr kind, and the kind gives the type back', (t) => {
  for (const type of Object.values(NdpOptionType)) {
    const kind = ndpOptionName(type) as NdpOptionRepr['kind'];
    t.not(kind, 'unknown');
    t.is(ndpOptionType({ kind } as NdpOptionRepr), type);
  }
  t.is(ndpOptionName(200), 'unknown');
  t.is(ndpOptionType({ kind: 'unknown', type: 200, data: new Uint8Array(6) }), 200);
});
