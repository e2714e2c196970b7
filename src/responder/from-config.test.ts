/**
 * buildRuntime and routerAdvertisementOf: from the normalized configuration to the responder's
 * byte-oriented model and each network's RA (RFC 4861 §4.2, §6.2.1; RFC 4191; RFC 8106; RFC 8781).
 */

import test from 'ava';
import { formatIpv6, formatMac } from '../../codecs/bytes.js';
import { ndpOptionJson, RouterPreference } from '../../codecs/ndp-options.js';
import { DEFAULT_HOP_LIMIT } from '../config/model.js';
import { buildRuntime, routerAdvertisementOf } from './from-config.js';
import { configFromYaml, fixtureConfig } from '../test-support/responder.js';

const peers = await fixtureConfig('peers');
const trunk = await fixtureConfig('trunk');

function one(network: string, ports = ''): ReturnType<typeof configFromYaml> {
  return configFromYaml(
    [
      'interfaces: [{ name: p0, network: n }]',
      'networks:',
      `  - { name: n, routerMac: "02:00:00:00:00:02", ${network} }`,
      ports,
    ].join('\n'),
  );
}

test('peers.yaml: network, port and interface as bytes and small integers', (t) => {
  const rt = buildRuntime(peers);
  t.is(rt.networks.length, 1);
  const n = rt.networks[0]!;
  t.is(n.index, 0);
  t.is(n.name, 'lab');
  t.is(n.vlan, -1);
  t.is(formatMac(n.routerMac), '02:00:00:00:00:02');
  t.is(formatIpv6(n.routerLinkLocal), 'fe80::ff:fe00:2');
  t.deepEqual(
    n.routerAddresses.map((a) => formatIpv6(a)),
    ['fd00::2'],
  );
  t.is(n.hopLimit, 64);
  t.true(n.mrd);
  t.is(n.mrdAdvertisementInterval, 20);
  t.is(n.mrdQueryInterval, 125);
  t.is(n.mrdRobustness, 2);
  t.is(n.ra?.minInterval, 198);
  t.is(n.ra?.maxInterval, 600);
  t.is(n.ra?.unsolicited, true);
  t.deepEqual(
    rt.ports.map((p) => ({
      index: p.index,
      name: p.name,
      mac: formatMac(p.mac),
      network: p.network,
      addresses: p.addresses.map((a) => formatIpv6(a)),
    })),
    [{ index: 0, name: 'vm-static', mac: '02:00:00:00:00:11', network: 0, addresses: ['fd00::11', '2001:db8:1::11'] }],
  );
  t.deepEqual(
    rt.interfaces.map((i) => ({
      index: i.index,
      name: i.name,
      untagged: i.untaggedNetwork,
      vlans: [...i.vlanNetworks],
    })),
    [{ index: 0, name: 'punt0', untagged: 0, vlans: [] }],
  );
});

test('trunk.yaml: VLAN -> network map, no untagged network, per-network MRD', (t) => {
  const rt = buildRuntime(trunk);
  t.deepEqual(
    rt.networks.map((n) => [n.name, n.vlan, n.mrd]),
    [
      ['blue', 100, false],
      ['green', 200, true],
    ],
  );
  t.deepEqual(
    rt.interfaces.map((i) => ({ untagged: i.untaggedNetwork, vlans: [...i.vlanNetworks].sort((a, b) => a[0] - b[0]) })),
    [
      {
        untagged: -1,
        vlans: [
          [100, 0],
          [200, 1],
        ],
      },
    ],
  );
  t.deepEqual(
    rt.ports.map((p) => [p.name, p.network]),
    [
      ['blue-vm', 0],
      ['green-vm', 1],
    ],
  );
  t.is(rt.networks[1]!.ra?.maxInterval, 60);
});

test('routerAdvertisementOf(peers): fields and options in their fixed order', (t) => {
  const ra = routerAdvertisementOf(peers.networks[0]!);
  t.deepEqual(
    {
      curHopLimit: ra.curHopLimit,
      managed: ra.managed,
      other: ra.other,
      preference: ra.preference,
      routerLifetime: ra.routerLifetime,
      reachableTime: ra.reachableTime,
      retransTimer: ra.retransTimer,
    },
    {
      curHopLimit: 64,
      managed: true,
      other: true,
      preference: RouterPreference.Medium,
      routerLifetime: 1800,
      reachableTime: 0,
      retransTimer: 0,
    },
  );
  t.deepEqual(ra.options.map(ndpOptionJson), [
    { type: 1, name: 'source-link-layer-address', linkLayerAddress: '02:00:00:00:00:02' },
    { type: 5, name: 'mtu', mtu: 1500 },
    {
      type: 3,
      name: 'prefix-information',
      prefix: 'fd00::/64',
      prefixAddress: 'fd00::',
      prefixLength: 64,
      flags: ['on-link', 'autonomous'],
      validLifetime: 2_592_000,
      preferredLifetime: 604_800,
    },
    {
      type: 3,
      name: 'prefix-information',
      prefix: '2001:db8:1::/64',
      prefixAddress: '2001:db8:1::',
      prefixLength: 64,
      flags: ['on-link'],
      validLifetime: 2_592_000,
      preferredLifetime: 604_800,
    },
    { type: 25, name: 'rdnss', lifetime: 1800, addresses: ['2001:db8:1::53', '2001:db8:1::54'] },
    { type: 31, name: 'dnssl', lifetime: 1800, domains: ['example.com.', 'lab.example.net.'] },
  ]);
});

test('routerAdvertisementOf(trunk green): route information, PREF64, high preference, MTU', (t) => {
  const ra = routerAdvertisementOf(trunk.networks[1]!);
  t.is(ra.preference, RouterPreference.High);
  t.is(ra.routerLifetime, 180);
  t.deepEqual(ra.options.map(ndpOptionJson), [
    { type: 1, name: 'source-link-layer-address', linkLayerAddress: '02:00:00:00:02:fe' },
    { type: 5, name: 'mtu', mtu: 9000 },
    {
      type: 3,
      name: 'prefix-information',
      prefix: '2001:db8:b::/64',
      prefixAddress: '2001:db8:b::',
      prefixLength: 64,
      flags: ['on-link'],
      validLifetime: 2_592_000,
      preferredLifetime: 604_800,
    },
    {
      type: 24,
      name: 'route-information',
      prefix: '2001:db8:f000::/36',
      prefixAddress: '2001:db8:f000::',
      prefixLength: 36,
      preference: 'medium',
      routeLifetime: 180,
    },
    {
      type: 38,
      name: 'pref64',
      prefix: '64:ff9b::/96',
      prefixAddress: '64:ff9b::',
      prefixLength: 96,
      prefixLengthCode: 0,
      lifetime: 176,
    },
  ]);
});

const modes = [
  { mode: 'stateful', extra: 'addressPools: [fd00::100-fd00::1ff]', managed: true, other: true, slaac: false },
  { mode: 'stateless', extra: '', managed: false, other: true, slaac: true },
  { mode: 'off', extra: '', managed: false, other: false, slaac: true },
] as const;

for (const m of modes) {
  test(`M/O flags and SLAAC from DHCPv6 mode ${m.mode}`, (t) => {
    const cfg = one(`prefixes: [fd00::/64], dhcpv6: { mode: ${m.mode}${m.extra ? ', ' + m.extra : ''} }`);
    const ra = routerAdvertisementOf(cfg.networks[0]!);
    t.is(ra.managed, m.managed, 'M');
    t.is(ra.other, m.other, 'O');
    const pio = ra.options.find((o) => o.kind === 'prefix-information');
    t.is(pio?.kind === 'prefix-information' && pio.autonomous, m.slaac, 'A flag');
  });
}

test('explicit M/O flags win over the DHCPv6 mode', (t) => {
  const ra = routerAdvertisementOf(
    one('prefixes: [fd00::/64], ra: { managed: true, otherConfig: false }, dhcpv6: { mode: stateless }').networks[0]!,
  );
  t.is(ra.managed, true);
  t.is(ra.other, false);
});

test('prefix flags and lifetimes as configured (L off, finite lifetimes, infinity)', (t) => {
  const ra = routerAdvertisementOf(
    one(
      'prefixes: [{ prefix: "fd00::/64", onLink: false, slaac: true, validLifetime: 7200, preferredLifetime: 3600 }, { prefix: "fd01::/64", validLifetime: infinity, preferredLifetime: infinity }]',
    ).networks[0]!,
  );
  const pios = ra.options.filter((o) => o.kind === 'prefix-information').map(ndpOptionJson);
  t.deepEqual(pios, [
    {
      type: 3,
      name: 'prefix-information',
      prefix: 'fd00::/64',
      prefixAddress: 'fd00::',
      prefixLength: 64,
      flags: ['autonomous'],
      validLifetime: 7200,
      preferredLifetime: 3600,
    },
    {
      type: 3,
      name: 'prefix-information',
      prefix: 'fd01::/64',
      prefixAddress: 'fd01::',
      prefixLength: 64,
      flags: ['on-link', 'autonomous'],
      validLifetime: 0xffffffff,
      preferredLifetime: 0xffffffff,
    },
  ]);
});

test('route preferences map to their RFC 4191 bits', (t) => {
  const ra = routerAdvertisementOf(
    one(
      'prefixes: [fd00::/64], ra: { routes: [{ prefix: "fd10::/48", preference: low }, { prefix: "fd11::/48", preference: high }, { prefix: "::/0" }] }',
    ).networks[0]!,
  );
  t.deepEqual(
    ra.options.flatMap((o) => (o.kind === 'route-information' ? [[o.prefixLength, o.preference]] : [])),
    [
      [48, RouterPreference.Low],
      [48, RouterPreference.High],
      [0, RouterPreference.Medium],
    ],
  );
});

for (const [length, code] of [
  [96, 0],
  [64, 1],
  [56, 2],
  [48, 3],
  [40, 4],
  [32, 5],
] as const) {
  test(`PREF64 /${length}: prefix length code ${code}, lifetime in 8-second units`, (t) => {
    const ra = routerAdvertisementOf(
      one(`prefixes: [fd00::/64], ra: { pref64: { prefix: "64:ff9b::/${length}", lifetime: 1800 } }`).networks[0]!,
    );
    const o = ra.options.find((x) => x.kind === 'pref64');
    t.true(o?.kind === 'pref64');
    if (o?.kind !== 'pref64') return;
    t.is(o.prefixLengthCode, code);
    t.is(o.scaledLifetime, 225);
  });
}

test("hop limit of originated replies: the RA's Cur Hop Limit, 64 when it advertises none", (t) => {
  t.is(buildRuntime(one('prefixes: [fd00::/64], ra: { curHopLimit: 0 }')).networks[0]!.hopLimit, DEFAULT_HOP_LIMIT);
  t.is(DEFAULT_HOP_LIMIT, 64);
  t.is(buildRuntime(one('prefixes: [fd00::/64], ra: { curHopLimit: 255 }')).networks[0]!.hopLimit, 255);
  t.is(
    routerAdvertisementOf(one('prefixes: [fd00::/64], ra: { curHopLimit: 0 }').networks[0]!).curHopLimit,
    0,
    'the RA itself says "unspecified"',
  );
});

test('RAs off: no RA in the runtime (the dispatcher answers no RS)', (t) => {
  t.is(buildRuntime(one('ra: { enabled: false }')).networks[0]!.ra, undefined);
});

test('no DNS, no prefixes: only SLLA and MTU', (t) => {
  const ra = routerAdvertisementOf(one('mtu: 1280').networks[0]!);
  t.deepEqual(ra.options.map(ndpOptionJson), [
    { type: 1, name: 'source-link-layer-address', linkLayerAddress: '02:00:00:00:00:02' },
    { type: 5, name: 'mtu', mtu: 1280 },
  ]);
});
