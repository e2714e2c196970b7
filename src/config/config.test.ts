import test from 'ava';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { formatIpv6, toHex } from '../../codecs/bytes.js';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { ConfigError, Defaults, INFINITE_LIFETIME, loadConfig, parseConfig, type Punt6Config } from './index.js';
import { base, refusedConfigs, refusedText, type Doc } from '../test-support/config-cases.js';

const hex = (b: Uint8Array | null): string | null => (b === null ? null : toHex(b));
const net0 = (c: Punt6Config) => c.networks[0]!;

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

test('control: the socket relative to the file, mode 0600 unless given', (t) => {
  t.is(parse(base()).control, null);
  const d = base();
  d.control = { socket: 'run/punt6.sock' };
  t.deepEqual(parse(d).control, { socket: '/srv/punt6/run/punt6.sock', mode: 0o600 });
  d.control = { socket: '/run/punt6/control.sock', mode: '660' };
  t.deepEqual(parse(d).control, { socket: '/run/punt6/control.sock', mode: 0o660 });
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

for (const c of refusedConfigs) {
  test(`refused: ${c.title}`, (t) => {
    t.deepEqual(problemsOf(refusedText(c)), c.problems);
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
