import test from 'ava';
import { fromHex, parseIpv6, parseMac, toHex } from './bytes.js';
import { fillIcmpv6Checksum, verifyIcmpv6Checksum } from './icmpv6.js';
import {
  NdMessageView,
  NeighborAdvertisementView,
  NeighborSolicitationView,
  RedirectView,
  RouterAdvertisementView,
  RouterSolicitationView,
  emitNeighborAdvertisement,
  emitNeighborAdvertisementHeader,
  emitNeighborSolicitation,
  emitRedirect,
  emitRouterAdvertisement,
  emitRouterSolicitation,
  neighborAdvertisementFlags,
  neighborAdvertisementLength,
  neighborSolicitationLength,
  redirectLength,
  routerAdvertisementLength,
  routerSolicitationLength,
} from './ndp.js';
import {
  NdpOptionCursor,
  NdpOptionType,
  RouterPreference,
  checkNdpOptions,
  emitLinkLayerAddressOption,
  readNdpOptions,
} from './ndp-options.js';
import { Rule, Status } from './status.js';

const a = (text: string): Uint8Array => parseIpv6(text);

// tests/icmpv6_opt24.pcap packet 1, from the IPv6 header on (tcpdump -xx, Ethernet header cut):
//   12:30:49.777243 IP6 fe80::16cf:92ff:fe87:23d6 > ff02::1: ICMP6, router advertisement, length 120
//   hop limit 0, Flags [managed, other stateful], pref medium, router lifetime 0s, reachable time 0ms, retrans timer 0ms
const raPacket = fromHex(
  '6000000000783afffe8000000000000016cf92fffe8723d6ff020000000000000000000000000001' +
    '8600688200c000000000000000000000010114cf928723d605010000000005dc030440c000001c200000070800000000fd8d4fb35b2e000000000000000000001802300000001c20fd8d4fb35b2e00001903000000000708fd8d4fb35b2e000000000000000000011f02000000000708036c616e00000000',
);

// tests/icmpv6-ns-nonce.pcap packet 1:
//   11:07:31.663323 IP6 :: > ff02::1:ffe1:f: ICMP6, neighbor solicitation, who has fe80::546f:f7ff:fee1:f, length 32
//   unknown option (14), length 8 (1): 0x0000:  6069 604c 0aaa
const nsPacket = fromHex(
  '6000000000203aff00000000000000000000000000000000ff0200000000000000000001ffe1000f' +
    '8700566e00000000fe80000000000000546ff7fffee1000f0e016069604c0aaa',
);

test('decodes a captured router advertisement', (t) => {
  const v = new RouterAdvertisementView().wrap(raPacket, 40, raPacket.length - 40);
  t.is(v.check(), Status.Ok);
  t.like(v, {
    type: 134,
    code: 0,
    checksum: 0x6882,
    curHopLimit: 0,
    managed: true,
    other: true,
    homeAgent: false,
    proxy: false,
    preference: RouterPreference.Medium,
    routerLifetime: 0,
    reachableTime: 0,
    retransTimer: 0,
    optionsOffset: 56,
    optionsEnd: raPacket.length,
  });
  t.is(checkNdpOptions(new NdpOptionCursor(), raPacket, v.optionsOffset, v.optionsEnd), Status.Ok);
  t.true(verifyIcmpv6Checksum(raPacket, 8, 24, 40, raPacket.length - 40));
});

test('builds the captured router advertisement byte for byte, checksum included', (t) => {
  const repr = {
    curHopLimit: 0,
    managed: true,
    other: true,
    preference: RouterPreference.Medium,
    routerLifetime: 0,
    reachableTime: 0,
    retransTimer: 0,
    options: readNdpOptions(raPacket, 56, raPacket.length),
  };
  t.is(repr.options.length, 6);
  const b = new Uint8Array(raPacket.length);
  b.set(raPacket.subarray(0, 40));
  const n = emitRouterAdvertisement(repr, b, 40);
  t.is(n, routerAdvertisementLength(repr));
  t.is(n, raPacket.length - 40);
  t.is(b[42], 0, 'emit leaves the checksum 0');
  t.is(fillIcmpv6Checksum(b, 8, 24, 40, n), 0x6882);
  t.is(toHex(b), toHex(raPacket));
});

test('decodes a captured neighbor solicitation with a nonce', (t) => {
  const v = new NeighborSolicitationView().wrap(nsPacket, 40, 32);
  t.is(v.check(), Status.Ok);
  t.is(toHex(nsPacket, v.targetOffset, 16), toHex(a('fe80::546f:f7ff:fee1:f')));
  const c = new NdpOptionCursor().reset(nsPacket, v.optionsOffset, v.optionsEnd);
  t.is(c.next(), Status.Ok);
  t.is(c.type, NdpOptionType.Nonce);
  t.is(toHex(nsPacket, c.offset + 2, 6), '6069604c0aaa');
  const b = new Uint8Array(nsPacket.length);
  b.set(nsPacket.subarray(0, 40));
  emitNeighborSolicitation(
    { target: a('fe80::546f:f7ff:fee1:f'), options: [{ kind: 'nonce', nonce: fromHex('6069604c0aaa') }] },
    b,
    40,
  );
  fillIcmpv6Checksum(b, 8, 24, 40, 32);
  t.is(toHex(b), toHex(nsPacket));
});

test('every ND message round trips at offset 10 of a larger buffer', (t) => {
  const b = new Uint8Array(200).fill(0xaa);
  const mac = parseMac('02:00:00:00:00:01');

  const rs = { options: [{ kind: 'source-link-layer-address' as const, address: mac }] };
  let n = emitRouterSolicitation(rs, b, 10);
  t.is(n, routerSolicitationLength(rs));
  const rsv = new RouterSolicitationView().wrap(b, 10, n);
  t.is(rsv.check(), Status.Ok);
  t.deepEqual(readNdpOptions(b, rsv.optionsOffset, rsv.optionsEnd), rs.options);
  t.is(b[10 + n], 0xaa);

  const ra = {
    curHopLimit: 64,
    managed: false,
    other: true,
    homeAgent: true,
    proxy: true,
    preference: RouterPreference.Low,
    routerLifetime: 1800,
    reachableTime: 30000,
    retransTimer: 1000,
    options: [{ kind: 'mtu' as const, mtu: 1500 }],
  };
  b.fill(0xaa);
  n = emitRouterAdvertisement(ra, b, 10);
  const rav = new RouterAdvertisementView().wrap(b, 10, n);
  t.is(rav.check(), Status.Ok);
  t.like(rav, {
    curHopLimit: 64,
    managed: false,
    other: true,
    homeAgent: true,
    proxy: true,
    preference: 3,
    routerLifetime: 1800,
    reachableTime: 30000,
    retransTimer: 1000,
  });
  t.deepEqual(readNdpOptions(b, rav.optionsOffset, rav.optionsEnd), ra.options);

  const na = {
    router: true,
    solicited: true,
    override: false,
    target: a('2001:db8::1'),
    options: [{ kind: 'target-link-layer-address' as const, address: mac }],
  };
  b.fill(0xaa);
  n = emitNeighborAdvertisement(na, b, 10);
  t.is(n, neighborAdvertisementLength(na));
  const nav = new NeighborAdvertisementView().wrap(b, 10, n);
  t.is(nav.check(), Status.Ok);
  t.like(nav, { router: true, solicited: true, override: false, flags: 0xc0 });
  t.is(toHex(b, nav.targetOffset, 16), toHex(na.target));
  t.deepEqual(readNdpOptions(b, nav.optionsOffset, nav.optionsEnd), na.options);

  const ns = { target: a('fe80::2'), options: [] };
  b.fill(0xaa);
  n = emitNeighborSolicitation(ns, b, 10);
  t.is(n, neighborSolicitationLength(ns));
  t.is(n, 24);

  const rd = {
    target: a('fe80::1'),
    destination: a('2001:db8::99'),
    options: [{ kind: 'redirected-header' as const, data: fromHex('60000000') }],
  };
  b.fill(0xaa);
  n = emitRedirect(rd, b, 10);
  t.is(n, redirectLength(rd));
  const rdv = new RedirectView().wrap(b, 10, n);
  t.is(rdv.check(), Status.Ok);
  t.is(toHex(b, rdv.targetOffset, 16), toHex(rd.target));
  t.is(toHex(b, rdv.destinationOffset, 16), toHex(rd.destination));
  t.deepEqual(readNdpOptions(b, rdv.optionsOffset, rdv.optionsEnd), [
    { kind: 'redirected-header', data: fromHex('6000000000000000') },
  ]);
});

test('the hot-path neighbor advertisement equals the Repr-built one', (t) => {
  const mac = parseMac('02:00:00:00:00:01');
  const target = a('2001:db8::1');
  const x = new Uint8Array(32);
  const y = new Uint8Array(32).fill(0x55);
  emitNeighborAdvertisement(
    {
      router: false,
      solicited: true,
      override: true,
      target,
      options: [{ kind: 'target-link-layer-address', address: mac }],
    },
    x,
    0,
  );
  let n = emitNeighborAdvertisementHeader(neighborAdvertisementFlags(false, true, true), target, 0, y, 0);
  n += emitLinkLayerAddressOption(NdpOptionType.TargetLinkLayerAddress, mac, 0, y, n);
  t.is(n, 32);
  t.is(toHex(y), toHex(x));
});

const views: [string, () => NdMessageView, number, number][] = [
  ['router solicitation', () => new RouterSolicitationView(), 133, 8],
  ['router advertisement', () => new RouterAdvertisementView(), 134, 16],
  ['neighbor solicitation', () => new NeighborSolicitationView(), 135, 24],
  ['neighbor advertisement', () => new NeighborAdvertisementView(), 136, 24],
  ['redirect', () => new RedirectView(), 137, 40],
];

for (const [name, make, type, fixed] of views) {
  test(`${name}: every length below ${fixed} is Truncated, a wrong code or type Malformed`, (t) => {
    const b = new Uint8Array(fixed + 8);
    b[4] = type;
    const v = make();
    for (let len = 0; len < fixed; len++) {
      t.is(v.wrap(b, 4, len).check(), Status.Truncated, `length ${len}`);
      t.is(v.errorOffset, 4 + len);
    }
    t.is(v.wrap(b, 4, fixed).check(), Status.Ok);
    t.is(v.wrap(b, 4, fixed + 8).check(), Status.Truncated, 'a range past the buffer is Truncated');
    b[5] = 1;
    t.is(v.wrap(b, 4, fixed).check(), Status.Malformed);
    t.is(v.errorOffset, 5);
    t.is(v.errorRule, Rule.Code, 'the failure names the code rule (RFC 4861 §6.1, §7.1, §8.1)');
    b[5] = 0;
    b[4] = type === 133 ? 134 : 133;
    t.is(v.wrap(b, 4, fixed).check(), Status.Malformed);
    t.is(v.errorOffset, 4);
    t.is(v.errorRule, Rule.Value);
  });
}
