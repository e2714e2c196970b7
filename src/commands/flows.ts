/**
 * `punt6 flows --config FILE [--bridge BR] [--dry-run] [--stats] [options]`: installs punt6's
 * OpenFlow rules and meters (docs/flows.md), prints them, or prints their counters.
 */

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
import { defineCommand, integerOption, parseCommand, UsageError, type CommandIo } from './command.js';

/** The io `flowsMain` takes (the tests give their own). */
export type FlowsIo = CommandIo;

/** The meter options of `flows` and of `run --bridge`, as `parseArgs` declares them. */
export const meterFlags = {
  'meter-rate': { type: 'string' },
  'meter-burst': { type: 'string' },
  'meter-base': { type: 'string' },
} as const;

/**
 * The flow options given on a command line (`flows`, and `run --bridge`, which has no
 * `--table-base`); throws UsageError naming the bad option.
 */
export function flowOptionsOf(values: {
  'meter-rate'?: string;
  'meter-burst'?: string;
  'table-base'?: string;
  'meter-base'?: string;
}): FlowOptions {
  const d = DefaultFlowOptions;
  const counts = { min: 1, max: 1_000_000_000 };
  return {
    ...d,
    meterRate: integerOption(values['meter-rate'], '--meter-rate', counts) ?? d.meterRate,
    meterBurst: integerOption(values['meter-burst'], '--meter-burst', counts) ?? d.meterBurst,
    tableBase: integerOption(values['table-base'], '--table-base', { min: 1, max: 248 }) ?? d.tableBase,
    meterBase: integerOption(values['meter-base'], '--meter-base', { min: 1, max: MAX_METER_BASE }) ?? d.meterBase,
  };
}

function parsePortMappings(values: readonly string[]): Map<string, OfPortRef> {
  const m = new Map<string, OfPortRef>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1)
      throw new UsageError(`--port takes NAME=IFACE or NAME=OFPORT, not ${JSON.stringify(v)}`);
    const target = v.slice(eq + 1);
    m.set(v.slice(0, eq), /^\d+$/.test(target) ? Number(target) : target);
  }
  return m;
}

interface FlowsArgs {
  configPath: string;
  bridge: string | undefined;
  mode: 'install' | 'dry-run' | 'stats';
  options: FlowOptions;
  /** `--port`: configuration port or punt interface -> OVS interface or OpenFlow port. */
  manual: Map<string, OfPortRef>;
}

export const flowsCommand = defineCommand<FlowsArgs>({
  name: 'flows',
  synopsis: 'flows --config FILE [--bridge BR] [--dry-run | --stats] [options]',
  summary: `install punt6's OpenFlow rules and per-port meters on an OVS bridge
(offload, punt, guard; docs/flows.md), print them, or print their counters`,
  details: `  Only punt6's own rules (cookie ${PUNT6_COOKIE}) are replaced, in one atomic
  OpenFlow bundle.

options:
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
`,
  parse: (args) => {
    const { values } = parseCommand(
      args,
      {
        config: { type: 'string' },
        bridge: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        stats: { type: 'boolean', default: false },
        port: { type: 'string', multiple: true, default: [] },
        'table-base': { type: 'string' },
        ...meterFlags,
      },
      false,
    );
    if (values.config === undefined) throw new UsageError('--config FILE is required');
    if (values['dry-run'] && values.stats) throw new UsageError('--dry-run and --stats exclude each other');
    return {
      configPath: values.config,
      bridge: values.bridge,
      mode: values['dry-run'] ? 'dry-run' : values.stats ? 'stats' : 'install',
      options: flowOptionsOf(values),
      manual: parsePortMappings(values.port),
    };
  },
  run: flowsRun,
});

/** `punt6 flows` with `io` for its output and the environment of its OVS commands. */
export function flowsMain(args: string[], io?: CommandIo): Promise<number> {
  return flowsCommand.main(args, io);
}

async function flowsRun(a: FlowsArgs, io: CommandIo): Promise<number> {
  const { options, manual } = a;
  try {
    const config = await loadConfig(a.configPath);
    if (a.mode === 'dry-run') {
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
    let bridge = a.bridge;
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
    if (a.mode === 'stats') {
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
