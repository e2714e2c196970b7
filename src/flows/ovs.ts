/**
 * Talking to Open vSwitch for punt6's rules: finding the OpenFlow ports of the configuration's
 * punt interfaces and VM ports, installing the rule set atomically (meters first, in one batch
 * over the bridge's OpenFlow socket, then one OpenFlow bundle that deletes punt6's old rules and
 * adds the new ones), reading back punt6's rules (cookie-filtered) and reconciling them with the
 * desired set.
 *
 * Every command runs with the given environment: with `OVS_RUNDIR` set, `ovs-vsctl` and
 * `ovs-ofctl` find a private instance's database socket and bridge sockets there, and so does
 * the meter batch (meter-batch.ts).
 */

import type { Punt6Config } from '../config/index.js';
import { run, type RunResult } from '../system/exec.js';
import { runInSlices, runSteps, type SliceOptions, type Steps } from '../system/steps.js';
import {
  flowDumpSteps,
  parseFlowDump,
  parseInterfaceList,
  parseMeterDump,
  parseMeterRecord,
  parseMeterStats,
  type DumpedFlow,
  type DumpedMeter,
  type MeterStats,
  type OvsInterface,
} from './dump.js';
import {
  managementSocket,
  MeterSocketError,
  sendMeterBatch,
  type MeterChange,
  type MeterFailure,
} from './meter-batch.js';
import {
  bundleText,
  changesBundleText,
  ruleChanges,
  type RuleChanges,
  generateRules,
  MAX_METER_BASE,
  meterArgument,
  PUNT6_COOKIE,
  ruleKey,
  type FlowOptions,
  type MeterSpec,
  type OfPortRef,
  type PortBindings,
  type RuleSet,
} from './rules.js';

/**
 * The key in the bridge's `external_ids` under which punt6 records the meter ids it created
 * there (`ovs-vsctl get bridge BR external_ids:punt6-meters` gives `"60000,60001"`). Meters
 * carry no cookie: this record, not an id range, is what makes a meter punt6's.
 */
export const METER_RECORD_KEY = 'punt6-meters';

export class FlowsError extends Error {}

/** The default time limit of `OvsClient.ofctl`. */
export function ofctlTimeout(input: string | undefined): number {
  let lines = 0;
  if (input !== undefined) for (let i = input.indexOf('\n'); i >= 0; i = input.indexOf('\n', i + 1)) lines++;
  return 30_000 + lines;
}

/** How long a dump of every rule on a bridge may take: its work grows with the rules there. */
const DUMP_TIMEOUT_MS = 600_000;

function notRunning(r: RunResult): FlowsError {
  return new FlowsError(
    `Open vSwitch is not running or not reachable (ovs-vsctl: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`})`,
  );
}

export class OvsClient {
  readonly env: NodeJS.ProcessEnv;
  /**
   * Why the last meter batch went through `ovs-ofctl`, one process a meter (the bridge's
   * management socket was not where ovs-ofctl's default rundir or OVS_RUNDIR puts it); null when
   * it went through the socket.
   */
  meterFallback: string | null = null;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.env = env;
  }

  vsctlRaw(args: readonly string[]): Promise<RunResult> {
    return run('ovs-vsctl', ['--timeout=10', ...args], { env: this.env });
  }

  async vsctl(args: readonly string[]): Promise<string> {
    const r = await this.vsctlRaw(args);
    if (r.code !== 0) throw new FlowsError(`${r.command} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  /**
   * Runs `ovs-ofctl -O OpenFlow15 ARGS`, killed after `timeoutMs`: by default 30 s and 1 ms more
   * a line of input, since a bundle's work in ovs-ofctl and ovs-vswitchd grows with its rules.
   */
  async ofctl(args: readonly string[], input?: string, timeoutMs = ofctlTimeout(input)): Promise<string> {
    const r = await run('ovs-ofctl', ['-O', 'OpenFlow15', ...args], { env: this.env, input, timeout: timeoutMs });
    if (r.code !== 0) throw new FlowsError(`${r.command} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  /**
   * Throws a clear `FlowsError` when OVS is not running or the bridge does not exist (the
   * database knows it and ovs-vswitchd answers on its OpenFlow socket).
   */
  async checkBridge(bridge: string): Promise<void> {
    const exists = await this.vsctlRaw(['br-exists', bridge]);
    if (exists.code === 2) throw new FlowsError(`bridge ${bridge} does not exist`);
    if (exists.code !== 0) throw notRunning(exists);
    const r = await run('ovs-ofctl', ['-O', 'OpenFlow15', 'show', bridge], { env: this.env });
    if (r.code !== 0)
      throw new FlowsError(
        `ovs-vswitchd does not answer for bridge ${bridge} (is it running?): ${(r.stderr || r.stdout).trim()}`,
      );
  }

  /** Throws a clear `FlowsError` when the OVS database server does not answer. */
  async checkRunning(): Promise<void> {
    const r = await this.vsctlRaw(['show']);
    if (r.code !== 0) throw notRunning(r);
  }

  /** The bridge a punt interface is on, or null. */
  async bridgeOf(interfaceName: string): Promise<string | null> {
    const r = await this.vsctlRaw(['port-to-br', interfaceName]);
    return r.code === 0 ? r.stdout.trim() : null;
  }

  async interfaces(bridge: string): Promise<OvsInterface[]> {
    const names = new Set(
      (await this.vsctl(['list-ifaces', bridge]))
        .split('\n')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    );
    const all = parseInterfaceList(
      await this.vsctl(['--format=json', '--columns=name,ofport,external_ids', 'list', 'Interface']),
    );
    return all.filter((i) => names.has(i.name));
  }

  /**
   * punt6's rules on the bridge (cookie-filtered), with their counters. With `slices`, the dump
   * is read in slices of the event loop (a large rule set's dump is tens of megabytes).
   */
  async ownFlows(bridge: string, slices?: SliceOptions): Promise<DumpedFlow[]> {
    const text = await this.ofctl(
      ['--no-names', 'dump-flows', bridge, `cookie=${PUNT6_COOKIE}/-1`],
      undefined,
      DUMP_TIMEOUT_MS,
    );
    return slices === undefined ? parseFlowDump(text) : runInSlices(flowDumpSteps(text), slices);
  }

  /** How many rules carry punt6's cookie (`dump-aggregate`): a cheap check that they are all there. */
  async ownFlowCount(bridge: string): Promise<number> {
    const out = await this.ofctl(['dump-aggregate', bridge, `cookie=${PUNT6_COOKIE}/-1`]);
    const m = /\bflow_count=(\d+)/.exec(out);
    if (m === null)
      throw new FlowsError(`ovs-ofctl dump-aggregate ${bridge}: no flow_count in ${JSON.stringify(out.trim())}`);
    return Number(m[1]);
  }

  /** Every rule on the bridge, anyone's (to see which rules use a meter). */
  async allFlows(bridge: string): Promise<DumpedFlow[]> {
    return parseFlowDump(await this.ofctl(['--no-names', 'dump-flows', bridge], undefined, DUMP_TIMEOUT_MS));
  }

  async meters(bridge: string): Promise<DumpedMeter[]> {
    return parseMeterDump(await this.ofctl(['dump-meters', bridge]));
  }

  /** The meter ids recorded as punt6's on the bridge (`external_ids:punt6-meters`). */
  async recordedMeters(bridge: string): Promise<Set<number>> {
    return parseMeterRecord(
      await this.vsctl(['--format=json', '--columns=external_ids', 'list', 'Bridge', bridge]),
      METER_RECORD_KEY,
    );
  }

  /**
   * Replaces the record of punt6's meters. `--no-wait`: the record lives in the database (which
   * has it on disk when ovs-vsctl returns); ovs-vswitchd has nothing to do for it.
   */
  async recordMeters(bridge: string, ids: ReadonlySet<number>): Promise<void> {
    if (ids.size === 0) await this.vsctl(['--no-wait', 'remove', 'Bridge', bridge, 'external_ids', METER_RECORD_KEY]);
    else
      await this.vsctl([
        '--no-wait',
        'set',
        'Bridge',
        bridge,
        `external_ids:${METER_RECORD_KEY}="${[...ids].sort((a, b) => a - b).join(',')}"`,
      ]);
  }

  async meterStats(bridge: string): Promise<MeterStats[]> {
    return parseMeterStats(await this.ofctl(['meter-stats', bridge]));
  }

  /**
   * Adds, modifies and deletes meters in one batch on the bridge's OpenFlow management socket
   * (meter-batch.ts) and returns the changes OVS refused, each with its reason; every other
   * change has taken effect. Throws a FlowsError when the outcome is unknown (the connection
   * failed or closed, OVS did not answer).
   *
   * When the socket is not there (an OVS built with another rundir, OVS_RUNDIR not set), the
   * changes go through `ovs-ofctl`, which knows its own rundir, one process each, stopping at the
   * first that fails; `meterFallback` then says so.
   */
  async meterBatch(bridge: string, changes: readonly MeterChange[]): Promise<MeterFailure[]> {
    const path = managementSocket(bridge, this.env);
    try {
      const failures = await sendMeterBatch(path, changes);
      this.meterFallback = null;
      return failures;
    } catch (e) {
      if (!(e instanceof MeterSocketError) || e.code !== 'ENOENT') {
        const n = changes.length;
        throw new FlowsError(
          `changing ${n} meter${n === 1 ? '' : 's'} on bridge ${bridge} through ${path} failed: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    this.meterFallback = `no OpenFlow socket ${path}: meters changed with one ovs-ofctl each (set OVS_RUNDIR to the directory of ${bridge}.mgmt)`;
    for (const change of changes) {
      try {
        await this.ofctl(ofctlMeterArguments(bridge, change));
      } catch (e) {
        return [{ change, reason: e instanceof Error ? e.message : String(e) }];
      }
    }
    return [];
  }
}

/** The `ovs-ofctl` command line of one meter change. */
function ofctlMeterArguments(bridge: string, c: MeterChange): string[] {
  if (c.command === 'delete') return ['del-meter', bridge, `meter=${c.id}`];
  return [c.command === 'add' ? 'add-meter' : 'mod-meter', bridge, meterArgument(c.meter)];
}

/**
 * How a VM port of the configuration is found on the bridge, first match wins:
 * 1. `--port NAME=IFACE|OFPORT` given by hand;
 * 2. an interface whose `external_ids:iface-id` is the port name (the OVN / Neutron convention);
 * 3. an interface whose `external_ids:attached-mac` is the port's MAC (the libvirt / Neutron one);
 * 4. an interface named like the port.
 * Punt interfaces are found by name (or `--port`).
 */
export function resolveBindings(
  config: Punt6Config,
  interfaces: readonly OvsInterface[],
  manual: ReadonlyMap<string, OfPortRef> = new Map(),
): {
  bindings: PortBindings;
  notes: string[];
} {
  const notes: string[] = [];
  const byName = new Map(interfaces.map((i) => [i.name, i]));
  const numberOf = (ref: OfPortRef, what: string): number | undefined => {
    if (typeof ref === 'number') return ref;
    const itf = byName.get(ref);
    if (itf?.ofport == null) {
      notes.push(`${what}: interface ${ref} is not an OpenFlow port of the bridge`);
      return undefined;
    }
    return itf.ofport;
  };
  const itfs = new Map<string, OfPortRef>();
  for (const itf of config.interfaces) {
    const n = numberOf(manual.get(itf.name) ?? itf.name, `punt interface ${itf.name}`);
    if (n !== undefined) itfs.set(itf.name, n);
  }
  const ports = new Map<string, OfPortRef>();
  for (const port of config.ports) {
    const given = manual.get(port.name);
    if (given !== undefined) {
      const n = numberOf(given, `port ${port.name}`);
      if (n !== undefined) ports.set(port.name, n);
      continue;
    }
    const found: OvsInterface | undefined =
      interfaces.find((i) => i.externalIds.get('iface-id') === port.name) ??
      interfaces.find((i) => i.externalIds.get('attached-mac')?.toLowerCase() === port.mac.text) ??
      byName.get(port.name);
    if (found?.ofport != null) ports.set(port.name, found.ofport);
  }
  return { bindings: { interfaces: itfs, ports }, notes };
}

/** Resolves the ports on the bridge and generates the rule set: what `reconcile` wants. */
export async function desiredRuleSet(
  ovs: OvsClient,
  bridge: string,
  config: Punt6Config,
  options: FlowOptions,
  manual: ReadonlyMap<string, OfPortRef> = new Map(),
  reuse: (bindings: PortBindings) => (RuleSet & { notes: string[]; bindings: PortBindings }) | null = () => null,
): Promise<RuleSet & { notes: string[]; bindings: PortBindings }> {
  const { bindings, notes } = resolveBindings(config, await ovs.interfaces(bridge), manual);
  const missing = config.interfaces.filter((i) => !bindings.interfaces.has(i.name)).map((i) => i.name);
  if (missing.length > 0)
    throw new FlowsError(
      `punt interface${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not on bridge ${bridge}`,
    );
  return reuse(bindings) ?? { ...generateRules(config, bindings, options), notes, bindings };
}

/** The meter ids a rule's actions use (`meter:60000,output:5`). */
function metersOf(actions: string): number[] {
  return [...actions.matchAll(/\bmeter:(\d+)/g)].map((m) => Number(m[1]));
}

/** What `install` does to the meters, worked out before it changes anything. */
export interface MeterPlan {
  /** Desired meters absent from the bridge: recorded, then added. */
  readonly add: readonly MeterSpec[];
  /** Desired meters of punt6's that are on the bridge with another rate or burst. */
  readonly modify: readonly MeterSpec[];
  /** punt6's meters on the bridge that no desired rule uses: deleted after the bundle. */
  readonly remove: readonly number[];
  /** Desired ids taken by a meter that is not punt6's: the install is refused. */
  readonly conflicts: readonly { readonly spec: MeterSpec; readonly why: string }[];
  /** The record written before any meter is added (it already names every meter added). */
  readonly recordBefore: ReadonlySet<number>;
  /** The record written after the deletions. */
  readonly recordAfter: ReadonlySet<number>;
}

/**
 * Sorts the desired meters against the bridge. A meter is punt6's when no rule of another cookie
 * uses it (deleting it would delete those rules) and either the bridge's record names it or
 * rules with punt6's cookie use it (a bridge whose record was never written). Any other meter
 * is someone else's: punt6 never modifies or deletes it, and a desired id it holds is a
 * conflict. Recorded ids that are not punt6's leave the record: those no longer on the bridge
 * (ovs-vswitchd restarted, someone deleted them), and those another controller's rules use (an id
 * it took while punt6's meter was gone, or one it shares).
 */
export function planMeters(
  set: RuleSet,
  existing: readonly DumpedMeter[],
  recorded: ReadonlySet<number>,
  flows: readonly DumpedFlow[],
): MeterPlan {
  const onBridge = new Map(existing.map((m) => [m.id, m]));
  const usedByPunt6 = new Set<number>();
  const usedByOthers = new Set<number>();
  for (const f of flows)
    for (const id of metersOf(f.actions)) (f.cookie === PUNT6_COOKIE ? usedByPunt6 : usedByOthers).add(id);
  const owned = new Set<number>();
  for (const id of onBridge.keys()) {
    if (!usedByOthers.has(id) && (recorded.has(id) || usedByPunt6.has(id))) owned.add(id);
  }
  const add: MeterSpec[] = [];
  const modify: MeterSpec[] = [];
  const conflicts: { spec: MeterSpec; why: string }[] = [];
  for (const spec of set.meters) {
    const have = onBridge.get(spec.id);
    if (have === undefined) add.push(spec);
    else if (!owned.has(spec.id))
      conflicts.push({
        spec,
        why: usedByOthers.has(spec.id) ? 'rules of another cookie use it' : 'punt6 did not create it',
      });
    else if (have.rate !== spec.rate || have.burst !== spec.burst || !have.flags.includes('pktps')) modify.push(spec);
  }
  const wanted = new Set(set.meters.map((m) => m.id));
  const remove = [...owned].filter((id) => !wanted.has(id)).sort((a, b) => a - b);
  const recordBefore = new Set([...owned, ...add.map((m) => m.id)]);
  const recordAfter = new Set([...recordBefore].filter((id) => !remove.includes(id)));
  return { add, modify, remove, conflicts, recordBefore, recordAfter };
}

/**
 * The first id from which `count` ids are free of every meter on the bridge, above `from`; null
 * when none is left below the largest base `--meter-base` takes.
 */
function freeMeterBase(existing: readonly DumpedMeter[], count: number, from: number): number | null {
  const ids = existing.map((m) => m.id);
  let base = from;
  for (;;) {
    const inside = ids.filter((id) => id >= base && id < base + count);
    if (inside.length === 0) return base <= MAX_METER_BASE ? base : null;
    base = Math.max(...inside) + 1;
  }
}

function conflictMessage(bridge: string, set: RuleSet, plan: MeterPlan, existing: readonly DumpedMeter[]): string {
  const list = plan.conflicts.map((c) => `${c.spec.id} for port ${c.spec.port} (${c.why})`).join(', ');
  const one = plan.conflicts.length === 1;
  // Port i's meter is meterBase + i: a new base needs that many ids free from it.
  const span = Math.max(...set.meters.map((m) => m.id)) - set.meterBase + 1;
  const free = freeMeterBase(existing, span, Math.max(...plan.conflicts.map((c) => c.spec.id)) + 1);
  return (
    `meter${one ? '' : 's'} ${list} on bridge ${bridge} ${one ? 'is' : 'are'} another controller's; punt6 leaves ${one ? 'it' : 'them'} alone and installs nothing: ` +
    `give punt6 ${span} free meter ids with another --meter-base (now ${set.meterBase})` +
    (free === null ? '' : `, e.g. --meter-base ${free}`)
  );
}

/**
 * What OVS refused of a meter batch, in one line: `meter 60001 for port vm2 on bridge br0 was not
 * added (OFPMMFC_METER_EXISTS: a meter with this id exists already); punt6's rules are as they
 * were`. Lists three, then counts the rest.
 */
function meterFailureMessage(bridge: string, failures: readonly MeterFailure[], outcome: string): string {
  const verb = { add: 'added', modify: 'modified', delete: 'deleted' } as const;
  const what = (c: MeterChange): string =>
    c.command === 'delete' ? String(c.id) : `${c.meter.id} for port ${c.meter.port}`;
  const [first] = failures;
  if (failures.length === 1 && first !== undefined)
    return `meter ${what(first.change)} on bridge ${bridge} was not ${verb[first.change.command]} (${first.reason}); ${outcome}`;
  const shown = failures.slice(0, 3).map((f) => `${what(f.change)} (not ${verb[f.change.command]}: ${f.reason})`);
  const more = failures.length - shown.length;
  return `meters ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''} on bridge ${bridge} were refused; ${outcome}`;
}

/**
 * Installs the rule set: adds or modifies its meters, replaces punt6's rules in one atomic
 * bundle (other rules on the bridge are not touched), then deletes punt6's meters that are no
 * longer wanted (a meter is deleted only after no rule of punt6 uses it). The meters go in two
 * batches (`OvsClient.meterBatch`): adds and modifications before the bundle, deletions after.
 *
 * Only punt6's own meters are ever modified or deleted (see `planMeters`); a desired id held by
 * another meter refuses the whole install before anything changes. The record of punt6's meters
 * is kept crash-safe: an id is recorded before its meter is added (a crash in between leaves a
 * recorded id with no meter, which the next install forgets) and forgotten only after its meter
 * was deleted (a crash in between leaves a recorded meter, which the next install deletes).
 */
export async function install(ovs: OvsClient, bridge: string, set: RuleSet): Promise<void> {
  const existing = await ovs.meters(bridge);
  const recorded = await ovs.recordedMeters(bridge);
  const plan = planMeters(set, existing, recorded, await ovs.allFlows(bridge));
  if (plan.conflicts.length > 0) throw new FlowsError(conflictMessage(bridge, set, plan, existing));
  // The ids to add are on no meter of the bridge: none stays recorded if OVS refuses it.
  const refused = await addMeters(ovs, bridge, recorded, plan.recordBefore, plan.add, plan.modify, new Set());
  if (refused.length > 0) throw new FlowsError(meterFailureMessage(bridge, refused, "punt6's rules are as they were"));
  await ovs.ofctl(['--bundle', 'add-flows', bridge, '-'], bundleText(set));
  await deleteMeters(ovs, bridge, plan.remove);
  if (!sameIds(plan.recordAfter, plan.recordBefore)) await ovs.recordMeters(bridge, plan.recordAfter);
}

/**
 * Records `record` (the record before, with the ids of `add`), then adds and modifies meters in
 * one batch. A refused add made no meter of punt6's: its id leaves the record again, unless
 * `keep` has it, so that a meter another controller holds under that id is never taken for
 * punt6's. A refused modification leaves the meter as it was. Returns the refusals.
 */
async function addMeters(
  ovs: OvsClient,
  bridge: string,
  recorded: ReadonlySet<number>,
  record: ReadonlySet<number>,
  add: readonly MeterSpec[],
  modify: readonly MeterSpec[],
  keep: ReadonlySet<number>,
): Promise<MeterFailure[]> {
  if (!sameIds(record, recorded)) await ovs.recordMeters(bridge, record);
  const changes: MeterChange[] = [
    ...add.map((meter) => ({ command: 'add' as const, meter })),
    ...modify.map((meter) => ({ command: 'modify' as const, meter })),
  ];
  const refused = changes.length > 0 ? await ovs.meterBatch(bridge, changes) : [];
  const notAdded = new Set<number>();
  for (const { change } of refused)
    if (change.command === 'add' && !keep.has(change.meter.id)) notAdded.add(change.meter.id);
  if (notAdded.size > 0) await ovs.recordMeters(bridge, new Set([...record].filter((id) => !notAdded.has(id))));
  return refused;
}

/**
 * Deletes punt6's meters `ids`, which its rules on the bridge no longer use, in one batch. Those
 * OVS refused stay recorded (the caller forgets ids only after this returns): the next install
 * deletes them again.
 */
async function deleteMeters(ovs: OvsClient, bridge: string, ids: readonly number[]): Promise<void> {
  const kept =
    ids.length > 0
      ? await ovs.meterBatch(
          bridge,
          ids.map((id) => ({ command: 'delete', id })),
        )
      : [];
  if (kept.length > 0)
    throw new FlowsError(
      meterFailureMessage(bridge, kept, "punt6's new rules are in place; it deletes the meters on its next install"),
    );
}

/** The meters `to` adds, gives another rate or burst, and no longer has, against `from`. */
function meterChanges(from: RuleSet, to: RuleSet): { add: MeterSpec[]; modify: MeterSpec[]; remove: number[] } {
  const before = new Map(from.meters.map((m) => [m.id, m]));
  const add: MeterSpec[] = [];
  const modify: MeterSpec[] = [];
  for (const m of to.meters) {
    const old = before.get(m.id);
    before.delete(m.id);
    if (old === undefined) add.push(m);
    else if (old.rate !== m.rate || old.burst !== m.burst) modify.push(m);
  }
  return { add, modify, remove: [...before.keys()] };
}

/**
 * Turns the installed rule set `from` into `to` by their difference alone, as `install` would
 * but reading nearly nothing back: the meters that differ (a port that appeared or went) in one
 * batch before the bundle, the rules that differ (ruleChanges) in one atomic bundle, the meters
 * no longer wanted in one batch after it. Returns the rules deleted and added, or null when it
 * installed `to` whole.
 *
 * Ownership holds as in `install`, without dumping the bridge's rules: a new id is recorded
 * before its meter is added, and when OVS refuses an add or a modification (another
 * controller's meter under that id, a meter gone since `from` was installed), the id leaves the
 * record again unless it was recorded before, and `to` is installed whole, which sorts the
 * meters out or says why it cannot. A meter is deleted only when OVS counts no rule using it
 * once punt6's bundle is in (its `flow_count`); one that another controller's rule uses is left
 * alone and leaves the record, as `planMeters` would leave it.
 */
export async function installChanges(
  ovs: OvsClient,
  bridge: string,
  from: RuleSet,
  to: RuleSet,
): Promise<RuleChanges | null> {
  const meters = meterChanges(from, to);
  const changes = ruleChanges(from, to);
  let recorded: ReadonlySet<number> | null = null;
  if (meters.add.length + meters.modify.length > 0) {
    recorded = await ovs.recordedMeters(bridge);
    const record = new Set([...recorded, ...meters.add.map((m) => m.id)]);
    const refused = await addMeters(ovs, bridge, recorded, record, meters.add, meters.modify, recorded);
    if (refused.length > 0) {
      await install(ovs, bridge, to);
      return null;
    }
    recorded = record;
  }
  if (changes.remove.length + changes.add.length > 0)
    await ovs.ofctl(['--bundle', 'add-flows', bridge, '-'], changesBundleText(changes));
  if (meters.remove.length > 0) {
    recorded ??= await ovs.recordedMeters(bridge);
    const uses = new Map((await ovs.meterStats(bridge)).map((m) => [m.id, m.flowCount]));
    await deleteMeters(
      ovs,
      bridge,
      meters.remove.filter((id) => uses.get(id) === 0),
    );
    // Deleted, gone, or another controller's now: none of them is punt6's any more.
    const gone = new Set(meters.remove);
    const after = new Set([...recorded].filter((id) => !gone.has(id)));
    if (!sameIds(after, recorded)) await ovs.recordMeters(bridge, after);
  }
  return changes;
}

function sameIds(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  return a.size === b.size && [...a].every((id) => b.has(id));
}

export interface Difference {
  /** Desired rules not on the bridge (or with other actions). */
  readonly missing: number;
  /** punt6 rules on the bridge that are not desired. */
  readonly extra: number;
  /** Desired meters absent or different. */
  readonly meters: number;
}

/** Compares punt6's rules and meters on the bridge with the desired set. */
export function compare(set: RuleSet, flows: readonly DumpedFlow[], meters: readonly DumpedMeter[]): Difference {
  return runSteps(compareSteps(set, flows, meters));
}

/** Rules compared between two steps. */
const RULES_PER_STEP = 512;

/** {@link compare} in steps of a few hundred rules (src/system/steps.ts). */
export function* compareSteps(
  set: RuleSet,
  flows: readonly DumpedFlow[],
  meters: readonly DumpedMeter[],
): Steps<Difference> {
  const have = new Map<string, string[]>();
  let n = 0;
  for (const f of flows) {
    if (++n % RULES_PER_STEP === 0) yield;
    const k = ruleKey(f.table, f.priority, f.match);
    have.set(k, [...(have.get(k) ?? []), f.actions]);
  }
  let missing = 0;
  const matched = new Set<string>();
  for (const r of set.rules) {
    if (++n % RULES_PER_STEP === 0) yield;
    const k = ruleKey(r.table, r.priority, r.match);
    if (have.get(k)?.includes(r.actions)) matched.add(k);
    else missing++;
  }
  let extra = 0;
  for (const [k, actions] of have) extra += matched.has(k) ? actions.length - 1 : actions.length;
  const byId = new Map(meters.map((m) => [m.id, m]));
  let meterDiff = 0;
  for (const m of set.meters) {
    const h = byId.get(m.id);
    if (h === undefined || h.rate !== m.rate || h.burst !== m.burst) meterDiff++;
  }
  return { missing, extra, meters: meterDiff };
}

export interface ReconcileResult extends Difference {
  /** Whether the rule set was installed again. */
  readonly reinstalled: boolean;
}

/**
 * Compares punt6's rules (its cookie) and meters on `bridge` with `desired` and installs
 * `desired` again when they differ: after someone deleted punt6's rules, after ovs-vswitchd
 * restarted with an empty table, after the ports changed. For `punt6 run` to call periodically.
 */
export async function reconcile(
  bridge: string,
  desired: RuleSet,
  ovs: OvsClient = new OvsClient(),
  slices?: SliceOptions,
): Promise<ReconcileResult> {
  const flows = await ovs.ownFlows(bridge, slices);
  const meters = await ovs.meters(bridge);
  const diff =
    slices === undefined
      ? compare(desired, flows, meters)
      : await runInSlices(compareSteps(desired, flows, meters), slices);
  if (diff.missing === 0 && diff.extra === 0 && diff.meters === 0) return { ...diff, reinstalled: false };
  await install(ovs, bridge, desired);
  return { ...diff, reinstalled: true };
}
