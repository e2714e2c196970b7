/**
 * Relayed messages (RFC 9915 §19): the Relay-forw layers around a client message, read once, the
 * Relay-repl layers written around the reply (§19.3), and who the client is as far as punt6
 * trusts it (`ClientIdentity`).
 */

import { copyBytes, isUnspecified, u16 } from '../../codecs/bytes.js';
import {
  ClientLinkLayerAddressField,
  DHCPV6_HOP_COUNT_LIMIT,
  DHCPV6_RELAY_HEADER_LENGTH,
  Dhcpv6Field,
  Dhcpv6MessageType,
  Dhcpv6OptionCode,
  Dhcpv6OptionCursor,
} from '../../codecs/dhcpv6.js';
import { HardwareType } from '../../codecs/duid.js';
import { Status } from '../../codecs/status.js';
import { DiscardReason, isClientMessageType } from './intake.js';
import { networkOfLinkAddress, type ServerNetwork } from './network.js';
import type { ReplyWriter } from './reply.js';

/** An Ethernet MAC, the address a Client Link-Layer Address option (RFC 6939 §4) names a port by. */
const MAC_LENGTH = 6;

/** What one Relay-forw carries that the server uses (§9.1, §21.10, §21.18, RFC 6939). */
class RelayLayer {
  /** Offset of the Relay-forw message. */
  off = 0;
  /** Data offset and length of its first Relay Message option; -1: none. */
  inner = -1;
  innerLength = 0;
  /** Data offset and length of its first Interface-Id option; -1: none. */
  interfaceId = -1;
  interfaceIdLength = 0;
  /** Offset of the MAC in its last Client Link-Layer Address option of an Ethernet address; -1: none. */
  clientMac = -1;
  /** Where the reply's Relay Message option for this layer starts. */
  replyAt = 0;
}

/**
 * The Relay-forw layers of one message, outermost first, down to the client message they carry:
 * `read()` walks them once, then `openReply()` writes a Relay-repl for each around the reply, and
 * `closeReply()` sets their lengths once the reply inside is written.
 */
export class RelayChain {
  /** Relay-forw layers read. */
  depth = 0;
  /** The client message the innermost Relay-forw carries: b[messageOffset, messageOffset + messageLength). */
  messageOffset = 0;
  messageLength = 0;
  /** The network of the client's link: the innermost relay's link-address when set, else the frame's. */
  network = 0;
  /** Offset of the MAC of the innermost relay's Client Link-Layer Address option, or -1. */
  clientMac = -1;
  private buf: Uint8Array = new Uint8Array(0);
  private readonly layers: RelayLayer[] = [];
  private readonly cursor = new Dhcpv6OptionCursor();

  constructor() {
    for (let i = 0; i < DHCPV6_HOP_COUNT_LIMIT; i++) this.layers.push(new RelayLayer());
  }

  /**
   * Reads the Relay-forw b[off, off+len) and those it carries, arriving on network `frameNetwork`.
   * Returns why the message gets no answer, or '' with the client message and its network found.
   */
  read(
    b: Uint8Array,
    off: number,
    len: number,
    frameNetwork: number,
    networks: readonly ServerNetwork[],
  ): DiscardReason | '' {
    this.buf = b;
    this.depth = 0;
    let at = off;
    let n = len;
    for (;;) {
      const layer = this.layers[this.depth];
      if (layer === undefined) return DiscardReason.RelayTooDeep;
      this.depth++;
      this.readLayer(layer, at, n);
      if (layer.inner < 0 || layer.innerLength < 1) return DiscardReason.RelayWithoutMessage;
      at = layer.inner;
      n = layer.innerLength;
      const type = b[at + Dhcpv6Field.MsgType] as number;
      if (type === Dhcpv6MessageType.RelayForw) continue;
      if (!isClientMessageType(type)) return DiscardReason.NotClientMessage;
      let network = frameNetwork;
      const linkAddress = layer.off + Dhcpv6Field.LinkAddress;
      if (!isUnspecified(b, linkAddress)) {
        network = networkOfLinkAddress(networks, b, linkAddress);
        if (network < 0) return DiscardReason.NoNetwork;
      }
      this.network = network;
      this.messageOffset = at;
      this.messageLength = n;
      this.clientMac = layer.clientMac;
      return '';
    }
  }

  /** One pass over the options of the Relay-forw b[off, off+len). */
  private readLayer(layer: RelayLayer, off: number, len: number): void {
    const b = this.buf;
    layer.off = off;
    layer.inner = layer.interfaceId = layer.clientMac = -1;
    layer.innerLength = layer.interfaceIdLength = 0;
    const c = this.cursor.reset(b, off + DHCPV6_RELAY_HEADER_LENGTH, off + len, false);
    while (c.next() === Status.Ok) {
      const d = c.dataOffset;
      const n = c.dataLength;
      if (c.code === Dhcpv6OptionCode.RelayMessage && layer.inner < 0) {
        layer.inner = d;
        layer.innerLength = n;
      } else if (c.code === Dhcpv6OptionCode.InterfaceId && layer.interfaceId < 0) {
        layer.interfaceId = d;
        layer.interfaceIdLength = n;
      } else if (
        c.code === Dhcpv6OptionCode.ClientLinkLayerAddress &&
        n === ClientLinkLayerAddressField.Address + MAC_LENGTH &&
        u16(b, d + ClientLinkLayerAddressField.HardwareType) === HardwareType.Ethernet
      ) {
        layer.clientMac = d + ClientLinkLayerAddressField.Address;
      }
    }
  }

  /**
   * Writes, for each layer read, a Relay-repl (§19.3: hop-count, link-address and peer-address as
   * received), its Interface-Id option echoed (§21.18), and the start of its Relay Message option.
   */
  openReply(w: ReplyWriter): void {
    for (let i = 0; i < this.depth; i++) {
      const layer = this.layers[i] as RelayLayer;
      w.relayReplyHeader(this.buf, layer.off);
      if (layer.interfaceId >= 0) w.copyOption(this.buf, layer.interfaceId, layer.interfaceIdLength);
      layer.replyAt = w.openOption(Dhcpv6OptionCode.RelayMessage);
    }
  }

  /** Sets the length of every Relay Message option {@link openReply} started, innermost first. */
  closeReply(w: ReplyWriter): void {
    for (let i = this.depth - 1; i >= 0; i--) w.closeOption((this.layers[i] as RelayLayer).replyAt);
  }
}

/**
 * Who a client message is from, as far as punt6 trusts it (docs/leases.md, "Identities"). A VM
 * chooses its DUID, a DUID-LL's MAC and what a Relay-forw it sends itself says; it cannot choose
 * the source MAC of its frames, which the OVS guards pin to its port. So:
 * - a direct request's port is the one with the frame's source MAC, and nothing else;
 * - a request relayed by a trusted relay (the network's `dhcpv6.trustedRelays`) names its port
 *   by the relay's Client Link-Layer Address option (RFC 6939), else by a configured client DUID;
 * - a request relayed by any other source names no port: pool leases only.
 * The per-port lease limits count by the frame's source MAC, or by the trusted relay's option 79.
 */
export class ClientIdentity {
  /** The MAC that selects a port: 6 bytes at portMacOff of portMac; portMacOff -1: none. */
  portMac: Uint8Array = NO_BYTES;
  portMacOff = -1;
  /** A configured client DUID may select the port (trusted relays only). */
  duidSelectsPort = false;
  /** The MAC the per-port limits count by (a copy), or null. */
  limitMac: Uint8Array | null = null;
  private readonly limitMacBytes = new Uint8Array(MAC_LENGTH);

  /** A message straight from the client, whose frame came from `mac` at macOff. */
  direct(mac: Uint8Array, macOff: number): void {
    this.portMac = mac;
    this.portMacOff = macOff;
    this.duidSelectsPort = false;
    this.limitBy(mac, macOff);
  }

  /**
   * A message relayed to the server in a frame from `frameMac` at frameMacOff; a trusted relay's
   * Client Link-Layer Address option gives the client's MAC at b[clientMac] (-1: none).
   */
  relayed(trusted: boolean, frameMac: Uint8Array, frameMacOff: number, b: Uint8Array, clientMac: number): void {
    if (trusted) {
      this.portMac = b;
      this.portMacOff = clientMac;
      this.duidSelectsPort = true;
      if (clientMac >= 0) this.limitBy(b, clientMac);
      else this.limitMac = null;
    } else {
      this.portMac = NO_BYTES;
      this.portMacOff = -1;
      this.duidSelectsPort = false;
      this.limitBy(frameMac, frameMacOff);
    }
  }

  private limitBy(mac: Uint8Array, off: number): void {
    copyBytes(mac, off, this.limitMacBytes, 0, MAC_LENGTH);
    this.limitMac = this.limitMacBytes;
  }
}

const NO_BYTES = new Uint8Array(0);
