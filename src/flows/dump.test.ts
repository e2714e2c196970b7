/**
 * Parsers of OVS output (text as ovs-ofctl and ovs-vsctl 3.1 printed it), the comparison that
 * reconciliation relies on, and the `--stats` summary, without OVS.
 */

import { join } from 'node:path';
import test from 'ava';
import { loadConfig } from '../config/index.js';
import { repositoryRoot } from '../../fixtures/paths.js';
import {
  flowDumpSteps,
  parseFlowDump,
  parseInterfaceList,
  parseMeterDump,
  parseMeterRecord,
  parseMeterStats,
  type DumpedFlow,
} from './dump.js';
import { compare, compareSteps, resolveBindings } from './ovs.js';
import { flowLine, generateRules, ruleKey } from './rules.js';
import { flowStats, formatStats } from './stats.js';
import type { Steps } from '../system/steps.js';

const labConfig = await loadConfig(join(repositoryRoot, 'fixtures', 'config', 'lab.yaml'));

const flowDump = `OFPST_FLOW reply (OF1.5) (xid=0x2):
 cookie=0x70756e7436000000, duration=0.008s, table=0, n_packets=3, n_bytes=258, idle_age=0, priority=60000,reg9=0/0x80000000,in_port=1 actions=goto_table:200
 cookie=0x70756e7436000000, duration=0.008s, table=201, n_packets=7, n_bytes=700, idle_age=2, hard_age=5, priority=400,icmp6,in_port=1,icmp_type=134 actions=drop
 cookie=0x70756e7436000000, duration=0.008s, table=200, n_packets=0, n_bytes=0, priority=0 actions=goto_table:201
 cookie=0x1234, duration=1.5s, table=0, n_packets=0, n_bytes=0, actions=NORMAL
`;

test('parseFlowDump: table, priority, match without priority, actions, counters', (t) => {
  const flows = parseFlowDump(flowDump);
  t.deepEqual(flows, [
    {
      cookie: '0x70756e7436000000',
      table: 0,
      priority: 60000,
      match: 'reg9=0/0x80000000,in_port=1',
      actions: 'goto_table:200',
      packets: 3,
      bytes: 258,
    },
    {
      cookie: '0x70756e7436000000',
      table: 201,
      priority: 400,
      match: 'icmp6,in_port=1,icmp_type=134',
      actions: 'drop',
      packets: 7,
      bytes: 700,
    },
    {
      cookie: '0x70756e7436000000',
      table: 200,
      priority: 0,
      match: '',
      actions: 'goto_table:201',
      packets: 0,
      bytes: 0,
    },
    { cookie: '0x1234', table: 0, priority: 32768, match: '', actions: 'NORMAL', packets: 0, bytes: 0 },
  ]);
});

/** Runs steps through; the result and how many steps it took. */
function stepped<T>(steps: Steps<T>): { value: T; steps: number } {
  for (let n = 1; ; n++) {
    const r = steps.next();
    if (r.done === true) return { value: r.value, steps: n };
  }
}

test('a dump of thousands of rules is read and compared in steps, to the same result as at once', (t) => {
  const lines = Array.from(
    { length: 5000 },
    (_, i) =>
      ` cookie=0x70756e7436000000, duration=1s, table=206, n_packets=${i}, n_bytes=0, priority=200,in_port=100,dl_dst=02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')} actions=output:${i + 1}`,
  );
  const text = `OFPST_FLOW reply (OF1.5) (xid=0x2):\n${lines.join('\n')}`;
  const read = stepped(flowDumpSteps(text));
  t.deepEqual(read.value, parseFlowDump(text));
  t.is(read.value.length, 5000);
  t.is(read.value[4999]?.actions, 'output:5000', 'the last line, with no newline after it');
  t.true(read.steps >= 10, `${read.steps} steps`);
  const set = {
    rules: read.value.map((f) => ({ ...f, category: 'deliver-unicast' as const, port: null })),
    meters: [],
    meterBase: 0,
    skipped: [],
  };
  const changed = read.value.map((f, i) => (i === 7 ? { ...f, actions: 'drop' } : f));
  const diff = stepped(compareSteps(set, changed, []));
  t.deepEqual(diff.value, compare(set, changed, []));
  t.deepEqual(diff.value, { missing: 1, extra: 1, meters: 0 });
  t.true(diff.steps >= 20, `${diff.steps} steps`);
});

test('parseFlowDump: --no-stats lines (table 0 not printed)', (t) => {
  const [f] = parseFlowDump(
    ' cookie=0x70756e7436000000, table=203, priority=200,icmp6,in_port=1,nw_ttl=255,icmp_type=135 actions=IN_PORT\n cookie=0x1, priority=5 actions=drop\n',
  );
  t.like(f, { table: 203, priority: 200, match: 'icmp6,in_port=1,nw_ttl=255,icmp_type=135', actions: 'IN_PORT' });
  t.like(parseFlowDump(' cookie=0x1, priority=5 actions=drop\n')[0], { table: 0, priority: 5 });
});

test('parseMeterDump and parseMeterStats', (t) => {
  t.deepEqual(
    parseMeterDump(
      'OFPST_METER_CONFIG reply (OF1.5) (xid=0x2):\nmeter=60000 pktps burst stats bands=\ntype=drop rate=100 burst_size=200\nmeter=3 kbps bands=\ntype=drop rate=5\n',
    ),
    [
      { id: 60000, flags: 'pktps burst stats', rate: 100, burst: 200 },
      { id: 3, flags: 'kbps', rate: 5, burst: 0 },
    ],
  );
  t.deepEqual(
    parseMeterStats(
      'OFPST_METER reply (OF1.5) (xid=0x2):\nmeter:60000 flow_count:1 packet_in_count:10 byte_in_count:900 duration:0.026s bands:\n0: packet_count:4 byte_count:360\nmeter:60001 flow_count:1 packet_in_count:0 byte_in_count:0 duration:0.026s bands:\n0: packet_count:0 byte_count:0',
    ),
    [
      { id: 60000, flowCount: 1, packetsIn: 10, dropped: 4 },
      { id: 60001, flowCount: 1, packetsIn: 0, dropped: 0 },
    ],
  );
});

test("parseMeterRecord: the ids under the key in the bridge's external_ids", (t) => {
  // ovs-vsctl --format=json --columns=external_ids list Bridge BR, with and without the key.
  t.deepEqual(
    parseMeterRecord(
      '{"data":[[["map",[["other","x"],["punt6-meters","60000,60001"]]]]],"headings":["external_ids"]}',
      'punt6-meters',
    ),
    new Set([60000, 60001]),
  );
  t.deepEqual(
    parseMeterRecord('{"data":[[["map",[["other","x"]]]]],"headings":["external_ids"]}', 'punt6-meters'),
    new Set(),
  );
  t.deepEqual(
    parseMeterRecord('{"data":[[["map",[["punt6-meters","7, x,,8"]]]]],"headings":["external_ids"]}', 'punt6-meters'),
    new Set([7, 8]),
  );
});

test('resolveBindings: iface-id, then attached-mac, then the name; punt interfaces by name; --port wins', (t) => {
  const list = parseInterfaceList(
    JSON.stringify({
      headings: ['name', 'ofport', 'external_ids'],
      data: [
        ['br', 65534, ['map', []]],
        ['punt0', 100, ['map', []]],
        ['tap-a', 5, ['map', [['iface-id', 'vm1']]]],
        ['tap-b', 6, ['map', [['attached-mac', '02:00:00:00:00:02']]]],
        ['vm2', 9, ['map', []]],
        ['idle', ['set', []], ['map', []]],
      ],
    }),
  );
  t.deepEqual(list[5], { name: 'idle', ofport: null, externalIds: new Map() });
  const auto = resolveBindings(labConfig, list);
  t.deepEqual(
    [...auto.bindings.ports],
    [
      ['vm1', 5],
      ['vm2', 6],
    ],
  );
  t.deepEqual([...auto.bindings.interfaces], [['punt0', 100]]);
  const manual = resolveBindings(
    labConfig,
    list,
    new Map<string, string | number>([
      ['vm1', 'vm2'],
      ['vm2', 42],
      ['punt0', 'idle'],
    ]),
  );
  t.deepEqual(
    [...manual.bindings.ports],
    [
      ['vm1', 9],
      ['vm2', 42],
    ],
  );
  t.deepEqual([...manual.bindings.interfaces], []);
  t.deepEqual(manual.notes, ['punt interface punt0: interface idle is not an OpenFlow port of the bridge']);
});

const set = generateRules(labConfig, {
  interfaces: new Map([['punt0', 100]]),
  ports: new Map([
    ['vm1', 1],
    ['vm2', 2],
  ]),
});

/** The dump OVS would print for the set: fields in another order, counters set per rule. */
function dumpOf(rules = set.rules, packets: (i: number) => number = () => 0): DumpedFlow[] {
  return rules.map((r, i) => ({
    cookie: '0x70756e7436000000',
    table: r.table,
    priority: r.priority,
    match: r.match.split(',').reverse().join(','),
    actions: r.actions,
    packets: packets(i),
    bytes: 0,
  }));
}
const meters = set.meters.map((m) => ({ id: m.id, flags: 'pktps burst stats', rate: m.rate, burst: m.burst }));

test('compare: the same rules in any field order are in sync; a missing, changed or extra rule is not', (t) => {
  t.deepEqual(compare(set, dumpOf(), meters), { missing: 0, extra: 0, meters: 0 });
  t.deepEqual(compare(set, dumpOf().slice(1), meters), { missing: 1, extra: 0, meters: 0 });
  const changed = dumpOf();
  changed[4] = { ...changed[4]!, actions: 'drop' };
  t.deepEqual(compare(set, changed, meters), { missing: 1, extra: 1, meters: 0 });
  t.deepEqual(compare(set, [...dumpOf(), { ...dumpOf()[0]!, priority: 1 }], meters), {
    missing: 0,
    extra: 1,
    meters: 0,
  });
  t.deepEqual(compare(set, dumpOf(), [{ ...meters[0]!, rate: 5 }]), { missing: 0, extra: 0, meters: 2 });
  t.deepEqual(compare(set, [], []), { missing: set.rules.length, extra: 0, meters: 2 });
});

test('stats: counters summed per category and port; answered versus punted in the headline', (t) => {
  const idx = (cat: string, port: string | null): number =>
    set.rules.findIndex((r) => r.category === cat && r.port === port);
  const counts = new Map([
    [idx('answer-na-router', null), 3],
    [idx('answer-echo', 'vm2'), 2],
    [idx('punt-rs', 'vm1'), 4],
    [idx('punt-rs', 'vm2'), 1],
    [idx('guard-ra', 'vm1'), 6],
  ]);
  const foreign: DumpedFlow = {
    cookie: '0x70756e7436000000',
    table: 9,
    priority: 9,
    match: 'in_port=9',
    actions: 'drop',
    packets: 99,
    bytes: 0,
  };
  const stats = flowStats(
    set,
    [...dumpOf(set.rules, (i) => counts.get(i) ?? 0), foreign],
    [{ id: 60000, flowCount: 1, packetsIn: 4, dropped: 1 }],
  );
  const of = (c: string) => stats.categories.find((x) => x.category === c)!;
  t.is(of('answer-na-router').packets, 3);
  t.is(of('punt-rs').packets, 5);
  t.deepEqual(
    [...of('punt-rs').byPort],
    [
      ['vm1', 4],
      ['vm2', 1],
    ],
  );
  t.is(of('guard-ra').packets, 6);
  t.is(stats.unknownRules, 1);
  t.deepEqual(stats.meters, [
    { port: 'vm1', id: 60000, packetsIn: 4, dropped: 1 },
    { port: 'vm2', id: 60001, packetsIn: 0, dropped: 0 },
  ]);
  const text = formatStats(stats, 'br0');
  t.true(text.startsWith('punt6 flows on br0: answered in OVS 5, punted 5, dropped by guards 6\n'), text);
  t.regex(text, /punted\s+punt-rs\s+5\s+vm1 4, vm2 1\s+Router Solicitation/);
  t.regex(text, /60000\s+vm1\s+4\s+1/);
});

test('ruleKey ignores the order of match fields only', (t) => {
  t.is(ruleKey(1, 2, 'a=1,b=2'), ruleKey(1, 2, 'b=2,a=1'));
  t.not(ruleKey(1, 2, 'a=1'), ruleKey(1, 3, 'a=1'));
  t.true(flowLine(set.rules[0]!).startsWith('cookie=0x70756e7436000000,table=200,priority=0,actions='));
});
