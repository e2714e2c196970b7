/**
 * What the DHCPv6 server knows of each configured network, prepared once: the configuration, its
 * ports by MAC and by DUID, and the configuration options it sends as they are, encoded once;
 * and the questions the server asks of a link's configuration (which addresses and prefixes fit
 * it, which relays it trusts, which network a relay's link-address names).
 */

import { addrEqual, compareAddr, hostBitsZero, inPrefix } from '../../codecs/bytes.js';
import type { NetworkConfig, PortConfig } from '../config/model.js';
import { BytesMap } from '../tables/bytes-map.js';
import { MacTable } from '../tables/mac-table.js';
import { LeaseType } from './leases.js';

/** An option encoded once, header included: `len` octets at `off` of the server's encoded options; `len` 0: none. */
export interface EncodedOption {
  off: number;
  len: number;
}

/** One configured network, as the server uses it. */
export interface ServerNetwork {
  index: number;
  config: NetworkConfig;
  /** Indexes into `config.ports` by MAC. */
  portsByMac: MacTable;
  /** Ports with a configured DUID, by DUID. */
  portsByDuid: BytesMap<PortConfig>;
  /** RFC 3646 §3. */
  dnsServers: EncodedOption;
  /** RFC 3646 §4. */
  domainSearch: EncodedOption;
  /** RFC 5908, one server-address suboption per server. */
  ntpServers: EncodedOption;
}

/** The ports of a network by MAC and by configured DUID. */
export function portIndexes(config: NetworkConfig): Pick<ServerNetwork, 'portsByMac' | 'portsByDuid'> {
  const portsByMac = new MacTable(config.ports.map((p, value) => ({ mac: p.mac.bytes, value })));
  const portsByDuid = new BytesMap<PortConfig>();
  for (const p of config.ports) if (p.clientDuid) portsByDuid.set(p.clientDuid, 0, 0, p);
  return { portsByMac, portsByDuid };
}

/**
 * The port at index i (a MacTable value), or null for -1. Never index an array with -1: V8 takes
 * that for a property name and looks it up the slow, megamorphic way.
 */
export function portAt(net: ServerNetwork, i: number): PortConfig | null {
  return i < 0 ? null : (net.config.ports[i] ?? null);
}

/** True when the 16-byte address at a[ao] is in an on-link prefix or an address pool of the link. */
export function addressOnLink(net: ServerNetwork, a: Uint8Array, ao: number): boolean {
  for (const pfx of net.config.prefixes) if (inPrefix(a, ao, pfx.prefix.address, pfx.prefix.length)) return true;
  for (const pool of net.config.dhcpv6.addressPools) {
    if (compareAddr(a, ao, pool.first, 0) >= 0 && compareAddr(a, ao, pool.last, 0) <= 0) return true;
  }
  return false;
}

/** True when prefix a[ao]/len lies inside a prefix delegation pool of the link. */
export function prefixFits(net: ServerNetwork, a: Uint8Array, ao: number, len: number): boolean {
  for (const pool of net.config.dhcpv6.prefixDelegation) {
    if (len >= pool.prefix.length && inPrefix(a, ao, pool.prefix.address, pool.prefix.length)) return true;
  }
  return false;
}

/**
 * True when the address, or the prefix address/length, is a position of one of the link's pools:
 * an address pool's range, or a delegated prefix of a pool's delegated length.
 */
export function poolPosition(net: ServerNetwork, type: LeaseType, a: Uint8Array, prefixLength: number): boolean {
  const cfg = net.config.dhcpv6;
  if (type === LeaseType.Address) {
    for (const pool of cfg.addressPools)
      if (compareAddr(a, 0, pool.first, 0) >= 0 && compareAddr(a, 0, pool.last, 0) <= 0) return true;
    return false;
  }
  for (const pool of cfg.prefixDelegation) {
    if (
      prefixLength === pool.delegatedLength &&
      inPrefix(a, 0, pool.prefix.address, pool.prefix.length) &&
      hostBitsZero(a, 0, prefixLength)
    )
      return true;
  }
  return false;
}

/** Whether the network trusts the relay whose address is the 16 bytes at a[ao] (`dhcpv6.trustedRelays`). */
export function relayTrusted(net: ServerNetwork, a: Uint8Array, ao: number): boolean {
  for (const r of net.config.dhcpv6.trustedRelays) if (inPrefix(a, ao, r.address, r.length)) return true;
  return false;
}

/** The index of the network whose link the address at b[a] is on (a prefix, or a router address), or -1. */
export function networkOfLinkAddress(networks: readonly ServerNetwork[], b: Uint8Array, a: number): number {
  for (const n of networks) {
    for (const pfx of n.config.prefixes) if (inPrefix(b, a, pfx.prefix.address, pfx.prefix.length)) return n.index;
    if (addrEqual(b, a, n.config.routerLinkLocal.bytes, 0)) return n.index;
    for (const r of n.config.routerAddresses) if (addrEqual(b, a, r.bytes, 0)) return n.index;
  }
  return -1;
}
