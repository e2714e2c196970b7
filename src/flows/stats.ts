/**
 * `punt6 flows --stats`: punt6's flow counters summed per category (answered in OVS, punted,
 * dropped by a guard, delivered from the punt port), and each VM port's meter. Pure.
 */

import type { DumpedFlow, MeterStats } from './dump.js';
import { Categories, ruleKey, type Category, type CategoryKind, type RuleSet } from './rules.js';

export interface CategoryCount {
  readonly category: Category;
  readonly kind: CategoryKind;
  readonly packets: number;
  /** Packets per configuration port (or punt interface) the category's rules belong to. */
  readonly byPort: ReadonlyMap<string, number>;
}

export interface FlowStats {
  readonly categories: readonly CategoryCount[];
  /** punt6 rules on the bridge that the current configuration does not generate. */
  readonly unknownRules: number;
  readonly meters: readonly { port: string; id: number; packetsIn: number; dropped: number }[];
}

export function flowStats(set: RuleSet, flows: readonly DumpedFlow[], meters: readonly MeterStats[]): FlowStats {
  const byKey = new Map(set.rules.map((r) => [ruleKey(r.table, r.priority, r.match), r]));
  const counts = new Map<Category, { packets: number; byPort: Map<string, number> }>();
  for (const c of Object.keys(Categories) as Category[]) counts.set(c, { packets: 0, byPort: new Map() });
  let unknownRules = 0;
  for (const f of flows) {
    const rule = byKey.get(ruleKey(f.table, f.priority, f.match));
    if (rule === undefined) {
      unknownRules++;
      continue;
    }
    const c = counts.get(rule.category);
    if (c === undefined) continue;
    c.packets += f.packets;
    const port = rule.port ?? '*';
    c.byPort.set(port, (c.byPort.get(port) ?? 0) + f.packets);
  }
  const categories = [...counts].map(([category, c]) => ({
    category,
    kind: Categories[category].kind as CategoryKind,
    packets: c.packets,
    byPort: c.byPort,
  }));
  const meterById = new Map(meters.map((m) => [m.id, m]));
  return {
    categories,
    unknownRules,
    meters: set.meters.map((m) => ({
      port: m.port,
      id: m.id,
      packetsIn: meterById.get(m.id)?.packetsIn ?? 0,
      dropped: meterById.get(m.id)?.dropped ?? 0,
    })),
  };
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const KIND_ORDER: readonly CategoryKind[] = ['answered', 'punted', 'dropped', 'delivered'];

/** The report `--stats` prints. */
export function formatStats(stats: FlowStats, bridge: string): string {
  const out: string[] = [];
  const total = (k: CategoryKind): number =>
    stats.categories.filter((c) => c.kind === k).reduce((s, c) => s + c.packets, 0);
  out.push(
    `punt6 flows on ${bridge}: answered in OVS ${total('answered')}, punted ${total('punted')}, dropped by guards ${stats.categories.filter((c) => c.kind === 'dropped' && c.category !== 'deliver-unknown').reduce((s, c) => s + c.packets, 0)}`,
  );
  out.push('');
  const rows: string[][] = [];
  for (const kind of KIND_ORDER) {
    for (const c of stats.categories.filter((x) => x.kind === kind)) {
      const ports = [...c.byPort]
        .filter(([, n]) => n > 0)
        .map(([p, n]) => `${p} ${n}`)
        .join(', ');
      rows.push([kind, c.category, String(c.packets), ports, Categories[c.category].text]);
    }
  }
  out.push(...table(['kind', 'category', 'packets', 'by port', 'what'], rows));
  out.push('');
  out.push(
    ...table(
      ['meter', 'port', 'packets in', 'dropped'],
      stats.meters.map((m) => [String(m.id), m.port, String(m.packetsIn), String(m.dropped)]),
    ),
  );
  if (stats.unknownRules > 0)
    out.push(
      '',
      `${stats.unknownRules} punt6 rule(s) on the bridge are not in the configuration's rule set (run punt6 flows to reinstall)`,
    );
  return out.join('\n') + '\n';
}
