/**
 * Talking to Open vSwitch for punt6's rules: finding the OpenFlow ports of the configuration's
 * punt interfaces and VM ports, installing the rule set atomically (meters first, then one
 * OpenFlow bundle that deletes punt6's old rules and adds the new ones), reading back punt6's
 * rules (cookie-filtered) and reconciling them with the desired set.
 *
 * Every command runs with the given environment: with `OVS_RUNDIR` set, `ovs-vsctl` and
 * `ovs-ofctl` find a private instance's database socket and bridge sockets there.
 */

import type { Punt6Config } from '../config/index.js';
import { run, type RunResult } from '../system/exec.js';
import {
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
  bundleText,
  changesBundleText,
  ruleChanges,
  sameMeters,
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

function notRunning(r: RunResult): FlowsError {
  return new FlowsError(
    `Open vSwitch is not running or not reachable (ovs-vsctl: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`})`,
  );
}

export class OvsClient {
  readonly env: NodeJS.ProcessEnv;

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

  async ofctl(args: readonly string[], input?: string): Promise<string> {
    const r = await run('ovs-ofctl', ['-O', 'OpenFlow15', ...args], { env: this.env, input });
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

  /** punt6's rules on the bridge (cookie-filtered), with their counters. */
  async ownFlows(bridge: string): Promise<DumpedFlow[]> {
    return parseFlowDump(await this.ofctl(['--no-names', 'dump-flows', bridge, `cookie=${PUNT6_COOKIE}/-1`]));
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
    return parseFlowDump(await this.ofctl(['--no-names', 'dump-flows', bridge]));
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
 * Installs the rule set: adds or modifies its meters, replaces punt6's rules in one atomic
 * bundle (other rules on the bridge are not touched), then deletes punt6's meters that are no
 * longer wanted (a meter is deleted only after no rule of punt6 uses it).
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
  if (!sameIds(plan.recordBefore, recorded)) await ovs.recordMeters(bridge, plan.recordBefore);
  for (const m of plan.add) await ovs.ofctl(['add-meter', bridge, meterArgument(m)]);
  for (const m of plan.modify) await ovs.ofctl(['mod-meter', bridge, meterArgument(m)]);
  await ovs.ofctl(['--bundle', 'add-flows', bridge, '-'], bundleText(set));
  for (const id of plan.remove) await ovs.ofctl(['del-meter', bridge, `meter=${id}`]);
  if (!sameIds(plan.recordAfter, plan.recordBefore)) await ovs.recordMeters(bridge, plan.recordAfter);
}

/**
 * Turns the installed rule set `from` into `to` by their difference alone (ruleChanges): one
 * atomic bundle that deletes and adds only the rules that changed. When the meters differ too (a
 * port added or removed), it installs `to` whole instead, meters first (see `install`).
 * Returns the rules deleted and added, or null for a whole install.
 */
export async function installChanges(
  ovs: OvsClient,
  bridge: string,
  from: RuleSet,
  to: RuleSet,
): Promise<RuleChanges | null> {
  if (!sameMeters(from, to)) {
    await install(ovs, bridge, to);
    return null;
  }
  const changes = ruleChanges(from, to);
  if (changes.remove.length + changes.add.length > 0)
    await ovs.ofctl(['--bundle', 'add-flows', bridge, '-'], changesBundleText(changes));
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
  const have = new Map<string, string[]>();
  for (const f of flows) {
    const k = ruleKey(f.table, f.priority, f.match);
    have.set(k, [...(have.get(k) ?? []), f.actions]);
  }
  let missing = 0;
  const matched = new Set<string>();
  for (const r of set.rules) {
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
): Promise<ReconcileResult> {
  const diff = compare(desired, await ovs.ownFlows(bridge), await ovs.meters(bridge));
  if (diff.missing === 0 && diff.extra === 0 && diff.meters === 0) return { ...diff, reinstalled: false };
  await install(ovs, bridge, desired);
  return { ...diff, reinstalled: true };
}
