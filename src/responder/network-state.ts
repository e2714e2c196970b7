/**
 * What the answers know of each network and each punt interface, built once from the runtime
 * model (runtime.ts) when the dispatcher is made; nothing here runs per packet.
 *
 * Per network: every address punt6 answers Neighbor Solicitations for (the router's, then the
 * ports' for proxy ND), keyed by its 16 bytes, with the owner of each and the Neighbor
 * Advertisement prebuilt for it (na-templates.ts); the network's Router Advertiser; the router's
 * MAC and link-local address in the forms the answers copy them from. Per interface: which
 * network each VLAN (or untagged traffic) belongs to, and per network the links it is reached on.
 */

import { NO_VLAN } from '../../codecs/ethernet.js';
import { macWords, type MacWords } from '../../codecs/word-view.js';
import { AddressTable } from '../tables/address-table.js';
import { NeighborAdvertisementTemplates } from './na-templates.js';
import { RouterAdvertiser, type NetworkLink, type Random } from './router-advertiser.js';
import type { Runtime, RuntimeNetwork } from './runtime.js';
import { runSteps, type Steps } from '../system/steps.js';

/** The owner of an address entry that is the router's; a port's is its index + 1. */
export const ROUTER_OWNER = 0;

/** The VLAN slot of untagged frames in a VLAN map (ids are 0..4095). */
export const UNTAGGED_SLOT = 4096;

export interface NetworkState {
  net: RuntimeNetwork;
  routerMac: MacWords;
  /** The router's link-local address, for word copies (a view of its own, made once). */
  routerLinkLocal: DataView;
  /** Address -> its entry: the index into `owners` and `advertisements`. */
  owned: AddressTable;
  /** Per entry: ROUTER_OWNER for the router, port index + 1 for a port. */
  owners: Int32Array;
  /** Per entry: the NA answering an NS for that address (na-templates.ts). */
  advertisements: NeighborAdvertisementTemplates;
  ra: RouterAdvertiser | undefined;
}

export function networkStates(runtime: Runtime, random: Random): NetworkState[] {
  return runSteps(networkStateSteps(runtime, random));
}

/**
 * {@link networkStates} in steps of a few addresses (src/system/steps.ts): they grow with the
 * ports, and a reload builds them while the running dispatcher answers.
 */
export function* networkStateSteps(runtime: Runtime, random: Random): Steps<NetworkState[]> {
  const states: NetworkState[] = [];
  for (const net of runtime.networks) {
    // Every address punt6 answers for on this network: the router's, then the ports' (proxy
    // ND, answered with the port's MAC). An address listed twice keeps its last entry.
    const entries: { address: Uint8Array; owner: number; mac: Uint8Array }[] = [
      net.routerLinkLocal,
      ...net.routerAddresses,
    ].map((address) => ({ address, owner: ROUTER_OWNER, mac: net.routerMac }));
    for (let i = 0; i < runtime.ports.length; i++) {
      if ((i & 255) === 255) yield;
      const p = runtime.ports[i] as (typeof runtime.ports)[number];
      if (p.network === net.index)
        for (const address of p.addresses) entries.push({ address, owner: p.index + 1, mac: p.mac });
    }
    const owned = new AddressTable(entries.length);
    const owners = new Int32Array(entries.length);
    const advertisements = new NeighborAdvertisementTemplates(entries.length);
    for (let i = 0; i < entries.length; i++) {
      if ((i & 7) === 7) yield;
      const e = entries[i] as (typeof entries)[number];
      owned.set(e.address, 0, i);
      owners[i] = e.owner;
      advertisements.set(i, e.address, e.mac, e.owner === ROUTER_OWNER);
    }
    const ll = net.routerLinkLocal;
    states.push({
      net,
      routerMac: macWords(net.routerMac),
      routerLinkLocal: new DataView(ll.buffer, ll.byteOffset, 16),
      owned,
      owners,
      advertisements,
      ra: net.ra ? new RouterAdvertiser(net, net.ra, random) : undefined,
    });
    yield;
  }
  return states;
}

/**
 * Per interface: UNTAGGED_SLOT + 1 slots, a VLAN id (or UNTAGGED_SLOT) -> network index or -1,
 * VLAN id 0 (priority-tagged) the same as untagged;
 * and per network, the (interface, VLAN) links it is reached on, for its multicast RAs.
 */
export function vlanMaps(runtime: Runtime): { maps: Int16Array[]; links: NetworkLink[][] } {
  const links: NetworkLink[][] = runtime.networks.map(() => []);
  const maps = runtime.interfaces.map((itf) => {
    const m = new Int16Array(UNTAGGED_SLOT + 1).fill(-1);
    if (itf.untaggedNetwork >= 0) {
      m[UNTAGGED_SLOT] = itf.untaggedNetwork;
      // VLAN id 0 is a priority tag: the frame is untagged, with a priority (IEEE 802.1Q §9.6).
      m[0] = itf.untaggedNetwork;
      links[itf.untaggedNetwork]?.push({ ifIndex: itf.index, vlan: NO_VLAN });
    }
    for (const [vid, n] of itf.vlanNetworks) {
      m[vid] = n;
      links[n]?.push({ ifIndex: itf.index, vlan: vid });
    }
    return m;
  });
  return { maps, links };
}
