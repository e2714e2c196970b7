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
import { run, type RunResult } from '../lab/exec.js';
import { parseFlowDump, parseInterfaceList, parseMeterDump, parseMeterStats, type DumpedFlow, type DumpedMeter, type MeterStats, type OvsInterface } from './dump.js';
import {
  bundleText, DefaultFlowOptions, generateRules, meterArgument, METER_SPAN, PUNT6_COOKIE, ruleKey, type FlowOptions, type OfPortRef, type PortBindings, type RuleSet,
} from './rules.js';

export class FlowsError extends Error {}

function notRunning(r: RunResult): FlowsError {
  return new FlowsError(`Open vSwitch is not running or not reachable (ovs-vsctl: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`})`);
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
    if (r.code !== 0) throw new FlowsError(`ovs-vswitchd does not answer for bridge ${bridge} (is it running?): ${(r.stderr || r.stdout).trim()}`);
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
    const names = new Set((await this.vsctl(['list-ifaces', bridge])).split('\n').map((s) => s.trim()).filter((s) => s !== ''));
    const all = parseInterfaceList(await this.vsctl(['--format=json', '--columns=name,ofport,external_ids', 'list', 'Interface']));
    return all.filter((i) => names.has(i.name));
  }

  /** punt6's rules on the bridge (cookie-filtered), with their counters. */
  async ownFlows(bridge: string): Promise<DumpedFlow[]> {
    return parseFlowDump(await this.ofctl(['--no-names', 'dump-flows', bridge, `cookie=${PUNT6_COOKIE}/-1`]));
  }

  async meters(bridge: string): Promise<DumpedMeter[]> {
    return parseMeterDump(await this.ofctl(['dump-meters', bridge]));
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
export function resolveBindings(config: Punt6Config, interfaces: readonly OvsInterface[], manual: ReadonlyMap<string, OfPortRef> = new Map()): {
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
    let found: OvsInterface | undefined;
    if (given !== undefined) {
      const n = numberOf(given, `port ${port.name}`);
      if (n !== undefined) ports.set(port.name, n);
      continue;
    }
    found =
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
): Promise<RuleSet & { notes: string[] }> {
  const { bindings, notes } = resolveBindings(config, await ovs.interfaces(bridge), manual);
  const missing = config.interfaces.filter((i) => !bindings.interfaces.has(i.name)).map((i) => i.name);
  if (missing.length > 0) throw new FlowsError(`punt interface${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not on bridge ${bridge}`);
  return { ...generateRules(config, bindings, options), notes };
}

function inOwnedRange(id: number, options: FlowOptions): boolean {
  return id >= options.meterBase && id < options.meterBase + METER_SPAN;
}

/**
 * Installs the rule set: adds or modifies its meters, replaces punt6's rules in one atomic
 * bundle (other rules on the bridge are not touched), then deletes punt6's meters that are no
 * longer wanted (a meter is deleted only after no rule of punt6 uses it).
 */
export async function install(ovs: OvsClient, bridge: string, set: RuleSet, options: FlowOptions): Promise<void> {
  const existing = new Map((await ovs.meters(bridge)).map((m) => [m.id, m]));
  for (const m of set.meters) {
    const have = existing.get(m.id);
    if (have === undefined) await ovs.ofctl(['add-meter', bridge, meterArgument(m)]);
    else if (have.rate !== m.rate || have.burst !== m.burst || !have.flags.includes('pktps')) await ovs.ofctl(['mod-meter', bridge, meterArgument(m)]);
  }
  await ovs.ofctl(['--bundle', 'add-flows', bridge, '-'], bundleText(set));
  const wanted = new Set(set.meters.map((m) => m.id));
  for (const id of existing.keys()) {
    if (inOwnedRange(id, options) && !wanted.has(id)) await ovs.ofctl(['del-meter', bridge, `meter=${id}`]);
  }
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
  options: FlowOptions = DefaultFlowOptions,
): Promise<ReconcileResult> {
  const diff = compare(desired, await ovs.ownFlows(bridge), await ovs.meters(bridge));
  if (diff.missing === 0 && diff.extra === 0 && diff.meters === 0) return { ...diff, reinstalled: false };
  await install(ovs, bridge, desired, options);
  return { ...diff, reinstalled: true };
}

