/**
 * `punt6 ctl COMMAND`: the client of a running punt6's control socket (src/control/): status,
 * reload with its result, the leases (list with filters, show, release, export), what punt6
 * knows of a port. The socket is `--socket PATH`, or the configuration's `control.socket`.
 */

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../config/index.js';
import { parseIpv6Address, parseMacAddress } from '../config/addr.js';
import { leasesCsv, type HistoryEntry, type LeaseView } from '../dhcp/lease-view.js';
import { askControl, ControlError, ControlResult, type ControlRequest } from '../control/protocol.js';
import { defineCommand, parseCommand, UsageError } from './command.js';
import { filterFlags, filterHelp, filterTextOf, leaseShowText, leasesText } from './leases.js';

interface CtlArgs {
  socket?: string;
  configPath?: string;
  request: ControlRequest;
  /** How the answer's arguments are printed. */
  view: 'json' | 'leases' | 'lease' | 'export-json' | 'export-csv';
  json: boolean;
  /** A result "empty" (nothing found) is still exit 0. */
  emptyIsOk: boolean;
}

/**
 * The control socket the configuration names. A file with problems (being edited before a
 * reload, say) still names its socket: then its `control.socket` is read from the YAML alone.
 */
async function socketOf(configPath: string): Promise<string> {
  let config;
  try {
    config = await loadConfig(configPath);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const doc = parse(await readFile(configPath, 'utf8').catch(() => '')) as { control?: { socket?: unknown } } | null;
    const socket = doc?.control?.socket;
    if (typeof socket !== 'string' || socket === '') throw e;
    return resolve(dirname(resolve(configPath)), socket);
  }
  if (config.control === null) throw new ControlError(`${configPath}: no control.socket in the configuration`);
  return config.control.socket;
}

/** The port-state argument a text names: a MAC, an address, or a port name. */
function portArgument(text: string): Record<string, string> {
  if (parseMacAddress(text) !== null) return { mac: text };
  if (parseIpv6Address(text) !== null) return { address: text };
  return { port: text };
}

export const ctlCommand = defineCommand<CtlArgs>({
  name: 'ctl',
  synopsis: 'ctl [--socket PATH | --config FILE] COMMAND [ARGS] [options]',
  summary: `ask a running punt6 through its control socket: status, reload, leases
list|show|release|export, port state`,
  details: `commands:
  status                  interfaces, frames by kind and outcome, the next RA, leases and
                          their storage, reloads, OpenFlow rules in sync or not
  reload                  reload the configuration (as SIGHUP) and say how it went
  leases list [filters]   the leases, as punt6 leases list prints them
  leases show ADDRESS     one lease and its journal history
  leases release ADDRESS  end that lease (journaled before the answer): the address is free
  leases export [filters] the leases, as JSON (default) or CSV (--format), as punt6 leases
                          export prints them
  port NAME|MAC|ADDRESS   what punt6 knows of a port: configuration, leases, quarantined
                          addresses, meter and flow counters (with run --bridge)
  commands                the commands the socket answers

options:
  --socket PATH           the control socket (default: control.socket of --config FILE)
  --config FILE           the configuration punt6 runs with
${filterHelp}  --format json|csv       leases export: the format (default json)
  --json                  print the whole answer as JSON

Exit 0 when punt6 answered with success, 1 otherwise (nothing found, an error, no answer).
`,
  parse: (args) => {
    const { values, positionals } = parseCommand(
      args,
      {
        socket: { type: 'string' },
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
        format: { type: 'string' },
        ...filterFlags,
      },
      true,
    );
    if (values.socket === undefined && values.config === undefined)
      throw new UsageError('--socket PATH or --config FILE is required');
    const filter = filterTextOf(values);
    const filtered = Object.values(filter).some((v) => v !== undefined);
    const [command, ...rest] = positionals;
    const base = { socket: values.socket, configPath: values.config, json: values.json, emptyIsOk: false };
    const noArgs = (n: number): void => {
      if (rest.length !== n) throw new UsageError(`${command} takes ${n === 0 ? 'no argument' : 'one argument'}`);
    };
    const listing = command === 'leases' && (rest[0] === 'list' || rest[0] === 'export');
    if (filtered && !listing) throw new UsageError('the filters go with leases list and leases export');
    if (values.format !== undefined && !(command === 'leases' && rest[0] === 'export'))
      throw new UsageError('--format goes with leases export');
    if (values.format !== undefined && values.format !== 'json' && values.format !== 'csv')
      throw new UsageError('--format is json or csv');
    switch (command) {
      case undefined:
        throw new UsageError('a command is required: status, reload, leases, port or commands');
      case 'status':
      case 'reload':
        noArgs(0);
        return { ...base, request: { command }, view: 'json' };
      case 'commands':
        noArgs(0);
        return { ...base, request: { command: 'list-commands' }, view: 'json' };
      case 'port':
        noArgs(1);
        return {
          ...base,
          request: { command: 'port-state', arguments: portArgument(rest[0] as string) },
          view: 'json',
        };
      case 'leases': {
        const [sub, ...more] = rest;
        if (sub === 'list' || sub === 'export') {
          if (more.length > 0) throw new UsageError(`unexpected argument ${more[0]} after leases ${sub}`);
          const args: Record<string, string> = {};
          const given: [string, string | undefined][] = [
            ['network', filter.network],
            ['port', filter.port],
            ['duid', filter.duid],
            ['address', filter.address],
            ['expiring-before', filter.expiringBefore],
          ];
          for (const [k, v] of given) if (v !== undefined) args[k] = v;
          const view = sub === 'list' ? 'leases' : values.format === 'csv' ? 'export-csv' : 'export-json';
          return { ...base, request: { command: 'lease-list', arguments: args }, view, emptyIsOk: true };
        }
        if (sub === 'show' || sub === 'release') {
          if (more.length !== 1) throw new UsageError(`leases ${sub} takes one ADDRESS`);
          return {
            ...base,
            request: { command: `lease-${sub}`, arguments: { address: more[0] } },
            view: sub === 'show' ? 'lease' : 'json',
          };
        }
        throw new UsageError('leases list, leases show ADDRESS, leases release ADDRESS or leases export');
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  },
  run: async (a, io) => {
    try {
      const socket = a.socket ?? (await socketOf(a.configPath as string));
      const r = await askControl(socket, a.request);
      const answered = r.result === ControlResult.Success || r.result === ControlResult.Empty;
      if (a.json) io.write(JSON.stringify(r, null, 2) + '\n');
      else {
        if (!answered) io.error(`punt6 ctl: ${r.text}\n`);
        const views = (r.arguments ?? []) as LeaseView[];
        if (answered && a.view === 'leases') io.write(leasesText(views, Date.now()));
        else if (answered && a.view === 'export-json') io.write(JSON.stringify(views) + '\n');
        else if (answered && a.view === 'export-csv') io.write(leasesCsv(views));
        else if (answered && a.view === 'lease') {
          const shown = (r.arguments ?? { lease: null, history: [] }) as {
            lease: LeaseView | null;
            history: HistoryEntry[];
          };
          io.write(leaseShowText(shown.lease, String(a.request.arguments?.['address']), shown.history));
        } else if (r.arguments !== undefined) io.write(JSON.stringify(r.arguments, null, 2) + '\n');
        else if (answered) io.write(`${r.text}\n`);
      }
      return r.result === ControlResult.Success || (r.result === ControlResult.Empty && a.emptyIsOk) ? 0 : 1;
    } catch (e) {
      if (e instanceof ControlError || e instanceof ConfigError) {
        io.error(`punt6 ctl: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
});
