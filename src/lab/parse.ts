/**
 * Reading what the real clients in the lab's VMs print: rdisc6, ndisc6, ping, `ip -j`, the
 * variables dhclient hands its script, and punt6's Prometheus metrics. Pure functions.
 */

export interface Rdisc6Result {
  /** The RA's source address (`from …`). */
  from: string | null;
  managed: boolean | null;
  otherConfig: boolean | null;
  routerLifetime: number | null;
  prefixes: string[];
  mtu: number | null;
  rdnss: string[];
  dnssl: string[];
  sourceLinkLayer: string | null;
}

/** The first RA rdisc6 printed (its verbose format, the default). */
export function parseRdisc6(text: string): Rdisc6Result {
  const r: Rdisc6Result = {
    from: null,
    managed: null,
    otherConfig: null,
    routerLifetime: null,
    prefixes: [],
    mtu: null,
    rdnss: [],
    dnssl: [],
    sourceLinkLayer: null,
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const from = /^from (\S+)/.exec(line);
    if (from) {
      // rdisc6 closes each advertisement with its source: the first one ends here.
      r.from = from[1] as string;
      break;
    }
    const m = /^([^:]+?)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = (m[1] as string).toLowerCase();
    const value = (m[2] as string).trim();
    if (key === 'stateful address conf.') r.managed = value === 'Yes';
    else if (key === 'stateful other conf.') r.otherConfig = value === 'Yes';
    else if (key === 'router lifetime') r.routerLifetime = Number.parseInt(value, 10);
    else if (key === 'prefix') r.prefixes.push(value);
    else if (key === 'mtu') r.mtu = Number.parseInt(value, 10);
    else if (key === 'recursive dns server') r.rdnss.push(value);
    else if (key === 'dns search list') r.dnssl.push(...value.split(/\s+/).filter((d) => d !== ''));
    else if (key === 'source link-layer address') r.sourceLinkLayer = value.toLowerCase();
  }
  return r;
}

/** The target link-layer address ndisc6 printed, lower case, or null. */
export function parseNdisc6(text: string): string | null {
  const m = /Target link-layer address:\s*([0-9A-Fa-f:]+)/.exec(text);
  return m ? (m[1] as string).toLowerCase() : null;
}

export interface PingResult {
  transmitted: number;
  received: number;
  /** Average round trip in milliseconds, or null when nothing came back. */
  avgMs: number | null;
}

export function parsePing(text: string): PingResult {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  const rtt = /(?:rtt|round-trip) min\/avg\/max\/(?:mdev|stddev) = [\d.]+\/([\d.]+)\//.exec(text);
  return {
    transmitted: counts ? Number(counts[1]) : 0,
    received: counts ? Number(counts[2]) : 0,
    avgMs: rtt ? Number(rtt[1]) : null,
  };
}

export interface InterfaceAddress {
  address: string;
  prefixLength: number;
  scope: string;
  /** Configured by the kernel from an RA (SLAAC): `dynamic` in `ip addr`. */
  dynamic: boolean;
  tentative: boolean;
}

/** `ip -j -6 addr show dev IF`. */
export function parseIpAddr(json: string): InterfaceAddress[] {
  const links = JSON.parse(json || '[]') as { addr_info?: Record<string, unknown>[] }[];
  const out: InterfaceAddress[] = [];
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if (a.family !== 'inet6') continue;
      out.push({
        address: String(a.local),
        prefixLength: Number(a.prefixlen),
        scope: String(a.scope),
        dynamic: a.dynamic === true,
        tentative: a.tentative === true,
      });
    }
  }
  return out;
}

export interface DefaultRoute {
  gateway: string;
  dev: string;
}

/** `ip -j -6 route show default`. */
export function parseDefaultRoutes(json: string): DefaultRoute[] {
  const routes = JSON.parse(json || '[]') as Record<string, unknown>[];
  return routes
    .filter((r) => r.dst === 'default' && typeof r.gateway === 'string')
    .map((r) => ({ gateway: String(r.gateway), dev: String(r.dev) }));
}

/** One invocation of dhclient's script: the reason and the variables it was given. */
export type DhclientEvent = Record<string, string>;

/**
 * The record the lab's dhclient script writes: blocks starting with a line `--- REASON`, then
 * `name=value` lines (values may contain spaces; they never contain new lines), then `--- end`.
 * A block without its end line is still being written and is left out.
 */
export function parseDhclientRecord(text: string): DhclientEvent[] {
  const events: DhclientEvent[] = [];
  let current: DhclientEvent | null = null;
  for (const line of text.split('\n')) {
    if (line === '--- end') {
      if (current !== null) events.push(current);
      current = null;
    } else if (line.startsWith('--- ')) {
      current = { reason: line.slice(4).trim() };
    } else {
      const eq = line.indexOf('=');
      if (current !== null && eq > 0) current[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return events;
}

/** The last event whose reason is one of `reasons`. */
export function lastEvent(events: DhclientEvent[], reasons: readonly string[]): DhclientEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as DhclientEvent;
    if (reasons.includes(e.reason ?? '')) return e;
  }
  return undefined;
}

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition format (the subset prom-client writes). */
export function parsePrometheus(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    for (const l of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1] as string, labels, value: Number(m[4]) });
  }
  return out;
}

export function formatSample(s: MetricSample): string {
  const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`);
  return labels.length === 0 ? s.name : `${s.name}{${labels.join(',')}}`;
}

/** Domain names compared without their trailing dot and case. */
export function sameDomains(a: readonly string[], b: readonly string[]): boolean {
  const norm = (xs: readonly string[]): string =>
    xs
      .map((x) => x.toLowerCase().replace(/\.$/, ''))
      .sort()
      .join(' ');
  return norm(a) === norm(b);
}

/** IPv6 address lists compared as sets of canonical text (the inputs are already RFC 5952). */
export function sameAddresses(a: readonly string[], b: readonly string[]): boolean {
  return (
    [...a]
      .map((x) => x.toLowerCase())
      .sort()
      .join(' ') ===
    [...b]
      .map((x) => x.toLowerCase())
      .sort()
      .join(' ')
  );
}

export interface FlowStat {
  packets: number;
  priority: number;
  /** The match fields, as ovs-ofctl prints them (`icmp6,in_port=1,icmp_type=133,…`). */
  match: string;
  actions: string;
}

/** `ovs-ofctl dump-flows BRIDGE`. */
export function parseFlowDump(text: string): FlowStat[] {
  const out: FlowStat[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('cookie=')) continue;
    const packets = /n_packets=(\d+)/.exec(line);
    const rule = /priority=(\d+)(?:,(\S*))?\s+actions=(.*)$/.exec(line);
    if (!packets || !rule) continue;
    out.push({
      packets: Number(packets[1]),
      priority: Number(rule[1]),
      match: rule[2] ?? '',
      actions: rule[3] as string,
    });
  }
  return out;
}

/** The value of one `name=value` field of a flow match, or undefined. */
export function matchField(match: string, name: string): string | undefined {
  for (const part of match.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) === name) return part.slice(eq + 1);
  }
  return undefined;
}
