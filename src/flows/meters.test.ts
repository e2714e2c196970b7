/**
 * Which meters punt6 may touch, without OVS: `install`, `reconcile` and the keeper of
 * `punt6 run --bridge` against a fake bridge that answers the ovs-vsctl and ovs-ofctl commands
 * with the text OVS 3.1 prints (so the real parsers read it), takes meter batches as OVS takes
 * METER_MODs (each on its own, refusing an add of an existing id or a modification of a missing
 * one) and, like OVS, deletes the rules that use a meter when the meter is deleted.
 */

import { Writable } from 'node:stream';
import { join } from 'node:path';
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { loadConfig, parseConfig } from '../config/index.js';
import { repositoryRoot } from '../../fixtures/paths.js';
import type { RunResult } from '../system/exec.js';
import { createLogger } from '../system/logging.js';
import { FlowKeeper } from './keeper.js';
import type { MeterChange, MeterFailure } from './meter-batch.js';
import {
  FlowsError,
  install,
  installChanges,
  METER_RECORD_KEY,
  ofctlTimeout,
  OvsClient,
  planMeters,
  reconcile,
} from './ovs.js';
import {
  bundleText,
  DefaultFlowOptions,
  generateRules,
  meterArgument,
  PUNT6_COOKIE,
  PUNT6_COOKIE_MASK,
  type RuleSet,
} from './rules.js';

const labConfig = await loadConfig(join(repositoryRoot, 'fixtures', 'config', 'lab.yaml'));
const BRIDGE = 'br0';
const bindings = {
  interfaces: new Map([['punt0', 100]]),
  ports: new Map([
    ['vm1', 1],
    ['vm2', 2],
  ]),
};
/** Meters 60000 (vm1) and 60001 (vm2). */
const lab = generateRules(labConfig, bindings);
const FOREIGN_COOKIE = '0x5678';

interface Meter {
  flags: string;
  rate: number;
  burst: number;
}
interface Flow {
  cookie: string;
  table: number;
  priority: number;
  match: string;
  actions: string;
}

/**
 * One bridge's meters, rules and `external_ids`, changed by the commands OvsClient runs. Every
 * command, and every meter change of a batch, is logged; `crashBefore` makes one fail before it
 * changes anything, as if punt6 had died there (in a batch: after the changes before it).
 */
class FakeBridge extends OvsClient {
  readonly meterTable = new Map<number, Meter>();
  flows: Flow[] = [];
  readonly externalIds = new Map<string, string>();
  readonly log: string[] = [];
  /** The size of each meter batch. */
  readonly batches: number[] = [];
  crashBefore: ((command: string) => boolean) | null = null;
  /** What `meterFallback` says after a batch: as if the management socket were missing. */
  noSocket: string | null = null;
  /** Makes OVS refuse a meter change of a batch with this reason (and leave the meter as it was). */
  refuse: ((change: MeterChange) => string | null) | null = null;

  constructor() {
    super({});
  }

  addForeign(id: number, rate = 7): void {
    this.meterTable.set(id, { flags: 'pktps', rate, burst: 0 });
    this.flows.push({ cookie: FOREIGN_COOKIE, table: 77, priority: 1, match: '', actions: `meter:${id},NORMAL` });
  }

  get record(): number[] {
    return (this.externalIds.get(METER_RECORD_KEY) ?? '')
      .split(',')
      .filter((x) => x !== '')
      .map(Number)
      .sort((a, b) => a - b);
  }

  get meterIds(): number[] {
    return [...this.meterTable.keys()].sort((a, b) => a - b);
  }

  private step(command: string): void {
    if (this.crashBefore?.(command)) throw new FlowsError(`crashed before ${command}`);
    this.log.push(command);
  }

  override async vsctlRaw(args: readonly string[]): Promise<RunResult> {
    const command = `ovs-vsctl ${args.join(' ')}`;
    const ok = (stdout: string): RunResult => ({ command, code: 0, stdout, stderr: '' });
    this.step(command);
    const a = args.join(' ');
    if (a === `list-ifaces ${BRIDGE}`) return ok('punt0\nvm1\nvm2\n');
    if (a === '--format=json --columns=name,ofport,external_ids list Interface') {
      return ok(
        JSON.stringify({
          headings: ['name', 'ofport', 'external_ids'],
          data: [
            ['punt0', 100, ['map', []]],
            ['vm1', 1, ['map', []]],
            ['vm2', 2, ['map', []]],
          ],
        }),
      );
    }
    if (a === `--format=json --columns=external_ids list Bridge ${BRIDGE}`) {
      return ok(JSON.stringify({ headings: ['external_ids'], data: [[['map', [...this.externalIds]]]] }));
    }
    const set = new RegExp(`^--no-wait set Bridge ${BRIDGE} external_ids:([\\w-]+)="([^"]*)"$`).exec(a);
    if (set) {
      this.externalIds.set(set[1] as string, set[2] as string);
      return ok('');
    }
    const remove = new RegExp(`^--no-wait remove Bridge ${BRIDGE} external_ids ([\\w-]+)$`).exec(a);
    if (remove) {
      this.externalIds.delete(remove[1] as string);
      return ok('');
    }
    throw new Error(`fake bridge: unexpected ${command}`);
  }

  override async meterBatch(bridge: string, changes: readonly MeterChange[]): Promise<MeterFailure[]> {
    if (bridge !== BRIDGE) throw new FlowsError(`no bridge ${bridge}`);
    this.batches.push(changes.length);
    this.meterFallback = this.noSocket;
    const failures: MeterFailure[] = [];
    for (const change of changes) {
      const refused = this.refuse?.(change) ?? null;
      if (refused !== null) {
        this.step(`METER_MOD ${bridge} refused`);
        failures.push({ change, reason: refused });
        continue;
      }
      if (change.command === 'delete') {
        this.step(`METER_MOD ${bridge} DEL meter=${change.id}`);
        // As in OVS: the rules that use the meter go with it, whoever's they are.
        this.meterTable.delete(change.id);
        this.flows = this.flows.filter((f) => !usesMeter(f, change.id));
        continue;
      }
      const m = change.meter;
      this.step(`METER_MOD ${bridge} ${change.command === 'add' ? 'ADD' : 'MOD'} ${meterArgument(m)}`);
      if ((change.command === 'add') === this.meterTable.has(m.id))
        failures.push({
          change,
          reason:
            change.command === 'add'
              ? 'OFPMMFC_METER_EXISTS: a meter with this id exists already'
              : 'OFPMMFC_UNKNOWN_METER: no meter with this id to modify',
        });
      else this.meterTable.set(m.id, { flags: 'pktps burst stats', rate: m.rate, burst: m.burst });
    }
    return failures;
  }

  override async ofctl(args: readonly string[], input?: string): Promise<string> {
    const command = `ovs-ofctl ${args.join(' ')}`;
    this.step(command);
    const [verb, bridge, arg] = args[0] === '--no-names' || args[0] === '--bundle' ? args.slice(1) : args;
    if (bridge !== BRIDGE) throw new FlowsError(`${command} failed: no bridge ${bridge}`);
    switch (verb) {
      case 'dump-meters':
        return (
          [
            'OFPST_METER_CONFIG reply (OF1.5) (xid=0x2):',
            ...[...this.meterTable].map(
              ([i, m]) =>
                `meter=${i} ${m.flags} bands=\ntype=drop rate=${m.rate}${m.burst ? ` burst_size=${m.burst}` : ''}`,
            ),
          ].join('\n') + '\n'
        );
      case 'meter-stats':
        return (
          [
            'OFPST_METER reply (OF1.5) (xid=0x2):',
            ...[...this.meterTable.keys()].map(
              (i) =>
                `meter:${i} flow_count:${this.flows.filter((f) => usesMeter(f, i)).length} packet_in_count:0 byte_in_count:0 duration:1.0s bands:\n0: packet_count:0 byte_count:0`,
            ),
          ].join('\n') + '\n'
        );
      case 'add-flows': {
        const lines = (input ?? '').split('\n').filter((l) => l !== '');
        const added = lines.filter((l) => l.startsWith('add ')).map((l) => parseFlowLine(l.slice(4)));
        const used = added.flatMap((f) => [...f.actions.matchAll(/meter:(\d+)/g)].map((m) => Number(m[1])));
        if (used.some((m) => !this.meterTable.has(m))) throw new FlowsError(`${command} failed: OFPBFC_MSG_FAILED`);
        const cookie = /^delete cookie=(0x[0-9a-f]+)\/-1$/.exec(lines[0] ?? '')?.[1];
        // delete_strict: the rule with exactly that table, priority and match, and punt6's cookie.
        const strict = lines
          .filter((l) => l.startsWith('delete_strict '))
          .map((l) =>
            parseFlowLine(`${l.slice('delete_strict '.length).replace(`/${PUNT6_COOKIE_MASK},`, ',')},actions=`),
          );
        const key = (f: Flow): string => `${f.cookie}/${f.table}/${f.priority}/${f.match}`;
        const gone = new Set(strict.map(key));
        // An added rule replaces the one with the same table, priority and match.
        const replaced = new Set(added.map((f) => `${f.table}/${f.priority}/${f.match}`));
        this.flows = [
          ...this.flows.filter(
            (f) => f.cookie !== cookie && !gone.has(key(f)) && !replaced.has(`${f.table}/${f.priority}/${f.match}`),
          ),
          ...added,
        ];
        return '';
      }
      case 'dump-aggregate': {
        const only = /^cookie=(0x[0-9a-f]+)\/-1$/.exec(arg ?? '')?.[1];
        const n = this.flows.filter((f) => only === undefined || f.cookie === only).length;
        return `OFPST_AGGREGATE reply (OF1.5) (xid=0x6): packet_count=0 byte_count=0 flow_count=${n}\n`;
      }
      case 'dump-flows': {
        const only = /^cookie=(0x[0-9a-f]+)\/-1$/.exec(arg ?? '')?.[1];
        const shown = this.flows.filter((f) => only === undefined || f.cookie === only);
        const line = (f: Flow): string =>
          ` cookie=${f.cookie}, duration=1.0s, table=${f.table}, n_packets=0, n_bytes=0, priority=${f.priority}${f.match ? `,${f.match}` : ''} actions=${f.actions}`;
        return ['OFPST_FLOW reply (OF1.5) (xid=0x2):', ...shown.map(line)].join('\n') + '\n';
      }
      default:
        throw new Error(`fake bridge: unexpected ${command}`);
    }
  }
}

function usesMeter(f: Flow, id: number): boolean {
  return new RegExp(`\\bmeter:${id}\\b`).test(f.actions);
}

function parseFlowLine(text: string): Flow {
  const at = text.indexOf(',actions=');
  const fields = text.slice(0, at).split(',');
  const take = (key: string): string | undefined => {
    const i = fields.findIndex((f) => f.startsWith(`${key}=`));
    return i < 0 ? undefined : fields.splice(i, 1)[0]?.slice(key.length + 1);
  };
  const cookie = take('cookie') ?? '0x0';
  const table = Number(take('table') ?? 0);
  const priority = Number(take('priority') ?? 32768);
  return { cookie, table, priority, match: fields.join(','), actions: text.slice(at + ',actions='.length) };
}

/** The lab's rule set with its meters from `meterBase`. */
function labAt(meterBase: number): RuleSet {
  return generateRules(labConfig, bindings, { ...DefaultFlowOptions, meterBase });
}

/** The lab's rule set before vm2 is on the bridge: meter 60000 alone. */
const vm1Only = generateRules(labConfig, { interfaces: bindings.interfaces, ports: new Map([['vm1', 1]]) });

/** punt6's rules on the fake bridge, and a set's rules, as sorted comparable lines. */
const ownRules = (ovs: FakeBridge): string[] =>
  ovs.flows
    .filter((f) => f.cookie === PUNT6_COOKIE)
    .map((f) => `${f.table}/${f.priority}/${f.match}/${f.actions}`)
    .sort();
const ruleLines = (set: RuleSet): string[] =>
  set.rules.map((r) => `${r.table}/${r.priority}/${r.match}/${r.actions}`).sort();

const changes = (log: readonly string[]): string[] =>
  log.filter((c) => !/ (dump-meters|dump-flows|meter-stats|list|list-ifaces) /.test(c));

test("another controller's meter in punt6's range survives install and reinstall, with the rule that uses it", async (t) => {
  const ovs = new FakeBridge();
  ovs.addForeign(60050);
  await install(ovs, BRIDGE, lab);
  await install(ovs, BRIDGE, lab);
  t.deepEqual(ovs.meterIds, [60000, 60001, 60050]);
  t.deepEqual(ovs.meterTable.get(60050), { flags: 'pktps', rate: 7, burst: 0 });
  t.true(ovs.flows.some((f) => f.cookie === FOREIGN_COOKIE && f.actions === 'meter:60050,NORMAL'));
  t.deepEqual(ovs.record, [60000, 60001]);
  t.false(ovs.log.some((c) => /^METER_MOD br0 (DEL|MOD) meter=60050\b/.test(c)));
});

test("punt6's own meters that no rule wants any more are deleted, then forgotten; foreign ones are not", async (t) => {
  const ovs = new FakeBridge();
  await install(ovs, BRIDGE, labAt(61000));
  ovs.addForeign(60050);
  ovs.addForeign(61005);
  ovs.log.length = 0;
  await install(ovs, BRIDGE, lab);
  t.deepEqual(ovs.meterIds, [60000, 60001, 60050, 61005]);
  t.deepEqual(ovs.record, [60000, 60001]);
  t.deepEqual(changes(ovs.log), [
    'ovs-vsctl --no-wait set Bridge br0 external_ids:punt6-meters="60000,60001,61000,61001"',
    'METER_MOD br0 ADD meter=60000,pktps,burst,stats,bands=type=drop,rate=100,burst_size=200',
    'METER_MOD br0 ADD meter=60001,pktps,burst,stats,bands=type=drop,rate=100,burst_size=200',
    'ovs-ofctl --bundle add-flows br0 -',
    'METER_MOD br0 DEL meter=61000',
    'METER_MOD br0 DEL meter=61001',
    'ovs-vsctl --no-wait set Bridge br0 external_ids:punt6-meters="60000,60001"',
  ]);
  t.deepEqual(ovs.batches.slice(-2), [2, 2], 'one batch before the bundle, one after');
});

test('a meter punt6 wants that another controller holds: refused before anything changes, said with id, port and --meter-base', async (t) => {
  const ovs = new FakeBridge();
  await install(ovs, BRIDGE, labAt(61000));
  ovs.addForeign(60001);
  ovs.addForeign(60002);
  const before = { meters: new Map(ovs.meterTable), flows: [...ovs.flows], record: ovs.record };
  ovs.log.length = 0;
  const e = await t.throwsAsync(install(ovs, BRIDGE, lab), { instanceOf: FlowsError });
  t.is(
    e?.message,
    "meter 60001 for port vm2 (rules of another cookie use it) on bridge br0 is another controller's; punt6 leaves it alone and installs nothing: " +
      'give punt6 2 free meter ids with another --meter-base (now 60000), e.g. --meter-base 60003',
  );
  t.deepEqual(changes(ovs.log), []);
  t.deepEqual(ovs.meterTable, before.meters);
  t.deepEqual(ovs.flows, before.flows);
  t.deepEqual(ovs.record, before.record);
  // reconcile (what `punt6 run --bridge` calls) refuses the same way.
  await t.throwsAsync(reconcile(BRIDGE, lab, ovs), { message: /^meter 60001 for port vm2 / });
  t.deepEqual(ovs.meterTable.get(60001), { flags: 'pktps', rate: 7, burst: 0 });
});

test('several foreign meters in the way are listed in one line', async (t) => {
  const ovs = new FakeBridge();
  ovs.meterTable.set(60000, { flags: 'kbps', rate: 9, burst: 0 });
  ovs.addForeign(60001);
  const e = await t.throwsAsync(install(ovs, BRIDGE, lab));
  t.regex(
    e?.message ?? '',
    /^meters 60000 for port vm1 \(punt6 did not create it\), 60001 for port vm2 \(rules of another cookie use it\) on bridge br0 are another controller's; punt6 leaves them alone .* e\.g\. --meter-base 60002$/,
  );
});

test('a meter OVS refuses in the batch before the bundle: said with id, port and reason; the rules are not touched', async (t) => {
  const ovs = new FakeBridge();
  await install(ovs, BRIDGE, labAt(61000));
  const rules = [...ovs.flows];
  ovs.refuse = (c) =>
    c.command === 'add' && c.meter.id === 60001 ? 'OFPMMFC_OUT_OF_METERS: the switch has no more meters' : null;
  const e = await t.throwsAsync(install(ovs, BRIDGE, lab), { instanceOf: FlowsError });
  t.is(
    e?.message,
    "meter 60001 for port vm2 on bridge br0 was not added (OFPMMFC_OUT_OF_METERS: the switch has no more meters); punt6's rules are as they were",
  );
  t.deepEqual(ovs.flows, rules);
  t.deepEqual(ovs.meterIds, [60000, 61000, 61001], 'the other meter of the batch was added');
  t.deepEqual(ovs.record, [60000, 61000, 61001], 'the refused id recorded before the batch, then forgotten');
  t.true(ovs.log.includes('ovs-vsctl --no-wait set Bridge br0 external_ids:punt6-meters="60000,60001,61000,61001"'));
  // Once OVS takes it, the next install finishes the job.
  ovs.refuse = null;
  await install(ovs, BRIDGE, lab);
  t.deepEqual(ovs.meterIds, [60000, 60001]);
  t.deepEqual(ovs.record, [60000, 60001]);
});

test('many refusals are listed three at a time; refused deletions stay recorded and are deleted next time', async (t) => {
  const ports = Array.from({ length: 6 }, (_, i) => ({ id: 60000 + i, port: `vm${i + 1}`, rate: 100, burst: 200 }));
  const ovs = new FakeBridge();
  ovs.refuse = () => 'OFPMMFC_OUT_OF_METERS: the switch has no more meters';
  const six: RuleSet = { ...lab, meters: ports };
  const e = await t.throwsAsync(install(ovs, BRIDGE, six));
  t.is(
    e?.message,
    'meters 60000 for port vm1 (not added: OFPMMFC_OUT_OF_METERS: the switch has no more meters), ' +
      '60001 for port vm2 (not added: OFPMMFC_OUT_OF_METERS: the switch has no more meters), ' +
      "60002 for port vm3 (not added: OFPMMFC_OUT_OF_METERS: the switch has no more meters) and 3 more on bridge br0 were refused; punt6's rules are as they were",
  );
  ovs.refuse = null;
  await install(ovs, BRIDGE, labAt(61000));
  ovs.refuse = (c) => (c.command === 'delete' && c.id === 61001 ? 'OFPMMFC_UNKNOWN: unspecified error' : null);
  const d = await t.throwsAsync(install(ovs, BRIDGE, lab));
  t.is(
    d?.message,
    "meter 61001 on bridge br0 was not deleted (OFPMMFC_UNKNOWN: unspecified error); punt6's new rules are in place; it deletes the meters on its next install",
  );
  t.deepEqual(ovs.meterIds, [60000, 60001, 61001]);
  t.deepEqual(ovs.record, [60000, 60001, 61000, 61001]);
  ovs.refuse = null;
  await install(ovs, BRIDGE, lab);
  t.deepEqual(ovs.meterIds, [60000, 60001]);
  t.deepEqual(ovs.record, [60000, 60001]);
});

/**
 * From punt6's meters at 61000 (to be replaced by 60000 and 60001) and a foreign meter in the way
 * of nothing: seven changes, record, two adds, the bundle, two deletes, record.
 */
const crashCases = [
  {
    what: 'an install: recorded before added, deleted before forgotten',
    change: (ovs: FakeBridge) => install(ovs, BRIDGE, lab),
  },
  { what: 'a difference of meters', change: (ovs: FakeBridge) => installChanges(ovs, BRIDGE, labAt(61000), lab) },
];

for (const { what, change } of crashCases)
  test(`${what}: a crash at any step orphans no meter, and the next install cleans up`, async (t) => {
    for (let crashAt = 0; ; crashAt++) {
      const ovs = new FakeBridge();
      await install(ovs, BRIDGE, labAt(61000));
      ovs.addForeign(60050);
      let k = 0;
      ovs.crashBefore = (c) => changes([c]).length === 1 && k++ === crashAt;
      const crashed = await change(ovs).then(
        () => false,
        () => true,
      );
      // Every meter on the bridge is recorded as punt6's or is the foreign one.
      t.deepEqual(
        ovs.meterIds.filter((id) => id !== 60050 && !ovs.record.includes(id)),
        [],
        `crash before change ${crashAt}`,
      );
      ovs.crashBefore = null;
      await install(ovs, BRIDGE, lab);
      t.deepEqual(ovs.meterIds, [60000, 60001, 60050], `after a crash before change ${crashAt}`);
      t.deepEqual(ovs.record, [60000, 60001]);
      t.true(ovs.flows.some((f) => f.cookie === FOREIGN_COOKIE));
      t.deepEqual(ownRules(ovs), ruleLines(lab));
      if (!crashed) {
        t.is(crashAt, 7, 'seven changes: record, two adds, bundle, two deletes, record');
        break;
      }
    }
  });

test('recorded meters that are gone (ovs-vswitchd restarted) are forgotten, and added again when wanted', async (t) => {
  const ovs = new FakeBridge();
  await install(ovs, BRIDGE, labAt(61000));
  ovs.meterTable.clear();
  ovs.flows = [];
  // Another controller now has 61001: punt6's stale record must not make it punt6's.
  ovs.addForeign(61001);
  const r = await reconcile(BRIDGE, lab, ovs);
  t.true(r.reinstalled);
  t.deepEqual(ovs.meterIds, [60000, 60001, 61001]);
  t.deepEqual(ovs.record, [60000, 60001]);
  t.true(ovs.flows.some((f) => f.actions === 'meter:61001,NORMAL'));
});

test("meters used by punt6's rules only are punt6's even without a record", async (t) => {
  const ovs = new FakeBridge();
  await install(ovs, BRIDGE, labAt(61000));
  ovs.externalIds.clear();
  ovs.meterTable.set(61000, { flags: 'pktps burst stats', rate: 5, burst: 5 });
  // A meter used by a punt6 rule and by another controller's rule is not punt6's alone.
  ovs.flows.push({ cookie: FOREIGN_COOKIE, table: 77, priority: 1, match: '', actions: 'meter:61001,NORMAL' });
  t.deepEqual(ovs.record, []);
  const plan = planMeters(labAt(61000), await ovs.meters(BRIDGE), new Set(), await ovs.allFlows(BRIDGE));
  t.deepEqual(
    plan.modify.map((m) => m.id),
    [61000],
  );
  t.deepEqual(
    plan.conflicts.map((c) => c.spec.id),
    [61001],
  );
  await install(ovs, BRIDGE, labAt(61000)).catch(() => undefined);
  t.deepEqual(ovs.meterTable.get(61000), { flags: 'pktps burst stats', rate: 5, burst: 5 }, 'refused: nothing changed');
  ovs.flows = ovs.flows.filter((f) => f.cookie === PUNT6_COOKIE);
  await install(ovs, BRIDGE, lab);
  t.deepEqual(ovs.meterIds, [60000, 60001]);
  t.deepEqual(ovs.record, [60000, 60001]);
});

test("ovs-ofctl's time limit grows with its input: a whole rule set's bundle is not killed at 30 s", (t) => {
  t.is(ofctlTimeout(undefined), 30_000);
  t.is(ofctlTimeout('delete cookie=0x1/-1\nadd table=1,actions=drop\n'), 30_002);
  t.is(ofctlTimeout(bundleText(lab)), 30_000 + lab.rules.length + 1);
});

test('a port that appears: its meter recorded and added in one batch, its rules in one bundle, nothing dumped', async (t) => {
  const ovs = new FakeBridge();
  ovs.addForeign(60050);
  await install(ovs, BRIDGE, vm1Only);
  ovs.log.length = 0;
  const c = await installChanges(ovs, BRIDGE, vm1Only, lab);
  // vm2's rules, and the punt port's multicast delivery, which now reaches vm2 too.
  t.deepEqual(c?.remove, []);
  t.deepEqual([...new Set(c?.add.map((r) => r.port))], ['vm2', 'punt0']);
  t.deepEqual(ovs.log, [
    'ovs-vsctl --format=json --columns=external_ids list Bridge br0',
    'ovs-vsctl --no-wait set Bridge br0 external_ids:punt6-meters="60000,60001"',
    'METER_MOD br0 ADD meter=60001,pktps,burst,stats,bands=type=drop,rate=100,burst_size=200',
    'ovs-ofctl --bundle add-flows br0 -',
  ]);
  t.deepEqual(ownRules(ovs), ruleLines(lab));
  t.deepEqual(ovs.meterIds, [60000, 60001, 60050]);
  t.deepEqual(ovs.record, [60000, 60001]);

  // And goes again: its rules first, then its meter, which no rule uses any more, then the record.
  ovs.log.length = 0;
  t.not(await installChanges(ovs, BRIDGE, lab, vm1Only), null);
  t.deepEqual(ovs.log, [
    'ovs-ofctl --bundle add-flows br0 -',
    'ovs-vsctl --format=json --columns=external_ids list Bridge br0',
    'ovs-ofctl meter-stats br0',
    'METER_MOD br0 DEL meter=60001',
    'ovs-vsctl --no-wait set Bridge br0 external_ids:punt6-meters="60000"',
  ]);
  t.deepEqual(ownRules(ovs), ruleLines(vm1Only));
  t.deepEqual(ovs.meterIds, [60000, 60050]);
  t.deepEqual(ovs.record, [60000]);
});

test("a port that goes while another controller's rule uses its meter: the meter and that rule stay, the record forgets it", async (t) => {
  const ovs = new FakeBridge();
  await install(ovs, BRIDGE, lab);
  ovs.flows.push({ cookie: FOREIGN_COOKIE, table: 77, priority: 1, match: '', actions: 'meter:60001,NORMAL' });
  await installChanges(ovs, BRIDGE, lab, vm1Only);
  t.false(ovs.log.some((c) => c.startsWith('METER_MOD br0 DEL')));
  t.deepEqual(ovs.meterIds, [60000, 60001]);
  t.deepEqual(ovs.record, [60000]);
  t.true(ovs.flows.some((f) => f.cookie === FOREIGN_COOKIE));
  t.deepEqual(ownRules(ovs), ruleLines(vm1Only));
});

test("a new port's meter id held by another controller: not recorded, and the whole install refuses, saying why", async (t) => {
  const ovs = new FakeBridge();
  await install(ovs, BRIDGE, vm1Only);
  ovs.addForeign(60001);
  const e = await t.throwsAsync(installChanges(ovs, BRIDGE, vm1Only, lab), { instanceOf: FlowsError });
  t.regex(
    e?.message ?? '',
    /^meter 60001 for port vm2 \(rules of another cookie use it\) on bridge br0 is another controller's; punt6 leaves it alone/,
  );
  t.deepEqual(ovs.record, [60000]);
  t.deepEqual(ovs.meterTable.get(60001), { flags: 'pktps', rate: 7, burst: 0 });
  t.deepEqual(ownRules(ovs), ruleLines(vm1Only), "punt6's rules as they were");
});

test('a meter gone since it was installed: its modification is refused, and the whole install puts it back', async (t) => {
  const ovs = new FakeBridge();
  await install(ovs, BRIDGE, lab);
  ovs.meterTable.delete(60001);
  ovs.flows = ovs.flows.filter((f) => !usesMeter(f, 60001));
  const slower = generateRules(labConfig, bindings, { ...DefaultFlowOptions, meterRate: 50 });
  t.is(await installChanges(ovs, BRIDGE, lab, slower), null);
  t.deepEqual(ovs.meterTable.get(60001), { flags: 'pktps burst stats', rate: 50, burst: 200 });
  t.deepEqual(ovs.meterTable.get(60000), { flags: 'pktps burst stats', rate: 50, burst: 200 });
  t.deepEqual(ownRules(ovs), ruleLines(slower));
  t.deepEqual(ovs.record, [60000, 60001]);
});

/** A logger at level info whose lines are collected, parsed. */
function collectedLog(): { logs: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logs, log: createLogger({ level: 'info', destination }) };
}

test('punt6 run --bridge: meters changed through ovs-ofctl are a warning, logged once', async (t) => {
  const ovs = new FakeBridge();
  ovs.noSocket = 'no OpenFlow socket /run/ovs/br0.mgmt: meters changed with one ovs-ofctl each';
  const { logs, log } = collectedLog();
  const keeper = new FlowKeeper({ bridge: BRIDGE, log, ovs });
  await keeper.use(labConfig);
  // ovs-vswitchd restarted: rules and meters gone, installed again, through ovs-ofctl again.
  ovs.meterTable.clear();
  ovs.flows = [];
  await keeper.round();
  t.is(keeper.installs, 2);
  const warnings = logs.filter((l) => l['msg'] === 'meters changed through ovs-ofctl');
  t.is(warnings.length, 1);
  t.like(warnings[0], { bridge: BRIDGE, note: ovs.noSocket });
});

test('punt6 run --bridge: a foreign meter in the way is logged once with the message, left alone, and retried', async (t) => {
  const ovs = new FakeBridge();
  ovs.addForeign(60001);
  const { logs, log } = collectedLog();
  const keeper = new FlowKeeper({ bridge: BRIDGE, log, ovs });
  await keeper.use(labConfig);
  await keeper.round();
  t.is(keeper.failures, 2);
  t.is(keeper.installs, 0);
  const errors = logs.filter((l) => l['msg'] === 'cannot install flows; retrying');
  t.is(errors.length, 1);
  t.regex(
    String(errors[0]?.['err']),
    /^meter 60001 for port vm2 \(rules of another cookie use it\) on bridge br0 is another controller's/,
  );
  t.deepEqual(ovs.meterTable.get(60001), { flags: 'pktps', rate: 7, burst: 0 });
  t.false(ovs.flows.some((f) => f.cookie === PUNT6_COOKIE));
  // The other controller moves its meter: the next round installs.
  ovs.meterTable.delete(60001);
  ovs.flows = [];
  await keeper.round();
  t.is(keeper.installs, 1);
  t.deepEqual(ovs.record, [60000, 60001]);
  t.true(logs.some((l) => l['msg'] === 'flows back in place'));
});

test('punt6 run --bridge: a change installs the difference alone; a count that disagrees checks and installs whole', async (t) => {
  const ovs = new FakeBridge();
  const keeper = new FlowKeeper({ bridge: BRIDGE, log: createLogger({ level: 'silent' }), ovs, fullEvery: 1000 });
  await keeper.use(labConfig);
  t.is(keeper.installs, 1);
  t.deepEqual(ownRules(ovs), ruleLines(lab));
  // A quiet round: only the count is read.
  ovs.log.length = 0;
  await keeper.round();
  t.deepEqual(
    ovs.log.filter((c) => c.startsWith('ovs-ofctl')),
    [`ovs-ofctl dump-aggregate ${BRIDGE} cookie=${PUNT6_COOKIE}/-1`],
  );
  // vm2 gets a second address: one bundle with vm2's rules and the new address's, nothing else.
  const changed = parseConfig(
    (await readFile(join(repositoryRoot, 'fixtures', 'config', 'lab.yaml'), 'utf8')).replace(
      'addresses: [2001:db8:1::102]',
      'addresses: [2001:db8:1::102, 2001:db8:1::103]',
    ),
    join(repositoryRoot, 'fixtures', 'config', 'lab.yaml'),
  );
  ovs.log.length = 0;
  await keeper.use(changed);
  t.is(keeper.changes, 1);
  t.is(keeper.installs, 1);
  const bundles = ovs.log.filter((c) => c.includes('add-flows'));
  t.is(bundles.length, 1);
  const expected = generateRules(changed, bindings);
  t.deepEqual(ownRules(ovs), ruleLines(expected));
  // ovs-vswitchd lost punt6's rules: the count disagrees, the next round installs whole.
  ovs.flows = ovs.flows.filter((f) => f.cookie !== PUNT6_COOKIE || f.table !== 203);
  await keeper.round();
  t.is(keeper.installs, 2);
  t.deepEqual(ownRules(ovs), ruleLines(expected));
});
