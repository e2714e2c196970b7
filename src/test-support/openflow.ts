/**
 * A small OpenFlow evaluator for punt6's rules (src/flows/rules.ts), for tests: it runs a frame,
 * described by the match fields punt6's rules use, through a rule set (the highest priority that
 * matches wins; goto_table, resubmit, set_field, move, the VLAN actions) and reports the rule
 * categories it hit, the actions left for the switch (output, IN_PORT, drop, meter) and the frame
 * as the actions rewrote it. Fields or actions punt6 does not use are refused with an error.
 */

import { parseIpv6Address, parseIpv6Prefix } from '../config/addr.js';
import type { Category, FlowRule, RuleSet } from '../flows/rules.js';

export interface Frame {
  in_port: number;
  dl_src: string;
  dl_dst: string;
  vlan?: number;
  proto: 'icmp6' | 'udp6' | 'arp';
  ipv6_src?: string;
  ipv6_dst?: string;
  nw_ttl?: number;
  icmp_type?: number;
  icmp_code?: number;
  nd_target?: string;
  nd_sll?: string;
  nd_tll?: string;
  tp_src?: number;
  tp_dst?: number;
  nd_reserved?: number;
  reg8?: number;
  reg9?: number;
}

export interface Outcome {
  /** The categories of the non-internal rules the frame hit, in order. */
  categories: Category[];
  /** `output:N`, `IN_PORT`, `drop`, `meter:N`, or `bridge` (left to the bridge's own rules). */
  actions: string[];
  frame: Frame;
}

function addrBytes(text: string): Uint8Array {
  const p = parseIpv6Address(text);
  if (p === null) throw new Error(`bad address ${text}`);
  return p.model.bytes;
}

function addressMatches(value: string | undefined, pattern: string): boolean {
  if (value === undefined) return false;
  const v = addrBytes(value);
  if (pattern.includes('/')) {
    const p = parseIpv6Prefix(pattern);
    if (p === null) throw new Error(`bad prefix ${pattern}`);
    for (let bit = 0; bit < p.model.length; bit++) {
      const mask = 0x80 >> (bit % 8);
      if (((v[bit >> 3] as number) & mask) !== ((p.model.address[bit >> 3] as number) & mask)) return false;
    }
    return true;
  }
  return Buffer.compare(v, addrBytes(pattern)) === 0;
}

function macMatches(value: string, pattern: string): boolean {
  const [mac, mask] = pattern.split('/') as [string, string | undefined];
  const hex = (s: string): number[] => s.split(':').map((x) => Number.parseInt(x, 16));
  const v = hex(value);
  const m = hex(mac);
  const k = mask === undefined ? [255, 255, 255, 255, 255, 255] : hex(mask);
  return v.every((b, i) => (b & (k[i] as number)) === ((m[i] as number) & (k[i] as number)));
}

function fieldMatches(f: Frame, field: string): boolean {
  const eq = field.indexOf('=');
  if (eq < 0) {
    if (field === 'ipv6') return f.proto === 'icmp6' || f.proto === 'udp6';
    return f.proto === field;
  }
  const key = field.slice(0, eq);
  const value = field.slice(eq + 1);
  switch (key) {
    case 'in_port':
      return String(f.in_port) === value;
    case 'reg8':
    case 'reg9': {
      const [v, mask] = value.split('/').map(Number) as [number, number | undefined];
      const m = mask ?? 0xffffffff;
      return ((f[key] ?? 0) & m) >>> 0 === (v & m) >>> 0;
    }
    case 'ipv6_src':
      return addressMatches(f.ipv6_src, value);
    case 'ipv6_dst':
      return addressMatches(f.ipv6_dst, value);
    case 'nd_target':
      return addressMatches(f.nd_target, value);
    case 'nd_sll':
      return f.icmp_type === 135 && macMatches(f.nd_sll ?? '00:00:00:00:00:00', value);
    case 'nd_tll':
      return f.icmp_type === 136 && macMatches(f.nd_tll ?? '00:00:00:00:00:00', value);
    case 'dl_dst':
      return macMatches(f.dl_dst, value);
    case 'dl_src':
      return macMatches(f.dl_src, value);
    case 'icmp_type':
      return f.icmp_type === Number(value);
    case 'icmp_code':
      return (f.icmp_code ?? 0) === Number(value);
    case 'nw_ttl':
      return (f.nw_ttl ?? 255) === Number(value);
    case 'tp_src':
      return f.tp_src === Number(value);
    case 'tp_dst':
      return f.tp_dst === Number(value);
    case 'dl_vlan':
      return f.vlan === Number(value);
    case 'vlan_tci':
      if (value !== '0x0000/0x1fff') throw new Error(`evaluator: vlan_tci=${value}`);
      return f.vlan === undefined;
    default:
      throw new Error(`evaluator: unknown field ${key}`);
  }
}

function splitActions(actions: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of actions) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

function lookup(set: RuleSet, table: number, f: Frame): FlowRule | undefined {
  let best: FlowRule | undefined;
  for (const r of set.rules) {
    if (r.table !== table || (best !== undefined && r.priority <= best.priority)) continue;
    if (r.match === '' || r.match.split(',').every((field) => fieldMatches(f, field))) best = r;
  }
  return best;
}

export function evaluate(set: RuleSet, input: Frame): Outcome {
  const f: Frame = { ...input };
  const out: Outcome = { categories: [], actions: [], frame: f };
  let table: number | null = 0;
  for (let steps = 0; table !== null; steps++) {
    if (steps > 20) throw new Error('evaluator: loop');
    const rule = lookup(set, table, f);
    table = null;
    if (rule === undefined) {
      out.actions.push('bridge');
      break;
    }
    if (!['entry', 'source-ok', 'nd-ok', 'classify', 'na-finish', 'punt-output', 'pass'].includes(rule.category))
      out.categories.push(rule.category);
    for (const a of splitActions(rule.actions)) {
      const set = /^set_field:(.+)->(\w+)$/.exec(a);
      const goto = /^(?:goto_table:(\d+)|resubmit\(,(\d+)\))$/.exec(a);
      if (goto) table = Number(goto[1] ?? goto[2]);
      else if (a === 'move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]') f.dl_dst = f.dl_src;
      else if (a === 'move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[]') f.ipv6_dst = f.ipv6_src;
      else if (a === 'pop_vlan') delete f.vlan;
      else if (a === 'push_vlan:0x8100') f.vlan = 0;
      else if (a.startsWith('mod_nw_ttl:')) f.nw_ttl = Number(a.slice(11));
      else if (set) {
        const [, value, field] = set as unknown as [string, string, string];
        if (field === 'eth_src') f.dl_src = value;
        else if (field === 'ipv6_src') f.ipv6_src = value;
        else if (field === 'icmpv6_type') f.icmp_type = Number(value);
        else if (field === 'nd_reserved') f.nd_reserved = Number(value);
        else if (field === 'nd_tll') f.nd_tll = value;
        else if (field === 'nd_options_type') delete f.nd_sll;
        else if (field === 'vlan_vid') f.vlan = Number(value) - 4096;
        else if (field === 'reg8' || field === 'reg9') {
          const [v, mask = 0xffffffff] = value.split('/').map(Number) as [number, number | undefined];
          f[field] = (((f[field] ?? 0) & ~mask) | (v & mask)) >>> 0;
        } else throw new Error(`evaluator: set_field ${field}`);
      } else out.actions.push(a);
    }
  }
  return out;
}
