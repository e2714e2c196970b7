/** The lab's layout and flows derived from fixtures/config/lab.yaml. */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { loadConfig, parseConfig } from '../config/index.js';
import { repositoryRoot } from '../../fixtures/paths.js';
import { buildFlows, buildPlan, withControlSocket, withVms } from './plan.js';

const labConfig = join(repositoryRoot, 'fixtures', 'config', 'lab.yaml');

test('one VM per configured port, on OpenFlow ports 1 and 2; punt0 on port 100', async (t) => {
  const plan = buildPlan(await loadConfig(labConfig));
  t.deepEqual(plan.puntInterfaces, [{ name: 'punt0', ofport: 100 }]);
  t.deepEqual(
    plan.vms.map((v) => [v.name, v.namespace, v.mac, v.ofport, v.addresses]),
    [
      ['vm1', 'p6lab-vm1', '02:00:00:00:00:01', 1, ['2001:db8:1::101']],
      ['vm2', 'p6lab-vm2', '02:00:00:00:00:02', 2, ['2001:db8:1::102']],
    ],
  );
  const net = plan.vms[0]!.network;
  t.like(net, {
    routerMac: '02:00:00:00:00:fe',
    routerLinkLocal: 'fe80::ff:fe00:fe',
    mtu: 1500,
    managed: true,
    otherConfig: true,
    dhcpMode: 'stateful',
  });
  t.deepEqual(net.slaacPrefixes, ['2001:db8:1::/64']);
  t.deepEqual(net.rdnss, ['2001:db8:1::53']);
});

test("the bridge's own flows: a learning switch; punt6's rules come from punt6 run --bridge", async (t) => {
  const flows = buildFlows(buildPlan(await loadConfig(labConfig)))
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
  t.deepEqual(flows, ['table=0,priority=0,actions=NORMAL']);
});

test("withVms: the ports become vm1 … vmN on the first port's network, one address each, vm1 keeps the delegated prefix", (t) => {
  const text = readFileSync(join(repositoryRoot, 'fixtures', 'config', 'lab.yaml'), 'utf8');
  const config = parseConfig(withVms(text, 50), join(repositoryRoot, 'fixtures', 'config', 'lab.yaml'));
  t.is(config.ports.length, 50);
  t.deepEqual(
    config.ports
      .slice(0, 2)
      .map((p) => [p.name, p.mac.text, p.network, p.addresses.map((a) => a.text), p.delegatedPrefix?.text ?? null]),
    [
      ['vm1', '02:00:00:00:00:01', 'tenant', ['2001:db8:1::101'], '2001:db8:100:100::/56'],
      ['vm2', '02:00:00:00:00:02', 'tenant', ['2001:db8:1::102'], null],
    ],
  );
  t.is(config.ports[49]?.addresses[0]?.text, '2001:db8:1::132');
  t.is(buildPlan(config).vms.length, 50);
  t.throws(() => withVms(text, 0), { message: /1\.\.1000/ });
});

test('withControlSocket: the lab gives its punt6 a control socket, and keeps one the file names', (t) => {
  const text = readFileSync(labConfig, 'utf8');
  const config = parseConfig(withControlSocket(text, '/run/lab/control.sock'), labConfig);
  t.deepEqual(config.control, { socket: '/run/lab/control.sock', mode: 0o600 });
  t.deepEqual(config.networks, parseConfig(text, labConfig).networks, 'nothing else changes');
  const own = withControlSocket(`${text}\ncontrol:\n  socket: /run/own.sock\n`, '/run/lab/control.sock');
  t.is(parseConfig(own, labConfig).control?.socket, '/run/own.sock');
});
