/**
 * Inverse Neighbor Discovery Solicitation -> Advertisement (RFC 3122 §4): "which addresses has
 * this MAC?", answered for the ports with the port's addresses. The advertisement of each port
 * (RFC 3122 §2.2: the port's MAC as Source and Target Link-Layer Address, its addresses as the
 * Target Address List) is built once by the codec's emitter; an answer copies it behind the
 * headers, from the port's first address to the solicitation's source, and fills the checksum.
 */

import { copyAddr, isMulticast, isUnspecified } from '../../../codecs/bytes.js';
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
import type { RuntimePort } from '../runtime.js';

const NO_ADVERTISEMENT = new Uint8Array(0);

/** The Inverse NA of a port (checksum 0), or nothing for a port without addresses. */
function advertisementOf(port: RuntimePort): Uint8Array {
  if (port.addresses.length === 0) return NO_ADVERTISEMENT;
  const repr: InverseNdRepr = {
    type: Icmpv6Type.InverseNeighborAdvertisement,
    options: [
      { kind: 'source-link-layer-address', address: port.mac },
      { kind: 'target-link-layer-address', address: port.mac },
      { kind: 'target-address-list', addresses: port.addresses },
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

  constructor(decoder: FrameDecoder, reply: Reply, ports: readonly RuntimePort[], portByMac: MacTable) {
    super(decoder, reply);
    this.ports = ports;
    this.portByMac = portByMac;
    this.portMacs = ports.map((p) => macWords(p.mac));
    this.advertisements = ports.map(advertisementOf);
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
    // Not ports[-1]: a negative index is a slow, megamorphic property lookup in V8.
    const portIndex = this.portByMac.lookup(rx, target + LinkLayerAddressField.Address);
    const port = portIndex < 0 ? undefined : this.ports[portIndex];
    if (port === undefined || port.network !== st.net.index || port.addresses.length === 0) return Outcome.NotOurs;
    const t = this.tx;
    const ipOff = this.reply.toSender(rx, off, this.portMacs[port.index] as MacWords);
    const icmp = ipOff + IPV6_HEADER_LENGTH;
    const message = this.advertisements[port.index] as Uint8Array;
    t.set(message, icmp);
    emitIpv6Fixed(t, ipOff, message.length, IpProtocol.Icmpv6, ND_HOP_LIMIT);
    copyAddr(port.addresses[0] as Uint8Array, 0, t, ipOff + Ipv6Field.Source);
    copyAddr(rx, ip.sourceOffset, t, ipOff + Ipv6Field.Destination);
    fillIcmpv6Checksum(t, ipOff + Ipv6Field.Source, ipOff + Ipv6Field.Destination, icmp, message.length);
    this.reply.length = icmp + message.length;
    return Outcome.Answered;
  }
}
