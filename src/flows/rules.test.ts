/**
 * punt6's rule set, without OVS: the exact lines of the important rules per configuration, the
 * structure of the set (cookie, bundle, no two rules with the same table/priority/match), and a
 * small OpenFlow evaluator that runs frames through the rules (highest priority wins, goto_table,
 * resubmit, set_field) so that each table row checks what happens to one kind of frame.
 */

import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { loadConfig, parseConfig, type Punt6Config } from '../config/index.js';
import { repositoryRoot } from '../../fixtures/paths.js';
import { runInSlices } from '../system/steps.js';
import { evaluate, type Frame } from '../test-support/openflow.js';
import {
  DefaultFlowOptions,
  MULTICAST_OUTPUTS_PER_RULE,
  PUNT6_COOKIE,
  PUNT6_COOKIE_MASK,
  bundleText,
  changesBundleText,
  dryRunText,
  flowLine,
  generateRules,
  generateRuleSteps,
  ownAddresses,
  ruleChanges,
  ruleChangeSteps,
  ruleKey,
  type Category,
  type FlowOptions,
  type FlowRule,
  type PortBindings,
  type RuleSet,
} from './rules.js';

const lab = await loadConfig(join(repositoryRoot, 'fixtures', 'config', 'lab.yaml'));
const trunk = await loadConfig(join(repositoryRoot, 'fixtures', 'config', 'trunk.yaml'));

const labBindings: PortBindings = {
  interfaces: new Map([['punt0', 100]]),
  ports: new Map([
    ['vm1', 1],
    ['vm2', 2],
  ]),
};
const trunkBindings: PortBindings = {
  interfaces: new Map([['punt0', 100]]),
  ports: new Map([
    ['blue-vm', 1],
    ['green-vm', 2],
  ]),
};

/** A config with a port without addresses, for the rules that depend on known addresses. */
const mixed = parseConfig(
  `
interfaces:
  - name: punt0
    network: tenant
networks:
  - name: tenant
    routerMac: 02:00:00:00:00:fe
    routerAddresses: [2001:db8:1::1]
    prefixes: [2001:db8:1::/64]
ports:
  - name: known
    mac: 02:00:00:00:00:01
    network: tenant
    addresses: [2001:db8:1::101]
  - name: unknown
    mac: 02:00:00:00:00:02
    network: tenant
  - name: absent
    mac: 02:00:00:00:00:03
    network: tenant
    addresses: [2001:db8:1::103]
server:
  stateDirectory: /nonexistent-state
`,
  'mixed.yaml',
);
const mixedBindings: PortBindings = {
  interfaces: new Map([['punt0', 7]]),
  ports: new Map([
    ['known', 1],
    ['unknown', 2],
  ]),
};

const labSet = generateRules(lab, labBindings);
const trunkSet = generateRules(trunk, trunkBindings);
const mixedSet = generateRules(mixed, mixedBindings);

// ---------------------------------------------------------------------------------------------
// Exact rules

function lines(set: RuleSet, category: Category, port?: string): string[] {
  return set.rules.filter((r) => r.category === category && (port === undefined || r.port === port)).map(flowLine);
}

const C = `cookie=${PUNT6_COOKIE}`;

const exact: { name: string; set: RuleSet; category: Category; port?: string; expected: string[] }[] = [
  {
    name: 'lab: NS from any VM port of the network for the router addresses, NA built in OVS with R, S, O',
    set: labSet,
    category: 'answer-na-router',
    expected: [
      `${C},table=203,priority=200,icmp6,reg9=0x1/0xffff,icmp_type=135,icmp_code=0,nd_target=fe80::ff:fe00:fe,nw_ttl=255,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:02:00:00:00:00:fe->eth_src,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:fe80::ff:fe00:fe->ipv6_src,set_field:136->icmpv6_type,set_field:3758096384->nd_reserved,set_field:2->nd_options_type,resubmit(,204)`,
      `${C},table=203,priority=200,icmp6,reg9=0x1/0xffff,icmp_type=135,icmp_code=0,nd_target=2001:db8:1::1,nw_ttl=255,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:02:00:00:00:00:fe->eth_src,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:2001:db8:1::1->ipv6_src,set_field:136->icmpv6_type,set_field:3758096384->nd_reserved,set_field:2->nd_options_type,resubmit(,204)`,
    ],
  },
  {
    name: "lab: NS for a port's address from any VM port of the network, NA with that port's MAC, S and O, no R",
    set: labSet,
    category: 'answer-na-port',
    expected: [
      `${C},table=203,priority=200,icmp6,reg9=0x1/0xffff,icmp_type=135,icmp_code=0,nd_target=2001:db8:1::101,nw_ttl=255,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:02:00:00:00:00:01->eth_src,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:2001:db8:1::101->ipv6_src,set_field:136->icmpv6_type,set_field:1610612736->nd_reserved,set_field:2->nd_options_type,resubmit(,204)`,
      `${C},table=203,priority=200,icmp6,reg9=0x1/0xffff,icmp_type=135,icmp_code=0,nd_target=2001:db8:1::102,nw_ttl=255,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:02:00:00:00:00:02->eth_src,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:2001:db8:1::102->ipv6_src,set_field:136->icmpv6_type,set_field:1610612736->nd_reserved,set_field:2->nd_options_type,resubmit(,204)`,
    ],
  },
  {
    name: 'lab: the second table writes the TLL and sends the NA back where the NS came from',
    set: labSet,
    category: 'na-finish',
    expected: [
      `${C},table=204,priority=100,icmp6,dl_src=02:00:00:00:00:fe,icmp_type=136,icmp_code=0,nd_target=fe80::ff:fe00:fe,actions=set_field:02:00:00:00:00:fe->nd_tll,IN_PORT`,
      `${C},table=204,priority=100,icmp6,dl_src=02:00:00:00:00:fe,icmp_type=136,icmp_code=0,nd_target=2001:db8:1::1,actions=set_field:02:00:00:00:00:fe->nd_tll,IN_PORT`,
      `${C},table=204,priority=100,icmp6,dl_src=02:00:00:00:00:01,icmp_type=136,icmp_code=0,nd_target=2001:db8:1::101,actions=set_field:02:00:00:00:00:01->nd_tll,IN_PORT`,
      `${C},table=204,priority=100,icmp6,dl_src=02:00:00:00:00:02,icmp_type=136,icmp_code=0,nd_target=2001:db8:1::102,actions=set_field:02:00:00:00:00:02->nd_tll,IN_PORT`,
    ],
  },
  {
    name: 'lab: echo to the router answered in OVS (MACs and addresses swapped, type 129, hop limit 64)',
    set: labSet,
    category: 'answer-echo',
    port: 'vm2',
    expected: [
      `${C},table=201,priority=300,icmp6,in_port=2,dl_dst=02:00:00:00:00:fe,ipv6_dst=fe80::ff:fe00:fe,icmp_type=128,icmp_code=0,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:02:00:00:00:00:fe->eth_src,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:fe80::ff:fe00:fe->ipv6_src,set_field:129->icmpv6_type,mod_nw_ttl:64,IN_PORT`,
      `${C},table=201,priority=300,icmp6,in_port=2,dl_dst=02:00:00:00:00:fe,ipv6_dst=2001:db8:1::1,icmp_type=128,icmp_code=0,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:02:00:00:00:00:fe->eth_src,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:2001:db8:1::1->ipv6_src,set_field:129->icmpv6_type,mod_nw_ttl:64,IN_PORT`,
    ],
  },
  {
    name: 'lab: untagged network: punted frames keep no tag, through the port meter',
    set: labSet,
    category: 'punt-output',
    expected: [
      `${C},table=205,priority=100,in_port=1,actions=meter:60000,output:100`,
      `${C},table=205,priority=100,in_port=2,actions=meter:60001,output:100`,
    ],
  },
  {
    name: 'trunk: each network tagged with its VLAN on the shared punt port',
    set: trunkSet,
    category: 'punt-output',
    expected: [
      `${C},table=205,priority=100,in_port=1,actions=meter:60000,push_vlan:0x8100,set_field:4196->vlan_vid,output:100`,
      `${C},table=205,priority=100,in_port=2,actions=meter:60001,push_vlan:0x8100,set_field:4296->vlan_vid,output:100`,
    ],
  },
  {
    name: 'trunk: replies from the punt port go untagged to the VM owning the destination MAC',
    set: trunkSet,
    category: 'deliver-unicast',
    expected: [
      `${C},table=206,priority=200,in_port=100,dl_vlan=100,dl_dst=02:00:00:00:01:01,actions=pop_vlan,output:1`,
      `${C},table=206,priority=200,in_port=100,dl_vlan=200,dl_dst=02:00:00:00:02:01,actions=pop_vlan,output:2`,
    ],
  },
  {
    name: "lab: punt6's multicast goes to the network's VM ports, untagged frames only",
    set: labSet,
    category: 'deliver-multicast',
    expected: [
      `${C},table=206,priority=100,in_port=100,vlan_tci=0x0000/0x1fff,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=output:1,output:2`,
    ],
  },
  {
    name: 'lab: RA, Redirect and DHCPv6 server messages from a VM dropped',
    set: labSet,
    category: 'guard-ra',
    expected: [
      `${C},table=201,priority=400,icmp6,in_port=1,icmp_type=134,actions=drop`,
      `${C},table=201,priority=400,icmp6,in_port=2,icmp_type=134,actions=drop`,
    ],
  },
  {
    name: 'lab: Redirects dropped',
    set: labSet,
    category: 'guard-redirect',
    port: 'vm1',
    expected: [`${C},table=201,priority=400,icmp6,in_port=1,icmp_type=137,actions=drop`],
  },
  {
    name: 'lab: DHCPv6 from port 547 dropped',
    set: labSet,
    category: 'guard-dhcpv6-server',
    port: 'vm1',
    expected: [`${C},table=201,priority=400,udp6,in_port=1,tp_src=547,actions=drop`],
  },
  {
    name: 'lab: vm1 may send from its address, link-local, SLAAC address and delegated prefix, :: for DAD and MLD',
    set: labSet,
    category: 'source-ok',
    port: 'vm1',
    expected: [
      `${C},table=200,priority=300,ipv6,in_port=1,ipv6_src=2001:db8:1::101,actions=goto_table:201`,
      `${C},table=200,priority=300,ipv6,in_port=1,ipv6_src=fe80::ff:fe00:1,actions=goto_table:201`,
      `${C},table=200,priority=300,ipv6,in_port=1,ipv6_src=2001:db8:1::ff:fe00:1,actions=goto_table:201`,
      `${C},table=200,priority=300,ipv6,in_port=1,ipv6_src=2001:db8:100:100::/56,actions=goto_table:201`,
      `${C},table=200,priority=300,icmp6,in_port=1,ipv6_src=::,icmp_type=135,actions=goto_table:201`,
      `${C},table=200,priority=300,icmp6,in_port=1,ipv6_src=::,icmp_type=131,actions=goto_table:201`,
      `${C},table=200,priority=300,icmp6,in_port=1,ipv6_src=::,icmp_type=143,actions=goto_table:201`,
    ],
  },
  {
    name: 'lab: any other source of vm1 dropped',
    set: labSet,
    category: 'guard-source',
    port: 'vm1',
    expected: [`${C},table=200,priority=200,ipv6,in_port=1,actions=drop`],
  },
  {
    name: 'mixed: a port without known addresses gets no source guard',
    set: mixedSet,
    category: 'guard-source',
    port: 'unknown',
    expected: [],
  },
  {
    name: 'mixed: a port without known addresses: NA dropped only when its TLL is not the port MAC',
    set: mixedSet,
    category: 'guard-na-tll',
    port: 'unknown',
    expected: [`${C},table=202,priority=200,icmp6,in_port=2,icmp_type=136,actions=drop`],
  },
  {
    name: 'mixed: the punt port of the mixed config is 7',
    set: mixedSet,
    category: 'entry',
    port: 'punt0',
    expected: [`${C},table=0,priority=60000,in_port=7,actions=goto_table:206`],
  },
  {
    name: 'lab: entry rules: VM ports and the punt port, VM frames only until passed',
    set: labSet,
    category: 'entry',
    expected: [
      `${C},table=0,priority=60000,reg9=0/0x80000000,in_port=1,actions=set_field:0x1/0xffff->reg9,goto_table:200`,
      `${C},table=0,priority=60000,reg9=0/0x80000000,in_port=2,actions=set_field:0x1/0xffff->reg9,goto_table:200`,
      `${C},table=0,priority=60000,in_port=100,actions=goto_table:206`,
    ],
  },
];

for (const row of exact) {
  test(`rules: ${row.name}`, (t) => {
    t.deepEqual(lines(row.set, row.category, row.port), row.expected);
  });
}

// ---------------------------------------------------------------------------------------------
// Structure

test('every rule carries the cookie; the bundle deletes punt6 rules first, then adds', (t) => {
  const text = bundleText(labSet).trimEnd().split('\n');
  t.is(text[0], `delete cookie=${PUNT6_COOKIE}/-1`);
  t.is(text.length, labSet.rules.length + 1);
  for (const l of text.slice(1)) t.true(l.startsWith(`add cookie=${PUNT6_COOKIE},table=`), l);
});

test('no two rules share table, priority and match (OVS would keep only one)', (t) => {
  for (const set of [labSet, trunkSet, mixedSet]) {
    const keys = set.rules.map((r) => ruleKey(r.table, r.priority, r.match));
    t.is(new Set(keys).size, keys.length);
  }
});

test('meters: one per VM port on the bridge, ids from the base by port order, rate and burst from the options', (t) => {
  t.deepEqual(labSet.meters, [
    { id: 60000, port: 'vm1', rate: 100, burst: 200 },
    { id: 60001, port: 'vm2', rate: 100, burst: 200 },
  ]);
  const custom = generateRules(mixed, mixedBindings, {
    ...DefaultFlowOptions,
    meterBase: 10,
    meterRate: 5,
    meterBurst: 7,
    tableBase: 20,
  });
  t.deepEqual(custom.meters, [
    { id: 10, port: 'known', rate: 5, burst: 7 },
    { id: 11, port: 'unknown', rate: 5, burst: 7 },
  ]);
  t.true(custom.rules.every((r) => r.table === 0 || (r.table >= 20 && r.table <= 26)));
});

test('a port not on the bridge gets no rule and is listed; multicast does not go to it', (t) => {
  t.deepEqual(mixedSet.skipped, ['absent: no OpenFlow port on the bridge']);
  t.false(mixedSet.rules.some((r) => r.port === 'absent'));
  t.deepEqual(lines(mixedSet, 'deliver-multicast'), [
    `${C},table=206,priority=100,in_port=7,vlan_tci=0x0000/0x1fff,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=output:1,output:2`,
  ]);
  // Its address is still answered for the others: it has a MAC and an address.
  t.true(
    lines(mixedSet, 'answer-na-port').some(
      (l) => l.includes('nd_target=2001:db8:1::103,') && l.includes('set_field:02:00:00:00:00:03->eth_src'),
    ),
  );
});

test('dry run names the ports when no numbers are known, and lists the meters', (t) => {
  const set = generateRules(lab, {
    interfaces: new Map([['punt0', 'punt0']]),
    ports: new Map<string, string | number>([
      ['vm1', 'vm1'],
      ['vm2', 7],
    ]),
  });
  const text = dryRunText(set);
  t.true(text.includes('# vm1: meter=60000,pktps,burst,stats,bands=type=drop,rate=100,burst_size=200'));
  t.true(text.includes(`add ${C},table=205,priority=100,in_port="vm1",actions=meter:60000,output:"punt0"`));
  t.true(
    text.includes(
      `add ${C},table=206,priority=200,in_port="punt0",vlan_tci=0x0000/0x1fff,dl_dst=02:00:00:00:00:02,actions=output:7`,
    ),
  );
});

test('ownAddresses: static addresses, link-local and the SLAAC address of each /64 with the A flag', (t) => {
  const net = lab.networks[0]!;
  t.deepEqual(ownAddresses(net, lab.ports[0]!), ['2001:db8:1::101', 'fe80::ff:fe00:1', '2001:db8:1::ff:fe00:1']);
  const green = trunk.networks.find((n) => n.name === 'green')!;
  t.deepEqual(ownAddresses(green, trunk.ports[1]!), ['2001:db8:b::1:10', 'fe80::ff:fe00:201']); // stateful: no SLAAC
});

test('table base out of range refused', (t) => {
  t.throws(() => generateRules(lab, labBindings, { ...DefaultFlowOptions, tableBase: 250 }), {
    instanceOf: RangeError,
  });
});

// ---------------------------------------------------------------------------------------------
// What happens to a frame (src/test-support/openflow.ts evaluates the rules)

const VM1 = '02:00:00:00:00:01';
const VM2 = '02:00:00:00:00:02';
const ROUTER = '02:00:00:00:00:fe';
const SNM_ROUTER = '33:33:ff:00:00:01';
const ns = (over: Partial<Frame>): Frame => ({
  in_port: 1,
  dl_src: VM1,
  dl_dst: SNM_ROUTER,
  proto: 'icmp6',
  ipv6_src: 'fe80::ff:fe00:1',
  ipv6_dst: 'ff02::1:ff00:1',
  nw_ttl: 255,
  icmp_type: 135,
  icmp_code: 0,
  nd_target: '2001:db8:1::1',
  nd_sll: VM1,
  ...over,
});

const frames: {
  name: string;
  set: RuleSet;
  frame: Frame;
  categories: Category[];
  actions: string[];
  after?: Partial<Frame>;
}[] = [
  {
    name: 'NS for the router address: NA in OVS, back out of the port, R S O, TLL the router MAC',
    set: labSet,
    frame: ns({}),
    categories: ['answer-na-router'],
    actions: ['IN_PORT'],
    after: {
      dl_src: ROUTER,
      dl_dst: VM1,
      ipv6_src: '2001:db8:1::1',
      ipv6_dst: 'fe80::ff:fe00:1',
      icmp_type: 136,
      nd_reserved: 0xe0000000,
      nd_tll: ROUTER,
    },
  },
  {
    name: "NS for vm2's address: NA from vm2's MAC without R",
    set: labSet,
    frame: ns({ nd_target: '2001:db8:1::102', ipv6_src: '2001:db8:1::101' }),
    categories: ['answer-na-port'],
    actions: ['IN_PORT'],
    after: {
      dl_src: VM2,
      ipv6_src: '2001:db8:1::102',
      ipv6_dst: '2001:db8:1::101',
      nd_reserved: 0x60000000,
      nd_tll: VM2,
    },
  },
  {
    name: 'DAD NS for the router address: punted',
    set: labSet,
    frame: ns({ ipv6_src: '::', nd_sll: undefined }),
    categories: ['punt-ns-dad'],
    actions: ['meter:60000', 'output:100'],
  },
  {
    name: 'NS without SLL: punted',
    set: labSet,
    frame: ns({ nd_sll: undefined }),
    categories: ['punt-ns-no-sll'],
    actions: ['meter:60000', 'output:100'],
  },
  {
    name: 'NS with hop limit 254: punted (the punt path refuses it)',
    set: labSet,
    frame: ns({ nw_ttl: 254 }),
    categories: ['punt-ns-other'],
    actions: ['meter:60000', 'output:100'],
  },
  {
    name: "vm1's NS for its own address: punted",
    set: labSet,
    frame: ns({ nd_target: '2001:db8:1::101', ipv6_src: '::', nd_sll: undefined }),
    categories: ['punt-ns-own'],
    actions: ['meter:60000', 'output:100'],
  },
  {
    name: 'NS for an unknown address: left to the bridge',
    set: labSet,
    frame: ns({ nd_target: '2001:db8:1::999' }),
    categories: [],
    actions: ['bridge'],
  },
  {
    name: "NS with another host's MAC in the SLL: dropped",
    set: labSet,
    frame: ns({ nd_sll: VM2 }),
    categories: ['guard-ns-sll'],
    actions: ['drop'],
  },
  {
    name: 'NS from a foreign source: dropped',
    set: labSet,
    frame: ns({ ipv6_src: '2001:db8:1::102' }),
    categories: ['guard-source'],
    actions: ['drop'],
  },
  {
    name: 'NS from a port without known addresses: any source, answered',
    set: mixedSet,
    frame: ns({ in_port: 2, dl_src: VM2, nd_sll: VM2, ipv6_src: '2001:db8:1::55' }),
    categories: ['answer-na-router'],
    actions: ['IN_PORT'],
  },
  {
    name: 'echo request to the router: reply in OVS',
    set: labSet,
    frame: {
      in_port: 2,
      dl_src: VM2,
      dl_dst: ROUTER,
      proto: 'icmp6',
      ipv6_src: '2001:db8:1::102',
      ipv6_dst: '2001:db8:1::1',
      nw_ttl: 64,
      icmp_type: 128,
      icmp_code: 0,
    },
    categories: ['answer-echo'],
    actions: ['IN_PORT'],
    after: { dl_src: ROUTER, dl_dst: VM2, ipv6_src: '2001:db8:1::1', ipv6_dst: '2001:db8:1::102', icmp_type: 129 },
  },
  {
    name: 'echo request to vm2: left to the bridge',
    set: labSet,
    frame: {
      in_port: 1,
      dl_src: VM1,
      dl_dst: VM2,
      proto: 'icmp6',
      ipv6_src: '2001:db8:1::101',
      ipv6_dst: '2001:db8:1::102',
      icmp_type: 128,
    },
    categories: [],
    actions: ['bridge'],
  },
  {
    name: 'rogue RA from vm1: dropped',
    set: labSet,
    frame: {
      in_port: 1,
      dl_src: VM1,
      dl_dst: '33:33:00:00:00:01',
      proto: 'icmp6',
      ipv6_src: 'fe80::ff:fe00:1',
      ipv6_dst: 'ff02::1',
      icmp_type: 134,
    },
    categories: ['guard-ra'],
    actions: ['drop'],
  },
  {
    name: 'Redirect from vm1: dropped',
    set: labSet,
    frame: {
      in_port: 1,
      dl_src: VM1,
      dl_dst: VM2,
      proto: 'icmp6',
      ipv6_src: 'fe80::ff:fe00:1',
      ipv6_dst: 'fe80::ff:fe00:2',
      icmp_type: 137,
    },
    categories: ['guard-redirect'],
    actions: ['drop'],
  },
  {
    name: "spoofed NA from vm1 for vm2's address: dropped",
    set: labSet,
    frame: {
      in_port: 1,
      dl_src: VM1,
      dl_dst: '33:33:00:00:00:01',
      proto: 'icmp6',
      ipv6_src: 'fe80::ff:fe00:1',
      ipv6_dst: 'ff02::1',
      icmp_type: 136,
      nd_target: '2001:db8:1::102',
      nd_tll: VM1,
    },
    categories: ['guard-na-target'],
    actions: ['drop'],
  },
  {
    name: "NA from vm1 for its own address with vm2's MAC: dropped",
    set: labSet,
    frame: {
      in_port: 1,
      dl_src: VM1,
      dl_dst: '33:33:00:00:00:01',
      proto: 'icmp6',
      ipv6_src: 'fe80::ff:fe00:1',
      ipv6_dst: 'ff02::1',
      icmp_type: 136,
      nd_target: '2001:db8:1::101',
      nd_tll: VM2,
    },
    categories: ['guard-na-tll'],
    actions: ['drop'],
  },
  {
    name: 'NA from vm1 for its own address: left to the bridge',
    set: labSet,
    frame: {
      in_port: 1,
      dl_src: VM1,
      dl_dst: '33:33:00:00:00:01',
      proto: 'icmp6',
      ipv6_src: 'fe80::ff:fe00:1',
      ipv6_dst: 'ff02::1',
      icmp_type: 136,
      nd_target: '2001:db8:1::101',
      nd_tll: VM1,
    },
    categories: [],
    actions: ['bridge'],
  },
  {
    name: 'RS: punted through the meter',
    set: labSet,
    frame: {
      in_port: 2,
      dl_src: VM2,
      dl_dst: '33:33:00:00:00:02',
      proto: 'icmp6',
      ipv6_src: 'fe80::ff:fe00:2',
      ipv6_dst: 'ff02::2',
      icmp_type: 133,
    },
    categories: ['punt-rs'],
    actions: ['meter:60001', 'output:100'],
  },
  {
    name: 'DHCPv6 Solicit on the trunk: punted with VLAN 200',
    set: trunkSet,
    frame: {
      in_port: 2,
      dl_src: '02:00:00:00:02:01',
      dl_dst: '33:33:00:01:00:02',
      proto: 'udp6',
      ipv6_src: 'fe80::ff:fe00:201',
      ipv6_dst: 'ff02::1:2',
      tp_src: 546,
      tp_dst: 547,
    },
    categories: ['punt-dhcpv6'],
    actions: ['meter:60001', 'output:100'],
    after: { vlan: 200 },
  },
  {
    name: 'DHCPv6 Advertise from a VM: dropped',
    set: labSet,
    frame: {
      in_port: 1,
      dl_src: VM1,
      dl_dst: VM2,
      proto: 'udp6',
      ipv6_src: 'fe80::ff:fe00:1',
      ipv6_dst: 'fe80::ff:fe00:2',
      tp_src: 547,
      tp_dst: 546,
    },
    categories: ['guard-dhcpv6-server'],
    actions: ['drop'],
  },
  {
    name: 'Inverse ND solicitation: punted',
    set: labSet,
    frame: {
      in_port: 1,
      dl_src: VM1,
      dl_dst: ROUTER,
      proto: 'icmp6',
      ipv6_src: 'fe80::ff:fe00:1',
      ipv6_dst: 'ff02::1',
      icmp_type: 141,
    },
    categories: ['punt-inverse-nd'],
    actions: ['meter:60000', 'output:100'],
  },
  {
    name: 'MRD solicitation: punted',
    set: labSet,
    frame: {
      in_port: 1,
      dl_src: VM1,
      dl_dst: '33:33:00:00:00:02',
      proto: 'icmp6',
      ipv6_src: 'fe80::ff:fe00:1',
      ipv6_dst: 'ff02::2',
      icmp_type: 152,
    },
    categories: ['punt-mrd'],
    actions: ['meter:60000', 'output:100'],
  },
  {
    name: "punt6's unicast reply (VLAN 100) reaches blue-vm only, untagged",
    set: trunkSet,
    frame: {
      in_port: 100,
      vlan: 100,
      dl_src: '02:00:00:00:01:fe',
      dl_dst: '02:00:00:00:01:01',
      proto: 'icmp6',
      icmp_type: 134,
    },
    categories: ['deliver-unicast'],
    actions: ['output:1'],
    after: { vlan: undefined },
  },
  {
    name: "a reply tagged with the other network's VLAN for blue-vm's MAC: dropped",
    set: trunkSet,
    frame: {
      in_port: 100,
      vlan: 200,
      dl_src: '02:00:00:00:02:fe',
      dl_dst: '02:00:00:00:01:01',
      proto: 'icmp6',
      icmp_type: 134,
    },
    categories: ['deliver-unknown'],
    actions: ['drop'],
  },
  {
    name: "punt6's periodic RA to all-nodes reaches every VM of the network",
    set: labSet,
    frame: { in_port: 100, dl_src: ROUTER, dl_dst: '33:33:00:00:00:01', proto: 'icmp6', icmp_type: 134 },
    categories: ['deliver-multicast'],
    actions: ['output:1', 'output:2'],
  },
  {
    name: 'ARP from a VM: left to the bridge',
    set: labSet,
    frame: { in_port: 1, dl_src: VM1, dl_dst: 'ff:ff:ff:ff:ff:ff', proto: 'arp' },
    categories: [],
    actions: ['bridge'],
  },
  {
    name: 'a frame from a port punt6 does not manage: not touched',
    set: labSet,
    frame: ns({ in_port: 9 }),
    categories: [],
    actions: ['bridge'],
  },
];

for (const row of frames) {
  test(`frames: ${row.name}`, (t) => {
    const o = evaluate(row.set, row.frame);
    t.deepEqual(o.categories, row.categories);
    t.deepEqual(o.actions, row.actions);
    if (row.after) t.like(o.frame, row.after as Record<string, unknown>);
    if (row.after && 'vlan' in row.after && row.after.vlan === undefined) t.is(o.frame.vlan, undefined);
  });
}

test('the evaluator itself: the rules of a config with no ports leave every frame to the bridge', (t) => {
  const empty: Punt6Config = { ...lab, ports: [], networks: lab.networks.map((n) => ({ ...n, ports: [] })) };
  const set = generateRules(empty, { interfaces: new Map([['punt0', 100]]), ports: new Map() });
  t.deepEqual(evaluate(set, ns({})).actions, ['bridge']);
  t.deepEqual(evaluate(set, { in_port: 100, dl_src: ROUTER, dl_dst: '33:33:00:00:00:01', proto: 'icmp6' }).actions, [
    'drop',
  ]);
});

// ---------------------------------------------------------------------------------------------
// Size: linear in ports, addresses and networks (docs/flows.md states the costs)

/** `networks` networks on VLANs of one punt port, each with one router address and `ports` ports of `addresses` addresses. */
function sized(
  networks: number,
  ports: number,
  addresses: number,
  slaac = false,
  firstPortExtra = 0,
  options: FlowOptions = DefaultFlowOptions,
): RuleSet {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  let y = 'interfaces:\n  - name: punt0\n    vlans:\n';
  for (let n = 0; n < networks; n++) y += `      ${n + 1}: net${n}\n`;
  y += 'networks:\n';
  for (let n = 0; n < networks; n++)
    y += `  - name: net${n}\n    routerMac: 02:ff:00:ff:00:${hex(n)}\n    routerAddresses: [2001:db8:${n}::1]\n    prefixes:\n      - prefix: 2001:db8:${n}::/64\n        slaac: ${slaac}\n`;
  y += ports === 0 ? 'ports: []\n' : 'ports:\n';
  for (let n = 0; n < networks; n++)
    for (let p = 0; p < ports; p++) {
      const id = n * ports + p;
      const list = Array.from(
        { length: addresses },
        (_, a) => `2001:db8:${n}::${(0x100 + p * addresses + a).toString(16)}`,
      );
      if (id === 0) for (let e = 0; e < firstPortExtra; e++) list.push(`2001:db8:${n}::f${e}`);
      y += `  - name: p${id}\n    mac: 02:00:${hex(id >> 8)}:${hex(id & 255)}:00:01\n    network: net${n}\n    addresses: [${list.join(', ')}]\n`;
    }
  const config = parseConfig(y + 'server:\n  stateDirectory: /nonexistent-state\n', 'sized.yaml');
  return generateRules(
    config,
    {
      interfaces: new Map([['punt0', 10_000]]),
      ports: new Map(config.ports.map((p, i) => [p.name, i + 1])),
    },
    options,
  );
}

test('size: rules grow linearly with ports, addresses and networks, by the costs docs/flows.md states', (t) => {
  // Shared: four table defaults and the punt port's entry rule; per network with one router
  // address: 5 rules per router address (link-local and global: the NS answer, its DAD, no-SLL
  // and other-hop-limit punts, the NA's second table).
  t.is(sized(1, 0, 1).rules.length, 5 + 10);
  t.is(sized(3, 0, 1).rules.length, 5 + 3 * 10);
  // A port with one address, no SLAAC: 35 rules of its own, 5 for its address in the network's
  // answer tables; the first port of a network adds its multicast delivery rule.
  t.is(sized(1, 1, 1).rules.length, 15 + 1 + 40);
  for (const ports of [10, 100, 1000]) t.is(sized(1, ports, 1).rules.length, 16 + 40 * ports);
  // Each more static address of a port: 10 (source, NA guard, own-address punt, answer tables).
  t.is(sized(1, 100, 2).rules.length, 16 + 50 * 100);
  // A SLAAC address: 4 (source and NA guard).
  t.is(sized(1, 100, 1, true).rules.length, 16 + 44 * 100);
  t.is(sized(10, 100, 1).rules.length, 5 + 10 * (10 + 1) + 40 * 1000);
});

test('size: 10,000 ports on one network give 400,020 rules, each of them once', (t) => {
  const set = sized(1, 10_000, 1);
  // Multicast delivery takes ceil(10,000 / 2,048) = 5 rules, 4 more than a small network's one.
  t.is(set.rules.length, 16 + 40 * 10_000 + 4);
  const keys = new Set(set.rules.map((r) => ruleKey(r.table, r.priority, r.match)));
  t.is(keys.size, set.rules.length);
});

test('multicast delivery to 10,000 ports: a chain of rules, each within one OpenFlow message, every port once', (t) => {
  const chain = sized(1, 10_000, 1).rules.filter((r) => r.category === 'deliver-multicast');
  t.is(chain.length, 5);
  const outputs = chain.flatMap((r) => r.actions.split(',').filter((a) => a.startsWith('output:')));
  t.deepEqual(
    outputs,
    Array.from({ length: 10_000 }, (_, i) => `output:${i + 1}`),
  );
  for (const r of chain) {
    t.true(r.actions.split(',').filter((a) => a.startsWith('output:')).length <= MULTICAST_OUTPUTS_PER_RULE);
    // 16 bytes per action (OpenFlow 1.5 §7.2.6), with room for the match and headers.
    t.true(r.actions.split(',').length * 16 + 512 <= 65_535);
  }
  t.is(chain[0]!.priority, 100);
  t.notRegex(chain[0]!.match, /reg8/);
  t.regex(chain[0]!.actions, /^pop_vlan,output:1,.*,set_field:0x101->reg8,resubmit\(,206\)$/);
  t.deepEqual(
    chain.slice(1).map((r) => [r.priority, r.match]),
    [1, 2, 3, 4].map((k) => [101, `in_port=10000,reg8=0x10${k}`]),
  );
  t.notRegex(chain[4]!.actions, /resubmit|pop_vlan|reg8/);
});

test('multicast delivery chain: a frame from the punt port reaches every port once, its VLAN popped once', (t) => {
  const set = sized(1, 5, 1, false, 0, { ...DefaultFlowOptions, multicastOutputsPerRule: 2 });
  t.is(set.rules.filter((r) => r.category === 'deliver-multicast').length, 3);
  const o = evaluate(set, {
    in_port: 10_000,
    vlan: 1,
    dl_src: '02:ff:00:ff:00:00',
    dl_dst: '33:33:00:00:00:01',
    proto: 'icmp6',
  });
  t.deepEqual(o.categories, ['deliver-multicast', 'deliver-multicast', 'deliver-multicast']);
  t.deepEqual(o.actions, ['output:1', 'output:2', 'output:3', 'output:4', 'output:5']);
  t.is(o.frame.vlan, undefined);
  // Small networks keep one rule with no register match.
  const one = sized(1, 5, 1).rules.filter((r) => r.category === 'deliver-multicast');
  t.is(one.length, 1);
  t.notRegex(one[0]!.match, /reg9/);
});

test('multicast delivery: a chain longer than OVS can resubmit is refused, naming the interface', (t) => {
  t.throws(() => sized(1, 64, 1, false, 0, { ...DefaultFlowOptions, multicastOutputsPerRule: 1 }), {
    instanceOf: RangeError,
    message: /interface punt0: 64 VM ports need 64 multicast delivery rules, more than 63/,
  });
});

test('changes: a second address for one port of 1,000 changes that port and that address only', (t) => {
  const before = sized(1, 1000, 1);
  const after = sized(1, 1000, 1, false, 1);
  const c = ruleChanges(before, after);
  t.deepEqual(c.remove, []);
  // Its source rule, NA guard (3), own-NS punt, and the address's 5 answer rules.
  t.is(c.add.length, 10);
  t.true(c.add.every((r) => r.port === 'p0' || (r.port === null && r.match.includes('2001:db8::f0'))));
  const text = changesBundleText(ruleChanges(after, before));
  t.is(text.trimEnd().split('\n').length, 10);
  t.true(text.startsWith(`delete_strict cookie=${PUNT6_COOKIE}/${PUNT6_COOKIE_MASK},table=`));
});

/**
 * What a bundle of changes leaves on a switch that holds `from`: rules are told apart by table,
 * priority and match fields in any order (as OVS does), deletions come before additions.
 */
function applied(from: RuleSet, c: ReturnType<typeof ruleChanges>): string[] {
  const on = new Map(from.rules.map((r) => [ruleKey(r.table, r.priority, r.match), r.actions]));
  for (const r of c.remove) on.delete(ruleKey(r.table, r.priority, r.match));
  for (const r of c.add) on.set(ruleKey(r.table, r.priority, r.match), r.actions);
  return [...on].map(([k, actions]) => `${k} actions=${actions}`).sort();
}

test('changes: whatever changed, moved between ports or came with its fields in another order, the bundle ends in `to`', (t) => {
  const rule = fc.record({
    table: fc.constantFrom(0, 200, 201),
    priority: fc.constantFrom(0, 100),
    match: fc.subarray(['icmp6', 'in_port=1', 'in_port=2', 'icmp_type=135'], { minLength: 0 }),
    actions: fc.constantFrom('drop', 'output:1', 'goto_table:201'),
    port: fc.constantFrom(null, 'p0', 'p1'),
  });
  /** A rule set of distinct rules, each match written in an order of its own. */
  const ruleSet = fc.array(fc.tuple(rule, fc.boolean()), { maxLength: 12 }).map((rows): RuleSet => {
    const seen = new Set<string>();
    const rules: FlowRule[] = [];
    for (const [r, reversed] of rows) {
      const match = (reversed ? [...r.match].reverse() : r.match).join(',');
      const k = ruleKey(r.table, r.priority, match);
      if (seen.has(k)) continue;
      seen.add(k);
      rules.push({ ...r, match, category: 'pass' });
    }
    return { rules, meters: [], meterBase: 60000, skipped: [] };
  });
  fc.assert(
    fc.property(ruleSet, ruleSet, (from, to) => {
      const got = applied(from, ruleChanges(from, to)).join('\n');
      const want = applied(to, { remove: [], add: [] }).join('\n');
      if (got !== want) throw new Error(`ends in\n${got}\ninstead of\n${want}`);
      const none = ruleChanges(to, { ...to, rules: to.rules.map((r) => ({ ...r })) });
      if (none.remove.length + none.add.length > 0) throw new Error('the same rules, yet changes');
    }),
  );
  t.pass();
});

test('in slices, the same rule set; the changes between two sets are worked out once', async (t) => {
  const config = lab;
  const sliced = await runInSlices(generateRuleSteps(config, labBindings), { sliceMs: 0 });
  t.deepEqual(sliced, generateRules(config, labBindings));
  const before = sized(1, 300, 1);
  const after = sized(1, 300, 1, false, 1);
  const changes = await runInSlices(ruleChangeSteps(before, after), { sliceMs: 0 });
  t.is(changes.add.length, 10);
  t.is(ruleChanges(before, after), changes, 'the install finds the changes made');
  t.not(ruleChanges(after, before), changes);
});
