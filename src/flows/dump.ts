/**
 * Reading what OVS prints: `ovs-ofctl dump-flows` lines, `dump-meters` and `meter-stats`, and
 * `ovs-vsctl --format=json list Interface`. Pure, so the parsers are unit-tested on real output.
 */

import { runSteps, type Steps } from '../system/steps.js';

export interface DumpedFlow {
  readonly cookie: string;
  readonly table: number;
  readonly priority: number;
  /** Match fields as printed, comma-separated, without `priority=`. */
  readonly match: string;
  readonly actions: string;
  readonly packets: number;
  readonly bytes: number;
}

const STAT_KEYS = new Set([
  'cookie',
  'duration',
  'table',
  'n_packets',
  'n_bytes',
  'idle_age',
  'hard_age',
  'idle_timeout',
  'hard_timeout',
  'importance',
  'send_flow_rem',
  'reset_counts',
  'no_packet_counts',
  'no_byte_counts',
  'check_overlap',
  'out_port',
  'out_group',
]);

const DEFAULT_PRIORITY = 32768;

/** Parses `ovs-ofctl dump-flows` output (with or without statistics); other lines are skipped. */
export function parseFlowDump(text: string): DumpedFlow[] {
  return runSteps(flowDumpSteps(text));
}

/** Lines of a dump parsed between two steps. */
const LINES_PER_STEP = 512;

/**
 * {@link parseFlowDump} in steps of a few hundred lines (src/system/steps.ts): the periodic full
 * check of a large rule set reads its dump while punt6 answers. Lines are cut one at a time, so
 * no step splits the whole text.
 */
export function* flowDumpSteps(text: string): Steps<DumpedFlow[]> {
  const flows: DumpedFlow[] = [];
  let lines = 0;
  for (let from = 0; from < text.length;) {
    const nl = text.indexOf('\n', from);
    const to = nl < 0 ? text.length : nl;
    const line = text.slice(from, to).trim();
    from = to + 1;
    if (++lines % LINES_PER_STEP === 0) yield;
    const at = line.indexOf(' actions=');
    if (at < 0 || line.startsWith('OFPST_') || line.startsWith('NXST_')) continue;
    const head = line.slice(0, at).replace(/,$/, '');
    const actions = line.slice(at + ' actions='.length);
    const stats = new Map<string, string>();
    let matchPart = '';
    for (const piece of head.split(', ')) {
      const eq = piece.indexOf('=');
      const key = eq < 0 ? piece : piece.slice(0, eq);
      if (STAT_KEYS.has(key) && !piece.includes(',')) stats.set(key, eq < 0 ? '' : piece.slice(eq + 1));
      else matchPart = matchPart === '' ? piece : `${matchPart},${piece}`;
    }
    let priority = DEFAULT_PRIORITY;
    const fields: string[] = [];
    for (const f of matchPart.split(',')) {
      if (f === '') continue;
      if (f.startsWith('priority=')) priority = Number(f.slice('priority='.length));
      else fields.push(f);
    }
    flows.push({
      cookie: stats.get('cookie') ?? '0x0',
      table: Number(stats.get('table') ?? '0'),
      priority,
      match: fields.join(','),
      actions,
      packets: Number(stats.get('n_packets') ?? '0'),
      bytes: Number(stats.get('n_bytes') ?? '0'),
    });
  }
  return flows;
}

export interface DumpedMeter {
  readonly id: number;
  /** `pktps burst stats`: the flags as printed. */
  readonly flags: string;
  readonly rate: number;
  readonly burst: number;
}

/** Parses `ovs-ofctl -O OpenFlow15 dump-meters` output (one drop band per meter is all punt6 uses). */
export function parseMeterDump(text: string): DumpedMeter[] {
  const meters: DumpedMeter[] = [];
  const lines = text.split('\n').map((l) => l.trim());
  for (let i = 0; i < lines.length; i++) {
    const m = /^meter=(\d+)\s+(.*?)\s*bands=$/.exec(lines[i] as string);
    if (!m) continue;
    const band = lines[i + 1] ?? '';
    const rate = /\brate=(\d+)/.exec(band);
    const burst = /\bburst_size=(\d+)/.exec(band);
    meters.push({
      id: Number(m[1]),
      flags: m[2] as string,
      rate: rate ? Number(rate[1]) : 0,
      burst: burst ? Number(burst[1]) : 0,
    });
  }
  return meters;
}

export interface MeterStats {
  readonly id: number;
  /** Rules that use the meter, anyone's (deleting the meter deletes them). */
  readonly flowCount: number;
  /** Packets that reached the meter. */
  readonly packetsIn: number;
  /** Packets its drop band dropped. */
  readonly dropped: number;
}

/** Parses `ovs-ofctl -O OpenFlow15 meter-stats` output. */
export function parseMeterStats(text: string): MeterStats[] {
  const out: MeterStats[] = [];
  const lines = text.split('\n').map((l) => l.trim());
  for (let i = 0; i < lines.length; i++) {
    const m = /^meter:(\d+)\s+flow_count:(\d+)\s.*\bpacket_in_count:(\d+)/.exec(lines[i] as string);
    if (!m) continue;
    let dropped = 0;
    for (let j = i + 1; j < lines.length && /^\d+: /.test(lines[j] as string); j++) {
      const b = /packet_count:(\d+)/.exec(lines[j] as string);
      if (b) dropped += Number(b[1]);
    }
    out.push({ id: Number(m[1]), flowCount: Number(m[2]), packetsIn: Number(m[3]), dropped });
  }
  return out;
}

export interface OvsInterface {
  readonly name: string;
  /** -1 or absent in the database: not (yet) an OpenFlow port. */
  readonly ofport: number | null;
  readonly externalIds: ReadonlyMap<string, string>;
}

type OvsdbDatum = unknown;

function ovsdbMap(d: OvsdbDatum): Map<string, string> {
  const m = new Map<string, string>();
  if (Array.isArray(d) && d[0] === 'map' && Array.isArray(d[1])) {
    for (const pair of d[1] as unknown[])
      if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') m.set(pair[0], pair[1]);
  }
  return m;
}

/**
 * The meter ids recorded under `key` in a bridge's `external_ids`, from `ovs-vsctl --format=json
 * --columns=external_ids list Bridge BR` (the value is the ids joined by commas: `60000,60001`).
 * An absent key is an empty set; entries that are not ids are ignored.
 */
export function parseMeterRecord(json: string, key: string): Set<number> {
  const doc = JSON.parse(json) as { headings: string[]; data: OvsdbDatum[][] };
  const column = doc.headings.indexOf('external_ids');
  const value = column < 0 ? undefined : ovsdbMap(doc.data[0]?.[column]).get(key);
  const ids = new Set<number>();
  for (const part of (value ?? '').split(',')) if (/^\d+$/.test(part.trim())) ids.add(Number(part.trim()));
  return ids;
}

/** Parses `ovs-vsctl --format=json --columns=name,ofport,external_ids list Interface`. */
export function parseInterfaceList(json: string): OvsInterface[] {
  const doc = JSON.parse(json) as { headings: string[]; data: OvsdbDatum[][] };
  const col = (name: string): number => doc.headings.indexOf(name);
  const [iName, iOfport, iExt] = [col('name'), col('ofport'), col('external_ids')];
  return doc.data.map((row) => {
    const of = row[iOfport];
    return {
      name: String(row[iName]),
      ofport: typeof of === 'number' && of > 0 ? of : null,
      externalIds: iExt < 0 ? new Map() : ovsdbMap(row[iExt]),
    };
  });
}
