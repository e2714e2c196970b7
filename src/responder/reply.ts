/**
 * Where answers write. The answer to the frame being handled goes into one preallocated transmit
 * buffer, at offset 0, and `handle()` returns its length; frames that leave later (multicast RAs,
 * DHCPv6 replies held for their lease commit) go through a `FrameSink`.
 */

import { EtherType, EthernetField, emitEthernetWords } from '../../codecs/ethernet.js';
import type { FrameDecoder } from '../../codecs/frame.js';
import { wordView, type MacWords } from '../../codecs/word-view.js';

/** Where frames produced outside `handle()` go: the interface index and the bytes. */
export type FrameSink = (ifIndex: number, frame: Uint8Array, off: number, len: number) => void;

/** The largest IPv6 packet (payload length 65535 + 40) in a tagged Ethernet frame, with room to spare. */
export const TX_SIZE = 65536 + 64;

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const ethernetField = EthernetField;
const etherType = EtherType;

export class Reply {
  /** The transmit buffer: an answer writes its frame at offset 0. */
  readonly tx = new Uint8Array(TX_SIZE);
  /** Word access to tx (codecs/word-view.ts), made once. */
  readonly txWords = new DataView(this.tx.buffer, this.tx.byteOffset, this.tx.byteLength);
  /** Length of the frame the last answer wrote. */
  length = 0;
  /** Set by an answer whose frame leaves later (after a lease commit), not as handle()'s reply. */
  held = false;
  private readonly decoder: FrameDecoder;

  /** `decoder` is the one that decoded the frame being answered (its VLAN tag is kept). */
  constructor(decoder: FrameDecoder) {
    this.decoder = decoder;
  }

  /**
   * Writes the Ethernet header of an answer to the sender of the frame at rx[off] (destination:
   * its source MAC) from `source`, in the frame's VLAN; returns the offset of the IPv6 header.
   */
  toSender(rx: Uint8Array, off: number, source: MacWords): number {
    const rw = wordView(rx);
    return emitEthernetWords(
      this.txWords,
      0,
      rw,
      off + ethernetField.Source,
      source,
      rw,
      this.decoder.ethernet.hasVlan ? off + ethernetField.EtherType : -1,
      etherType.Ipv6,
    );
  }

  /**
   * The same for an answer to a multicast group on the sender's link: the destination is the
   * group's MAC (RFC 2464 §7), `group` a word view of its 6 bytes.
   */
  toGroup(group: DataView, rx: Uint8Array, off: number, source: MacWords): number {
    return emitEthernetWords(
      this.txWords,
      0,
      group,
      0,
      source,
      wordView(rx),
      this.decoder.ethernet.hasVlan ? off + ethernetField.EtherType : -1,
      etherType.Ipv6,
    );
  }
}
