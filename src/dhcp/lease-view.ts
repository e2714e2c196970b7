/**
 * The lease table as an operator reads it: each lease or quarantine as a plain record with the
 * configuration's names (network, port), filters, CSV, and the history of an address in the
 * journal. Shared by `punt6 leases` (offline, on a journal file) and the control socket of a
 * running punt6 (`punt6 ctl leases …`), so both print the same.
 */

import { formatColonHex, formatIpv6, formatMac, inPrefix, sameBytes } from '../../codecs/bytes.js';
import { parseDuid, parseIpv6Address, parseIpv6Prefix } from '../config/addr.js';
import type { Punt6Config } from '../config/model.js';
import { RecordKind, type JournalRecord } from './journal.js';
import { LeaseType, type Lease, type LeaseTable, type Quarantine } from './leases.js';

/** One binding (or quarantine) as `punt6 leases` and the control socket show it. */
export interface LeaseView {
  /** `active`; `expired` (its time ran out, not reclaimed yet); `quarantined` (declined). */
  state: 'active' | 'expired' | 'quarantined';
  type: 'address' | 'prefix';
  /** `2001:db8:1::1000`, or `2001:db8:100::/56` for a delegated prefix. */
  address: string;
  network: string;
  /** The configuration's port whose MAC the request came from, else null. */
  port: string | null;
  portMac: string | null;
  clientDuid: string;
  iaid: number;
  validLifetime: number;
  preferredLifetime: number;
  /** When the lease (or quarantine) ends, ISO 8601. */
  expiresAt: string;
  /** A port's address from the configuration, not a pool's. */
  static: boolean;
}

/** What `--network`, `--port`, `--duid`, `--address` and `--expiring-before` select; all must match. */
export interface LeaseFilter {
  network?: string;
  port?: string;
  duid?: Uint8Array;
  /** An address (length 128) or a prefix: leases inside it or containing it. */
  within?: { address: Uint8Array; length: number };
  /** ms since the epoch: leases that end before it. */
  expiringBefore?: number;
}

/** A filter field that does not parse: its option name and why. */
export class LeaseFilterError extends Error {}

/** The filter given as text (command-line options, control-socket arguments). */
export interface LeaseFilterText {
  network?: string;
  port?: string;
  duid?: string;
  address?: string;
  expiringBefore?: string;
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A time: ISO 8601 (`2026-05-01T12:00:00Z`), or a duration from `now` (`90s`, `30m`, `12h`,
 * `2d`). Null when it is neither.
 */
export function parseTime(text: string, now: number): number | null {
  const d = DURATION.exec(text);
  if (d !== null) return now + Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS];
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

/** Checks the text of a filter against the configuration; throws LeaseFilterError naming the field. */
export function parseLeaseFilter(f: LeaseFilterText, config: Punt6Config, now: number): LeaseFilter {
  const out: LeaseFilter = {};
  if (f.network !== undefined) {
    if (!config.networks.some((n) => n.name === f.network))
      throw new LeaseFilterError(`network: no network named "${f.network}" in the configuration`);
    out.network = f.network;
  }
  if (f.port !== undefined) {
    if (!config.ports.some((p) => p.name === f.port))
      throw new LeaseFilterError(`port: no port named "${f.port}" in the configuration`);
    out.port = f.port;
  }
  if (f.duid !== undefined) {
    const duid = parseDuid(f.duid);
    if (duid === null) throw new LeaseFilterError(`duid: "${f.duid}" is not a DUID (hex bytes, like 00:03:00:01:…)`);
    out.duid = duid;
  }
  if (f.address !== undefined) {
    const prefix = f.address.includes('/') ? parseIpv6Prefix(f.address) : null;
    const address = prefix === null ? parseIpv6Address(f.address) : null;
    if (prefix !== null) out.within = { address: prefix.model.address, length: prefix.model.length };
    else if (address !== null) out.within = { address: address.model.bytes, length: 128 };
    else throw new LeaseFilterError(`address: "${f.address}" is not an IPv6 address or prefix`);
  }
  if (f.expiringBefore !== undefined) {
    const t = parseTime(f.expiringBefore, now);
    if (t === null)
      throw new LeaseFilterError(
        `expiring-before: "${f.expiringBefore}" is not a time (ISO 8601, or a duration from now like 30m, 12h, 2d)`,
      );
    out.expiringBefore = t;
  }
  return out;
}

/** Whether two prefixes (an address is a /128) share an address: the shorter holds the other's start. */
function overlaps(a: Uint8Array, aLength: number, b: Uint8Array, bLength: number): boolean {
  return aLength <= bLength ? inPrefix(b, 0, a, aLength) : inPrefix(a, 0, b, bLength);
}

type Binding = (Lease | Quarantine) & { readonly portMac?: Uint8Array | null };

function view(b: Binding, config: Punt6Config, state: LeaseView['state'], ends: number): LeaseView {
  const mac = b.portMac ?? null;
  const lease = 'expiresAt' in b ? b : null;
  return {
    state,
    type: b.type === LeaseType.Prefix ? 'prefix' : 'address',
    address: b.type === LeaseType.Prefix ? `${formatIpv6(b.address)}/${b.prefixLength}` : formatIpv6(b.address),
    network: config.networks[b.networkId]?.name ?? `#${b.networkId}`,
    port: mac === null ? null : (config.ports.find((p) => sameBytes(p.mac.bytes, mac))?.name ?? null),
    portMac: mac === null ? null : formatMac(mac),
    clientDuid: formatColonHex(b.duid, 0, b.duid.length),
    iaid: b.iaid,
    validLifetime: lease?.validLifetime ?? 0,
    preferredLifetime: lease?.preferredLifetime ?? 0,
    expiresAt: new Date(ends).toISOString(),
    static: lease?.isStatic ?? false,
  };
}

function matches(b: Binding, ends: number, f: LeaseFilter, config: Punt6Config): boolean {
  if (f.network !== undefined && config.networks[b.networkId]?.name !== f.network) return false;
  if (f.port !== undefined) {
    const mac = config.ports.find((p) => p.name === f.port)?.mac.bytes;
    if (mac === undefined || b.portMac == null || !sameBytes(b.portMac, mac)) return false;
  }
  if (f.duid !== undefined && !sameBytes(b.duid, f.duid)) return false;
  if (f.within !== undefined && !overlaps(b.address, b.prefixLength, f.within.address, f.within.length)) return false;
  if (f.expiringBefore !== undefined && ends >= f.expiringBefore) return false;
  return true;
}

/** Every lease, then every quarantine, of the table that the filter selects, as of `now`. */
export function leaseViews(table: LeaseTable, config: Punt6Config, now: number, f: LeaseFilter = {}): LeaseView[] {
  const out: LeaseView[] = [];
  for (const l of table.leases())
    if (matches(l, l.expiresAt, f, config))
      out.push(view(l, config, l.expiresAt <= now ? 'expired' : 'active', l.expiresAt));
  for (const q of table.quarantines())
    if (q.until > now && matches(q, q.until, f, config)) out.push(view(q, config, 'quarantined', q.until));
  return out;
}

/** The columns of `punt6 leases export --format csv`, in order. */
export const CSV_COLUMNS = [
  'state',
  'type',
  'address',
  'network',
  'port',
  'portMac',
  'clientDuid',
  'iaid',
  'validLifetime',
  'preferredLifetime',
  'expiresAt',
  'static',
] as const satisfies readonly (keyof LeaseView)[];

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** RFC 4180 CSV: a header line, then one line per lease. */
export function leasesCsv(views: readonly LeaseView[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const v of views) lines.push(CSV_COLUMNS.map((c) => csvCell(v[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

const kindNames: Record<number, string> = {
  [RecordKind.Grant]: 'grant',
  [RecordKind.Renew]: 'renew',
  [RecordKind.Release]: 'release',
  [RecordKind.Decline]: 'decline',
  [RecordKind.Expire]: 'expire',
};

/** One journal record about an address, as `punt6 leases show` lists its history. */
export interface HistoryEntry {
  sequence: number;
  event: string;
  clientDuid: string;
  iaid: number;
  validLifetime: number;
  /** The lease's (or quarantine's) end as the record set it. */
  expiresAt: string;
}

/** The records of the journal about the binding at `address` (or a prefix holding it), oldest first. */
export function addressHistory(records: readonly JournalRecord[], address: Uint8Array, length: number): HistoryEntry[] {
  return records
    .filter((r) => overlaps(r.address, r.prefixLength, address, length))
    .map((r) => ({
      sequence: r.sequence,
      event: kindNames[r.kind] ?? `kind ${r.kind}`,
      clientDuid: formatColonHex(r.duid, 0, r.duid.length),
      iaid: r.iaid,
      validLifetime: r.validLifetime,
      expiresAt: new Date(r.expiresAt).toISOString(),
    }));
}

/**
 * Ends the lease on `text` (its address, or its delegated prefix as listed), as a Release from its
 * client would: the address is free at once. Returns the lease ended, or why none was. The
 * caller commits (the journal's Release record) before saying it is done.
 */
export function releaseLease(table: LeaseTable, text: string): { lease: Lease } | { error: string } {
  const slash = text.indexOf('/');
  const parsed = parseIpv6Address(slash < 0 ? text : text.slice(0, slash));
  if (parsed === null) return { error: `"${text}" is not an IPv6 address or prefix` };
  const lease = table.lookupAddress(parsed.model.bytes);
  if (lease === undefined || (slash >= 0 && Number(text.slice(slash + 1)) !== lease.prefixLength))
    return { error: `no lease on ${text}` };
  const r = table.release({ type: lease.type, duid: lease.duid, iaid: lease.iaid });
  return r.lease === null ? { error: `no lease on ${text}` } : { lease };
}
