/**
 * The responder's own view of the configuration: flat, byte-oriented, indexed by small integers,
 * built once (see `buildRuntime` in src/responder/from-config.ts) and read by the dispatcher on
 * every frame. Nothing here is parsed per packet.
 */

import type { RouterAdvertisementRepr } from '../../codecs/ndp.js';

export interface RuntimeRouterAdvertisements {
  /** The RA body (options included) sent on every RA of the network. */
  advertisement: RouterAdvertisementRepr;
  /** RFC 4861 §6.2.1 MinRtrAdvInterval / MaxRtrAdvInterval, seconds. */
  minInterval: number;
  maxInterval: number;
  /** Periodic unsolicited RAs on (RS are answered either way while the network has RAs). */
  unsolicited: boolean;
}

export interface RuntimeNetwork {
  index: number;
  name: string;
  /** 802.1Q VLAN id on a shared punt port, or -1. */
  vlan: number;
  routerMac: Uint8Array;
  routerLinkLocal: Uint8Array;
  /** Global (and any further) router addresses; the link-local one is routerLinkLocal. */
  routerAddresses: Uint8Array[];
  /** Hop limit of the replies punt6 originates (echo replies); ND messages always use 255. */
  hopLimit: number;
  /** Router advertisements, or undefined when the network sends none. */
  ra: RuntimeRouterAdvertisements | undefined;
  /** Multicast Router Discovery (RFC 4286) answered on this network. */
  mrd: boolean;
  /** MRD advertisement interval (seconds) and the MLD query interval / robustness it advertises. */
  mrdAdvertisementInterval: number;
  mrdQueryInterval: number;
  mrdRobustness: number;
}

export interface RuntimePort {
  index: number;
  name: string;
  mac: Uint8Array;
  network: number;
  /** Addresses the controller assigned to this port. */
  addresses: Uint8Array[];
}

/** One punt interface: the untagged network and the VLAN -> network map of a trunk. */
export interface RuntimeInterface {
  index: number;
  name: string;
  untaggedNetwork: number;
  vlanNetworks: Map<number, number>;
}

export interface Runtime {
  networks: RuntimeNetwork[];
  ports: RuntimePort[];
  interfaces: RuntimeInterface[];
}
