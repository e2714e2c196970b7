/**
 * The normalized punt6 configuration: what `loadConfig` and `parseConfig` return once a YAML file
 * has passed the JSON Schema (schema.ts) and the semantic checks (check.ts), with every default
 * applied (normalize.ts). Nothing in here is optional in the "maybe undefined" sense: an absent
 * feature is `null` or an empty list, so the dispatcher never has to know a default.
 *
 * Addresses and prefixes carry their RFC 5952 text (for logs, metrics and the CLI) beside their
 * bytes (for the hot path: compare and copy 16-byte addresses without parsing).
 *
 * The key names follow the YAML file; docs/configuration.md is the reference for every key.
 */

import type { LogLevel } from '../system/logging.js';

export { LogLevels, type LogLevel } from '../system/logging.js';

/** An IPv6 address: RFC 5952 text and 16 bytes in network order. */
export interface Ipv6Address {
  readonly text: string;
  readonly bytes: Uint8Array;
}

/** An IPv6 prefix: the address bytes (bits after `length` are zero) and the prefix length. */
export interface Ipv6Prefix {
  /** `fd00:1::/64` */
  readonly text: string;
  readonly address: Uint8Array;
  readonly length: number;
}

/** An inclusive range of IPv6 addresses (a DHCPv6 address pool). */
export interface Ipv6AddressRange {
  /** As written in the file, normalized: `fd00::100-fd00::1ff` or `fd00::/112`. */
  readonly text: string;
  readonly first: Uint8Array;
  readonly last: Uint8Array;
}

/** A MAC address: lower-case colon text and 6 bytes. */
export interface MacAddress {
  readonly text: string;
  readonly bytes: Uint8Array;
}

/** The lifetime value that means "infinity" in RAs (RFC 4861 §4.6.2) and DHCPv6 (RFC 9915 §7.7). */
export const INFINITE_LIFETIME = 0xffffffff;

/** Default Router Preference (RFC 4191 §2.1) and Route Information preference (§2.3). */
export const RouterPreferences = ['low', 'medium', 'high'] as const;
export type RouterPreference = (typeof RouterPreferences)[number];

export const Dhcpv6Modes = ['off', 'stateless', 'stateful'] as const;
export type Dhcpv6Mode = (typeof Dhcpv6Modes)[number];

/** Prefix lengths a PREF64 option can carry (RFC 8781 §4, the RFC 6052 lengths). */
export const Pref64Lengths = [32, 40, 48, 56, 64, 96] as const;

export interface Punt6Config {
  /** The file name the configuration was read from (for messages). */
  readonly source: string;
  readonly interfaces: readonly InterfaceConfig[];
  readonly networks: readonly NetworkConfig[];
  /** Every port, in file order; each network also lists its own in `NetworkConfig.ports`. */
  readonly ports: readonly PortConfig[];
  readonly server: ServerConfig;
  /** `null`: no metrics listener. */
  readonly metrics: MetricsConfig | null;
  readonly log: LogConfig;
  /** The control socket of `punt6 run` (`punt6 ctl`); `null`: none. */
  readonly control: ControlConfig | null;
}

/** A punt interface: the OVS port whose frames punt6 reads and answers on. */
export interface InterfaceConfig {
  readonly name: string;
  /** The network of untagged frames; `null`: untagged frames are not answered. */
  readonly untagged: NetworkConfig | null;
  /** Tagged networks, by ascending VLAN id (a trunk). */
  readonly tagged: readonly InterfaceAttachment[];
  /** Every network on this interface: the untagged one first, then `tagged`. */
  readonly attachments: readonly InterfaceAttachment[];
}

export interface InterfaceAttachment {
  /** 802.1Q VLAN id the frames carry on this punt port; `null` for untagged frames. */
  readonly vlan: number | null;
  readonly network: NetworkConfig;
}

export interface NetworkConfig {
  readonly name: string;
  /** The 802.1Q VLAN id its frames carry on its punt interface (1..4094), `null` when untagged. */
  readonly vlan: number | null;
  /** The punt interface the network is attached to. */
  readonly interface: string;
  readonly mtu: number;
  readonly routerMac: MacAddress;
  /** Given, or derived from `routerMac` by modified EUI-64 (RFC 4291 appendix A). */
  readonly routerLinkLocal: Ipv6Address;
  /** Global addresses the router answers NS and echo for. */
  readonly routerAddresses: readonly Ipv6Address[];
  readonly prefixes: readonly PrefixConfig[];
  readonly ra: RaConfig;
  readonly dhcpv6: Dhcpv6Config;
  readonly mrd: MrdConfig;
  /** The ports on this network, in file order. */
  readonly ports: readonly PortConfig[];
}

/** An on-link prefix, advertised in a Prefix Information option (RFC 4861 §4.6.2). */
export interface PrefixConfig {
  readonly prefix: Ipv6Prefix;
  /** L flag. */
  readonly onLink: boolean;
  /** A flag (autonomous address configuration, RFC 4862). */
  readonly slaac: boolean;
  /** Seconds; `INFINITE_LIFETIME` for infinity. */
  readonly validLifetime: number;
  readonly preferredLifetime: number;
}

/** Router Advertisement settings (RFC 4861 §6.2.1 names, in seconds unless noted). */
export interface RaConfig {
  /** Router Advertisements at all (answers to RS and periodic ones). */
  readonly enabled: boolean;
  /** Periodic unsolicited RAs to all-nodes (RFC 4861 §6.2.4); RS are answered either way. */
  readonly unsolicited: boolean;
  readonly minInterval: number;
  readonly maxInterval: number;
  readonly routerLifetime: number;
  /** Milliseconds; 0 = unspecified. */
  readonly reachableTime: number;
  /** Milliseconds; 0 = unspecified. */
  readonly retransTimer: number;
  /** 0 = unspecified. */
  readonly curHopLimit: number;
  /** M flag. */
  readonly managed: boolean;
  /** O flag. */
  readonly otherConfig: boolean;
  readonly preference: RouterPreference;
  readonly routes: readonly RouteConfig[];
  /** `null`: no RDNSS option (no servers). */
  readonly rdnss: RdnssConfig | null;
  /** `null`: no DNSSL option (no domains). */
  readonly dnssl: DnsslConfig | null;
  /** `null`: no PREF64 option. */
  readonly pref64: Pref64Config | null;
}

/** Multicast Router Discovery (RFC 4286): the values of the Multicast Router Advertisement. */
export interface MrdConfig {
  /** MRD on this network: answer Multicast Router Solicitations (RFC 4286 §5). */
  readonly enabled: boolean;
  /** Advertisement Interval field, seconds (RFC 4286 §3.1.1: 4..180). */
  readonly advertisementInterval: number;
  /** Query Interval field: the MLD Query Interval, seconds (RFC 3810 §9.2). */
  readonly queryInterval: number;
  /** Robustness Variable field (RFC 3810 §9.1). */
  readonly robustness: number;
}

/** Route Information option (RFC 4191 §2.3). */
export interface RouteConfig {
  readonly prefix: Ipv6Prefix;
  readonly preference: RouterPreference;
  /** Seconds; `INFINITE_LIFETIME` for infinity. */
  readonly lifetime: number;
}

/** Recursive DNS Server option (RFC 8106 §5.1). */
export interface RdnssConfig {
  readonly servers: readonly Ipv6Address[];
  readonly lifetime: number;
}

/** DNS Search List option (RFC 8106 §5.2). */
export interface DnsslConfig {
  readonly domains: readonly string[];
  readonly lifetime: number;
}

/** PREF64 option (RFC 8781). */
export interface Pref64Config {
  readonly prefix: Ipv6Prefix;
  /** Seconds, at most 65528 (8191 units of 8 s). */
  readonly lifetime: number;
}

/** DHCPv6 server settings (RFC 9915), all times in seconds. */
export interface Dhcpv6Config {
  readonly mode: Dhcpv6Mode;
  readonly dnsServers: readonly Ipv6Address[];
  readonly domainSearch: readonly string[];
  readonly ntpServers: readonly Ipv6Address[];
  readonly t1: number;
  readonly t2: number;
  readonly preferredLifetime: number;
  readonly validLifetime: number;
  readonly informationRefreshTime: number;
  /** Answer a Solicit carrying Rapid Commit with a Reply (RFC 9915 §18.3.1). */
  readonly rapidCommit: boolean;
  /** SOL_MAX_RT (RFC 9915 §21.24), seconds, sent when a client asks for it; null: not sent. */
  readonly solMaxRt: number | null;
  /** INF_MAX_RT (RFC 9915 §21.25), seconds, sent when a client asks for it; null: not sent. */
  readonly infMaxRt: number | null;
  readonly addressPools: readonly Ipv6AddressRange[];
  readonly prefixDelegation: readonly PrefixDelegationPool[];
  /**
   * Relay agents whose Client Link-Layer Address option (RFC 6939) and relayed client DUIDs may
   * name a port: a Relay-forw from one of these source addresses. Relayed requests from any
   * other source are served from the pools only.
   */
  readonly trustedRelays: readonly Ipv6Prefix[];
}

export interface PrefixDelegationPool {
  readonly prefix: Ipv6Prefix;
  /** Length of each delegated prefix, longer than `prefix.length`. */
  readonly delegatedLength: number;
}

/** A VM's port, as the cloud controller knows it (Neutron port / OVN Logical_Switch_Port). */
export interface PortConfig {
  readonly name: string;
  readonly mac: MacAddress;
  /** Name of the port's network. */
  readonly network: string;
  /** Static addresses assigned by the controller. */
  readonly addresses: readonly Ipv6Address[];
  readonly delegatedPrefix: Ipv6Prefix | null;
  /** DHCPv6 client DUID to match as well as the MAC; `null`: match by MAC only. */
  readonly clientDuid: Uint8Array | null;
}

export interface ServerConfig {
  /** The DHCPv6 server DUID if given in the file; `null`: generated once and kept in `duidFile`. */
  readonly duid: Uint8Array | null;
  /** Absolute path of the file that holds the generated server DUID. */
  readonly duidFile: string;
  /** Absolute path of the lease journal. */
  readonly leaseFile: string;
  /** Absolute path of the state directory. */
  readonly stateDirectory: string;
  /** punt6's own token bucket per sender (source MAC) on the punt path: frames/s and burst. */
  readonly rateLimit: { readonly rate: number; readonly burst: number };
  readonly leaseLimits: LeaseLimitsConfig;
}

/** How many pool leases one client, one port and the whole table may hold (docs/leases.md). */
export interface LeaseLimitsConfig {
  /** Per client DUID: IA_NA addresses and IA_PD prefixes. */
  readonly addressesPerClient: number;
  readonly prefixesPerClient: number;
  /** Per port (the MAC the request came from): addresses and prefixes of all its clients. */
  readonly addressesPerPort: number;
  readonly prefixesPerPort: number;
  /** IA_NA options, and IA_PD options, served per Solicit or Request; the rest are refused. */
  readonly iasPerMessage: number;
  /** Leases (addresses and prefixes) in the whole table. */
  readonly maxLeases: number;
}

export interface MetricsConfig {
  /** Host or address to listen on (IPv6 without brackets); `::` when the file gave `:PORT`. */
  readonly host: string;
  readonly port: number;
}

export interface ControlConfig {
  /** Absolute path of the Unix socket (relative in the file: to the file's directory). */
  readonly socket: string;
  /** Its file mode (default 0600: its owner only). */
  readonly mode: number;
}

export interface LogConfig {
  readonly level: LogLevel;
}

/** Hop limit of the replies punt6 originates when the network advertises none (RFC 8200 §3: the IANA default, 64). */
export const DEFAULT_HOP_LIMIT = 64;

/** The hop limit of punt6's own replies on a network: its advertised Cur Hop Limit, else the default. */
export function replyHopLimit(net: NetworkConfig): number {
  return net.ra.curHopLimit > 0 ? net.ra.curHopLimit : DEFAULT_HOP_LIMIT;
}
