/**
 * Inverse Neighbor Discovery Solicitation -> Advertisement (RFC 3122 §4): "which addresses has
 * this MAC?", answered for the ports with the port's addresses, and for the network's router
 * MAC with the router's link-local and other addresses. The advertisement of each port and each
 * network's router (RFC 3122 §2.2: the MAC as Source and Target Link-Layer Address, the
 * addresses as the Target Address List) is built once by the codec's emitter; an answer copies
 * it behind the headers, from the first address listed to the solicitation's source, and fills
 * the checksum.
 */

import { bytesEqual, copyAddr, isMulticast, isUnspecified } from '../../../codecs/bytes.js';
import type { FrameDecoder } from '../../../codecs/frame.js';
import { fillIcmpv6Checksum, Icmpv6Type } from '../../../codecs/icmpv6.js';
import { emitInverseNd, inverseNdLength, type InverseNdRepr } from '../../../codecs/inverse-nd.js';
import { emitIpv6Fixed, IPV6_HEADER_LENGTH, IpProtocol, Ipv6Field } from '../../../codecs/ipv6.js';
import { ND_HOP_LIMIT } from '../../../codecs/ndp.js';
import { LinkLayerAddressField, NdpOptionField } from '../../../codecs/ndp-options.js';
import { macWords, type MacWords } from '../../../codecs/word-view.js';
import type { MacTable } from '../../tables/mac-table.js';
import { Answer } from './answer.js';
import { Outcome } from '../counters.js';
import type { NetworkState } from '../network-state.js';
import type { Reply } from '../reply.js';
import type { RuntimeNetwork, RuntimePort } from '../runtime.js';

const NO_ADVERTISEMENT = new Uint8Array(0);

/** The Inverse NA for a MAC and its addresses (checksum 0), or nothing without addresses. */
function advertisementOf(mac: Uint8Array, addresses: readonly Uint8Array[]): Uint8Array {
  if (addresses.length === 0) return NO_ADVERTISEMENT;
  const repr: InverseNdRepr = {
    type: Icmpv6Type.InverseNeighborAdvertisement,
    options: [
      { kind: 'source-link-layer-address', address: mac },
      { kind: 'target-link-layer-address', address: mac },
      { kind: 'target-address-list', addresses: [...addresses] },
    ],
  };
  const message = new Uint8Array(inverseNdLength(repr));
  emitInverseNd(repr, message, 0);
  return message;
}

export class InverseNdAnswer extends Answer {
  private readonly ports: readonly RuntimePort[];
  private readonly portByMac: MacTable;
  /** Per port index: its MAC as words, and its advertisement. */
  private readonly portMacs: MacWords[];
  private readonly advertisements: Uint8Array[];
  /** Per network index: its router's MAC, and the router's advertisement (link-local first). */
  private readonly routerMacs: Uint8Array[];
  private readonly routerAdvertisements: Uint8Array[];

  constructor(
    decoder: FrameDecoder,
    reply: Reply,
    ports: readonly RuntimePort[],
    portByMac: MacTable,
    networks: readonly RuntimeNetwork[],
  ) {
    super(decoder, reply);
    this.ports = ports;
    this.portByMac = portByMac;
    this.portMacs = ports.map((p) => macWords(p.mac));
    this.advertisements = ports.map((p) => advertisementOf(p.mac, p.addresses));
    this.routerMacs = networks.map((n) => n.routerMac);
    this.routerAdvertisements = networks.map((n) =>
      advertisementOf(n.routerMac, [n.routerLinkLocal, ...n.routerAddresses]),
    );
  }

  /**
   * Answers the Inverse NS the decoder holds (decoded Ok: code 0, and the Source and Target
   * Link-Layer Address options RFC 3122 §2.1 requires are there).
   */
  inverseNeighborSolicitation(rx: Uint8Array, off: number, st: NetworkState): Outcome {
    const d = this.decoder;
    const ip = d.ipv6;
    if (ip.hopLimit !== ND_HOP_LIMIT) return Outcome.Invalid;
    // The advertisement goes to the solicitation's source (RFC 3122 §2.2): a unicast address.
    if (isUnspecified(rx, ip.sourceOffset) || isMulticast(rx, ip.sourceOffset)) return Outcome.Invalid;
    // The MAC asked about: an Ethernet address fills a one-unit option.
    const target = d.ndpOptions.targetLinkLayerOption;
    if (rx[target + NdpOptionField.Length] !== 1) return Outcome.Invalid;
    const asked = target + LinkLayerAddressField.Address;
    const net = st.net.index;
    if (bytesEqual(rx, asked, this.routerMacs[net] as Uint8Array, 0, 6))
      return this.answer(rx, off, st.routerMac, this.routerAdvertisements[net] as Uint8Array, st.net.routerLinkLocal);
    // Not ports[-1]: a negative index is a slow, megamorphic property lookup in V8.
    const portIndex = this.portByMac.lookup(rx, asked);
    const port = portIndex < 0 ? undefined : this.ports[portIndex];
    if (port === undefined || port.network !== net || port.addresses.length === 0) return Outcome.NotOurs;
    const message = this.advertisements[port.index] as Uint8Array;
    return this.answer(rx, off, this.portMacs[port.index] as MacWords, message, port.addresses[0] as Uint8Array);
  }

  /** The advertisement `message` from `mac` and `source` to the solicitation's sender. */
  private answer(rx: Uint8Array, off: number, mac: MacWords, message: Uint8Array, source: Uint8Array): Outcome {
    const ip = this.decoder.ipv6;
    const t = this.tx;
    const ipOff = this.reply.toSender(rx, off, mac);
    const icmp = ipOff + IPV6_HEADER_LENGTH;
    t.set(message, icmp);
    emitIpv6Fixed(t, ipOff, message.length, IpProtocol.Icmpv6, ND_HOP_LIMIT);
    copyAddr(source, 0, t, ipOff + Ipv6Field.Source);
    copyAddr(rx, ip.sourceOffset, t, ipOff + Ipv6Field.Destination);
    fillIcmpv6Checksum(t, ipOff + Ipv6Field.Source, ipOff + Ipv6Field.Destination, icmp, message.length);
    this.reply.length = icmp + message.length;
    return Outcome.Answered;
  }
}
