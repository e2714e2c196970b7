/**
 * punt6's OpenFlow rule set, generated from the configuration. Pure: the input is the normalized
 * configuration and the OpenFlow port numbers of the punt interfaces and VM ports (resolved by
 * ovs.ts, or given by hand), the output is the flow lines for `ovs-ofctl -O OpenFlow15` and the
 * meters. docs/flows.md describes every table and rule category.
 *
 * Layout (table numbers relative to `tableBase`, default 200):
 *
 *   table 0     one entry rule per managed port (priority `entryPriority`), only for frames not
 *               yet marked as passed: VM ports -> SOURCE, punt ports -> FROM_PUNT
 *   SOURCE      +0  IPv6 source guard of ports whose addresses are known
 *   CLASSIFY    +1  RA/Redirect/DHCPv6-server guard, echo answered in OVS, punted kinds, ND -> ND_GUARD
 *   ND_GUARD    +2  SLL/TLL options must carry the port's MAC; NA targets must be the port's own
 *   ND_ANSWER   +3  NS answered in OVS (two-table recipe), or punted when flows cannot answer
 *   NA_FINISH   +4  writes the target link-layer address, sends the NA back out of IN_PORT
 *   PUNT        +5  per VM port: its meter, the network's VLAN tag, output to the punt port
 *   FROM_PUNT   +6  punt6's replies: unicast to the VM owning dl_dst, multicast to the network
 *
 * A frame punt6 has no business with is "passed": it gets the pass mark (a register bit) and is
 * resubmitted to table 0, where punt6's entry rules no longer match it, so the bridge's own rules
 * (anyone else's flows) decide what happens to it, as if punt6 were not there.
 */

import type { NetworkConfig, PortConfig, Punt6Config } from '../config/index.js';
import { replyHopLimit } from '../config/model.js';
import { addressModel, linkLocalFromMac } from '../config/addr.js';
import { runSteps, type Steps } from '../system/steps.js';

/** Every punt6 rule carries this cookie ("punt6" in ASCII, then zeros); no other rule is touched. */
export const PUNT6_COOKIE = '0x70756e7436000000';
/**
 * The mask of a rule's `delete_strict`: the five bytes "punt6". With a mask of all ones OVS finds
 * the rule by walking every rule with that cookie, all of punt6's, for each deletion; with any
 * other mask it finds the rule by its match, then checks the cookie under the mask.
 */
export const PUNT6_COOKIE_MASK = '0xffffffffff000000';

/** Register and bit of the pass mark (`reg9` bit 31). */
export const PASS_REGISTER = 'reg9';
export const PASS_BIT = '0x80000000';
/**
 * While a frame is in punt6's tables, bits 0-15 of the same register hold its network's number
 * (1 + the network's index in the configuration), set by the entry rule of its VM port, so that
 * rules shared by a whole network match it without naming every port. Passing clears them.
 */
export const NETWORK_MASK = '0xffff';
/** The most networks the network number can tell apart. */
export const MAX_NETWORKS = 0xffff;

export const Table = {
  Source: 0,
  Classify: 1,
  NdGuard: 2,
  NdAnswer: 3,
  NaFinish: 4,
  Punt: 5,
  FromPunt: 6,
} as const;

export interface FlowOptions {
  /** First of punt6's seven tables (default 200). */
  readonly tableBase: number;
  /** Priority of the entry rules in table 0 (default 60000). */
  readonly entryPriority: number;
  /** Meter id of the first VM port; port i gets `meterBase + i` (at most METER_SPAN ports). */
  readonly meterBase: number;
  /** Packets per second each VM port may send to the punt path. */
  readonly meterRate: number;
  /** Burst size of the meter, packets. */
  readonly meterBurst: number;
  /**
   * The most output actions one multicast delivery rule holds (default
   * {@link MULTICAST_OUTPUTS_PER_RULE}); a network with more VM ports gets a chain of rules.
   */
  readonly multicastOutputsPerRule?: number;
}

export const METER_SPAN = 100_000;

/**
 * Output actions per multicast delivery rule. An OpenFlow message is at most 65,535 bytes
 * (OpenFlow 1.5 §7.1) and an output action takes 16 (§7.2.6.1), so one rule holds at most about
 * 4,000 outputs with its match and header; 2,048 leaves room for both.
 */
export const MULTICAST_OUTPUTS_PER_RULE = 2048;
/**
 * A multicast delivery chain's register: set by each rule of a chain to the next rule's number,
 * `(attachment << 8) | k` (attachment: 1 + the index of the network's attachment on the punt
 * port; k: the rule's place in the chain), and matched by that rule with the punt port. Only
 * FROM_PUNT uses it, where a frame has just come in from the punt port and it is still 0.
 */
export const CHAIN_REGISTER = 'reg8';
/** The most rules a multicast delivery chain may have: 8 bits of the register, and OVS's 64 resubmits. */
const MAX_CHAIN = 63;
/** A register value as OVS prints it. */
const hex = (n: number): string => (n === 0 ? '0' : `0x${n.toString(16)}`);

/** The largest `meterBase`: OpenFlow meter ids end at 0xffff0000 (OFPM_MAX). */
export const MAX_METER_BASE = 0xffff0000 - METER_SPAN;

export const DefaultFlowOptions: FlowOptions = {
  tableBase: 200,
  entryPriority: 60000,
  meterBase: 60000,
  meterRate: 100,
  meterBurst: 200,
};

/** What each rule is for; `--stats` sums the flow counters per category. */
export const Categories = {
  'answer-na-router': { kind: 'answered', text: 'NS for a router address, NA built in OVS' },
  'answer-na-port': { kind: 'answered', text: "NS for another port's address, NA built in OVS" },
  'answer-echo': { kind: 'answered', text: 'echo request to a router address, reply built in OVS' },
  'punt-rs': { kind: 'punted', text: 'Router Solicitation' },
  'punt-dhcpv6': { kind: 'punted', text: 'DHCPv6 client message (UDP to 547)' },
  'punt-ns-dad': { kind: 'punted', text: 'NS from :: (DAD) for an address punt6 answers for' },
  'punt-ns-no-sll': { kind: 'punted', text: 'NS without a source link-layer option' },
  'punt-ns-own': { kind: 'punted', text: "NS for the port's own address" },
  'punt-ns-other': { kind: 'punted', text: 'other NS for an address punt6 answers for (hop limit not 255)' },
  'punt-echo-other': { kind: 'punted', text: 'echo request to the router from :: or a multicast source' },
  'punt-inverse-nd': { kind: 'punted', text: 'Inverse ND solicitation (141)' },
  'punt-mrd': { kind: 'punted', text: 'Multicast Router Solicitation (152)' },
  'guard-ra': { kind: 'dropped', text: 'Router Advertisement from a VM port' },
  'guard-redirect': { kind: 'dropped', text: 'Redirect from a VM port' },
  'guard-dhcpv6-server': { kind: 'dropped', text: 'DHCPv6 server message (UDP from 547) from a VM port' },
  'guard-source': { kind: 'dropped', text: "IPv6 source not among the port's addresses" },
  'guard-ns-sll': { kind: 'dropped', text: "NS whose SLL option is not the port's MAC" },
  'guard-na-tll': { kind: 'dropped', text: "NA whose TLL option is not the port's MAC" },
  'guard-na-target': { kind: 'dropped', text: "NA for an address that is not the port's own" },
  'deliver-unicast': { kind: 'delivered', text: "punt6's reply to the VM owning its destination MAC" },
  'deliver-multicast': { kind: 'delivered', text: "punt6's multicast (RAs, DAD answers) to the network's VM ports" },
  'deliver-unknown': { kind: 'dropped', text: 'frame from the punt port for no known VM' },
  entry: { kind: 'internal', text: 'entry into punt6 tables' },
  pass: { kind: 'internal', text: "handed to the bridge's own rules" },
  'source-ok': { kind: 'internal', text: 'source address allowed' },
  'nd-ok': { kind: 'internal', text: 'ND options allowed' },
  classify: { kind: 'internal', text: 'ND to the ND tables' },
  'na-finish': { kind: 'internal', text: 'second table of the NA recipe' },
  'punt-output': { kind: 'internal', text: 'metered output to the punt port' },
} as const;

export type Category = keyof typeof Categories;
export type CategoryKind = (typeof Categories)[Category]['kind'];

/** An OpenFlow port: its number, or (for a dry run without OVS) its interface name. */
export type OfPortRef = number | string;

export interface PortBindings {
  /** OpenFlow port of each punt interface, by interface name. */
  readonly interfaces: ReadonlyMap<string, OfPortRef>;
  /** OpenFlow port of each VM port, by configuration port name; absent: not on the bridge. */
  readonly ports: ReadonlyMap<string, OfPortRef>;
}

export interface FlowRule {
  readonly table: number;
  readonly priority: number;
  /** Comma-separated match fields (`icmp6,in_port=1,icmp_type=135`); empty: match everything. */
  readonly match: string;
  /** Actions as `ovs-ofctl dump-flows` prints them back (so reconciliation can compare). */
  readonly actions: string;
  readonly category: Category;
  /** The configuration port or interface the rule belongs to; null: shared. */
  readonly port: string | null;
}

export interface MeterSpec {
  readonly id: number;
  /** The VM port it limits. */
  readonly port: string;
  /** Packets per second. */
  readonly rate: number;
  /** Packets. */
  readonly burst: number;
}

export interface RuleSet {
  readonly rules: readonly FlowRule[];
  readonly meters: readonly MeterSpec[];
  /** The `meterBase` the meter ids count from (port i of the configuration: `meterBase + i`). */
  readonly meterBase: number;
  /** Ports of the configuration that got no rules, with the reason. */
  readonly skipped: readonly string[];
}

const ZERO_MAC = '00:00:00:00:00:00';
const MULTICAST_MAC = '01:00:00:00:00:00/01:00:00:00:00:00';
const NA_FLAGS_ROUTER = 0xe0000000; // R, S, O
const NA_FLAGS_HOST = 0x60000000; // S, O

function portText(p: OfPortRef): string {
  return typeof p === 'number' ? String(p) : JSON.stringify(p);
}

/** Global addresses the kernel takes by modified EUI-64 in each prefix with the A flag. */
export function slaacAddresses(net: NetworkConfig, port: PortConfig): string[] {
  const iid = linkLocalFromMac(port.mac.bytes).bytes.subarray(8);
  const out: string[] = [];
  for (const p of net.prefixes) {
    if (!p.slaac || p.prefix.length !== 64) continue;
    const b = new Uint8Array(16);
    b.set(p.prefix.address.subarray(0, 8), 0);
    b.set(iid, 8);
    out.push(addressModel(b).text);
  }
  return out;
}

/** The addresses a port may send from and answer NAs for (when its addresses are known). */
export function ownAddresses(net: NetworkConfig, port: PortConfig): string[] {
  const out = port.addresses.map((a) => a.text);
  for (const a of [linkLocalFromMac(port.mac.bytes).text, ...slaacAddresses(net, port)])
    if (!out.includes(a)) out.push(a);
  return out;
}

interface Target {
  readonly address: string;
  readonly mac: string;
  readonly router: boolean;
}

/** What every rule of a network's ports shares, made once per network. */
interface NetworkParts {
  /** The entry rule's actions: the network's number in the register, then SOURCE. */
  readonly entry: string;
  /** Per router address (link-local first): the echo match after `icmp6,in_port=P`, and its answer. */
  readonly echoes: readonly { readonly match: string; readonly answer: string }[];
}

/** Builds punt6's rule set. Ports missing from `bindings.ports` get no rules (listed in `skipped`). */
export function generateRules(
  config: Punt6Config,
  bindings: PortBindings,
  options: FlowOptions = DefaultFlowOptions,
): RuleSet {
  return runSteps(generateRuleSteps(config, bindings, options));
}

/**
 * {@link generateRules} in steps of one port (src/system/steps.ts), for a reload that builds the
 * rules of a large configuration while the running one answers.
 */
export function* generateRuleSteps(
  config: Punt6Config,
  bindings: PortBindings,
  options: FlowOptions = DefaultFlowOptions,
): Steps<RuleSet> {
  const t = (k: number): number => options.tableBase + k;
  const rules: FlowRule[] = [];
  const meters: MeterSpec[] = [];
  const skipped: string[] = [];
  // Every rule is made once: per port, per network, per address of a network (the configuration
  // refuses duplicate ports, MACs and addresses); only the NA's second table, which matches no
  // network, is shared by networks that share a router MAC and address, and is made once.
  const add = (
    table: number,
    priority: number,
    match: string,
    actions: string,
    category: Category,
    port: string | null,
  ): void => {
    rules.push({ table, priority, match, actions, category, port });
  };
  const finished = new Set<string>();
  const passActions = `set_field:${PASS_BIT}/0x8000ffff->${PASS_REGISTER},resubmit(,0)`;
  const unmarked = `${PASS_REGISTER}=0/${PASS_BIT}`;
  const punt = `goto_table:${t(Table.Punt)}`;
  const toClassify = `goto_table:${t(Table.Classify)}`;
  const toGuard = `goto_table:${t(Table.NdGuard)}`;
  const toAnswer = `goto_table:${t(Table.NdAnswer)}`;

  if (options.tableBase < 1 || options.tableBase + Table.FromPunt > 254)
    throw new RangeError('tableBase must leave room for 7 tables in 1..254');

  // Shared defaults of punt6's tables: what no rule claims is passed (VM side) or dropped (punt side).
  add(t(Table.Source), 0, '', toClassify, 'source-ok', null);
  add(t(Table.Classify), 0, '', passActions, 'pass', null);
  add(t(Table.NdAnswer), 0, '', passActions, 'pass', null);
  add(t(Table.FromPunt), 0, '', 'drop', 'deliver-unknown', null);

  if (config.networks.length > MAX_NETWORKS) throw new RangeError(`more than ${MAX_NETWORKS} networks`);
  const netByName = new Map(config.networks.map((n) => [n.name, n]));
  const networkNumber = new Map(config.networks.map((n, i) => [n, `0x${(i + 1).toString(16)}`]));
  const networkMatch = (net: NetworkConfig): string =>
    `${PASS_REGISTER}=${networkNumber.get(net) as string}/${NETWORK_MASK}`;
  const parts = new Map<NetworkConfig, NetworkParts>();
  const partsOf = (net: NetworkConfig): NetworkParts => {
    let p = parts.get(net);
    if (p === undefined) {
      const hopLimit = replyHopLimit(net);
      p = {
        entry: `set_field:${networkNumber.get(net) as string}/${NETWORK_MASK}->${PASS_REGISTER},goto_table:${t(Table.Source)}`,
        echoes: [net.routerLinkLocal.text, ...net.routerAddresses.map((a) => a.text)].map((r) => ({
          match: `,dl_dst=${net.routerMac.text},ipv6_dst=${r},icmp_type=128,icmp_code=0`,
          answer: `move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:${net.routerMac.text}->eth_src,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:${r}->ipv6_src,set_field:129->icmpv6_type,mod_nw_ttl:${hopLimit},IN_PORT`,
        })),
      };
      parts.set(net, p);
    }
    return p;
  };

  for (let index = 0; index < config.ports.length; index++) {
    // One port is one step.
    if (index > 0) yield;
    const port = config.ports[index] as PortConfig;
    const net = netByName.get(port.network);
    if (net === undefined) continue;
    const of = bindings.ports.get(port.name);
    if (of === undefined) {
      skipped.push(`${port.name}: no OpenFlow port on the bridge`);
      continue;
    }
    const puntOf = bindings.interfaces.get(net.interface);
    if (puntOf === undefined) {
      skipped.push(`${port.name}: punt interface ${net.interface} is not on the bridge`);
      continue;
    }
    const name = port.name;
    const inPort = `in_port=${portText(of)}`;
    const ipv6In = `ipv6,${inPort}`;
    const icmp6In = `icmp6,${inPort}`;
    const ns = `${icmp6In},icmp_type=135`;
    const na = `${icmp6In},icmp_type=136`;
    const mac = port.mac.text;
    const known = port.addresses.length > 0;
    const own = ownAddresses(net, port);
    const meterId = options.meterBase + index;
    if (index >= METER_SPAN) throw new RangeError(`more than ${METER_SPAN} ports`);
    meters.push({ id: meterId, port: name, rate: options.meterRate, burst: options.meterBurst });
    const netParts = partsOf(net);

    add(0, options.entryPriority, `${unmarked},${inPort}`, netParts.entry, 'entry', name);

    // ---- SOURCE: the port's addresses, its link-local, :: for DAD and MLD reports (RFC 3590) ----
    if (known) {
      const s = t(Table.Source);
      for (const a of own) add(s, 300, `${ipv6In},ipv6_src=${a}`, toClassify, 'source-ok', name);
      if (port.delegatedPrefix !== null)
        add(s, 300, `${ipv6In},ipv6_src=${port.delegatedPrefix.text}`, toClassify, 'source-ok', name);
      add(s, 300, `${icmp6In},ipv6_src=::,icmp_type=135`, toClassify, 'source-ok', name);
      add(s, 300, `${icmp6In},ipv6_src=::,icmp_type=131`, toClassify, 'source-ok', name);
      add(s, 300, `${icmp6In},ipv6_src=::,icmp_type=143`, toClassify, 'source-ok', name);
      add(s, 200, ipv6In, 'drop', 'guard-source', name);
    }

    // ---- CLASSIFY ----
    const c = t(Table.Classify);
    add(c, 400, `${icmp6In},icmp_type=134`, 'drop', 'guard-ra', name);
    add(c, 400, `${icmp6In},icmp_type=137`, 'drop', 'guard-redirect', name);
    add(c, 400, `udp6,${inPort},tp_src=547`, 'drop', 'guard-dhcpv6-server', name);
    add(c, 300, `udp6,${inPort},tp_dst=547`, punt, 'punt-dhcpv6', name);
    add(c, 300, `${icmp6In},icmp_type=133`, punt, 'punt-rs', name);
    add(c, 300, `${icmp6In},icmp_type=141`, punt, 'punt-inverse-nd', name);
    add(c, 300, `${icmp6In},icmp_type=152`, punt, 'punt-mrd', name);
    add(c, 300, ns, toGuard, 'classify', name);
    add(c, 300, na, toGuard, 'classify', name);
    for (const e of netParts.echoes) {
      const echo = `${icmp6In}${e.match}`;
      // A reply cannot go to :: or a group (RFC 4443 §4.2): the punt path refuses those.
      add(c, 350, `${echo},ipv6_src=::`, punt, 'punt-echo-other', name);
      add(c, 350, `${echo},ipv6_src=ff00::/8`, punt, 'punt-echo-other', name);
      add(c, 300, echo, e.answer, 'answer-echo', name);
    }

    // ---- ND_GUARD ----
    const g = t(Table.NdGuard);
    add(g, 300, `${ns},nd_sll=${mac}`, toAnswer, 'nd-ok', name);
    add(g, 300, `${ns},nd_sll=${ZERO_MAC}`, toAnswer, 'nd-ok', name);
    add(g, 200, ns, 'drop', 'guard-ns-sll', name);
    if (known) {
      for (const a of own) {
        const target = `${na},nd_target=${a}`;
        add(g, 300, `${target},nd_tll=${mac}`, passActions, 'nd-ok', name);
        add(g, 300, `${target},nd_tll=${ZERO_MAC}`, passActions, 'nd-ok', name);
        add(g, 250, target, 'drop', 'guard-na-tll', name);
      }
      add(g, 200, na, 'drop', 'guard-na-target', name);
    } else {
      add(g, 300, `${na},nd_tll=${mac}`, passActions, 'nd-ok', name);
      add(g, 300, `${na},nd_tll=${ZERO_MAC}`, passActions, 'nd-ok', name);
      add(g, 200, na, 'drop', 'guard-na-tll', name);
    }

    // ---- ND_ANSWER: an NS for the port's own address is the punt path's (DAD defence, RFC 4862) ----
    for (const addr of port.addresses)
      add(t(Table.NdAnswer), 450, `${ns},nd_target=${addr.text}`, punt, 'punt-ns-own', name);

    // ---- PUNT ----
    const tag = net.vlan === null ? '' : `push_vlan:0x8100,set_field:${4096 + net.vlan}->vlan_vid,`;
    add(t(Table.Punt), 100, inPort, `meter:${meterId},${tag}output:${portText(puntOf)}`, 'punt-output', name);
  }

  // ---- ND_ANSWER, per network: the router's addresses and every port's addresses, answered for any
  // VM port of the network. The guard stage has let through only NS whose SLL option is the
  // sending port's own MAC, or that carry none; the answer goes back out of IN_PORT.
  for (const net of config.networks) {
    yield;
    const a = t(Table.NdAnswer);
    const targets: Target[] = [net.routerLinkLocal, ...net.routerAddresses].map((r) => ({
      address: r.text,
      mac: net.routerMac.text,
      router: true,
    }));
    for (const port of net.ports)
      for (const addr of port.addresses) targets.push({ address: addr.text, mac: port.mac.text, router: false });
    const nsFor = `icmp6,${networkMatch(net)},icmp_type=135,icmp_code=0,nd_target=`;
    const finish = `resubmit(,${t(Table.NaFinish)})`;
    for (let i = 0; i < targets.length; i++) {
      if ((i & 63) === 63) yield;
      const tg = targets[i] as Target;
      const ns = `${nsFor}${tg.address}`;
      add(a, 400, `${ns},ipv6_src=::`, punt, 'punt-ns-dad', null);
      add(a, 300, `${ns},nd_sll=${ZERO_MAC}`, punt, 'punt-ns-no-sll', null);
      add(
        a,
        200,
        `${ns},nw_ttl=255`,
        `move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:${tg.mac}->eth_src,move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:${tg.address}->ipv6_src,` +
          `set_field:136->icmpv6_type,set_field:${tg.router ? NA_FLAGS_ROUTER : NA_FLAGS_HOST}->nd_reserved,set_field:2->nd_options_type,${finish}`,
        tg.router ? 'answer-na-router' : 'answer-na-port',
        null,
      );
      add(a, 100, ns, punt, 'punt-ns-other', null);
      const key = `${tg.mac}/${tg.address}`;
      if (finished.has(key)) continue;
      finished.add(key);
      add(
        t(Table.NaFinish),
        100,
        `icmp6,dl_src=${tg.mac},icmp_type=136,icmp_code=0,nd_target=${tg.address}`,
        `set_field:${tg.mac}->nd_tll,IN_PORT`,
        'na-finish',
        null,
      );
    }
  }

  // ---- FROM_PUNT: replies reach the VM owning their destination MAC, never a flood ----
  for (const itf of config.interfaces) {
    const puntOf = bindings.interfaces.get(itf.name);
    if (puntOf === undefined) {
      skipped.push(`interface ${itf.name}: not on the bridge`);
      continue;
    }
    const inPort = `in_port=${portText(puntOf)}`;
    add(0, options.entryPriority, inPort, `goto_table:${t(Table.FromPunt)}`, 'entry', itf.name);
    for (const [attachment, att] of itf.attachments.entries()) {
      const vlan = att.vlan === null ? 'vlan_tci=0x0000/0x1fff' : `dl_vlan=${att.vlan}`;
      const untag = att.vlan === null ? '' : 'pop_vlan,';
      const from = `${inPort},${vlan},dl_dst=`;
      const outs: string[] = [];
      const ports = att.network.ports;
      for (let i = 0; i < ports.length; i++) {
        if ((i & 63) === 63) yield;
        const port = ports[i] as PortConfig;
        const of = bindings.ports.get(port.name);
        if (of === undefined) continue;
        const out = `output:${portText(of)}`;
        outs.push(out);
        add(t(Table.FromPunt), 200, `${from}${port.mac.text}`, `${untag}${out}`, 'deliver-unicast', port.name);
      }
      // One rule when the outputs fit in one message, else a chain: each rule outputs its share,
      // counts itself in the register and resubmits to this table, where the next one matches.
      const per = Math.max(1, options.multicastOutputsPerRule ?? MULTICAST_OUTPUTS_PER_RULE);
      const chain = Math.ceil(outs.length / per);
      if (chain > MAX_CHAIN)
        throw new RangeError(
          `interface ${itf.name}: ${outs.length} VM ports need ${chain} multicast delivery rules, more than ${MAX_CHAIN}`,
        );
      // The first rule matches the frame as it comes in; its VLAN is popped there, so the next
      // ones match the punt port and the chain register (a higher priority than the first rule
      // of an untagged network, which the popped frame matches too).
      const id = (k: number): string => hex(((attachment + 1) << 8) | k);
      for (let k = 0; k < chain; k++) {
        const share = outs.slice(k * per, (k + 1) * per).join(',');
        const next =
          k === chain - 1 ? '' : `,set_field:${id(k + 1)}->${CHAIN_REGISTER},resubmit(,${t(Table.FromPunt)})`;
        add(
          t(Table.FromPunt),
          k === 0 ? 100 : 101,
          k === 0 ? `${from}${MULTICAST_MAC}` : `${inPort},${CHAIN_REGISTER}=${id(k)}`,
          `${k === 0 ? untag : ''}${share}${next}`,
          'deliver-multicast',
          itf.name,
        );
      }
    }
  }
  return { rules, meters, meterBase: options.meterBase, skipped };
}

/** One flow as an `ovs-ofctl add-flows` line. */
export function flowLine(rule: FlowRule): string {
  return `cookie=${PUNT6_COOKIE},table=${rule.table},priority=${rule.priority},${rule.match === '' ? '' : `${rule.match},`}actions=${rule.actions}`;
}

/**
 * The bundle file: delete every punt6 rule, then add the rule set. `ovs-ofctl --bundle add-flows`
 * sends it as one atomic OpenFlow bundle: all of it takes effect, or none.
 */
export function bundleText(set: RuleSet): string {
  return [`delete cookie=${PUNT6_COOKIE}/-1`, ...set.rules.map((r) => `add ${flowLine(r)}`)].join('\n') + '\n';
}

/** What turns one rule set into another: rules to delete and rules to add (or replace). */
export interface RuleChanges {
  readonly remove: readonly FlowRule[];
  readonly add: readonly FlowRule[];
}

/**
 * The rules that differ between `from` and `to`: those of `from` whose table, priority and match
 * `to` does not have, and those of `to` that `from` lacks or has with other actions (adding a rule
 * with the same table, priority and match replaces it). A change to one port touches that port's
 * rules and the rules of its addresses, nothing else.
 *
 * The sets are compared group by group (`FlowRule.port`, null for the shared rules): a group whose
 * rules are the same, in the same order, costs one comparison per rule and builds no key, so a
 * one-port change costs about one pass over the two sets. Inside a group that differs, rules are
 * matched by table, priority and match text as written: the generator writes a rule's match
 * fields in one order, and a rule whose fields came in another order (or that moved to another
 * group) is deleted and added again in the same bundle, which ends in the same state.
 *
 * Worked out once per pair of sets: a reload works it out beforehand, in steps
 * ({@link ruleChangeSteps}), and the install finds it made.
 */
export function ruleChanges(from: RuleSet, to: RuleSet): RuleChanges {
  return changesMade.get(from)?.get(to) ?? runSteps(ruleChangeSteps(from, to));
}

/** The changes between two sets already worked out, by the sets (the sets are never modified). */
const changesMade = new WeakMap<RuleSet, WeakMap<RuleSet, RuleChanges>>();

/** {@link ruleChanges} in steps of a few hundred rules (src/system/steps.ts); the result is kept for it. */
export function* ruleChangeSteps(from: RuleSet, to: RuleSet): Steps<RuleChanges> {
  const made = changesMade.get(from)?.get(to);
  if (made !== undefined) return made;
  const before = yield* groupByPort(from.rules);
  const remove: FlowRule[] = [];
  const add: FlowRule[] = [];
  let groups = 0;
  for (const [port, rules] of yield* groupByPort(to.rules)) {
    if ((++groups & 15) === 0) yield;
    const old = before.get(port) ?? [];
    before.delete(port);
    if (!sameRules(old, rules)) groupChanges(old, rules, remove, add);
  }
  for (const old of before.values()) for (const r of old) remove.push(r);
  const changes = { remove, add };
  let byTo = changesMade.get(from);
  if (byTo === undefined) changesMade.set(from, (byTo = new WeakMap()));
  byTo.set(to, changes);
  return changes;
}

function* groupByPort(rules: readonly FlowRule[]): Steps<Map<string | null, FlowRule[]>> {
  const groups = new Map<string | null, FlowRule[]>();
  for (let i = 0; i < rules.length; i++) {
    if ((i & 1023) === 1023) yield;
    const r = rules[i] as FlowRule;
    const group = groups.get(r.port);
    if (group === undefined) groups.set(r.port, [r]);
    else group.push(r);
  }
  return groups;
}

function sameRules(a: readonly FlowRule[], b: readonly FlowRule[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as FlowRule;
    const y = b[i] as FlowRule;
    if (x.table !== y.table || x.priority !== y.priority || x.match !== y.match || x.actions !== y.actions)
      return false;
  }
  return true;
}

/** One group's changes, appended to `remove` and `add`. */
function groupChanges(from: readonly FlowRule[], to: readonly FlowRule[], remove: FlowRule[], add: FlowRule[]): void {
  const key = (r: FlowRule): string => `${r.table}/${r.priority}/${r.match}`;
  const before = new Map<string, FlowRule>();
  for (const r of from) before.set(key(r), r);
  for (const r of to) {
    const k = key(r);
    const old = before.get(k);
    before.delete(k);
    if (old?.actions !== r.actions) add.push(r);
  }
  for (const r of before.values()) remove.push(r);
}

/**
 * The bundle file of a change: `delete_strict` of each rule to remove (its cookie, table,
 * priority and match), then `add` of each rule to add. One atomic bundle, like the full one.
 */
export function changesBundleText(c: RuleChanges): string {
  const lines: string[] = [];
  for (const r of c.remove)
    lines.push(
      `delete_strict cookie=${PUNT6_COOKIE}/${PUNT6_COOKIE_MASK},table=${r.table},priority=${r.priority}${r.match === '' ? '' : `,${r.match}`}`,
    );
  for (const r of c.add) lines.push(`add ${flowLine(r)}`);
  return lines.join('\n') + '\n';
}

/** A meter as `ovs-ofctl add-meter` / `mod-meter` takes it. */
export function meterArgument(m: MeterSpec): string {
  return `meter=${m.id},pktps,burst,stats,bands=type=drop,rate=${m.rate},burst_size=${m.burst}`;
}

/** The key a rule is compared by: table, priority and its match fields in any order. */
export function ruleKey(table: number, priority: number, match: string): string {
  const fields = match === '' ? [] : match.split(',').sort();
  return `${table}/${priority}/${fields.join(',')}`;
}

/** What `--dry-run` prints: the meters, then the bundle. */
export function dryRunText(set: RuleSet): string {
  const lines: string[] = [];
  lines.push(`# meters (ovs-ofctl -O OpenFlow15 add-meter BRIDGE ...)`);
  for (const m of set.meters) lines.push(`# ${m.port}: ${meterArgument(m)}`);
  for (const s of set.skipped) lines.push(`# skipped ${s}`);
  lines.push(`# flows (ovs-ofctl -O OpenFlow15 --bundle add-flows BRIDGE FILE)`);
  return lines.join('\n') + '\n' + bundleText(set);
}
