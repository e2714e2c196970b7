/**
 * Multicast Router Discovery Solicitation -> Multicast Router Advertisement (RFC 4286 §3, §4).
 * A solicitation (sent with hop limit 1) is answered on the sender's link with an advertisement
 * to All-Snoopers (ff02::6a), from the router's link-local address, hop limit 1, carrying a
 * Hop-by-Hop Router Alert option (RFC 4286 §2; RFC 2711 value 0, as MLD uses). Nothing in it
 * depends on the solicitation but the link, so each network's packet (IPv6 header on) is built
 * once by the codecs' emitters, checksum included, and an answer puts an Ethernet header in
 * front of a copy.
 */

import { ipv6MulticastMac } from '../../../codecs/ethernet.js';
import type { FrameDecoder } from '../../../codecs/frame.js';
import { fillIcmpv6Checksum, Icmpv6Field } from '../../../codecs/icmpv6.js';
import {
  ALL_SNOOPERS,
  emitIpv6,
  emitRouterAlertHopByHop,
  IPV6_HEADER_LENGTH,
  IpProtocol,
  Ipv6Field,
  ROUTER_ALERT_HOP_BY_HOP_LENGTH,
  ROUTER_ALERT_MLD,
} from '../../../codecs/ipv6.js';
import { emitMrd, MRD_ADVERTISEMENT_LENGTH, MRD_HOP_LIMIT } from '../../../codecs/mrd.js';
import { Answer } from './answer.js';
import { Outcome } from '../counters.js';
import type { NetworkState } from '../network-state.js';
import type { Reply } from '../reply.js';
import type { RuntimeNetwork } from '../runtime.js';

const ALL_SNOOPERS_MAC = ipv6MulticastMac(ALL_SNOOPERS);
const ALL_SNOOPERS_MAC_WORDS = new DataView(ALL_SNOOPERS_MAC.buffer, ALL_SNOOPERS_MAC.byteOffset, 6);
const NO_PACKET = new Uint8Array(0);

/** A network's advertisement from its IPv6 header on, or nothing when it does not answer MRD. */
function advertisementOf(net: RuntimeNetwork): Uint8Array {
  if (!net.mrd) return NO_PACKET;
  const payload = ROUTER_ALERT_HOP_BY_HOP_LENGTH + MRD_ADVERTISEMENT_LENGTH;
  const p = new Uint8Array(IPV6_HEADER_LENGTH + payload);
  let o = emitIpv6(
    {
      source: net.routerLinkLocal,
      destination: ALL_SNOOPERS,
      nextHeader: IpProtocol.HopByHop,
      hopLimit: MRD_HOP_LIMIT,
      payloadLength: payload,
    },
    p,
    0,
  );
  o += emitRouterAlertHopByHop(IpProtocol.Icmpv6, ROUTER_ALERT_MLD, p, o);
  emitMrd(
    {
      kind: 'advertisement',
      advertisementInterval: net.mrdAdvertisementInterval,
      queryInterval: net.mrdQueryInterval,
      robustnessVariable: net.mrdRobustness,
    },
    p,
    o,
  );
  fillIcmpv6Checksum(p, Ipv6Field.Source, Ipv6Field.Destination, o, MRD_ADVERTISEMENT_LENGTH);
  return p;
}

export class MrdAnswer extends Answer {
  /** Per network index: its advertisement from the IPv6 header on. */
  private readonly advertisements: Uint8Array[];

  constructor(decoder: FrameDecoder, reply: Reply, networks: readonly RuntimeNetwork[]) {
    super(decoder, reply);
    this.advertisements = networks.map(advertisementOf);
  }

  /** Answers the MRD solicitation the decoder holds (decoded Ok: its 4 bytes are there). */
  multicastRouterSolicitation(rx: Uint8Array, off: number, st: NetworkState): Outcome {
    const d = this.decoder;
    if (!st.net.mrd) return Outcome.NoService;
    if (d.ipv6.hopLimit !== MRD_HOP_LIMIT || rx[d.upperOffset + Icmpv6Field.Code] !== 0) return Outcome.Invalid;
    const ipOff = this.reply.toGroup(ALL_SNOOPERS_MAC_WORDS, rx, off, st.routerMac);
    const packet = this.advertisements[st.net.index] as Uint8Array;
    this.tx.set(packet, ipOff);
    this.reply.length = ipOff + packet.length;
    return Outcome.Answered;
  }
}
