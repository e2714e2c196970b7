/**
 * From a checked YAML document to the `Punt6Config` model. Every default lives here, in
 * `Defaults` and the `default*` functions below; docs/configuration.md lists the same values.
 *
 * Only call `normalize` on a document that passed the schema (schema.ts) and the semantic checks
 * (check.ts): it trusts the shapes and references and does not re-check them.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Steps } from '../system/steps.js';
import {
  linkLocalFromMac,
  parseDuid,
  parseHostPort,
  parseIpv6Address,
  parseIpv6Pool,
  parseIpv6Prefix,
  parseMacAddress,
} from './addr.js';
import {
  INFINITE_LIFETIME,
  type Dhcpv6Config,
  type Dhcpv6Mode,
  type InterfaceAttachment,
  type InterfaceConfig,
  type Ipv6Address,
  type Ipv6Prefix,
  type LeaseLimitsConfig,
  type LogLevel,
  type NetworkConfig,
  type PortConfig,
  type PrefixConfig,
  type Punt6Config,
  type RaConfig,
  type RouterPreference,
  type ServerConfig,
} from './model.js';

/** Plain defaults. Derived defaults are the functions below. */
export const Defaults = {
  mtu: 1500,
  /** RFC 4861 §6.2.1 MaxRtrAdvInterval default. */
  maxInterval: 600,
  /** RFC 4861 §6.2.1 AdvCurHopLimit: the value of the Internet "TTL" (RFC 8200 §3 / IANA: 64). */
  curHopLimit: 64,
  reachableTime: 0,
  retransTimer: 0,
  preference: 'medium' as RouterPreference,
  /** RFC 4861 §6.2.1 AdvValidLifetime / AdvPreferredLifetime defaults (30 and 7 days). */
  prefixValidLifetime: 2_592_000,
  prefixPreferredLifetime: 604_800,
  dhcpv6Mode: 'stateless' as Dhcpv6Mode,
  /** DHCPv6 lease lifetimes handed out for IA_NA / IA_PD. */
  dhcpv6PreferredLifetime: 3600,
  dhcpv6ValidLifetime: 7200,
  /** RFC 9915 §7.6 IRT_DEFAULT. */
  informationRefreshTime: 86_400,
  rapidCommit: true,
  mrdEnabled: false,
  /** RFC 4286 §3.1.1 AdvertisementInterval default. */
  mrdAdvertisementInterval: 20,
  /** RFC 3810 §9.2 Query Interval and §9.1 Robustness Variable defaults. */
  mrdQueryInterval: 125,
  mrdRobustness: 2,
  stateDirectory: '/var/lib/punt6',
  leaseFile: 'leases.journal',
  duidFile: 'server-duid',
  /** punt6's own per-sender token bucket (frames per second, and burst). */
  rateLimitRate: 200,
  rateLimitBurst: 400,
  leaseLimits: {
    addressesPerClient: 8,
    prefixesPerClient: 4,
    addressesPerPort: 64,
    prefixesPerPort: 16,
    iasPerMessage: 8,
    maxLeases: 1_000_000,
  },
  logLevel: 'info' as LogLevel,
  /** The control socket's mode: its owner only. */
  controlSocketMode: 0o600,
} as const;

/** RFC 4861 §6.2.1: 0.33 × max when max >= 9 s (but at least 3 s); otherwise 0.75 × max. */
export function defaultMinInterval(maxInterval: number): number {
  return maxInterval >= 9 ? Math.max(3, Math.round(maxInterval * 33) / 100) : (maxInterval * 3) / 4;
}

/** RFC 4861 §6.2.1 AdvDefaultLifetime: 3 × MaxRtrAdvInterval (at most 9000). */
export function defaultRouterLifetime(maxInterval: number): number {
  return Math.min(9000, 3 * maxInterval);
}

/** RFC 8106 §5.1/§5.2 lifetimes, RFC 4191 route lifetime: 3 × MaxRtrAdvInterval. */
export function defaultOptionLifetime(maxInterval: number): number {
  return 3 * maxInterval;
}

/** RFC 8781 §4.1: 3 × MaxRtrAdvInterval, at most 65528 (13 bits of 8-second units). */
export function defaultPref64Lifetime(maxInterval: number): number {
  return Math.min(65528, 3 * maxInterval);
}

/** M and O flags from the DHCPv6 mode (RFC 4861 §4.2, RFC 9915 §6). */
export function defaultRaFlags(mode: Dhcpv6Mode): { managed: boolean; otherConfig: boolean } {
  switch (mode) {
    case 'stateful':
      return { managed: true, otherConfig: true };
    case 'stateless':
      return { managed: false, otherConfig: true };
    case 'off':
      return { managed: false, otherConfig: false };
  }
}

/** SLAAC (A flag) by default for /64 prefixes, unless addresses come from stateful DHCPv6. */
export function defaultSlaac(prefixLength: number, mode: Dhcpv6Mode): boolean {
  return prefixLength === 64 && mode !== 'stateful';
}

/**
 * DHCPv6 lease times. RFC 9915 §21.4 recommends T1 = 0.5 and T2 = 0.8 × the shortest preferred
 * lifetime, both infinity when it is infinite; a given value moves the other only as far as
 * t1 <= t2 and preferred <= valid need.
 */
export function defaultDhcpv6Times(given: {
  t1?: number | undefined;
  t2?: number | undefined;
  preferredLifetime?: number | undefined;
  validLifetime?: number | undefined;
}): { t1: number; t2: number; preferredLifetime: number; validLifetime: number } {
  const validLifetime = given.validLifetime ?? Math.max(Defaults.dhcpv6ValidLifetime, given.preferredLifetime ?? 0);
  const preferredLifetime = given.preferredLifetime ?? Math.min(Defaults.dhcpv6PreferredLifetime, validLifetime);
  const infinite = preferredLifetime === INFINITE_LIFETIME;
  const t1Base = infinite ? INFINITE_LIFETIME : Math.floor(preferredLifetime / 2);
  const t2Base = infinite ? INFINITE_LIFETIME : Math.floor((preferredLifetime * 4) / 5);
  const t1 = given.t1 ?? (given.t2 === undefined ? t1Base : Math.min(t1Base, given.t2));
  const t2 = given.t2 ?? Math.max(t2Base, t1);
  return { t1, t2, preferredLifetime, validLifetime };
}

// ---- the YAML shape (after the schema has passed) ----

type Lifetime = number | 'infinity';

export interface RawPrefix {
  prefix: string;
  onLink?: boolean;
  slaac?: boolean;
  validLifetime?: Lifetime;
  preferredLifetime?: Lifetime;
}

export interface RawNetwork {
  name: string;
  vlan?: number;
  mtu?: number;
  routerMac: string;
  routerLinkLocal?: string;
  routerAddresses?: string[];
  prefixes?: (string | RawPrefix)[];
  dns?: { servers?: string[]; search?: string[] };
  ra?: {
    enabled?: boolean;
    minInterval?: number;
    maxInterval?: number;
    routerLifetime?: number;
    reachableTime?: number;
    retransTimer?: number;
    curHopLimit?: number;
    managed?: boolean;
    otherConfig?: boolean;
    preference?: RouterPreference;
    routes?: { prefix: string; preference?: RouterPreference; lifetime?: Lifetime }[];
    rdnss?: { servers?: string[]; lifetime?: Lifetime };
    dnssl?: { domains?: string[]; lifetime?: Lifetime };
    pref64?: { prefix: string; lifetime?: number };
    unsolicited?: boolean;
  };
  mrd?: { enabled?: boolean; advertisementInterval?: number; queryInterval?: number; robustness?: number };
  dhcpv6?: {
    mode?: Dhcpv6Mode;
    dnsServers?: string[];
    domainSearch?: string[];
    ntpServers?: string[];
    t1?: Lifetime;
    t2?: Lifetime;
    preferredLifetime?: Lifetime;
    validLifetime?: Lifetime;
    informationRefreshTime?: Lifetime;
    rapidCommit?: boolean;
    solMaxRt?: number;
    infMaxRt?: number;
    addressPools?: string[];
    prefixDelegation?: { prefix: string; delegatedLength: number }[];
    trustedRelays?: string[];
  };
}

export interface RawConfig {
  interfaces: { name: string; network?: string; networks?: string[]; vlans?: Record<string, string> }[];
  networks: RawNetwork[];
  ports?: {
    name: string;
    mac: string;
    network: string;
    addresses?: string[];
    delegatedPrefix?: string;
    clientDuid?: string;
  }[];
  server?: {
    duid?: string;
    duidFile?: string;
    leaseFile?: string;
    stateDirectory?: string;
    rateLimit?: { rate?: number; burst?: number };
    leaseLimits?: Partial<LeaseLimitsConfig>;
  };
  metrics?: string;
  log?: { level?: LogLevel };
  control?: { socket: string; mode?: string };
}

/** `infinity` → 0xffffffff; absent stays absent. */
export function seconds(v: Lifetime | undefined): number | undefined {
  return v === 'infinity' ? INFINITE_LIFETIME : v;
}

// The parse functions return null only for text the schema refused.
const address = (t: string): Ipv6Address => parseIpv6Address(t)!.model;
const prefix = (t: string): Ipv6Prefix => parseIpv6Prefix(t)!.model;

/** The RA max interval a network ends up with (used by check.ts too). */
export function effectiveMaxInterval(raw: RawNetwork): number {
  return raw.ra?.maxInterval ?? Defaults.maxInterval;
}

interface Attachment {
  readonly interfaceName: string;
  readonly vlan: number | null;
}

function normalizeNetwork(raw: RawNetwork, ports: PortConfig[], attachment: Attachment): NetworkConfig {
  const mode = raw.dhcpv6?.mode ?? Defaults.dhcpv6Mode;
  const routerMac = parseMacAddress(raw.routerMac)!;
  const r = raw.ra ?? {};
  const d = raw.dhcpv6 ?? {};
  const maxInterval = effectiveMaxInterval(raw);
  const optionLifetime = defaultOptionLifetime(maxInterval);
  const flags = defaultRaFlags(mode);

  const prefixes: PrefixConfig[] = (raw.prefixes ?? []).map((entry) => {
    const e: RawPrefix = typeof entry === 'string' ? { prefix: entry } : entry;
    const p = prefix(e.prefix);
    return {
      prefix: p,
      onLink: e.onLink ?? true,
      slaac: e.slaac ?? defaultSlaac(p.length, mode),
      validLifetime:
        seconds(e.validLifetime) ?? Math.max(Defaults.prefixValidLifetime, seconds(e.preferredLifetime) ?? 0),
      preferredLifetime:
        seconds(e.preferredLifetime) ??
        Math.min(Defaults.prefixPreferredLifetime, seconds(e.validLifetime) ?? INFINITE_LIFETIME),
    };
  });

  const rdnssServers = (r.rdnss?.servers ?? raw.dns?.servers ?? []).map(address);
  const dnsslDomains = r.dnssl?.domains ?? raw.dns?.search ?? [];
  const ra: RaConfig = {
    enabled: r.enabled ?? true,
    unsolicited: r.unsolicited ?? true,
    maxInterval,
    minInterval: r.minInterval ?? defaultMinInterval(maxInterval),
    routerLifetime: r.routerLifetime ?? defaultRouterLifetime(maxInterval),
    reachableTime: r.reachableTime ?? Defaults.reachableTime,
    retransTimer: r.retransTimer ?? Defaults.retransTimer,
    curHopLimit: r.curHopLimit ?? Defaults.curHopLimit,
    managed: r.managed ?? flags.managed,
    otherConfig: r.otherConfig ?? flags.otherConfig,
    preference: r.preference ?? Defaults.preference,
    routes: (r.routes ?? []).map((route) => ({
      prefix: prefix(route.prefix),
      preference: route.preference ?? Defaults.preference,
      lifetime: seconds(route.lifetime) ?? optionLifetime,
    })),
    rdnss:
      rdnssServers.length === 0
        ? null
        : { servers: rdnssServers, lifetime: seconds(r.rdnss?.lifetime) ?? optionLifetime },
    dnssl:
      dnsslDomains.length === 0
        ? null
        : { domains: [...dnsslDomains], lifetime: seconds(r.dnssl?.lifetime) ?? optionLifetime },
    pref64:
      r.pref64 === undefined
        ? null
        : { prefix: prefix(r.pref64.prefix), lifetime: r.pref64.lifetime ?? defaultPref64Lifetime(maxInterval) },
  };

  const times = defaultDhcpv6Times({
    t1: seconds(d.t1),
    t2: seconds(d.t2),
    preferredLifetime: seconds(d.preferredLifetime),
    validLifetime: seconds(d.validLifetime),
  });
  const dhcpv6: Dhcpv6Config = {
    mode,
    dnsServers: (d.dnsServers ?? raw.dns?.servers ?? []).map(address),
    domainSearch: [...(d.domainSearch ?? raw.dns?.search ?? [])],
    ntpServers: (d.ntpServers ?? []).map(address),
    ...times,
    informationRefreshTime: seconds(d.informationRefreshTime) ?? Defaults.informationRefreshTime,
    rapidCommit: d.rapidCommit ?? Defaults.rapidCommit,
    solMaxRt: d.solMaxRt ?? null,
    infMaxRt: d.infMaxRt ?? null,
    addressPools: (d.addressPools ?? []).map((t) => parseIpv6Pool(t)!.model),
    prefixDelegation: (d.prefixDelegation ?? []).map((pd) => ({
      prefix: prefix(pd.prefix),
      delegatedLength: pd.delegatedLength,
    })),
    trustedRelays: (d.trustedRelays ?? []).map((t) => prefix(t.includes('/') ? t : `${t}/128`)),
  };

  return {
    name: raw.name,
    vlan: attachment.vlan,
    interface: attachment.interfaceName,
    mtu: raw.mtu ?? Defaults.mtu,
    routerMac,
    routerLinkLocal:
      raw.routerLinkLocal === undefined ? linkLocalFromMac(routerMac.bytes) : address(raw.routerLinkLocal),
    routerAddresses: (raw.routerAddresses ?? []).map(address),
    prefixes,
    ra,
    dhcpv6,
    mrd: {
      enabled: raw.mrd?.enabled ?? Defaults.mrdEnabled,
      advertisementInterval: raw.mrd?.advertisementInterval ?? Defaults.mrdAdvertisementInterval,
      queryInterval: raw.mrd?.queryInterval ?? Defaults.mrdQueryInterval,
      robustness: raw.mrd?.robustness ?? Defaults.mrdRobustness,
    },
    ports,
  };
}

function normalizeServer(raw: RawConfig['server'], baseDirectory: string): ServerConfig {
  const stateDirectory = resolve(baseDirectory, raw?.stateDirectory ?? Defaults.stateDirectory);
  const leaseFile = raw?.leaseFile ?? Defaults.leaseFile;
  const duidFile = raw?.duidFile ?? Defaults.duidFile;
  return {
    duid: raw?.duid === undefined ? null : parseDuid(raw.duid)!,
    duidFile: isAbsolute(duidFile) ? duidFile : resolve(stateDirectory, duidFile),
    leaseFile: isAbsolute(leaseFile) ? leaseFile : resolve(stateDirectory, leaseFile),
    stateDirectory,
    rateLimit: {
      rate: raw?.rateLimit?.rate ?? Defaults.rateLimitRate,
      burst: raw?.rateLimit?.burst ?? Math.max(raw?.rateLimit?.rate ?? Defaults.rateLimitRate, Defaults.rateLimitBurst),
    },
    leaseLimits: { ...Defaults.leaseLimits, ...raw?.leaseLimits },
  };
}

/**
 * Builds the model, a port a step. `baseDirectory` resolves a relative `server.stateDirectory`; a
 * relative `server.leaseFile` is inside the state directory.
 */
export function* normalize(raw: RawConfig, source: string, baseDirectory: string): Steps<Punt6Config> {
  const ports: PortConfig[] = [];
  const portsOf = new Map<string, PortConfig[]>(raw.networks.map((n) => [n.name, []]));
  for (const p of raw.ports ?? []) {
    if (ports.length > 0) yield;
    const port: PortConfig = {
      name: p.name,
      mac: parseMacAddress(p.mac)!,
      network: p.network,
      addresses: (p.addresses ?? []).map(address),
      delegatedPrefix: p.delegatedPrefix === undefined ? null : prefix(p.delegatedPrefix),
      clientDuid: p.clientDuid === undefined ? null : parseDuid(p.clientDuid)!,
    };
    ports.push(port);
    portsOf.get(p.network)?.push(port);
  }
  // Where each network is attached (check.ts made sure: exactly once, one network per VLAN).
  const vlanOf = new Map(raw.networks.map((n) => [n.name, n.vlan ?? null]));
  const perInterface = raw.interfaces.map((i) => {
    const list: { vlan: number | null; network: string }[] = [];
    if (i.network !== undefined) list.push({ vlan: null, network: i.network });
    for (const n of i.networks ?? []) list.push({ vlan: vlanOf.get(n) ?? null, network: n });
    for (const [vid, n] of Object.entries(i.vlans ?? {})) list.push({ vlan: Number(vid), network: n });
    return list.sort((a, b) => (a.vlan ?? 0) - (b.vlan ?? 0));
  });
  const attachmentOf = new Map<string, Attachment>();
  raw.interfaces.forEach((i, k) => {
    for (const a of perInterface[k]!) attachmentOf.set(a.network, { interfaceName: i.name, vlan: a.vlan });
  });
  const networks = raw.networks.map((n) => normalizeNetwork(n, portsOf.get(n.name)!, attachmentOf.get(n.name)!));
  const byName = new Map(networks.map((n) => [n.name, n]));
  const interfaces: InterfaceConfig[] = raw.interfaces.map((i, k) => {
    const attachments: InterfaceAttachment[] = perInterface[k]!.map((a) => ({
      vlan: a.vlan,
      network: byName.get(a.network)!,
    }));
    return {
      name: i.name,
      untagged: attachments.find((a) => a.vlan === null)?.network ?? null,
      tagged: attachments.filter((a) => a.vlan !== null),
      attachments,
    };
  });
  const metrics = raw.metrics === undefined ? null : parseHostPort(raw.metrics)!;
  return {
    source,
    interfaces,
    networks,
    ports,
    server: normalizeServer(raw.server, baseDirectory),
    metrics,
    log: { level: raw.log?.level ?? Defaults.logLevel },
    control:
      raw.control === undefined
        ? null
        : {
            socket: resolve(baseDirectory, raw.control.socket),
            mode: raw.control.mode === undefined ? Defaults.controlSocketMode : Number.parseInt(raw.control.mode, 8),
          },
  };
}
