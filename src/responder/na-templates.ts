/**
 * Neighbor Advertisements built once per address punt6 answers for (RFC 4861 §4.4, §7.2.4):
 * the whole frame, with only what depends on the solicitation left blank, as the RA is kept
 * (router-advertiser.ts). Answering an NS (answers/nd.ts) is one native copy of the template,
 * which pays one bounds check for the frame, and a few patches:
 *
 *   untagged  tagged   what                                          from
 *   0         0        destination MAC                               the NS (patched)
 *   6         6        source MAC: the address owner's               template
 *   --        12       802.1Q TPID, TCI                              template, TCI patched
 *   12        16       EtherType 0x86dd                              template
 *   14        18       IPv6: version 6, payload 32, ICMPv6, hop 255  template
 *   22        26       IPv6 source: the target                       template
 *   38        42       IPv6 destination                              the NS (patched)
 *   54        58       NA: type 136, code 0, checksum                checksum patched
 *   58        62       flags R (router's addresses), O; S            S patched
 *   62        66       Target Address                                template
 *   78        82       Target Link-Layer Address option: the MAC     template
 *   86        90       end
 *
 * Beside each entry, the checksum's sum (RFC 1071) over everything the template holds: the
 * pseudo-header's source, length and next header, and the message with S and the checksum at
 * zero, folded to 16 bits. The caller adds the destination's words and S, and folds again.
 * Built at configuration time with the codecs' emitters; nothing here runs per packet but copy().
 */

import { sumWords, fold } from '../../codecs/checksum.js';
import {
  EtherType,
  emitEthernet,
  ETHERNET_HEADER_LENGTH,
  MAC_LENGTH,
  NO_VLAN,
  VLAN_TAG_LENGTH,
} from '../../codecs/ethernet.js';
import { emitIpv6, IPV6_HEADER_LENGTH, IpProtocol, Ipv6Field } from '../../codecs/ipv6.js';
import { emitNeighborAdvertisement, ND_HOP_LIMIT, NEIGHBOR_ADVERTISEMENT_LENGTH } from '../../codecs/ndp.js';
import { NDP_OPTION_UNIT } from '../../codecs/ndp-options.js';

/** The NA: its fixed part and one Target Link-Layer Address option. */
const NA_LENGTH = NEIGHBOR_ADVERTISEMENT_LENGTH + NDP_OPTION_UNIT;
export const UNTAGGED_LENGTH = ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + NA_LENGTH;
export const TAGGED_LENGTH = UNTAGGED_LENGTH + VLAN_TAG_LENGTH;
const UNSPECIFIED = new Uint8Array(16);
const ZERO_MAC = new Uint8Array(MAC_LENGTH);
const NO_FRAME = new Uint8Array(0);
const scratchUntagged = new Uint8Array(UNTAGGED_LENGTH);
const scratchTagged = new Uint8Array(TAGGED_LENGTH);

export class NeighborAdvertisementTemplates {
  /** Per entry: the checksum sum of what its templates hold, folded to 16 bits. */
  readonly sums: Int32Array;
  /**
   * Per entry: the untagged template, then the tagged one; views of one buffer, each made when
   * its entry is set (so a large table is made a few entries at a time), an empty frame before.
   */
  private readonly frames: Uint8Array[];
  private readonly bytes: Uint8Array;

  constructor(entries: number) {
    const n = Math.max(1, entries);
    this.sums = new Int32Array(n);
    this.bytes = new Uint8Array(n * (UNTAGGED_LENGTH + TAGGED_LENGTH));
    // Pushed, not `new Array(n).fill()`: a packed array, whose loads in copy() check no holes.
    this.frames = [];
    for (let i = 0; i < 2 * n; i++) this.frames.push(NO_FRAME);
  }

  get entries(): number {
    return this.sums.length;
  }

  /** Builds entry `i`: the NA for `target` (16 bytes) from `mac` (6 bytes), R set when `router`. */
  set(i: number, target: Uint8Array, mac: Uint8Array, router: boolean): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.sums.length)
      throw new RangeError(`NA template ${i} is not in 0..${this.sums.length - 1}`);
    if (target.length !== 16 || mac.length !== MAC_LENGTH)
      throw new RangeError('NA template: the target is 16 bytes and the MAC 6');
    const o = i * (UNTAGGED_LENGTH + TAGGED_LENGTH);
    if (this.frames[2 * i] === NO_FRAME) {
      this.frames[2 * i] = this.bytes.subarray(o, o + UNTAGGED_LENGTH);
      this.frames[2 * i + 1] = this.bytes.subarray(o + UNTAGGED_LENGTH, o + UNTAGGED_LENGTH + TAGGED_LENGTH);
    }
    for (const tagged of [false, true]) {
      const to = this.frames[2 * i + (tagged ? 1 : 0)] as Uint8Array;
      // Built in one scratch frame and copied: the emitters' word views are made for it alone,
      // not for each template (a view is kept as long as its array lives).
      const f = tagged ? scratchTagged : scratchUntagged;
      f.fill(0);
      // The TCI is patched from the NS; the tag's id here is only a placeholder.
      const ip = emitEthernet(
        { destination: ZERO_MAC, source: mac, etherType: EtherType.Ipv6, vlanId: tagged ? 0 : NO_VLAN },
        f,
        0,
      );
      emitIpv6(
        {
          source: target,
          destination: UNSPECIFIED,
          nextHeader: IpProtocol.Icmpv6,
          hopLimit: ND_HOP_LIMIT,
          payloadLength: NA_LENGTH,
        },
        f,
        ip,
      );
      const n = emitNeighborAdvertisement(
        {
          router,
          solicited: false,
          override: true,
          target,
          options: [{ kind: 'target-link-layer-address', address: mac }],
        },
        f,
        ip + IPV6_HEADER_LENGTH,
      );
      const end = ip + IPV6_HEADER_LENGTH + n;
      if (end !== f.length) throw new Error(`NA template: ${end} bytes, not ${f.length}`);
      if (!tagged)
        this.sums[i] = fold(
          sumWords(f, ip + Ipv6Field.Source, 16) +
            NA_LENGTH +
            IpProtocol.Icmpv6 +
            sumWords(f, ip + IPV6_HEADER_LENGTH, NA_LENGTH),
        );
      to.set(f);
    }
  }

  /** Copies entry `i`'s template to tx[0] (one native copy); returns the frame's length. */
  copy(tx: Uint8Array, i: number, tagged: boolean): number {
    const f = this.frames[2 * i + (tagged ? 1 : 0)] as Uint8Array;
    tx.set(f);
    return f.length;
  }
}
