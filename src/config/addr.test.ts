import test from 'ava';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { toHex } from '../../codecs/bytes.js';
import { IPv6, IPv6CidrRange, RangedSet } from 'ip-num';
import { inPrefix, parseIpv6 } from '../../codecs/bytes.js';
import {
  addressInRange,
  duidProblem,
  ipv6AddressProblem,
  ipv6PoolProblem,
  ipv6PrefixProblem,
  linkLocalFromMac,
  parseDuid,
  parseHostPort,
  parseIpv6Address,
  parseIpv6Pool,
  parseIpv6Prefix,
  parseMacAddress,
  PrefixSet,
} from './addr.js';
import { documentPaths } from '../test-support/documents.js';
import { ConfigError } from './error.js';
import { parseConfig } from './load.js';

test('addresses: RFC 5952 text and bytes; zone indexes and prefixes are refused', (t) => {
  const a = parseIpv6Address('2001:DB8:0:0:0:0:0:1')!.model;
  t.is(a.text, '2001:db8::1');
  t.is(toHex(a.bytes), '20010db8000000000000000000000001');
  t.is(toHex(parseIpv6Address('::ffff:192.0.2.1')!.model.bytes), '00000000000000000000ffffc0000201');
  t.is(ipv6AddressProblem('fe80::1%eth0'), '"fe80::1%eth0" is not an IPv6 address');
  t.is(ipv6AddressProblem('2001:db8::/64'), '"2001:db8::/64" is not an IPv6 address');
  t.is(ipv6AddressProblem('2001:db8:::1'), '"2001:db8:::1" is not an IPv6 address');
  t.is(ipv6AddressProblem('1:2:3:4:5:6:7:8:9'), '"1:2:3:4:5:6:7:8:9" is not an IPv6 address');
});

test('prefixes: lengths 0..128, no host bits, canonical text', (t) => {
  t.is(parseIpv6Prefix('::/0')!.model.text, '::/0');
  t.is(parseIpv6Prefix('2001:db8::1/128')!.model.length, 128);
  const p = parseIpv6Prefix('2001:0db8:0100::/40')!;
  t.is(p.model.text, '2001:db8:100::/40');
  t.is(toHex(p.model.address), '20010db8010000000000000000000000');
  t.is(ipv6PrefixProblem('fd00::/129'), '"fd00::/129" is not an IPv6 prefix');
  t.is(ipv6PrefixProblem('fd00::'), '"fd00::" is not an IPv6 prefix');
  t.is(ipv6PrefixProblem('fd00::/-1'), '"fd00::/-1" is not an IPv6 prefix');
  t.is(
    ipv6PrefixProblem('fd00::1/127'),
    '"fd00::1/127" is not an IPv6 prefix: bits are set after /127 (did you mean "fd00::/127"?)',
  );
});

test('pools: prefix or FIRST-LAST, containment by ip-num', (t) => {
  const r = parseIpv6Pool('2001:db8::10 - 2001:db8::20')!;
  t.is(r.model.text, '2001:db8::10-2001:db8::20');
  t.true(r.range.inside(parseIpv6Prefix('2001:db8::/64')!.range));
  t.false(r.range.inside(parseIpv6Prefix('2001:db8::/124')!.range)); // ::0-::f
  const p = parseIpv6Pool('2001:db8::/120')!;
  t.is(toHex(p.model.last), '20010db80000000000000000000000ff');
  t.is(ipv6PoolProblem('2001:db8::1-'), '"2001:db8::1-" is not an IPv6 prefix or address range (FIRST-LAST)');
  t.is(ipv6PoolProblem('2001:db8::2-2001:db8::2'), null);
});

test('MAC addresses, EUI-64 link-local, DUIDs, HOST:PORT', (t) => {
  t.is(parseMacAddress('02-AB-00-00-00-01')!.text, '02:ab:00:00:00:01');
  t.is(parseMacAddress('02:ab-00:00:00:01'), null); // mixed separators
  t.is(linkLocalFromMac(parseMacAddress('52:54:00:12:34:56')!.bytes).text, 'fe80::5054:ff:fe12:3456');
  t.is(toHex(parseDuid('00:03:00:01:02:00:00:00:00:01')!), '00030001020000000001');
  t.is(toHex(parseDuid('000300010200')!), '000300010200');
  t.not(duidProblem('0003'), null); // shorter than type + 1 byte
  t.not(duidProblem('00'.repeat(131)), null);
  t.deepEqual(parseHostPort('[::1]:9464'), { host: '::1', port: 9464 });
  t.deepEqual(parseHostPort(':9464'), { host: '::', port: 9464 });
  t.deepEqual(parseHostPort('127.0.0.1:80'), { host: '127.0.0.1', port: 80 });
  t.is(parseHostPort('[::1]:0'), null);
  t.is(parseHostPort('::1:9464'), null);
});

// Any value anywhere in a valid document: the checks run on malformed documents too, and must only
// ever report problems, never throw something else.
test('any value at any place gives a ConfigError or a configuration, nothing else', (t) => {
  const doc = {
    interfaces: [{ name: 'punt0', network: 'n', vlans: { 5: 'm' } }],
    networks: [
      {
        name: 'n',
        routerMac: '02:00:00:00:00:fe',
        routerAddresses: ['2001:db8:1::1'],
        prefixes: ['2001:db8:1::/64', { prefix: '2001:db8:2::/64', slaac: true }],
        ra: {
          maxInterval: 60,
          routes: [{ prefix: '2001:db8:f::/48' }],
          rdnss: { servers: ['2001:db8::53'] },
          pref64: { prefix: '64:ff9b::/96' },
        },
        dhcpv6: {
          mode: 'stateful',
          t1: 10,
          t2: 20,
          addressPools: ['2001:db8:1::1:0/112'],
          prefixDelegation: [{ prefix: '2001:db8:100::/40', delegatedLength: 48 }],
        },
        mrd: { enabled: true },
      },
      { name: 'm', routerMac: '02:00:00:00:01:fe', vlan: 5 },
    ],
    ports: [
      {
        name: 'p',
        mac: '02:00:00:00:00:01',
        network: 'n',
        addresses: ['2001:db8:1::5'],
        delegatedPrefix: '2001:db8:100::/48',
        clientDuid: '000300010200',
      },
    ],
    server: { stateDirectory: 's' },
    metrics: ':9464',
    log: { level: 'info' },
  };
  const paths = documentPaths(doc);
  t.notThrows(() => parseConfig(stringify(doc), 'doc.yaml', '/'));
  fc.assert(
    fc.property(fc.integer({ min: 1, max: paths.length - 1 }), fc.jsonValue({ maxDepth: 2 }), (i, value) => {
      const copy = structuredClone(doc) as Record<string | number, unknown>;
      const path = paths[i]!;
      let cur = copy;
      for (const seg of path.slice(0, -1)) cur = cur[seg] as Record<string | number, unknown>;
      cur[path.at(-1)!] = value;
      try {
        parseConfig(stringify(copy), 'doc.yaml', '/');
      } catch (e) {
        if (!(e instanceof ConfigError) || e.problems.length === 0) throw e;
      }
    }),
    { numRuns: 400 },
  );
});

/** Addresses and prefixes near one another: a few networks, prefix lengths 0 to 128. */
const nearAddress = fc
  .tuple(fc.constantFrom('2001:db8', '2001:db9', 'fd00', 'fe80'), fc.nat(0xffff), fc.nat(0xffff), fc.nat(3))
  .map(([head, a, b, c]) => `${head}:${c}::${a.toString(16)}:${b.toString(16)}`);
const nearPrefix = fc
  .tuple(nearAddress, fc.constantFrom(0, 16, 31, 32, 48, 56, 63, 64, 100, 127, 128))
  .map(([a, l]) => {
    const p = parseIpv6Prefix(`${IPv6CidrRange.fromCidr(`${a}/${l}`).getFirst().toString()}/${l}`);
    return p!;
  });

test('addresses against prefixes and ranges, as bytes: what ip-num says', (t) => {
  fc.assert(
    fc.property(nearAddress, nearPrefix, nearAddress, nearAddress, (text, prefix, x, y) => {
      const a = parseIpv6(text);
      const ip = RangedSet.fromSingleIP(new IPv6(text));
      if (inPrefix(a, 0, prefix.model.address, prefix.model.length) !== prefix.range.contains(ip)) return false;
      const [first, last] = new IPv6(x).isLessThanOrEquals(new IPv6(y)) ? [x, y] : [y, x];
      return (
        addressInRange(a, parseIpv6(first), parseIpv6(last)) ===
        new RangedSet(new IPv6(first), new IPv6(last)).contains(ip)
      );
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

test('PrefixSet: a prefix overlaps the set exactly when ip-num finds one member it overlaps', (t) => {
  fc.assert(
    fc.property(fc.array(nearPrefix, { maxLength: 30 }), (prefixes) => {
      const set = new PrefixSet();
      const seen: typeof prefixes = [];
      for (const p of prefixes) {
        if (set.overlaps(p.model) !== seen.some((q) => q.range.isOverlapping(p.range))) return false;
        set.add(p.model);
        seen.push(p);
      }
      return true;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
