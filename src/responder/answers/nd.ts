/**
 * Neighbor Solicitation -> Neighbor Advertisement (RFC 4861 §7.1.1, §7.2.3, §7.2.4), for the
 * router's addresses and, as a proxy, for the ports' addresses (answered with the port's MAC).
 * A DAD probe (from `::`) for an address punt6 answers for is defended: the NA goes to all nodes,
 * and the frame counts as a conflict. A port's solicitation for its own address is left alone.
 *
 * The NA is the prebuilt frame of its address (na-templates.ts, built by the codecs' emitters),
 * copied in one native copy and patched for the solicitation: the destination MAC and address,
 * the VLAN tag's TCI, the S flag and the checksum, which adds only the destination's words to the
 * template's sum. Nothing is allocated.
 */

import { isMulticast, isSolicitedNode, isUnspecified } from '../../../codecs/bytes.js';
import { fold } from '../../../codecs/checksum.js';
import { EthernetField, ETHERNET_HEADER_LENGTH, VLAN_TAG_LENGTH } from '../../../codecs/ethernet.js';
import type { FrameDecoder } from '../../../codecs/frame.js';
import { Icmpv6Field } from '../../../codecs/icmpv6.js';
import { ALL_NODES, IPV6_HEADER_LENGTH, Ipv6Field } from '../../../codecs/ipv6.js';
import { ND_HOP_LIMIT, NeighborAdvertisementFlag, NeighborField } from '../../../codecs/ndp.js';
import { copyAddressWords, copyMacWords, wordView } from '../../../codecs/word-view.js';
import type { MacTable } from '../../tables/mac-table.js';
import { Answer } from './answer.js';
import { Outcome } from '../counters.js';
import type { NeighborAdvertisementTemplates } from '../na-templates.js';
import { ROUTER_OWNER, type NetworkState } from '../network-state.js';
import type { Reply } from '../reply.js';
import type { RuntimePort } from '../runtime.js';

/** ff02::1's MAC (RFC 2464 §7) as two words for word stores: 33:33:00:00 and 00:01. */
const ALL_NODES_MAC_HIGH = 0x33330000;
const ALL_NODES_MAC_LOW = 0x0001;
const ALL_NODES_WORDS = new DataView(ALL_NODES.buffer, ALL_NODES.byteOffset, 16);

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const ethernetField = EthernetField;
const ethernetHeaderLength = ETHERNET_HEADER_LENGTH;
const vlanTagLength = VLAN_TAG_LENGTH;
const ipv6Field = Ipv6Field;
const ipv6HeaderLength = IPV6_HEADER_LENGTH;
const icmpv6Field = Icmpv6Field;
const neighborField = NeighborField;
const neighborAdvertisementFlag = NeighborAdvertisementFlag;
const ndHopLimit = ND_HOP_LIMIT;
const routerOwner = ROUTER_OWNER;

export class NeighborDiscoveryAnswer extends Answer {
  private readonly ports: readonly RuntimePort[];
  private readonly portByMac: MacTable;

  constructor(decoder: FrameDecoder, reply: Reply, ports: readonly RuntimePort[], portByMac: MacTable) {
    super(decoder, reply);
    this.ports = ports;
    this.portByMac = portByMac;
  }

  /** Answers the NS the decoder holds (decoded Ok: length, code 0 and options are proven). */
  neighborSolicitation(rx: Uint8Array, off: number, st: NetworkState): Outcome {
    const d = this.decoder;
    const ip = d.ipv6;
    const target = d.upperOffset + neighborField.Target;
    const srcUnspecified = isUnspecified(rx, ip.sourceOffset);
    if (ip.hopLimit !== ndHopLimit || isMulticast(rx, target)) return Outcome.Invalid;
    // From ::, only to a solicited-node group and without a Source Link-Layer Address option.
    if (srcUnspecified && (!isSolicitedNode(rx, ip.destinationOffset) || d.ndpOptions.sourceLinkLayerOption >= 0)) {
      return Outcome.Invalid;
    }
    const entry = st.owned.lookup(rx, target);
    if (entry < 0) return Outcome.NotOurs;
    const owner = st.owners[entry] as number;
    if (owner !== routerOwner) {
      const port = this.ports[owner - 1];
      if (port === undefined) return Outcome.NotOurs;
      // An NS from the port for its own address: its own DAD or a check of its own; stay quiet.
      if (this.portByMac.lookup(rx, off + ethernetField.Source) === port.index) return Outcome.OwnAddress;
    }
    this.reply.length = this.writeAdvertisement(
      rx,
      off,
      st.advertisements,
      entry,
      srcUnspecified ? -1 : ip.sourceOffset,
    );
    // A DAD probe for an address punt6 answers for is a conflict, answered all the same (defended).
    return srcUnspecified ? Outcome.Conflict : Outcome.Answered;
  }

  /**
   * The NA for entry `entry` (its prebuilt frame) into tx, patched for the NS: to its sender
   * (rx[dstOff]) with S set, or for a DAD probe (dstOff -1) to all-nodes with S clear, in an
   * Ethernet frame to the all-nodes group MAC, since a host filters by MAC before it looks at the
   * IPv6 destination (RFC 4861 §7.2.4). The NS's VLAN tag is kept. Returns the length.
   */
  private writeAdvertisement(
    rx: Uint8Array,
    off: number,
    na: NeighborAdvertisementTemplates,
    entry: number,
    dstOff: number,
  ): number {
    const tagged = this.decoder.ethernet.hasVlan;
    const len = na.copy(this.tx, entry, tagged);
    const tw = this.txWords;
    const rw = wordView(rx);
    const ipOff = tagged ? ethernetHeaderLength + vlanTagLength : ethernetHeaderLength;
    const icmp = ipOff + ipv6HeaderLength;
    // The tag's TCI (priority, DEI, VLAN id) as the NS had it; the template holds the TPID.
    if (tagged) tw.setUint16(ethernetField.Tci, rw.getUint16(off + ethernetField.Tci));
    let sum = na.sums[entry] as number;
    if (dstOff < 0) {
      tw.setUint32(ethernetField.Destination, ALL_NODES_MAC_HIGH);
      tw.setUint16(ethernetField.Destination + 4, ALL_NODES_MAC_LOW);
      sum += copyAddressWords(ALL_NODES_WORDS, 0, tw, ipOff + ipv6Field.Destination);
    } else {
      copyMacWords(rw, off + ethernetField.Source, tw, ethernetField.Destination);
      sum +=
        copyAddressWords(rw, dstOff, tw, ipOff + ipv6Field.Destination) + (neighborAdvertisementFlag.Solicited << 8);
      const t = this.tx;
      t[icmp + neighborField.Flags] = (t[icmp + neighborField.Flags] as number) | neighborAdvertisementFlag.Solicited;
    }
    tw.setUint16(icmp + icmpv6Field.Checksum, 0xffff - fold(sum));
    return len;
  }
}
