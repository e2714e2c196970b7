/**
 * From the normalized configuration (src/config/model.ts) to the responder's runtime model
 * (runtime.ts): networks, ports and punt interfaces indexed by small integers, addresses as
 * bytes, and each network's Router Advertisement built once as a Repr (RFC 4861 §4.2, §6.2.3) with
 * its options in a fixed order: Source Link-Layer Address, MTU, Prefix Information, Route
 * Information (RFC 4191), RDNSS and DNSSL (RFC 8106), PREF64 (RFC 8781).
 */

import { RouterPreference, type NdpOptionRepr } from '../../codecs/ndp-options.js';
import type { RouterAdvertisementRepr } from '../../codecs/ndp.js';
import {
  replyHopLimit,
  type NetworkConfig,
  type Punt6Config,
  type RouterPreference as PreferenceName,
} from '../config/model.js';
import { runSteps, type Steps } from '../system/steps.js';
import type { Runtime, RuntimeInterface, RuntimeNetwork, RuntimePort } from './runtime.js';

const preferenceBits: Record<PreferenceName, number> = {
  low: RouterPreference.Low,
  medium: RouterPreference.Medium,
  high: RouterPreference.High,
};

/** PREF64 prefix length -> its 3-bit code (RFC 8781 §4). */
const pref64Codes: Record<number, number> = { 96: 0, 64: 1, 56: 2, 48: 3, 40: 4, 32: 5 };

/** The RA a network sends (router lifetime as configured; final RAs overwrite it with 0). */
export function routerAdvertisementOf(net: NetworkConfig): RouterAdvertisementRepr {
  const ra = net.ra;
  const options: NdpOptionRepr[] = [{ kind: 'source-link-layer-address', address: net.routerMac.bytes }];
  options.push({ kind: 'mtu', mtu: net.mtu });
  for (const p of net.prefixes) {
    options.push({
      kind: 'prefix-information',
      prefixLength: p.prefix.length,
      onLink: p.onLink,
      autonomous: p.slaac,
      validLifetime: p.validLifetime,
      preferredLifetime: p.preferredLifetime,
      prefix: p.prefix.address,
    });
  }
  for (const r of ra.routes) {
    options.push({
      kind: 'route-information',
      prefixLength: r.prefix.length,
      preference: preferenceBits[r.preference],
      routeLifetime: r.lifetime,
      prefix: r.prefix.address,
    });
  }
  if (ra.rdnss)
    options.push({ kind: 'rdnss', lifetime: ra.rdnss.lifetime, addresses: ra.rdnss.servers.map((s) => s.bytes) });
  if (ra.dnssl) options.push({ kind: 'dnssl', lifetime: ra.dnssl.lifetime, domains: [...ra.dnssl.domains] });
  if (ra.pref64) {
    options.push({
      kind: 'pref64',
      scaledLifetime: Math.min(8191, Math.floor(ra.pref64.lifetime / 8)),
      prefixLengthCode: pref64Codes[ra.pref64.prefix.length] ?? 0,
      prefix: ra.pref64.prefix.address,
    });
  }
  return {
    curHopLimit: ra.curHopLimit,
    managed: ra.managed,
    other: ra.otherConfig,
    preference: preferenceBits[ra.preference],
    routerLifetime: ra.routerLifetime,
    reachableTime: ra.reachableTime,
    retransTimer: ra.retransTimer,
    options,
  };
}

export function buildRuntime(config: Punt6Config): Runtime {
  return runSteps(runtimeSteps(config));
}

/** {@link buildRuntime} in steps of a few hundred ports (src/system/steps.ts). */
export function* runtimeSteps(config: Punt6Config): Steps<Runtime> {
  const networkIndex = new Map<string, number>();
  const networks: RuntimeNetwork[] = config.networks.map((net, index) => {
    networkIndex.set(net.name, index);
    return {
      index,
      name: net.name,
      vlan: net.vlan ?? -1,
      routerMac: net.routerMac.bytes,
      routerLinkLocal: net.routerLinkLocal.bytes,
      routerAddresses: net.routerAddresses.map((a) => a.bytes),
      hopLimit: replyHopLimit(net),
      ra: net.ra.enabled
        ? {
            advertisement: routerAdvertisementOf(net),
            minInterval: net.ra.minInterval,
            maxInterval: net.ra.maxInterval,
            unsolicited: net.ra.unsolicited,
          }
        : undefined,
      mrd: net.mrd.enabled,
      mrdAdvertisementInterval: net.mrd.advertisementInterval,
      mrdQueryInterval: net.mrd.queryInterval,
      mrdRobustness: net.mrd.robustness,
    };
  });
  const ports: RuntimePort[] = [];
  for (let index = 0; index < config.ports.length; index++) {
    if ((index & 255) === 255) yield;
    const p = config.ports[index] as Punt6Config['ports'][number];
    ports.push({
      index,
      name: p.name,
      mac: p.mac.bytes,
      network: networkIndex.get(p.network) ?? -1,
      addresses: p.addresses.map((a) => a.bytes),
    });
  }
  const interfaces: RuntimeInterface[] = config.interfaces.map((itf, index) => {
    let untaggedNetwork = -1;
    const vlanNetworks = new Map<number, number>();
    for (const a of itf.attachments) {
      const n = networkIndex.get(a.network.name) ?? -1;
      if (a.vlan === null) untaggedNetwork = n;
      else vlanNetworks.set(a.vlan, n);
    }
    return { index, name: itf.name, untaggedNetwork, vlanNetworks };
  });
  return { networks, ports, interfaces };
}
