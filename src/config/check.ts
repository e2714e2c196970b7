/**
 * Semantic checks: the relations between values that a JSON Schema cannot express. They run on
 * the raw document even when the schema found problems, so that one run lists every problem;
 * each check therefore looks only at values of the right shape and skips the rest (the schema
 * has already reported those).
 *
 * An address is compared with prefixes and pools as bytes, the prefixes and pools with each other
 * by ip-num (addr.ts). The checks of a port are one step (src/system/steps.ts): a reload checks a
 * large file in slices.
 */
import type { IPv6, RangedSet } from 'ip-num';
import { bytesEqual, inPrefix, isLinkLocal } from '../../codecs/bytes.js';
import type { Steps } from '../system/steps.js';
import {
  addressInRange,
  parseDuid,
  parseIpv6Address,
  parseIpv6Pool,
  parseIpv6Prefix,
  parseMacAddress,
  PrefixSet,
  type ParsedPrefix,
} from './addr.js';
import { formatPath, type PathSegment, type ProblemList } from './error.js';
import { Dhcpv6Modes, INFINITE_LIFETIME, Pref64Lengths } from './model.js';
import { Defaults, defaultDhcpv6Times } from './normalize.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const objAt = (o: Obj, k: string): Obj => (isObj(o[k]) ? (o[k] as Obj) : {});
const strAt = (o: Obj, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
const intAt = (o: Obj, k: string): number | undefined => (Number.isInteger(o[k]) ? (o[k] as number) : undefined);
/** A VLAN id in range; undefined otherwise (the schema reports a bad one). */
const vlanAt = (o: Obj, k: string): number | undefined => {
  const v = intAt(o, k);
  return v !== undefined && v >= 1 && v <= 4094 ? v : undefined;
};
const boolAt = (o: Obj, k: string): boolean | undefined => (typeof o[k] === 'boolean' ? (o[k] as boolean) : undefined);
/** A lifetime in seconds, `infinity` as 0xffffffff; undefined when absent or malformed. */
const lifetimeAt = (o: Obj, k: string): number | undefined =>
  o[k] === 'infinity'
    ? INFINITE_LIFETIME
    : Number.isInteger(o[k]) && (o[k] as number) >= 0
      ? (o[k] as number)
      : undefined;

const show = (v: string): string => JSON.stringify(v);
const showSeconds = (v: number): string => (v === INFINITE_LIFETIME ? 'infinity' : String(v));

interface NetworkInfo {
  readonly index: number;
  readonly name: string;
  readonly vlan: number | undefined;
  readonly prefixes: { readonly parsed: ParsedPrefix; readonly path: PathSegment[] }[];
  readonly pools: {
    readonly range: RangedSet<IPv6>;
    readonly first: Uint8Array;
    readonly last: Uint8Array;
    readonly text: string;
    readonly path: PathSegment[];
  }[];
  /** `delegatedLength` undefined when absent or not longer than the pool (reported already). */
  readonly pdPools: {
    readonly parsed: ParsedPrefix;
    readonly delegatedLength: number | undefined;
    readonly path: PathSegment[];
  }[];
  readonly routerMac: string | undefined;
  /** False when a prefix entry was malformed: containment checks would only repeat that problem. */
  readonly prefixesComplete: boolean;
}

/** First-seen owner of a value (a MAC, an address, a DUID, a name), to report duplicates. */
class Registry {
  private readonly seen = new Map<string, { path: PathSegment[]; owner: string }>();

  /** Returns the earlier owner if `key` was registered already. */
  claim(key: string, path: PathSegment[], owner: string): { path: PathSegment[]; owner: string } | undefined {
    const before = this.seen.get(key);
    if (before === undefined) this.seen.set(key, { path, owner });
    return before;
  }
}

function prefixList(prefixes: NetworkInfo['prefixes']): string {
  return prefixes.length === 0 ? 'it has no prefixes' : prefixes.map((p) => p.parsed.model.text).join(', ');
}

function checkAddressInNetwork(
  problems: ProblemList,
  path: PathSegment[],
  text: string,
  address: Uint8Array,
  net: NetworkInfo,
): void {
  const inside = net.prefixes.find((p) => inPrefix(address, 0, p.parsed.model.address, p.parsed.model.length));
  if (inside === undefined && !net.prefixesComplete) return;
  if (inside === undefined) {
    problems.add(
      path,
      `${show(text)} is not inside any prefix of network ${show(net.name)} (${prefixList(net.prefixes)})`,
    );
  } else if (inside.parsed.model.length < 127 && bytesEqual(address, 0, inside.parsed.model.address, 0, 16)) {
    problems.add(
      path,
      `${show(text)} is the Subnet-Router anycast address of ${inside.parsed.model.text} (RFC 4291 §2.6.1)`,
    );
  }
}

function checkNetwork(problems: ProblemList, raw: Obj, index: number): NetworkInfo {
  const base: PathSegment[] = ['networks', index];
  const name = strAt(raw, 'name') ?? `#${index}`;
  const ra = objAt(raw, 'ra');
  const dhcpv6 = objAt(raw, 'dhcpv6');
  const modeText = strAt(dhcpv6, 'mode') ?? Defaults.dhcpv6Mode;
  // An unknown mode is the schema's problem; the mode-dependent checks below then stay quiet.
  const mode = (Dhcpv6Modes as readonly string[]).includes(modeText) ? modeText : undefined;

  // routerMac must be a unicast MAC.
  const routerMacText = strAt(raw, 'routerMac');
  const routerMac = routerMacText === undefined ? null : parseMacAddress(routerMacText);
  if (routerMac !== null && ((routerMac.bytes[0] as number) & 1) !== 0) {
    problems.add([...base, 'routerMac'], `${show(routerMacText!)} is a multicast MAC address`);
  }
  const linkLocalText = strAt(raw, 'routerLinkLocal');
  const linkLocal = linkLocalText === undefined ? null : parseIpv6Address(linkLocalText);
  if (linkLocal !== null && !isLinkLocal(linkLocal.model.bytes, 0)) {
    problems.add([...base, 'routerLinkLocal'], `${show(linkLocalText!)} is not a link-local address (fe80::/10)`);
  }

  // On-link prefixes: parse, no overlaps, SLAAC only on /64, preferred <= valid.
  const prefixes: NetworkInfo['prefixes'] = [];
  let prefixesComplete = true;
  listOf(raw['prefixes']).forEach((entry, i) => {
    const obj: Obj = typeof entry === 'string' ? { prefix: entry } : isObj(entry) ? entry : {};
    const path: PathSegment[] =
      typeof entry === 'string' ? [...base, 'prefixes', i] : [...base, 'prefixes', i, 'prefix'];
    const text = strAt(obj, 'prefix');
    const parsed = text === undefined ? null : parseIpv6Prefix(text);
    if (parsed === null) {
      prefixesComplete = false;
      return;
    }
    const clash = prefixes.find((p) => p.parsed.range.isOverlapping(parsed.range));
    if (clash !== undefined) {
      problems.add(path, `${show(text!)} overlaps ${clash.parsed.model.text} (${formatPath(clash.path)})`);
    }
    prefixes.push({ parsed, path });
    if (boolAt(obj, 'slaac') === true && parsed.model.length !== 64) {
      problems.add(
        [...base, 'prefixes', i, 'slaac'],
        `SLAAC needs a /64 prefix, ${parsed.model.text} is /${parsed.model.length} (RFC 4862 §5.5.3)`,
      );
    }
    const valid = lifetimeAt(obj, 'validLifetime');
    const preferred = lifetimeAt(obj, 'preferredLifetime');
    if (valid !== undefined && preferred !== undefined && preferred > valid) {
      problems.add(
        [...base, 'prefixes', i, 'preferredLifetime'],
        `${showSeconds(preferred)} is greater than validLifetime (${showSeconds(valid)})`,
      );
    }
  });
  const info: NetworkInfo = {
    index,
    name,
    vlan: vlanAt(raw, 'vlan'),
    prefixes,
    pools: [],
    pdPools: [],
    routerMac: routerMac?.text,
    prefixesComplete: prefixesComplete && (raw['prefixes'] === undefined || Array.isArray(raw['prefixes'])),
  };

  listOf(raw['routerAddresses']).forEach((v, i) => {
    const a = typeof v === 'string' ? parseIpv6Address(v) : null;
    if (a !== null) checkAddressInNetwork(problems, [...base, 'routerAddresses', i], v as string, a.model.bytes, info);
  });

  // Router Advertisements: RFC 4861 §6.2.1 relations.
  const maxInterval = intAt(ra, 'maxInterval') ?? Defaults.maxInterval;
  const maxText =
    ra['maxInterval'] === undefined ? `the default maxInterval ${maxInterval}` : `maxInterval (${maxInterval})`;
  const minInterval = intAt(ra, 'minInterval');
  if (minInterval !== undefined && minInterval > 0.75 * maxInterval) {
    problems.add(
      [...base, 'ra', 'minInterval'],
      `${minInterval} is greater than 0.75 × ${maxText} = ${0.75 * maxInterval}`,
    );
  }
  // The default minInterval always satisfies the bound (see defaultMinInterval in normalize.ts).
  const routerLifetime = intAt(ra, 'routerLifetime');
  if (routerLifetime !== undefined && routerLifetime !== 0 && routerLifetime < maxInterval) {
    problems.add([...base, 'ra', 'routerLifetime'], `${routerLifetime} must be 0 or between ${maxText} and 9000`);
  }
  const preference = strAt(ra, 'preference');
  if (routerLifetime === 0 && preference !== undefined && preference !== 'medium') {
    problems.add([...base, 'ra', 'preference'], `must be medium when routerLifetime is 0 (RFC 4191 §2.2)`);
  }
  for (const option of ['rdnss', 'dnssl'] as const) {
    const lifetime = lifetimeAt(objAt(ra, option), 'lifetime');
    if (lifetime !== undefined && lifetime !== 0 && lifetime < maxInterval) {
      problems.add(
        [...base, 'ra', option, 'lifetime'],
        `${lifetime} is less than ${maxText} (RFC 8106 §5.1); use 0 to withdraw`,
      );
    }
  }
  const pref64Text = strAt(objAt(ra, 'pref64'), 'prefix');
  const pref64 = pref64Text === undefined ? null : parseIpv6Prefix(pref64Text);
  if (pref64 !== null && !(Pref64Lengths as readonly number[]).includes(pref64.model.length)) {
    problems.add(
      [...base, 'ra', 'pref64', 'prefix'],
      `${show(pref64Text!)} has length ${pref64.model.length}; a PREF64 prefix is /32, /40, /48, /56, /64 or /96 (RFC 8781 §4)`,
    );
  }

  // DHCPv6.
  const t = defaultDhcpv6Times({
    t1: lifetimeAt(dhcpv6, 't1'),
    t2: lifetimeAt(dhcpv6, 't2'),
    preferredLifetime: lifetimeAt(dhcpv6, 'preferredLifetime'),
    validLifetime: lifetimeAt(dhcpv6, 'validLifetime'),
  });
  if (t.t1 > t.t2) {
    problems.add([...base, 'dhcpv6', 't1'], `${showSeconds(t.t1)} is greater than t2 (${showSeconds(t.t2)})`);
  }
  if (lifetimeAt(dhcpv6, 'validLifetime') === 0) {
    // RFC 9915 §21.6: a valid lifetime of 0 says the address is no longer valid.
    problems.add(
      [...base, 'dhcpv6', 'validLifetime'],
      '0 makes every lease invalid at once: at least 1 (RFC 9915 §21.6)',
    );
  }
  if (t.preferredLifetime > t.validLifetime) {
    problems.add(
      [...base, 'dhcpv6', 'preferredLifetime'],
      `${showSeconds(t.preferredLifetime)} is greater than validLifetime (${showSeconds(t.validLifetime)})`,
    );
  }
  const poolList = listOf(dhcpv6['addressPools']);
  if (poolList.length > 0 && mode !== undefined && mode !== 'stateful') {
    problems.add([...base, 'dhcpv6', 'addressPools'], `address pools need mode: stateful (mode is ${mode})`);
  }
  poolList.forEach((v, i) => {
    const pool = typeof v === 'string' ? parseIpv6Pool(v) : null;
    if (pool === null) return;
    const path: PathSegment[] = [...base, 'dhcpv6', 'addressPools', i];
    if (info.prefixesComplete && !prefixes.some((p) => pool.range.inside(p.parsed.range))) {
      problems.add(
        path,
        `${show(v as string)} is not inside any prefix of network ${show(name)} (${prefixList(prefixes)})`,
      );
    }
    const clash = info.pools.find((p) => p.range.isOverlapping(pool.range));
    if (clash !== undefined)
      problems.add(path, `${show(v as string)} overlaps ${clash.text} (${formatPath(clash.path)})`);
    info.pools.push({ range: pool.range, first: pool.model.first, last: pool.model.last, text: pool.model.text, path });
  });
  const pdList = listOf(dhcpv6['prefixDelegation']);
  if (pdList.length > 0 && mode === 'off') {
    problems.add([...base, 'dhcpv6', 'prefixDelegation'], 'prefix delegation needs DHCPv6 (mode is off)');
  }
  pdList.forEach((v, i) => {
    if (!isObj(v)) return;
    const text = strAt(v, 'prefix');
    const parsed = text === undefined ? null : parseIpv6Prefix(text);
    if (parsed === null) return;
    const path: PathSegment[] = [...base, 'dhcpv6', 'prefixDelegation', i];
    const delegatedLength = intAt(v, 'delegatedLength');
    const lengthOk = delegatedLength !== undefined && delegatedLength > parsed.model.length && delegatedLength <= 128;
    if (delegatedLength !== undefined && delegatedLength <= parsed.model.length) {
      problems.add(
        [...path, 'delegatedLength'],
        `${delegatedLength} must be longer than the pool's prefix length ${parsed.model.length}`,
      );
    }
    const onLink = prefixes.find((p) => p.parsed.range.isOverlapping(parsed.range));
    if (onLink !== undefined) {
      problems.add(
        [...path, 'prefix'],
        `${show(text!)} overlaps the on-link prefix ${onLink.parsed.model.text} (${formatPath(onLink.path)})`,
      );
    }
    const clash = info.pdPools.find((p) => p.parsed.range.isOverlapping(parsed.range));
    if (clash !== undefined) {
      problems.add(
        [...path, 'prefix'],
        `${show(text!)} overlaps ${clash.parsed.model.text} (${formatPath(clash.path)})`,
      );
    }
    info.pdPools.push({ parsed, delegatedLength: lengthOk ? delegatedLength : undefined, path: [...path, 'prefix'] });
  });
  return info;
}

/**
 * What the lease table needs across networks: it keys leases by address alone, so no two pools
 * of any networks overlap, and a prefix-delegation pool overlaps no other network's on-link
 * prefix (within a network checkNetwork has done both).
 */
function checkAcrossNetworks(problems: ProblemList, infos: readonly NetworkInfo[]): void {
  infos.forEach((net, j) => {
    const earlier = infos.slice(0, j);
    for (const pool of net.pools) {
      const clash = earlier.flatMap(leasePools).find((p) => p.range.isOverlapping(pool.range));
      if (clash !== undefined)
        problems.add(pool.path, `${show(pool.text)} overlaps ${clash.text} (${formatPath(clash.path)})`);
    }
    for (const pool of net.pdPools) {
      const text = pool.parsed.model.text;
      const onLink = onLinkOverlap(infos, pool.parsed.range, net);
      if (onLink !== undefined) {
        problems.add(
          pool.path,
          `${show(text)} overlaps the on-link prefix ${onLink.text} of network ${show(onLink.net.name)} (${formatPath(onLink.path)})`,
        );
        continue;
      }
      const clash = earlier.flatMap(leasePools).find((p) => p.range.isOverlapping(pool.parsed.range));
      if (clash !== undefined)
        problems.add(pool.path, `${show(text)} overlaps ${clash.text} (${formatPath(clash.path)})`);
    }
  });
}

/** A network's address and prefix-delegation pools, alike. */
function leasePools(net: NetworkInfo): { range: RangedSet<IPv6>; text: string; path: PathSegment[] }[] {
  return [
    ...net.pools,
    ...net.pdPools.map((p) => ({ range: p.parsed.range, text: p.parsed.model.text, path: p.path })),
  ];
}

/** An on-link prefix of a network other than `except` that overlaps `range`. */
function onLinkOverlap(
  infos: readonly NetworkInfo[],
  range: RangedSet<IPv6>,
  except?: NetworkInfo,
): { net: NetworkInfo; text: string; path: PathSegment[] } | undefined {
  for (const net of infos) {
    if (net === except) continue;
    const p = net.prefixes.find((x) => x.parsed.range.isOverlapping(range));
    if (p !== undefined) return { net, text: p.parsed.model.text, path: p.path };
  }
  return undefined;
}

function* checkUniqueNames(problems: ProblemList, list: unknown[], section: string, what: string): Steps<void> {
  const names = new Registry();
  for (let i = 0; i < list.length; i++) {
    if ((i & 255) === 255) yield;
    const v = list[i];
    const n = isObj(v) ? strAt(v, 'name') : undefined;
    if (n === undefined) continue;
    const before = names.claim(n, [section, i], n);
    if (before !== undefined)
      problems.add([section, i, 'name'], `duplicate ${what} name ${show(n)} (also ${formatPath(before.path)})`);
  }
}

/** Runs every semantic check on the raw document. */
export function* checkSemantics(doc: unknown, problems: ProblemList): Steps<void> {
  if (!isObj(doc)) return;
  const rawNetworks = listOf(doc['networks']);
  const rawInterfaces = listOf(doc['interfaces']);
  const rawPorts = listOf(doc['ports']);
  yield* checkUniqueNames(problems, rawInterfaces, 'interfaces', 'interface');
  yield* checkUniqueNames(problems, rawNetworks, 'networks', 'network');
  yield* checkUniqueNames(problems, rawPorts, 'ports', 'port');

  const networks = new Map<string, NetworkInfo>();
  const infos: NetworkInfo[] = [];
  rawNetworks.forEach((n, i) => {
    if (!isObj(n)) return;
    const info = checkNetwork(problems, n, i);
    infos.push(info);
    if (strAt(n, 'name') !== undefined && !networks.has(info.name)) networks.set(info.name, info);
  });
  checkAcrossNetworks(problems, infos);

  // Interfaces: `network` (untagged), `networks` (each at its own vlan), `vlans` (VID → network).
  // Each network is attached exactly once, and one interface carries one network per VLAN.
  const attached = new Map<string, PathSegment[]>();
  /** Names given anywhere in `interfaces`, even under a bad VLAN id: not reported as unattached. */
  const named = new Set<string>();
  rawInterfaces.forEach((v, i) => {
    if (!isObj(v)) return;
    const ifName = strAt(v, 'name') ?? `#${i}`;
    const slots = new Map<number | null, { net: string; path: PathSegment[] }>();
    /** `vid` undefined: the network's own `vlan` (untagged when it has none). */
    const attach = (net: string, path: PathSegment[], vid: number | null | undefined): void => {
      const info = networks.get(net);
      if (info === undefined) {
        problems.add(path, `unknown network ${show(net)}`);
        return;
      }
      const vlan = vid === undefined ? (info.vlan ?? null) : vid;
      if (vid !== undefined && info.vlan !== undefined && info.vlan !== vid) {
        problems.add(
          path,
          vid === null
            ? `network ${show(net)} has vlan ${info.vlan}, but "network" attaches untagged frames (use "networks" or "vlans")`
            : `network ${show(net)} has vlan ${info.vlan}, not ${vid}`,
        );
      }
      const before = attached.get(net);
      if (before !== undefined) {
        problems.add(path, `network ${show(net)} is already attached at ${formatPath(before)}`);
        return;
      }
      attached.set(net, path);
      const clash = slots.get(vlan);
      if (clash !== undefined) {
        const where = vlan === null ? 'untagged frames' : `VLAN ${vlan}`;
        problems.add(
          path,
          `network ${show(net)} and network ${show(clash.net)} (${formatPath(clash.path)}) are both on ${where} of interface ${show(ifName)}`,
        );
      } else {
        slots.set(vlan, { net, path });
      }
    };
    const net = strAt(v, 'network');
    if (net !== undefined) named.add(net);
    for (const n of listOf(v['networks'])) if (typeof n === 'string') named.add(n);
    for (const n of Object.values(objAt(v, 'vlans'))) if (typeof n === 'string') named.add(n);
    if (net !== undefined && net !== '') attach(net, ['interfaces', i, 'network'], null);
    listOf(v['networks']).forEach((n, j) => {
      if (typeof n === 'string' && n !== '') attach(n, ['interfaces', i, 'networks', j], undefined);
    });
    const vlans = objAt(v, 'vlans');
    for (const [vid, target] of Object.entries(vlans)) {
      if (typeof target !== 'string' || target === '' || !/^\d{1,4}$/.test(vid) || +vid < 1 || +vid > 4094) continue;
      attach(target, ['interfaces', i, 'vlans', vid], Number(vid));
    }
    const empty = v['network'] === undefined && listOf(v['networks']).length === 0 && Object.keys(vlans).length === 0;
    if (empty && v['networks'] === undefined && v['vlans'] === undefined) {
      problems.add(
        ['interfaces', i],
        'attaches no network: give "network" (untagged), "networks" or "vlans" (VID: network)',
      );
    } else if (empty) {
      problems.add(['interfaces', i], 'attaches no network');
    }
  });
  if (rawInterfaces.length > 0) {
    for (const info of networks.values()) {
      if (!attached.has(info.name) && !named.has(info.name))
        problems.add(['networks', info.index], `network ${show(info.name)} is not attached to any interface`);
    }
  }

  // Ports: known network, unicast unique MACs, addresses inside the network's prefixes and unique,
  // delegated prefixes outside the on-link prefixes and unique, unique client DUIDs.
  const macs = new Registry();
  const addresses = new Registry();
  const duids = new Registry();
  const delegated: { parsed: ParsedPrefix; path: PathSegment[] }[] = [];
  /** The same prefixes, to tell at once whether a new one overlaps any (the list then names which). */
  const delegatedSet = new PrefixSet();
  const routerMacs = new Map<string, string>();
  for (const info of networks.values()) if (info.routerMac !== undefined) routerMacs.set(info.routerMac, info.name);
  rawNetworks.forEach((n, i) => {
    if (!isObj(n)) return;
    listOf(n['routerAddresses']).forEach((a, j) => {
      const parsed = typeof a === 'string' ? parseIpv6Address(a) : null;
      if (parsed === null) return;
      const path: PathSegment[] = ['networks', i, 'routerAddresses', j];
      const before = addresses.claim(parsed.model.text, path, `network ${show(strAt(n, 'name') ?? '')}`);
      if (before !== undefined)
        problems.add(path, `${show(a as string)} is also an address of ${before.owner} (${formatPath(before.path)})`);
    });
  });
  for (let i = 0; i < rawPorts.length; i++) {
    // One port is one step.
    if (i > 0) yield;
    const v = rawPorts[i];
    if (!isObj(v)) continue;
    const base: PathSegment[] = ['ports', i];
    const portName = strAt(v, 'name') ?? `#${i}`;
    const owner = `port ${show(portName)}`;
    const netName = strAt(v, 'network');
    const net = netName === undefined ? undefined : networks.get(netName);
    if (netName !== undefined && netName !== '' && net === undefined)
      problems.add([...base, 'network'], `unknown network ${show(netName)}`);

    const macText = strAt(v, 'mac');
    const mac = macText === undefined ? null : parseMacAddress(macText);
    if (mac !== null) {
      if (((mac.bytes[0] as number) & 1) !== 0)
        problems.add([...base, 'mac'], `${show(macText!)} is a multicast MAC address`);
      const router = routerMacs.get(mac.text);
      if (router !== undefined)
        problems.add([...base, 'mac'], `${show(macText!)} is the routerMac of network ${show(router)}`);
      const before = macs.claim(mac.text, [...base, 'mac'], owner);
      if (before !== undefined)
        problems.add(
          [...base, 'mac'],
          `${show(macText!)} is also the MAC of ${before.owner} (${formatPath(before.path)})`,
        );
    }

    listOf(v['addresses']).forEach((a, j) => {
      const parsed = typeof a === 'string' ? parseIpv6Address(a) : null;
      if (parsed === null) return;
      const path: PathSegment[] = [...base, 'addresses', j];
      if (net !== undefined) {
        checkAddressInNetwork(problems, path, a as string, parsed.model.bytes, net);
        const pool = net.pools.find((p) => addressInRange(parsed.model.bytes, p.first, p.last));
        if (pool !== undefined)
          problems.add(path, `${show(a as string)} lies inside address pool ${pool.text} (${formatPath(pool.path)})`);
      }
      const before = addresses.claim(parsed.model.text, path, owner);
      if (before !== undefined)
        problems.add(path, `${show(a as string)} is also an address of ${before.owner} (${formatPath(before.path)})`);
    });

    const dpText = strAt(v, 'delegatedPrefix');
    const dp = dpText === undefined ? null : parseIpv6Prefix(dpText);
    if (dp !== null) {
      const path: PathSegment[] = [...base, 'delegatedPrefix'];
      const onLink = net?.prefixes.find((p) => p.parsed.range.isOverlapping(dp.range));
      const elsewhere = onLink === undefined ? onLinkOverlap(infos, dp.range, net) : undefined;
      if (onLink !== undefined)
        problems.add(
          path,
          `${show(dpText!)} overlaps the on-link prefix ${onLink.parsed.model.text} (${formatPath(onLink.path)})`,
        );
      if (elsewhere !== undefined) {
        problems.add(
          path,
          `${show(dpText!)} overlaps the on-link prefix ${elsewhere.text} of network ${show(elsewhere.net.name)} (${formatPath(elsewhere.path)})`,
        );
      }
      const clash = delegatedSet.overlaps(dp.model)
        ? delegated.find((d) => d.parsed.range.isOverlapping(dp.range))
        : undefined;
      if (clash !== undefined)
        problems.add(path, `${show(dpText!)} overlaps ${clash.parsed.model.text} (${formatPath(clash.path)})`);
      delegated.push({ parsed: dp, path });
      delegatedSet.add(dp.model);
      // The lease table keeps a pool from handing out a reserved prefix only when the
      // reservation is one of the pool's prefixes (src/dhcp/leases.ts, addStatic).
      for (const pool of infos.flatMap((n) => n.pdPools)) {
        if (
          pool.delegatedLength === undefined ||
          pool.delegatedLength === dp.model.length ||
          !pool.parsed.range.isOverlapping(dp.range)
        )
          continue;
        problems.add(
          path,
          `${show(dpText!)} overlaps prefixDelegation pool ${pool.parsed.model.text} (${formatPath(pool.path)}), which delegates /${pool.delegatedLength}: ` +
            `a delegated prefix there must be one of its /${pool.delegatedLength} prefixes`,
        );
      }
    }

    const duidText = strAt(v, 'clientDuid');
    const duid = duidText === undefined ? null : parseDuid(duidText);
    if (duid !== null) {
      const key = Buffer.from(duid).toString('hex');
      const before = duids.claim(key, [...base, 'clientDuid'], owner);
      if (before !== undefined)
        problems.add(
          [...base, 'clientDuid'],
          `${show(duidText!)} is also the client DUID of ${before.owner} (${formatPath(before.path)})`,
        );
    }
  }
}
