/** The readings of the host that `punt6 doctor` parses: capabilities, ethtool features, versions. */

import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../../fixtures/paths.js';
import { Capability, hasCapability, parseCapEff, parseEthtoolFeatures } from './host.js';
import { packageInfo, satisfiesMinimum } from './package.js';

test('CapEff: CAP_NET_RAW is bit 13', (t) => {
  const root = parseCapEff('Name:\tnode\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n');
  t.true(hasCapability(root, Capability.NetRaw));
  const netRawOnly = parseCapEff('CapEff:\t0000000000002000\n');
  t.true(hasCapability(netRawOnly, Capability.NetRaw));
  t.false(hasCapability(netRawOnly, Capability.NetAdmin));
  t.false(hasCapability(parseCapEff('CapEff:\t0000000000000000\n'), Capability.NetRaw));
  t.is(parseCapEff('no such line'), 0n);
});

test('ethtool -k: features on and off, fixed ones included, nested ones too', (t) => {
  const f = parseEthtoolFeatures(
    'Features for veth0:\nrx-checksumming: on\ntx-checksumming: off\n\ttx-checksum-ip-generic: off [fixed]\n' +
      'scatter-gather: on\ntcp-segmentation-offload: on\n',
  );
  t.true(f.get('rx-checksumming'));
  t.false(f.get('tx-checksumming'));
  t.false(f.get('tx-checksum-ip-generic'));
  t.is(f.get('no-such-feature'), undefined);
});

test('Node.js versions against >=MAJOR.MINOR; the range and version of package.json', (t) => {
  t.true(satisfiesMinimum('20.19.0', '>=20.19'));
  t.true(satisfiesMinimum('v22.1.0', '>=20.19'));
  t.false(satisfiesMinimum('20.18.9', '>=20.19'));
  t.false(satisfiesMinimum('18.20.0', '>= 20'));
  t.is(satisfiesMinimum('20.19.0', '^20.19'), null);
  const pkg = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as {
    version: string;
    engines: { node: string };
  };
  t.deepEqual(packageInfo(), { version: pkg.version, nodeRange: pkg.engines.node });
});
