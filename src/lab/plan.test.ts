/** The lab's layout and flows derived from fixtures/config/lab.yaml. */

import { join } from 'node:path';
import test from 'ava';
import { loadConfig } from '../config/index.js';
import { repositoryRoot } from '../../fixtures/paths.js';
import { buildFlows, buildPlan } from './plan.js';

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
  t.like(net, { routerMac: '02:00:00:00:00:fe', routerLinkLocal: 'fe80::ff:fe00:fe', mtu: 1500, managed: true, otherConfig: true, dhcpMode: 'stateful' });
  t.deepEqual(net.slaacPrefixes, ['2001:db8:1::/64']);
  t.deepEqual(net.rdnss, ['2001:db8:1::53']);
});

test('flows: control traffic punt6 answers goes to punt0 only; replies go to the VM by MAC', async (t) => {
  const flows = buildFlows(buildPlan(await loadConfig(labConfig)))
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
  const vm1 = flows.filter((f) => f.includes(',in_port=1,'));
  t.deepEqual(vm1, [
    'table=0,priority=300,in_port=1,icmp6,icmp_type=133,icmp_code=0,actions=output:100',
    'table=0,priority=300,in_port=1,icmp6,icmp_type=135,icmp_code=0,nd_target=fe80::ff:fe00:fe,actions=output:100',
    'table=0,priority=300,in_port=1,icmp6,icmp_type=135,icmp_code=0,nd_target=2001:db8:1::1,actions=output:100',
    'table=0,priority=300,in_port=1,icmp6,icmp_type=135,icmp_code=0,nd_target=2001:db8:1::101,actions=output:100',
    'table=0,priority=300,in_port=1,icmp6,icmp_type=135,icmp_code=0,nd_target=2001:db8:1::102,actions=output:100',
    'table=0,priority=300,in_port=1,icmp6,ipv6_src=::,icmp_type=135,icmp_code=0,actions=output:100',
    'table=0,priority=300,in_port=1,icmp6,ipv6_dst=fe80::ff:fe00:fe,icmp_type=128,actions=output:100',
    'table=0,priority=300,in_port=1,icmp6,ipv6_dst=2001:db8:1::1,icmp_type=128,actions=output:100',
    'table=0,priority=300,in_port=1,icmp6,icmp_type=141,actions=output:100',
    'table=0,priority=300,in_port=1,icmp6,icmp_type=152,actions=output:100',
    'table=0,priority=300,in_port=1,udp6,tp_dst=547,actions=output:100',
  ]);
  t.deepEqual(
    flows.filter((f) => f.includes('in_port=100')),
    [
      'table=0,priority=200,in_port=100,dl_dst=02:00:00:00:00:01,actions=output:1',
      'table=0,priority=200,in_port=100,dl_dst=02:00:00:00:00:02,actions=output:2',
      'table=0,priority=100,in_port=100,actions=NORMAL',
    ],
  );
  t.is(flows.at(-1), 'table=0,priority=0,actions=NORMAL');
  t.is(flows.length, 2 * 11 + 3 + 1);
});
