/**
 * `punt6 flows --config FILE [--bridge BR] [--dry-run] [--stats] [options]`: installs punt6's
 * OpenFlow rules and meters (docs/flows.md), prints them, or prints their counters.
 */

import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/index.js';
import { FlowsError, OvsClient, desiredRuleSet, install } from '../flows/ovs.js';
import {
  DefaultFlowOptions,
  MAX_METER_BASE,
  PUNT6_COOKIE,
  dryRunText,
  generateRules,
  type FlowOptions,
  type OfPortRef,
} from '../flows/rules.js';
import { flowStats, formatStats } from '../flows/stats.js';

export const flowsUsage = `usage: punt6 flows --config FILE [--bridge BR] [--dry-run | --stats] [options]

  Installs punt6's OpenFlow rules (cookie ${PUNT6_COOKIE}) and its per-port meters on the
  bridge, replacing only punt6's own rules, in one atomic OpenFlow bundle.

  --config FILE        the punt6 configuration
  --bridge BR          the bridge (default: the bridge of the first punt interface)
  --dry-run            print the meters and rules; run no OVS command
  --stats              print punt6's flow counters per category and the meters' counters
  --port NAME=IFACE    the OVS interface (name or OpenFlow port number) of a configuration port
                       or punt interface; repeatable (default: found by external_ids:iface-id,
                       external_ids:attached-mac, or an interface of the same name)
  --meter-rate PPS     packets per second each VM port may punt (default ${DefaultFlowOptions.meterRate})
  --meter-burst N      burst size in packets (default ${DefaultFlowOptions.meterBurst})
  --table-base N       first of punt6's seven OpenFlow tables (default ${DefaultFlowOptions.tableBase})
  --meter-base N       meter id of the first port (default ${DefaultFlowOptions.meterBase})
`;

export interface FlowsIo {
  write: (text: string) => void;
  error: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: FlowsIo = {
  write: (t) => process.stdout.write(t),
  error: (t) => process.stderr.write(t),
  env: process.env,
};

export class UsageProblem extends Error {}

/**
 * The flow options given on a command line (`flows`, and `run --bridge`); throws UsageProblem
 * naming the bad option.
 */
export function flowOptionsOf(values: {
  'meter-rate'?: string;
  'meter-burst'?: string;
  'table-base'?: string;
  'meter-base'?: string;
}): FlowOptions {
  return {
    ...DefaultFlowOptions,
    meterRate: integer(values['meter-rate'], '--meter-rate', 1, 1_000_000_000, DefaultFlowOptions.meterRate),
    meterBurst: integer(values['meter-burst'], '--meter-burst', 1, 1_000_000_000, DefaultFlowOptions.meterBurst),
    tableBase: integer(values['table-base'], '--table-base', 1, 248, DefaultFlowOptions.tableBase),
    meterBase: integer(values['meter-base'], '--meter-base', 1, MAX_METER_BASE, DefaultFlowOptions.meterBase),
  };
}

function integer(text: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageProblem(`${name} is an integer in ${min}..${max}`);
  return n;
}

function parsePortMappings(values: readonly string[]): Map<string, OfPortRef> {
  const m = new Map<string, OfPortRef>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1)
      throw new UsageProblem(`--port takes NAME=IFACE or NAME=OFPORT, not ${JSON.stringify(v)}`);
    const target = v.slice(eq + 1);
    m.set(v.slice(0, eq), /^\d+$/.test(target) ? Number(target) : target);
  }
  return m;
}

export async function flowsMain(args: string[], io: FlowsIo = defaultIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        bridge: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        stats: { type: 'boolean', default: false },
        port: { type: 'string', multiple: true, default: [] },
        'meter-rate': { type: 'string' },
        'meter-burst': { type: 'string' },
        'table-base': { type: 'string' },
        'meter-base': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    io.error(`punt6 flows: ${(e as Error).message}\n\n${flowsUsage}`);
    return 2;
  }
  if (values.help) {
    io.write(flowsUsage);
    return 0;
  }
  let options: FlowOptions;
  let manual: Map<string, OfPortRef>;
  try {
    if (values.config === undefined) throw new UsageProblem('--config FILE is required');
    if (values['dry-run'] && values.stats) throw new UsageProblem('--dry-run and --stats exclude each other');
    options = flowOptionsOf(values);
    manual = parsePortMappings(values.port);
  } catch (e) {
    if (!(e instanceof UsageProblem)) throw e;
    io.error(`punt6 flows: ${e.message}\n\n${flowsUsage}`);
    return 2;
  }

  try {
    const config = await loadConfig(values.config);
    if (values['dry-run']) {
      // No OVS command at all: ports are the --port numbers, else interface names that
      // ovs-ofctl resolves when the printed file is fed to it.
      const names = new Map<string, OfPortRef>();
      for (const itf of config.interfaces) names.set(itf.name, manual.get(itf.name) ?? itf.name);
      const ports = new Map<string, OfPortRef>();
      for (const p of config.ports) ports.set(p.name, manual.get(p.name) ?? p.name);
      io.write(dryRunText(generateRules(config, { interfaces: names, ports }, options)));
      return 0;
    }
    const ovs = new OvsClient(io.env);
    let bridge = values.bridge;
    if (bridge === undefined) {
      const first = config.interfaces[0];
      const found = first === undefined ? null : await ovs.bridgeOf(first.name);
      if (found === null) {
        await ovs.checkRunning();
        throw new FlowsError(`no --bridge given, and punt interface ${first?.name ?? '(none)'} is on no bridge`);
      }
      bridge = found;
    }
    await ovs.checkBridge(bridge);
    const desired = await desiredRuleSet(ovs, bridge, config, options, manual);
    for (const n of desired.notes) io.error(`punt6 flows: ${n}\n`);
    for (const s of desired.skipped) io.error(`punt6 flows: skipped ${s}\n`);
    if (values.stats) {
      io.write(formatStats(flowStats(desired, await ovs.ownFlows(bridge), await ovs.meterStats(bridge)), bridge));
      return 0;
    }
    await install(ovs, bridge, desired);
    io.write(
      `punt6 flows: installed ${desired.rules.length} rules and ${desired.meters.length} meters on ${bridge} (cookie ${PUNT6_COOKIE})\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof FlowsError || e instanceof ConfigError) {
      io.error(`punt6 flows: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
