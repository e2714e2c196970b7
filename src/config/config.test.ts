import test from 'ava';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { formatIpv6, toHex } from '../../codecs/bytes.js';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { ConfigError, Defaults, INFINITE_LIFETIME, loadConfig, parseConfig, type Punt6Config } from './index.js';

const hex = (b: Uint8Array | null): string | null => (b === null ? null : toHex(b));
const net0 = (c: Punt6Config) => c.networks[0]!;

// A small valid document, changed by each case of the tables below. `any`: the cases break its shape on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a document of any shape
type Doc = any;
const base = (): Doc => ({
  interfaces: [{ name: 'punt0', network: 'tenant' }],
  networks: [
    {
      name: 'tenant',
      routerMac: '02:00:00:00:00:fe',
      routerAddresses: ['2001:db8:1::1'],
      prefixes: ['2001:db8:1::/64'],
      dhcpv6: {
        mode: 'stateful',
        addressPools: ['2001:db8:1::1000-2001:db8:1::1fff'],
        prefixDelegation: [{ prefix: '2001:db8:100::/40', delegatedLength: 56 }],
      },
    },
  ],
  ports: [
    { name: 'vm1', mac: '02:00:00:00:00:01', network: 'tenant', addresses: ['2001:db8:1::101'] },
    { name: 'vm2', mac: '02:00:00:00:00:02', network: 'tenant', addresses: ['2001:db8:1::102'] },
  ],
});

/** Adds a second stateful network to the base document, on VLAN 200 of its interface. */
const addSecondNetwork = (d: Doc): void => {
  d.networks.push({
    name: 'other',
    vlan: 200,
    routerMac: '02:00:00:00:00:fd',
    prefixes: ['2001:db8:2::/64'],
    dhcpv6: { mode: 'stateful' },
  });
  d.interfaces[0].networks = ['other'];
};

const parse = (doc: Doc): Punt6Config => parseConfig(stringify(doc), 'test.yaml', '/srv/punt6');

/** The problem lines of the ConfigError that `text` gives. */
function problemsOf(text: string, source = 'test.yaml'): string[] {
  try {
    parseConfig(text, source, '/');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.reason}`);
    throw e;
  }
  return [];
}

// ---- the lab example ----

test('lab.yaml loads with the documented defaults', async (t) => {
  const c = await loadConfig(join(fixturesDirectory, 'config', 'lab.yaml'));
  t.is(c.networks.length, 1);
  const n = net0(c);
  t.is(n.name, 'tenant');
  t.is(n.vlan, null);
  t.is(n.interface, 'punt0');
  t.is(n.mtu, 1500);
  t.is(hex(n.routerMac.bytes), '0200000000fe');
  t.is(n.routerLinkLocal.text, 'fe80::ff:fe00:fe');
  t.is(hex(n.routerLinkLocal.bytes), 'fe80000000000000000000fffe0000fe');
  t.deepEqual(
    n.routerAddresses.map((a) => hex(a.bytes)),
    ['20010db8000100000000000000000001'],
  );

  const [p] = n.prefixes;
  t.is(p!.prefix.text, '2001:db8:1::/64');
  t.is(hex(p!.prefix.address), '20010db8000100000000000000000000');
  t.is(p!.prefix.length, 64);
  t.true(p!.onLink);
  t.true(p!.slaac);
  t.is(p!.validLifetime, 2_592_000); // RFC 4861 §6.2.1 AdvValidLifetime: 30 days
  t.is(p!.preferredLifetime, 604_800); // AdvPreferredLifetime: 7 days

  // RFC 4861 §6.2.1 defaults for MaxRtrAdvInterval 600.
  t.is(n.ra.maxInterval, 600);
  t.is(n.ra.minInterval, 198);
  t.is(n.ra.routerLifetime, 1800);
  t.is(n.ra.curHopLimit, 64);
  t.is(n.ra.reachableTime, 0);
  t.is(n.ra.retransTimer, 0);
  t.is(n.ra.preference, 'medium');
  t.true(n.ra.enabled);
  t.true(n.ra.unsolicited);
  // Stateful DHCPv6: M and O.
  t.true(n.ra.managed);
  t.true(n.ra.otherConfig);
  // RDNSS and DNSSL from `dns`, lifetime 3 × MaxRtrAdvInterval (RFC 8106 §5.1).
  t.deepEqual(
    n.ra.rdnss?.servers.map((a) => hex(a.bytes)),
    ['20010db8000100000000000000000053'],
  );
  t.is(n.ra.rdnss?.lifetime, 1800);
  t.deepEqual(n.ra.dnssl, { domains: ['lab.example.'], lifetime: 1800 });
  t.is(n.ra.pref64, null);
  t.deepEqual(n.ra.routes, []);

  const d = n.dhcpv6;
  t.is(d.mode, 'stateful');
  t.deepEqual(
    d.dnsServers.map((a) => a.text),
    ['2001:db8:1::53'],
  );
  t.deepEqual(d.domainSearch, ['lab.example.']);
  t.deepEqual(d.ntpServers, []);
  t.is(d.preferredLifetime, 3600);
  t.is(d.validLifetime, 7200);
  t.is(d.t1, 1800); // RFC 9915 §21.4: 0.5 × preferred
  t.is(d.t2, 2880); // 0.8 × preferred
  t.is(d.informationRefreshTime, 86_400);
  t.true(d.rapidCommit);
  t.deepEqual(
    d.addressPools.map((r) => [r.text, hex(r.first), hex(r.last)]),
    [['2001:db8:1::1000-2001:db8:1::1fff', '20010db8000100000000000000001000', '20010db8000100000000000000001fff']],
  );
  t.deepEqual(
    d.prefixDelegation.map((pd) => [pd.prefix.text, hex(pd.prefix.address), pd.prefix.length, pd.delegatedLength]),
    [['2001:db8:100::/40', '20010db8010000000000000000000000', 40, 56]],
  );
  t.deepEqual(n.mrd, { enabled: false, advertisementInterval: 20, queryInterval: 125, robustness: 2 });

  t.deepEqual(
    c.ports.map((x) => [
      x.name,
      hex(x.mac.bytes),
      x.network,
      x.addresses.map((a) => hex(a.bytes)),
      x.delegatedPrefix?.text ?? null,
      x.clientDuid,
    ]),
    [
      ['vm1', '020000000001', 'tenant', ['20010db8000100000000000000000101'], '2001:db8:100:100::/56', null],
      ['vm2', '020000000002', 'tenant', ['20010db8000100000000000000000102'], null, null],
    ],
  );
  t.is(hex(c.ports[0]!.delegatedPrefix!.address), '20010db8010001000000000000000000');
  t.is(n.ports.length, 2);
  t.is(n.ports[0], c.ports[0]);

  t.is(c.interfaces.length, 1);
  const i = c.interfaces[0]!;
  t.is(i.name, 'punt0');
  t.is(i.untagged, n);
  t.deepEqual(i.tagged, []);
  t.deepEqual(
    i.attachments.map((a) => [a.vlan, a.network.name]),
    [[null, 'tenant']],
  );

  // `stateDirectory: state` is relative to the file's directory.
  const state = join(fixturesDirectory, 'config', 'state');
  t.deepEqual(c.server, {
    duid: null,
    stateDirectory: state,
    leaseFile: join(state, 'leases.journal'),
    duidFile: join(state, 'server-duid'),
    rateLimit: { rate: 200, burst: 400 },
    leaseLimits: {
      addressesPerClient: 8,
      prefixesPerClient: 4,
      addressesPerPort: 64,
      prefixesPerPort: 16,
      iasPerMessage: 8,
      maxLeases: 1_000_000,
    },
  });
  t.is(c.metrics, null);
  t.is(c.log.level, 'info');
});

test('trunk.yaml: two networks on VLANs 100 and 200 of one interface', async (t) => {
  const c = await loadConfig(join(fixturesDirectory, 'config', 'trunk.yaml'));
  const [blue, green] = c.networks;
  t.is(blue!.vlan, 100);
  t.is(green!.vlan, 200); // from the interface's `vlans` map
  t.deepEqual(
    c.interfaces.map((i) => [i.name, i.untagged, i.tagged.map((a) => [a.vlan, a.network.name])]),
    [
      [
        'punt0',
        null,
        [
          [100, 'blue'],
          [200, 'green'],
        ],
      ],
    ],
  );
  t.is(c.interfaces[0]!.tagged[1]!.network, green!);
  // Stateless: M=0 O=1, SLAAC on the /64.
  t.deepEqual([blue!.ra.managed, blue!.ra.otherConfig, blue!.prefixes[0]!.slaac], [false, true, true]);
  // Stateful: M=1 O=1, SLAAC off unless asked.
  t.deepEqual([green!.ra.managed, green!.ra.otherConfig, green!.prefixes[0]!.slaac], [true, true, false]);
  t.is(green!.mtu, 9000);
  t.deepEqual([green!.ra.maxInterval, green!.ra.minInterval, green!.ra.routerLifetime], [60, 19.8, 180]);
  t.deepEqual(
    green!.ra.routes.map((r) => [r.prefix.text, r.preference, r.lifetime]),
    [['2001:db8:f000::/36', 'medium', 180]],
  );
  t.is(green!.ra.preference, 'high');
  t.deepEqual([green!.ra.pref64?.prefix.text, green!.ra.pref64?.lifetime], ['64:ff9b::/96', 180]);
  t.deepEqual(
    green!.dhcpv6.addressPools.map((p) => [formatIpv6(p.first), formatIpv6(p.last)]),
    [['2001:db8:b::', '2001:db8:b::ffff']],
  );
  t.deepEqual(
    green!.dhcpv6.ntpServers.map((a) => a.text),
    ['2001:db8:b::123'],
  );
  t.true(green!.mrd.enabled);
  t.is(hex(c.ports[1]!.clientDuid), '00030001020000000201');
  t.deepEqual(c.metrics, { host: '::1', port: 9464 });
  t.is(c.log.level, 'debug');
});

// ---- defaults derived from other values ----

test('M and O flags follow the DHCPv6 mode unless set', (t) => {
  const flags = (dhcpv6: object, ra: object = {}) => {
    const d = base();
    d.networks[0].dhcpv6 = dhcpv6;
    d.networks[0].ra = ra;
    const n = net0(parse(d));
    return [n.ra.managed, n.ra.otherConfig, n.prefixes[0]!.slaac];
  };
  t.deepEqual(flags({ mode: 'off' }), [false, false, true]);
  t.deepEqual(flags({ mode: 'stateless' }), [false, true, true]);
  t.deepEqual(flags({ mode: 'stateful' }), [true, true, false]);
  t.deepEqual(flags({}), [false, true, true], 'the default mode is stateless');
  t.deepEqual(flags({ mode: 'stateful' }, { managed: false }), [false, true, false]);
  t.deepEqual(flags({ mode: 'off' }, { otherConfig: true }), [false, true, true]);
});

test('RA intervals and lifetimes follow MaxRtrAdvInterval (RFC 4861 §6.2.1, RFC 8106, RFC 8781)', (t) => {
  const ra = (given: object) => {
    const d = base();
    d.networks[0].ra = { ...given, pref64: { prefix: '64:ff9b::/96' } };
    d.networks[0].dns = { servers: ['2001:db8:1::53'], search: ['example.org'] };
    const r = net0(parse(d)).ra;
    return [r.minInterval, r.maxInterval, r.routerLifetime, r.rdnss?.lifetime, r.dnssl?.lifetime, r.pref64?.lifetime];
  };
  t.deepEqual(ra({}), [198, 600, 1800, 1800, 1800, 1800]);
  t.deepEqual(ra({ maxInterval: 4 }), [3, 4, 12, 12, 12, 12]); // below 9 s: 0.75 × max
  t.deepEqual(ra({ maxInterval: 1800 }), [594, 1800, 5400, 5400, 5400, 5400]);
  t.deepEqual(ra({ maxInterval: 100, minInterval: 75, routerLifetime: 0 }), [75, 100, 0, 300, 300, 300]);
  t.is(Defaults.maxInterval, 600);
});

test('DHCPv6 times: T1 and T2 from the preferred lifetime, infinity stays infinity', (t) => {
  const times = (given: object) => {
    const d = base();
    Object.assign(d.networks[0].dhcpv6, given);
    const x = net0(parse(d)).dhcpv6;
    return [x.t1, x.t2, x.preferredLifetime, x.validLifetime];
  };
  t.deepEqual(times({}), [1800, 2880, 3600, 7200]);
  t.deepEqual(times({ preferredLifetime: 1000 }), [500, 800, 1000, 7200]);
  t.deepEqual(times({ validLifetime: 600 }), [300, 480, 600, 600]);
  t.deepEqual(
    times({ t2: 1000 }),
    [1000, 1000, 3600, 7200].map((v, i) => (i === 0 ? 1000 : v)),
  );
  t.deepEqual(times({ preferredLifetime: 'infinity', validLifetime: 'infinity' }), [
    INFINITE_LIFETIME,
    INFINITE_LIFETIME,
    INFINITE_LIFETIME,
    INFINITE_LIFETIME,
  ]);
});

test('router link-local is derived from routerMac by modified EUI-64 when not given', (t) => {
  const d = base();
  d.networks[0].routerMac = '00:1b:21:3c:4d:5e';
  t.is(net0(parse(d)).routerLinkLocal.text, 'fe80::21b:21ff:fe3c:4d5e');
});

test('server paths: absolute, relative to the state directory, defaults', (t) => {
  const d = base();
  t.deepEqual(parse(d).server, {
    duid: null,
    stateDirectory: '/var/lib/punt6',
    leaseFile: '/var/lib/punt6/leases.journal',
    duidFile: '/var/lib/punt6/server-duid',
    rateLimit: { rate: 200, burst: 400 },
    leaseLimits: {
      addressesPerClient: 8,
      prefixesPerClient: 4,
      addressesPerPort: 64,
      prefixesPerPort: 16,
      iasPerMessage: 8,
      maxLeases: 1_000_000,
    },
  });
  d.server = {
    stateDirectory: 'st',
    leaseFile: '/var/log/journal.jsonl',
    duidFile: 'id',
    duid: '00:04:11:22:33:44',
    rateLimit: { rate: 1000 },
    leaseLimits: { addressesPerClient: 2, iasPerMessage: 1 },
  };
  t.deepEqual(parse(d).server, {
    duid: new Uint8Array([0, 4, 0x11, 0x22, 0x33, 0x44]),
    stateDirectory: '/srv/punt6/st',
    leaseFile: '/var/log/journal.jsonl',
    duidFile: '/srv/punt6/st/id',
    rateLimit: { rate: 1000, burst: 1000 },
    leaseLimits: {
      addressesPerClient: 2,
      prefixesPerClient: 4,
      addressesPerPort: 64,
      prefixesPerPort: 16,
      iasPerMessage: 1,
      maxLeases: 1_000_000,
    },
  });
});

test('dhcpv6.trustedRelays: addresses (as /128) and prefixes', (t) => {
  const d = base();
  d.networks[0].dhcpv6.trustedRelays = ['2001:db8:1::2', '2001:db8:9::/64'];
  t.deepEqual(
    parse(d).networks[0]!.dhcpv6.trustedRelays.map((p) => p.text),
    ['2001:db8:1::2/128', '2001:db8:9::/64'],
  );
});

test("an interface can carry an untagged network and tagged ones; `networks` uses each network's vlan", (t) => {
  const d = base();
  d.networks.push(
    { name: 'b', vlan: 7, routerMac: '02:00:00:00:01:fe' },
    { name: 'c', routerMac: '02:00:00:00:02:fe' },
  );
  d.interfaces = [{ name: 'punt0', network: 'tenant', networks: ['b'], vlans: { 3: 'c' } }];
  const c = parse(d);
  const i = c.interfaces[0]!;
  t.is(i.untagged?.name, 'tenant');
  t.deepEqual(
    i.tagged.map((a) => [a.vlan, a.network.name]),
    [
      [3, 'c'],
      [7, 'b'],
    ],
  );
  t.deepEqual(
    i.attachments.map((a) => a.vlan),
    [null, 3, 7],
  );
  t.deepEqual(
    c.networks.map((n) => n.vlan),
    [null, 7, 3],
  );
});

// ---- refused files: every problem, by path and reason ----

const refused: { title: string; change?: (d: Doc) => void; text?: string; problems: string[] }[] = [
  {
    title: 'prefix length 129',
    change: (d) => d.networks[0].prefixes.push('fd00::/129'),
    problems: ['networks[0].prefixes[1]: "fd00::/129" is not an IPv6 prefix'],
  },
  {
    title: 'prefix with host bits',
    change: (d) => (d.networks[0].prefixes = ['2001:db8:1::/64', '2001:db8:2::1/64']),
    problems: [
      'networks[0].prefixes[1]: "2001:db8:2::1/64" is not an IPv6 prefix: bits are set after /64 (did you mean "2001:db8:2::/64"?)',
    ],
  },
  {
    title: 'address not in any prefix',
    change: (d) => d.ports[0].addresses.push('2001:db8:2::1'),
    problems: ['ports[0].addresses[1]: "2001:db8:2::1" is not inside any prefix of network "tenant" (2001:db8:1::/64)'],
  },
  {
    title: 'lease limits and trusted relays out of range or malformed',
    change: (d) => {
      d.server = { leaseLimits: { iasPerMessage: 33, addressesPerClient: 0 } };
      d.networks[0].dhcpv6.trustedRelays = ['2001:db8:1::2/129', 'relay1'];
    },
    problems: [
      'networks[0].dhcpv6.trustedRelays[0]: "2001:db8:1::2/129" is not an IPv6 prefix',
      'networks[0].dhcpv6.trustedRelays[1]: "relay1" is not an IPv6 address',
      'server.leaseLimits.addressesPerClient: 0 is out of range 1..1000000',
      'server.leaseLimits.iasPerMessage: 33 is out of range 1..32',
    ],
  },
  {
    title: 't1 greater than t2',
    change: (d) => Object.assign(d.networks[0].dhcpv6, { t1: 3000, t2: 2000 }),
    problems: ['networks[0].dhcpv6.t1: 3000 is greater than t2 (2000)'],
  },
  {
    title: 'unknown key',
    change: (d) => (d.networks[0].routerMAC = '02:00:00:00:00:fe'),
    problems: [
      'networks[0].routerMAC: unknown key (expected one of: name, vlan, mtu, routerMac, routerLinkLocal, routerAddresses, prefixes, dns, ra, dhcpv6, mrd)',
    ],
  },
  {
    title: 'duplicate port MAC',
    change: (d) => (d.ports[1].mac = '02-00-00-00-00-01'),
    problems: ['ports[1].mac: "02-00-00-00-00-01" is also the MAC of port "vm1" (ports[0].mac)'],
  },
  {
    title: 'duplicate address across ports (spelled differently)',
    change: (d) => (d.ports[1].addresses = ['2001:DB8:1:0::101']),
    problems: ['ports[1].addresses[0]: "2001:DB8:1:0::101" is also an address of port "vm1" (ports[0].addresses[0])'],
  },
  {
    title: 'port address is the router address, in a pool, the subnet-router anycast address',
    change: (d) => (d.ports[0].addresses = ['2001:db8:1::1', '2001:db8:1::1001', '2001:db8:1::']),
    problems: [
      'ports[0].addresses[0]: "2001:db8:1::1" is also an address of network "tenant" (networks[0].routerAddresses[0])',
      'ports[0].addresses[1]: "2001:db8:1::1001" lies inside address pool 2001:db8:1::1000-2001:db8:1::1fff (networks[0].dhcpv6.addressPools[0])',
      'ports[0].addresses[2]: "2001:db8:1::" is the Subnet-Router anycast address of 2001:db8:1::/64 (RFC 4291 §2.6.1)',
    ],
  },
  {
    title: 'port on an unknown network',
    change: (d) => (d.ports[1].network = 'tenat'),
    problems: ['ports[1].network: unknown network "tenat"'],
  },
  {
    title: 'VLAN 4095',
    change: (d) => (d.networks[0].vlan = 4095),
    problems: ['networks[0].vlan: 4095 is out of range 1..4094'],
  },
  {
    title: 'VLAN 4095 as a trunk key',
    change: (d) => (d.interfaces[0] = { name: 'punt0', vlans: { 4095: 'tenant' } }),
    problems: ['interfaces[0].vlans.4095: "4095" is not a VLAN id (1..4094)'],
  },
  {
    title: 'pool outside the prefixes',
    change: (d) => (d.networks[0].dhcpv6.addressPools = ['2001:db8:2::/112']),
    problems: [
      'networks[0].dhcpv6.addressPools[0]: "2001:db8:2::/112" is not inside any prefix of network "tenant" (2001:db8:1::/64)',
    ],
  },
  {
    title: 'pool range that ends before it starts',
    change: (d) => (d.networks[0].dhcpv6.addressPools = ['2001:db8:1::2000-2001:db8:1::1000']),
    problems: [
      'networks[0].dhcpv6.addressPools[0]: "2001:db8:1::2000-2001:db8:1::1000" is an empty range: it starts after it ends',
    ],
  },
  {
    title: 'address pool without stateful DHCPv6',
    change: (d) => (d.networks[0].dhcpv6.mode = 'stateless'),
    problems: ['networks[0].dhcpv6.addressPools: address pools need mode: stateful (mode is stateless)'],
  },
  {
    title: 'PD delegated length shorter than the pool prefix',
    change: (d) => (d.networks[0].dhcpv6.prefixDelegation[0].delegatedLength = 32),
    problems: [
      "networks[0].dhcpv6.prefixDelegation[0].delegatedLength: 32 must be longer than the pool's prefix length 40",
    ],
  },
  {
    title: 'two networks on the same interface and VLAN',
    change: (d) => {
      d.networks[0].vlan = 100;
      d.networks.push({ name: 'other', vlan: 100, routerMac: '02:00:00:00:01:fe' });
      d.interfaces = [{ name: 'punt0', networks: ['tenant', 'other'] }];
    },
    problems: [
      'interfaces[0].networks[1]: network "other" and network "tenant" (interfaces[0].networks[0]) are both on VLAN 100 of interface "punt0"',
    ],
  },
  {
    title: 'two untagged networks on one interface',
    change: (d) => {
      d.networks.push({ name: 'other', routerMac: '02:00:00:00:01:fe' });
      d.interfaces = [{ name: 'punt0', network: 'tenant', networks: ['other'] }];
    },
    problems: [
      'interfaces[0].networks[0]: network "other" and network "tenant" (interfaces[0].network) are both on untagged frames of interface "punt0"',
    ],
  },
  {
    title: 'network attached twice, and one attached nowhere',
    change: (d) => {
      d.networks.push({ name: 'other', routerMac: '02:00:00:00:01:fe' });
      d.interfaces.push({ name: 'punt1', vlans: { 5: 'tenant' } });
    },
    problems: [
      'interfaces[1].vlans.5: network "tenant" is already attached at interfaces[0].network',
      'networks[1]: network "other" is not attached to any interface',
    ],
  },
  {
    title: 'minInterval above 0.75 × maxInterval',
    change: (d) => (d.networks[0].ra = { minInterval: 200, maxInterval: 200 }),
    problems: ['networks[0].ra.minInterval: 200 is greater than 0.75 × maxInterval (200) = 150'],
  },
  {
    title: 'minInterval above 0.75 × the default maxInterval',
    change: (d) => (d.networks[0].ra = { minInterval: 451 }),
    problems: ['networks[0].ra.minInterval: 451 is greater than 0.75 × the default maxInterval 600 = 450'],
  },
  {
    title: 'bad MAC',
    change: (d) => (d.ports[0].mac = '02:00:00:00:00'),
    problems: ['ports[0].mac: "02:00:00:00:00" is not a MAC address (six hex bytes, like 02:00:00:00:00:01)'],
  },
  {
    title: 'multicast MAC',
    change: (d) => (d.ports[0].mac = '03:00:00:00:00:01'),
    problems: ['ports[0].mac: "03:00:00:00:00:01" is a multicast MAC address'],
  },
  {
    title: 'bad DUID hex',
    change: (d) => (d.ports[0].clientDuid = '00:03:00:zz'),
    problems: ['ports[0].clientDuid: "00:03:00:zz" is not a DUID (3 to 130 bytes in hex, like 00:04:…)'],
  },
  {
    title: 'DUID with an odd number of digits',
    change: (d) => (d.ports[0].clientDuid = '0003000'),
    problems: ['ports[0].clientDuid: "0003000" is not a DUID (3 to 130 bytes in hex, like 00:04:…)'],
  },
  {
    title: 'delegated prefixes that overlap',
    change: (d) => {
      d.ports[0].delegatedPrefix = '2001:db8:200:100::/56';
      d.ports[1].delegatedPrefix = '2001:db8:200:100::/60';
    },
    problems: [
      'ports[1].delegatedPrefix: "2001:db8:200:100::/60" overlaps 2001:db8:200:100::/56 (ports[0].delegatedPrefix)',
    ],
  },
  {
    title: 'a delegated prefix inside a delegation pool, of another length than the pool delegates',
    change: (d) => (d.ports[0].delegatedPrefix = '2001:db8:100:100::/60'),
    problems: [
      'ports[0].delegatedPrefix: "2001:db8:100:100::/60" overlaps prefixDelegation pool 2001:db8:100::/40 (networks[0].dhcpv6.prefixDelegation[0].prefix), ' +
        'which delegates /56: a delegated prefix there must be one of its /56 prefixes',
    ],
  },
  {
    title: "a delegated prefix inside another network's delegation pool, of another length",
    change: (d) => {
      addSecondNetwork(d);
      d.ports[1].network = 'other';
      d.ports[1].addresses = [];
      d.ports[1].delegatedPrefix = '2001:db8:100::/48';
    },
    problems: [
      'ports[1].delegatedPrefix: "2001:db8:100::/48" overlaps prefixDelegation pool 2001:db8:100::/40 (networks[0].dhcpv6.prefixDelegation[0].prefix), ' +
        'which delegates /56: a delegated prefix there must be one of its /56 prefixes',
    ],
  },
  {
    title: "a delegated prefix over another network's on-link prefix",
    change: (d) => {
      addSecondNetwork(d);
      d.ports[1].network = 'other';
      d.ports[1].addresses = [];
      d.ports[1].delegatedPrefix = '2001:db8:1::100/126';
    },
    problems: [
      'ports[1].delegatedPrefix: "2001:db8:1::100/126" overlaps the on-link prefix 2001:db8:1::/64 of network "tenant" (networks[0].prefixes[0])',
    ],
  },
  {
    title: 'address pools of two networks that overlap',
    change: (d) => {
      addSecondNetwork(d);
      d.networks[1].prefixes = ['2001:db8:1::/64'];
      d.networks[1].dhcpv6.addressPools = ['2001:db8:1::1800-2001:db8:1::2fff'];
    },
    problems: [
      'networks[1].dhcpv6.addressPools[0]: "2001:db8:1::1800-2001:db8:1::2fff" overlaps 2001:db8:1::1000-2001:db8:1::1fff (networks[0].dhcpv6.addressPools[0])',
    ],
  },
  {
    title: 'delegation pools of two networks that overlap',
    change: (d) => {
      addSecondNetwork(d);
      d.networks[1].dhcpv6.prefixDelegation = [{ prefix: '2001:db8:180::/48', delegatedLength: 64 }];
    },
    problems: [
      'networks[1].dhcpv6.prefixDelegation[0].prefix: "2001:db8:180::/48" overlaps 2001:db8:100::/40 (networks[0].dhcpv6.prefixDelegation[0].prefix)',
    ],
  },
  {
    title: "a delegation pool over another network's on-link prefix",
    change: (d) => {
      addSecondNetwork(d);
      d.networks[1].dhcpv6.prefixDelegation = [{ prefix: '2001:db8::/32', delegatedLength: 48 }];
    },
    problems: [
      'networks[1].dhcpv6.prefixDelegation[0].prefix: "2001:db8::/32" overlaps the on-link prefix 2001:db8:2::/64 (networks[1].prefixes[0])',
      'networks[1].dhcpv6.prefixDelegation[0].prefix: "2001:db8::/32" overlaps the on-link prefix 2001:db8:1::/64 of network "tenant" (networks[0].prefixes[0])',
    ],
  },
  {
    title: 'a valid lifetime of 0',
    change: (d) => (d.networks[0].dhcpv6.validLifetime = 0),
    problems: ['networks[0].dhcpv6.validLifetime: 0 makes every lease invalid at once: at least 1 (RFC 9915 §21.6)'],
  },
  {
    title: 'wrong types, missing keys, bad enums',
    change: (d) => {
      d.networks[0].mtu = 'big';
      d.ports[0].addresses = '2001:db8:1::101';
      delete d.ports[1].mac;
      d.networks[0].dhcpv6.mode = 'on';
      d.networks[0].dhcpv6.t1 = 'forever';
      d.log = { level: 'loud' };
    },
    problems: [
      'networks[0].mtu: expected an integer, got string "big"',
      'networks[0].dhcpv6.mode: "on" is not one of: off, stateless, stateful',
      'networks[0].dhcpv6.t1: expected a number of seconds or "infinity", got "forever"',
      'ports[0].addresses: expected a list, got string "2001:db8:1::101"',
      'ports[1].mac: is required',
      'log.level: "loud" is not one of: fatal, error, warn, info, debug, trace, silent',
    ],
  },
  {
    title: 'MRD out of range',
    change: (d) => (d.networks[0].mrd = { enabled: true, advertisementInterval: 200, robustness: 0 }),
    problems: [
      'networks[0].mrd.advertisementInterval: 200 is out of range 4..180',
      'networks[0].mrd.robustness: 0 is out of range 1..65535',
    ],
  },
  {
    title: 'several problems in one file, all listed',
    change: (d) => {
      d.networks[0].prefixes.push('fd00::/129');
      d.networks[0].vlan = 4095;
      d.networks[0].ra = { minInterval: 500 };
      d.networks[0].dhcpv6.t1 = 5000;
      d.networks[0].dhcpv6.t2 = 4000;
      d.ports[1].mac = '02:00:00:00:00:01';
      d.ports[1].addresses = ['2001:db8:1::101', '2001:db8:9::1'];
      d.ports[1].clientDuid = 'xyz';
      d.ports.push({ name: 'vm3', mac: '02:00:00:00:00:03', network: 'nowhere' });
      d.metrics = 'localhost';
    },
    problems: [
      'networks[0].vlan: 4095 is out of range 1..4094',
      'networks[0].prefixes[1]: "fd00::/129" is not an IPv6 prefix',
      'ports[1].clientDuid: "xyz" is not a DUID (3 to 130 bytes in hex, like 00:04:…)',
      'metrics: "localhost" is not HOST:PORT (like "[::1]:9464", "127.0.0.1:9464" or ":9464")',
      'networks[0].ra.minInterval: 500 is greater than 0.75 × the default maxInterval 600 = 450',
      'networks[0].dhcpv6.t1: 5000 is greater than t2 (4000)',
      'ports[1].mac: "02:00:00:00:00:01" is also the MAC of port "vm1" (ports[0].mac)',
      'ports[1].addresses[0]: "2001:db8:1::101" is also an address of port "vm1" (ports[0].addresses[0])',
      'ports[2].network: unknown network "nowhere"',
    ],
  },
  {
    title: 'YAML syntax error: unclosed flow sequence',
    text: 'interfaces:\n  - name: punt0\n    network: [tenant\nnetworks: []\n',
    problems: ['test.yaml:4:1: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  },
  {
    title: 'YAML: duplicate key',
    text: 'interfaces: []\nnetworks: []\ninterfaces: []\n',
    problems: ['test.yaml:3:1: Map keys must be unique'],
  },
  {
    title: 'YAML: tab indentation',
    text: 'log:\n\tlevel: debug\n',
    problems: ['test.yaml:2:1: Tabs are not allowed as indentation'],
  },
  {
    title: 'YAML: alias without anchor',
    text: 'interfaces: *ifs\nnetworks: []\n',
    problems: ['test.yaml:1:13: unknown alias *ifs (the anchor &ifs must come before it)'],
  },
  {
    title: 'empty file',
    text: '',
    problems: ['(top level): expected a mapping, got null'],
  },
  {
    title: 'a list instead of a mapping',
    text: '- a\n- b\n',
    problems: ['(top level): expected a mapping, got a list'],
  },
];

for (const c of refused) {
  test(`refused: ${c.title}`, (t) => {
    let text = c.text;
    if (text === undefined) {
      const d = base();
      c.change!(d);
      text = stringify(d);
    }
    t.deepEqual(problemsOf(text), c.problems);
  });
}

test('the base document of the table is valid', (t) => {
  // The base document is valid: every case above is refused because of its own change.
  t.deepEqual(problemsOf(stringify(base())), []);
});

test('ConfigError message lists every problem under the file name', (t) => {
  const d = base();
  d.ports[0].mac = 'x';
  d.networks[0].vlan = 0;
  const e = t.throws(() => parseConfig(stringify(d), 'cloud.yaml'), { instanceOf: ConfigError });
  t.is(e.source, 'cloud.yaml');
  t.is(
    e.message,
    'cloud.yaml: invalid configuration, 2 problems:\n' +
      '  networks[0].vlan: 0 is out of range 1..4094\n' +
      '  ports[0].mac: "x" is not a MAC address (six hex bytes, like 02:00:00:00:00:01)',
  );
});

test('a missing or unreadable file is a ConfigError', async (t) => {
  const missing = join(fixturesDirectory, 'config', 'no-such-file.yaml');
  const e = await t.throwsAsync(loadConfig(missing), { instanceOf: ConfigError });
  t.deepEqual(e.problems, [{ path: missing, reason: 'no such file' }]);
  t.is(e.message, `${missing}: cannot read the configuration, 1 problem:\n  ${missing}: no such file`);
  const dir = await t.throwsAsync(loadConfig(fixturesDirectory), { instanceOf: ConfigError });
  t.deepEqual(dir.problems, [{ path: fixturesDirectory, reason: 'is a directory, not a file' }]);
});

test('YAML 1.2: MAC addresses are text, not base-60 numbers; yes/no are not booleans', (t) => {
  const text = stringify(base()).replace('mac: 02:00:00:00:00:01', 'mac: 00:00:00:00:00:01');
  t.true(text.includes('mac: 00:00:00:00:00:01'));
  t.is(parseConfig(text, 'x', '/').ports[0]!.mac.text, '00:00:00:00:00:01');
  const d = base();
  d.networks[0].mrd = { enabled: 'yes' };
  t.deepEqual(problemsOf(stringify(d)), ['networks[0].mrd.enabled: expected a boolean, got string "yes"']);
});
