/**
 * Router Solicitation -> Router Advertisement (RFC 4861 §6.1.1, §6.2.6; RFC 7772). An RS from a
 * unicast address is answered at once with a unicast RA (RFC 7772), rather than after §6.2.6's
 * random delay, which applies only to the multicast answer an RS from `::` asks for: that one is
 * scheduled (router-advertiser.ts) and the frame counts as deferred. Nothing is allocated.
 */

import { isUnspecified } from '../../../codecs/bytes.js';
import type { FrameDecoder } from '../../../codecs/frame.js';
import { emitIpv6Fixed, IPV6_HEADER_LENGTH, IpProtocol, Ipv6Field } from '../../../codecs/ipv6.js';
import { ND_HOP_LIMIT } from '../../../codecs/ndp.js';
import { copyAddressWords, wordView } from '../../../codecs/word-view.js';
import { Answer } from './answer.js';
import { Outcome } from '../counters.js';
import type { NetworkState } from '../network-state.js';
import type { Reply } from '../reply.js';
import type { MulticastAdvertisements } from '../router-advertiser.js';

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const ipv6Field = Ipv6Field;
const ipv6HeaderLength = IPV6_HEADER_LENGTH;
const ipProtocol = IpProtocol;
const ndHopLimit = ND_HOP_LIMIT;

export class RouterDiscoveryAnswer extends Answer {
  private readonly multicast: MulticastAdvertisements;
  private readonly now: () => number;

  constructor(decoder: FrameDecoder, reply: Reply, multicast: MulticastAdvertisements, now: () => number) {
    super(decoder, reply);
    this.multicast = multicast;
    this.now = now;
  }

  /** Answers the RS the decoder holds (decoded Ok: length, code 0 and options are proven). */
  routerSolicitation(rx: Uint8Array, off: number, st: NetworkState): Outcome {
    const d = this.decoder;
    const ip = d.ipv6;
    if (ip.hopLimit !== ndHopLimit) return Outcome.Invalid;
    const srcUnspecified = isUnspecified(rx, ip.sourceOffset);
    // From ::, no Source Link-Layer Address option (RFC 4861 §6.1.1).
    if (srcUnspecified && d.ndpOptions.sourceLinkLayerOption >= 0) return Outcome.Invalid;
    const ra = st.ra;
    if (ra === undefined) return Outcome.NoService;
    if (srcUnspecified) {
      // After the final RAs no multicast RA goes out (poll() sends nothing).
      if (this.multicast.stopped) return Outcome.NoService;
      ra.scheduleMulticastAnswer(this.now());
      return Outcome.Deferred;
    }
    const t = this.tx;
    const ipOff = this.reply.toSender(rx, off, st.routerMac);
    const len = ra.message.length;
    emitIpv6Fixed(t, ipOff, len, ipProtocol.Icmpv6, ndHopLimit);
    copyAddressWords(st.routerLinkLocal, 0, this.txWords, ipOff + ipv6Field.Source);
    copyAddressWords(wordView(rx), ip.sourceOffset, this.txWords, ipOff + ipv6Field.Destination);
    // Once the final RAs (router lifetime 0) are out, an answer must not make this router a
    // default router again (RFC 4861 §6.2.5): it carries router lifetime 0 as well.
    ra.writeMessage(t, ipOff + ipv6HeaderLength, rx, ip.sourceOffset, this.multicast.stopped ? 0 : -1);
    this.reply.length = ipOff + ipv6HeaderLength + len;
    return Outcome.Answered;
  }
}
