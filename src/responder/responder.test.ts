/**
 * The configuration check and the lease table agree: a configuration the check accepts opens its
 * lease table (pools and port bindings as openResponder gives them), so no RangeError waits for
 * the state to open. Random configurations over a small set of colliding prefixes, pools,
 * addresses, delegated prefixes and lifetimes.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError, parseConfig, type Punt6Config } from '../config/index.js';
import { LeaseTable } from '../dhcp/leases.js';
import { poolsOf, staticBindingsOf } from './responder.js';

const prefixes = ['2001:db8:2::/64', '2001:db8:1::/48', '2001:db8:1::4/127'];
const addressPools = ['2001:db8:1::1000-2001:db8:1::1fff', '2001:db8:1::1800-2001:db8:1::2fff', '2001:db8:2::/112'];
const delegationPools = [
  { prefix: '2001:db8:100::/40', delegatedLength: 56 },
  { prefix: '2001:db8:100::/48', delegatedLength: 64 },
  { prefix: '2001:db8:1::/48', delegatedLength: 64 },
  { prefix: '2001:db9::/32', delegatedLength: 48 },
];
const addresses = ['2001:db8:1::4', '2001:db8:1::101', '2001:db8:2::5', '2001:db8:1::1800'];
const delegated = [
  '2001:db8:100:100::/56',
  '2001:db8:100:100::/60',
  '2001:db8:100::/48',
  '2001:db8:1::4/126',
  '2001:db8:1::4/128',
  '2001:db9::/48',
  '2001:db9:1::/48',
];

const some = <T>(list: readonly T[], max: number) => fc.uniqueArray(fc.constantFrom(...list), { maxLength: max });
const maybe = <T>(list: readonly T[]) => fc.option(fc.constantFrom(...list), { nil: undefined });

const network = fc.record({
  prefixes: some(prefixes, 1),
  addressPools: some(addressPools, 1),
  prefixDelegation: some(delegationPools, 2),
  validLifetime: maybe([0, 7200, 7200, 'infinity'] as const),
  preferredLifetime: maybe([0, 3600] as const),
});
const port = fc.record({ network: fc.nat(1), addresses: some(addresses, 1), delegatedPrefix: maybe(delegated) });

const documents = fc
  .record({ networks: fc.array(network, { minLength: 1, maxLength: 2 }), ports: fc.array(port, { maxLength: 3 }) })
  .map((d) => ({
    interfaces: [{ name: 'punt0', vlans: Object.fromEntries(d.networks.map((_, i) => [100 + i, `n${i}`])) }],
    networks: d.networks.map((n, i) => ({
      name: `n${i}`,
      routerMac: `02:00:00:00:01:0${i}`,
      // Each network's own /64 first; the extra one may collide with the other network's.
      prefixes: [...new Set([`2001:db8:${i + 1}::/64`, ...n.prefixes])],
      dhcpv6: {
        mode: 'stateful',
        addressPools: n.addressPools,
        prefixDelegation: n.prefixDelegation,
        ...(n.validLifetime === undefined ? {} : { validLifetime: n.validLifetime }),
        ...(n.preferredLifetime === undefined ? {} : { preferredLifetime: n.preferredLifetime }),
      },
    })),
    ports: d.ports.map((p, i) => ({
      name: `vm${i}`,
      mac: `02:00:00:00:00:0${i + 1}`,
      network: `n${Math.min(p.network, d.networks.length - 1)}`,
      addresses: p.addresses,
      ...(p.delegatedPrefix === undefined ? {} : { delegatedPrefix: p.delegatedPrefix }),
    })),
    server: { duid: '00030001020000000001' },
  }));

function checked(doc: unknown): Punt6Config | null {
  try {
    return parseConfig(stringify(doc), 'random.yaml', '/');
  } catch (e) {
    if (e instanceof ConfigError) return null;
    throw e;
  }
}

test('a configuration the check accepts opens its lease table', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'punt6-check-leases-'));
  let accepted = 0;
  let refused = 0;
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(documents, async (doc) => {
        const config = checked(doc);
        if (config === null) {
          refused++;
          return;
        }
        accepted++;
        const table = await LeaseTable.open(join(dir, `leases-${n++}`), {
          pools: poolsOf(config),
          staticBindings: staticBindingsOf(config),
        });
        await table.close();
      }),
      { numRuns: 1000 },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  t.log(`${accepted} accepted, ${refused} refused`);
  t.true(accepted >= 50 && refused >= 50, 'both sides of the check were exercised');
});
