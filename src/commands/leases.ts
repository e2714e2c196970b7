/**
 * `punt6 leases list|show|release|export --config FILE`: the DHCPv6 leases in the lease journal
 * of a configuration's state directory (or `--journal FILE`), offline.
 *
 * list, show and export read the journal without opening it for writing, so they are safe beside
 * the punt6 that writes it. release writes a Release record, so it opens the journal as punt6
 * does, which refuses a journal another process holds open for writing (src/system/holders.ts):
 * while a punt6 runs, release through its control socket instead (`punt6 ctl leases release`).
 */

import { ConfigError, loadConfig, type Punt6Config } from '../config/index.js';
import { JournalCorruptError, JournalInUseError, readJournalRecords } from '../dhcp/journal.js';
import {
  addressHistory,
  leasesCsv,
  leaseViews,
  LeaseFilterError,
  parseLeaseFilter,
  releaseLease,
  type HistoryEntry,
  type LeaseFilterText,
  type LeaseView,
} from '../dhcp/lease-view.js';
import { LeaseTable, type Lease } from '../dhcp/leases.js';
import { formatColonHex } from '../../codecs/bytes.js';
import { leaseFileOf, leaseTableConfigOf } from '../responder/responder.js';
import { parseIpv6Address, parseIpv6Prefix } from '../config/addr.js';
import { defineCommand, parseCommand, UsageError, type CommandIo } from './command.js';

const subcommands = ['list', 'show', 'release', 'export'] as const;
type Subcommand = (typeof subcommands)[number];

interface LeasesArgs {
  subcommand: Subcommand;
  configPath: string;
  journal?: string;
  /** show, release: the lease's address or prefix. */
  address?: string;
  filter: LeaseFilterText;
  json: boolean;
  format: 'json' | 'csv';
}

class LeasesError extends Error {}

/** The filter options, shared with `punt6 ctl leases list`. */
export const filterFlags = {
  network: { type: 'string' },
  port: { type: 'string' },
  duid: { type: 'string' },
  address: { type: 'string' },
  'expiring-before': { type: 'string' },
} as const;

export const filterHelp = `  --network NAME          leases of this network
  --port NAME             leases requested from this port (its MAC)
  --duid DUID             leases of this client DUID (hex bytes, 00:03:00:01:…)
  --address ADDR|PREFIX   leases on this address, or inside (or holding) this prefix
  --expiring-before TIME  leases that end before TIME: ISO 8601, or from now (30m, 12h, 2d)
`;

export function filterTextOf(values: {
  network?: string;
  port?: string;
  duid?: string;
  address?: string;
  'expiring-before'?: string;
}): LeaseFilterText {
  return {
    network: values.network,
    port: values.port,
    duid: values.duid,
    address: values.address,
    expiringBefore: values['expiring-before'],
  };
}

/** `in 5m`, `3h ago`: how far `t` is from `now`, roughly. */
function relative(t: number, now: number): string {
  const s = Math.round(Math.abs(t - now) / 1000);
  const text =
    s < 120
      ? `${s}s`
      : s < 7200
        ? `${Math.round(s / 60)}m`
        : s < 172_800
          ? `${Math.round(s / 3600)}h`
          : `${Math.round(s / 86_400)}d`;
  return t >= now ? `in ${text}` : `${text} ago`;
}

/** The leases as a table, one line each (`punt6 leases list`, `punt6 ctl leases list`). */
export function leasesText(views: readonly LeaseView[], now: number): string {
  const rows = views.map((v) => [
    v.address,
    v.state + (v.static ? ' (static)' : ''),
    v.network,
    v.port ?? v.portMac ?? '-',
    v.clientDuid,
    String(v.iaid),
    `${v.expiresAt} (${relative(Date.parse(v.expiresAt), now)})`,
  ]);
  const header = ['address', 'state', 'network', 'port', 'client DUID', 'IAID', 'ends'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + `\n${views.length} lease${views.length === 1 ? '' : 's'}\n`;
}

/** One lease and its journal history (`punt6 leases show`, `punt6 ctl leases show`). */
export function leaseShowText(lease: LeaseView | null, address: string, history: readonly HistoryEntry[]): string {
  let out = lease === null ? `no lease on ${address}\n` : '';
  if (lease !== null) for (const [k, v] of Object.entries(lease)) out += `${k}: ${v ?? '-'}\n`;
  out += `history (journal records since its last compaction): ${history.length}\n`;
  for (const h of history)
    out += `  #${h.sequence} ${h.event} client ${h.clientDuid} IAID ${h.iaid}, valid ${h.validLifetime}s, ends ${h.expiresAt}\n`;
  return out;
}

/** Whose lease was released: `client DUID …, IAID …`. */
export function releasedText(l: Lease): string {
  return `client DUID ${formatColonHex(l.duid, 0, l.duid.length)}, IAID ${l.iaid}`;
}

/** The address or prefix of `show` as bytes and length; throws UsageError. */
export function addressOf(text: string): { address: Uint8Array; length: number } {
  const prefix = text.includes('/') ? parseIpv6Prefix(text) : null;
  if (prefix !== null) return { address: prefix.model.address, length: prefix.model.length };
  const a = parseIpv6Address(text);
  if (a === null) throw new UsageError(`${text} is not an IPv6 address or prefix`);
  return { address: a.model.bytes, length: 128 };
}

/** The lease shown for `at`: the one on that address, or the delegated prefix holding it. */
export function leaseAt(views: readonly LeaseView[], text: string): LeaseView | null {
  return views.find((v) => v.address === text) ?? views[0] ?? null;
}

function journalOf(a: LeasesArgs, config: Punt6Config): string {
  const path = a.journal ?? leaseFileOf(config);
  if (path === null)
    throw new LeasesError(`${a.configPath}: no network has stateful DHCPv6: there is no lease journal`);
  return path;
}

async function leasesRun(a: LeasesArgs, io: CommandIo): Promise<number> {
  const config = await loadConfig(a.configPath);
  const path = journalOf(a, config);
  const now = Date.now();
  const options = leaseTableConfigOf(config);
  if (a.subcommand === 'release') {
    let table: LeaseTable;
    try {
      table = await LeaseTable.open(path, options);
    } catch (e) {
      if (e instanceof JournalInUseError)
        throw new LeasesError(
          `${e.message}. While punt6 runs, release through its control socket: punt6 ctl leases release ${a.address}`,
        );
      throw e;
    }
    try {
      const r = releaseLease(table, a.address as string);
      if ('error' in r) throw new LeasesError(r.error);
      await table.commit();
      io.write(`released ${a.address} (${releasedText(r.lease)}); journaled in ${path}\n`);
      return 0;
    } finally {
      await table.close();
    }
  }
  const table = await LeaseTable.read(path, options);
  if (a.subcommand === 'show') {
    const at = addressOf(a.address as string);
    const views = leaseViews(table, config, now, parseLeaseFilter({ address: a.address }, config, now));
    const lease = leaseAt(views, a.address as string);
    const history = addressHistory(await readJournalRecords(path), at.address, at.length);
    if (a.json) io.write(JSON.stringify({ lease, history }) + '\n');
    else io.write(leaseShowText(lease, a.address as string, history));
    return lease === null ? 1 : 0;
  }
  const views = leaseViews(table, config, now, parseLeaseFilter(a.filter, config, now));
  if (a.subcommand === 'export') io.write(a.format === 'csv' ? leasesCsv(views) : JSON.stringify(views) + '\n');
  else if (a.json) io.write(JSON.stringify(views) + '\n');
  else io.write(leasesText(views, now));
  return 0;
}

export const leasesCommand = defineCommand<LeasesArgs>({
  name: 'leases',
  synopsis: 'leases list|show|release|export --config FILE [options]',
  summary: `the DHCPv6 leases of a configuration's lease journal, offline: list (with
filters), show one with its history, release one, export as JSON or CSV`,
  details: `  list                    the leases (and quarantined addresses) the filters select
  show ADDRESS            the lease on an address or delegated prefix, and its history
  release ADDRESS         end that lease, as its client's Release would; refused while a
                          punt6 holds the journal (use punt6 ctl leases release then)
  export                  the leases the filters select, as JSON (default) or CSV

options:
  --config FILE           the configuration (its server.leaseFile, network and port names)
  --journal FILE          this lease journal instead of the configuration's
${filterHelp}  --json                  list, show: JSON instead of text
  --format json|csv       export: the format (default json)

list, show and export only read the journal, and are safe while punt6 runs.
`,
  parse: (args) => {
    const { values, positionals } = parseCommand(
      args,
      {
        config: { type: 'string' },
        journal: { type: 'string' },
        json: { type: 'boolean', default: false },
        format: { type: 'string', default: 'json' },
        ...filterFlags,
      },
      true,
    );
    const [sub, ...rest] = positionals;
    if (sub === undefined) throw new UsageError(`a subcommand is required: ${subcommands.join(', ')}`);
    if (!(subcommands as readonly string[]).includes(sub)) throw new UsageError(`unknown subcommand ${sub}`);
    const subcommand = sub as Subcommand;
    if (values.config === undefined) throw new UsageError('--config FILE is required');
    const takesAddress = subcommand === 'show' || subcommand === 'release';
    if (takesAddress && rest.length !== 1) throw new UsageError(`${subcommand} takes one ADDRESS`);
    if (!takesAddress && rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]} after ${subcommand}`);
    if (values.format !== 'json' && values.format !== 'csv') throw new UsageError('--format is json or csv');
    const filter = filterTextOf(values);
    if (takesAddress && Object.values(filter).some((v) => v !== undefined))
      throw new UsageError(`${subcommand} takes an ADDRESS, not filters`);
    if (takesAddress) addressOf(rest[0] as string);
    return {
      subcommand,
      configPath: values.config,
      journal: values.journal,
      address: rest[0],
      filter,
      json: values.json,
      format: values.format,
    };
  },
  run: async (a, io) => {
    try {
      return await leasesRun(a, io);
    } catch (e) {
      if (
        e instanceof ConfigError ||
        e instanceof LeasesError ||
        e instanceof LeaseFilterError ||
        e instanceof JournalCorruptError
      ) {
        io.error(`punt6 leases ${a.subcommand}: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
});
