/**
 * ICMPv6 Echo Request -> Echo Reply (RFC 4443 §4.1, §4.2), for the router's addresses: the
 * request's identifier, sequence number and data come back, from the address the request was
 * sent to, to its source. Nothing is allocated.
 *
 * The decoder leaves an echo request's checksum to this answer (`deferEchoRequestChecksum`),
 * which verifies it while copying the message into the reply: one pass over the data.
 */

import { isMulticast, isUnspecified } from '../../../codecs/bytes.js';
import { fillUpperLayer, fold, pseudoHeaderSum } from '../../../codecs/checksum.js';
import { Icmpv6Field, Icmpv6Type } from '../../../codecs/icmpv6.js';
import { emitIpv6Fixed, IPV6_HEADER_LENGTH, IpProtocol, Ipv6Field } from '../../../codecs/ipv6.js';
import { copyAddressWords, copySumWords, copyWords, wordView } from '../../../codecs/word-view.js';
import { Answer } from './answer.js';
import { Outcome } from '../counters.js';
import { ROUTER_OWNER, type NetworkState } from '../network-state.js';

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const icmpv6Field = Icmpv6Field;
const icmpv6Type = Icmpv6Type;
const ipv6Field = Ipv6Field;
const ipv6HeaderLength = IPV6_HEADER_LENGTH;
const ipProtocol = IpProtocol;
const routerOwner = ROUTER_OWNER;

export class EchoAnswer extends Answer {
  /** Answers the echo request the decoder holds (decoded Ok: at least the 8-byte header). */
  echoRequest(rx: Uint8Array, off: number, st: NetworkState): Outcome {
    const d = this.decoder;
    const ip = d.ipv6;
    const request = d.upperOffset;
    if (rx[request + icmpv6Field.Code] !== 0) return Outcome.Invalid;
    // The reply goes to the request's source (RFC 4443 §4.2): never to :: or a group.
    if (isUnspecified(rx, ip.sourceOffset) || isMulticast(rx, ip.sourceOffset)) return Outcome.Invalid;
    const entry = st.owned.lookup(rx, ip.destinationOffset);
    if (entry < 0 || st.owners[entry] !== routerOwner) return Outcome.NotOurs;
    const t = this.tx;
    const tw = this.txWords;
    const rw = wordView(rx);
    const ipOff = this.reply.toSender(rx, off, st.routerMac);
    const len = d.upperLength;
    emitIpv6Fixed(t, ipOff, len, ipProtocol.Icmpv6, st.net.hopLimit);
    const dstSum = copyAddressWords(rw, ip.destinationOffset, tw, ipOff + ipv6Field.Source);
    const srcSum = copyAddressWords(rw, ip.sourceOffset, tw, ipOff + ipv6Field.Destination);
    const icmp = ipOff + ipv6HeaderLength;
    if (d.checksumDeferred) {
      // Verify the request's checksum over the bytes as they are copied into the reply (one
      // pass). Nothing is sent when it fails. The pseudo-header's addresses were summed as they
      // were copied, unless a Routing header names another final destination.
      const sum = copySumWords(rw, request, tw, icmp, len);
      const pseudo =
        ip.checksumDestinationOffset === ip.destinationOffset
          ? srcSum + dstSum + len + ipProtocol.Icmpv6
          : pseudoHeaderSum(rx, ip.sourceOffset, ip.checksumDestinationOffset, len, ipProtocol.Icmpv6);
      if (fold(pseudo + sum) !== 0xffff) return Outcome.BadChecksum;
      t[icmp + icmpv6Field.Type] = icmpv6Type.EchoReply;
      // The reply differs from the verified request only in the type byte (the swapped
      // addresses sum the same): update the checksum for that word (RFC 1624 eqn. 3,
      // HC' = ~(~HC + ~m + m'), with m = 128<<8, m' = 129<<8; the code is 0).
      const hc = rw.getUint16(request + icmpv6Field.Checksum);
      tw.setUint16(
        icmp + icmpv6Field.Checksum,
        0xffff - fold(0xffff - hc + (0xffff - (icmpv6Type.EchoRequest << 8)) + (icmpv6Type.EchoReply << 8)),
      );
    } else {
      // Checksums not verified (offloaded captures): the reply's computed whole.
      copyWords(rw, request, tw, icmp, len);
      t[icmp + icmpv6Field.Type] = icmpv6Type.EchoReply;
      fillUpperLayer(
        t,
        ipOff + ipv6Field.Source,
        ipOff + ipv6Field.Destination,
        ipProtocol.Icmpv6,
        icmp,
        len,
        icmp + icmpv6Field.Checksum,
      );
    }
    this.reply.length = icmp + len;
    return Outcome.Answered;
  }
}
