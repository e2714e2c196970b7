/**
 * The DHCPv6 hand-off (RFC 9915): a client message or a Relay-forward goes to the DHCPv6 server
 * (src/dhcp/server.ts), which writes its reply's DHCPv6 message into the transmit buffer; this
 * answer frames it (UDP, IPv6, Ethernet) back to the sender. A reply that changes a lease is held
 * until the lease journal has made the change durable (held-replies.ts).
 */

import { isMulticast, isUnspecified } from '../../../codecs/bytes.js';
import { Dhcpv6MessageType } from '../../../codecs/dhcpv6.js';
import { EthernetField } from '../../../codecs/ethernet.js';
import type { FrameDecoder } from '../../../codecs/frame.js';
import { emitIpv6Fixed, IPV6_HEADER_LENGTH, IpProtocol, Ipv6Field } from '../../../codecs/ipv6.js';
import { emitUdpHeader, fillUdpChecksum, UDP_HEADER_LENGTH, UdpPort, type UdpRepr } from '../../../codecs/udp.js';
import { copyAddressWords, wordView } from '../../../codecs/word-view.js';
import type { Dhcpv6Request, Dhcpv6Server } from '../../dhcp/server.js';
import { Answer } from './answer.js';
import { Outcome } from '../counters.js';
import type { HeldReplies } from '../held-replies.js';
import type { NetworkState } from '../network-state.js';
import type { Reply } from '../reply.js';

const NO_BYTES = new Uint8Array(0);

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const ethernetField = EthernetField;
const ipv6Field = Ipv6Field;
const ipv6HeaderLength = IPV6_HEADER_LENGTH;
const ipProtocol = IpProtocol;
const udpHeaderLength = UDP_HEADER_LENGTH;
const udpPort = UdpPort;
const messageType = Dhcpv6MessageType;

export class Dhcpv6Answer extends Answer {
  private readonly dhcpv6: Dhcpv6Server | undefined;
  private readonly held: HeldReplies;
  /** The DHCPv6 message being handled and where it came from; one record, refilled per message. */
  private readonly request: Dhcpv6Request = {
    buf: NO_BYTES,
    off: 0,
    len: 0,
    network: 0,
    mac: NO_BYTES,
    macOff: 0,
    unicast: false,
    source: NO_BYTES,
    sourceOff: 0,
  };
  /** The UDP header of a reply to a client (RFC 9915 §7.2) and to a relay agent; the length is set per reply. */
  private readonly toClient: UdpRepr = {
    sourcePort: UdpPort.Dhcpv6Server,
    destinationPort: UdpPort.Dhcpv6Client,
    payloadLength: 0,
  };
  private readonly toRelay: UdpRepr = {
    sourcePort: UdpPort.Dhcpv6Server,
    destinationPort: UdpPort.Dhcpv6Server,
    payloadLength: 0,
  };

  /** Without a server, DHCPv6 is not answered (counted as no-service). */
  constructor(server: Dhcpv6Server | undefined, decoder: FrameDecoder, reply: Reply, held: HeldReplies) {
    super(decoder, reply);
    this.dhcpv6 = server;
    this.held = held;
  }

  dhcpv6Message(rx: Uint8Array, off: number, st: NetworkState, network: number, ifIndex: number): Outcome {
    const server = this.dhcpv6;
    if (server === undefined) return Outcome.NoService;
    const d = this.decoder;
    const ip = d.ipv6;
    if (d.udp.destinationPort !== udpPort.Dhcpv6Server) return Outcome.Ignored;
    // The answer goes back to the source address: clients use their link-local address and
    // relays a unicast one (RFC 9915 §7.2, §19.1); there is nowhere to answer :: or a group.
    if (isUnspecified(rx, ip.sourceOffset) || isMulticast(rx, ip.sourceOffset)) return Outcome.Invalid;
    const relayed = rx[d.dhcpv6Offset] === messageType.RelayForw;
    const unicast = !isMulticast(rx, ip.destinationOffset);
    const t = this.tx;
    const ipOff = this.reply.toSender(rx, off, st.routerMac);
    const udp = ipOff + ipv6HeaderLength;
    const msg = udp + udpHeaderLength;
    const req = this.request;
    req.buf = rx;
    req.off = d.dhcpv6Offset;
    req.len = d.dhcpv6Length;
    req.network = network;
    req.mac = rx;
    req.macOff = off + ethernetField.Source;
    req.unicast = unicast;
    req.source = rx;
    req.sourceOff = ip.sourceOffset;
    const dhcpv6Reply = server.handle(req, t, msg);
    const n = dhcpv6Reply.length;
    if (n === 0) return Outcome.Discarded;
    const udpLength = udpHeaderLength + n;
    emitIpv6Fixed(t, ipOff, udpLength, ipProtocol.Udp, st.net.hopLimit);
    // From the address a unicast request (a relay's, or a client's Request/Renew) was sent to;
    // answers to multicast requests come from the router's link-local address.
    const rw = wordView(rx);
    copyAddressWords(
      unicast ? rw : st.routerLinkLocal,
      unicast ? ip.destinationOffset : 0,
      this.txWords,
      ipOff + ipv6Field.Source,
    );
    copyAddressWords(rw, ip.sourceOffset, this.txWords, ipOff + ipv6Field.Destination);
    // A relay's Relay-reply goes to its server port, a client's reply to the client port.
    const header = relayed ? this.toRelay : this.toClient;
    header.payloadLength = n;
    emitUdpHeader(header, t, udp);
    fillUdpChecksum(t, ipOff + ipv6Field.Source, ipOff + ipv6Field.Destination, udp);
    this.reply.length = msg + n;
    if (dhcpv6Reply.awaitsCommit) {
      this.held.hold(ifIndex, t, this.reply.length);
      this.reply.held = true;
    }
    return Outcome.Answered;
  }
}
