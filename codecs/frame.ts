/**
 * The layered frame decoder: link layer (Ethernet + 802.1Q, or the capture link types seen in
 * pcap files) -> IPv6 + extension headers -> ICMPv6 or UDP -> the ICMPv6 message or the DHCPv6
 * message, each checked once, checksums verified, first failure recorded with its layer and
 * offset. One decoder owns its views and is reused for every frame: no allocation per frame.
 *
 * Link types (https://www.tcpdump.org/linktypes.html): Ethernet (1); Null/loopback (0, a 4-byte
 * host-order address family) and OpenBSD Loop (108, network order); Linux cooked v2 (276, a 20-byte
 * header with the protocol at offset 0); Raw IP (101) and IPv6 (229), where the packet starts with the IP
 * header; Linux cooked SLL (113, a 16-byte header with the protocol at offset 14).
 */

import { u16 } from './bytes.js';
import { verifyUpperLayer } from './checksum.js';
import { Dhcpv6Field, validateDhcpv6 } from './dhcpv6.js';
import { ETHERNET_HEADER_LENGTH, EtherType, EthernetField, EthernetView, NO_VLAN, VLAN_ID_MASK } from './ethernet.js';
import { ICMPV6_HEADER_LENGTH, Icmpv6Field, Icmpv6Type, Icmpv6Validator } from './icmpv6.js';
import { IpProtocol, Ipv6Field, Ipv6View } from './ipv6.js';
import type { NdpOptionCursor } from './ndp-options.js';
import { Failure, Layer, Rule, Status } from './status.js';
import { UdpPort, UdpView } from './udp.js';
import { LinkType } from './link-type.js';

export { LinkType } from './link-type.js';

const SLL_HEADER_LENGTH = 16;
const SLL2_HEADER_LENGTH = 20;
const NULL_HEADER_LENGTH = 4;
/** Where the protocol (an EtherType) stands in the Linux cooked headers, v1 and v2. */
const SLL_PROTOCOL = 14;
const SLL2_PROTOCOL = 0;
/** The loopback header's address family: one byte of it is non-zero, the first or the last by byte order. */
const NULL_FAMILY_FIRST = 0;
const NULL_FAMILY_LAST = 3;

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const { Ok } = Status;
const linkType = LinkType;
const etherType = EtherType;
const ethernetField = EthernetField;
const ethernetHeaderLength = ETHERNET_HEADER_LENGTH;
const noVlan = NO_VLAN;
const vlanIdMask = VLAN_ID_MASK;
const icmpv6HeaderLength = ICMPV6_HEADER_LENGTH;
const icmpv6Field = Icmpv6Field;
const icmpv6Type = Icmpv6Type;
const ipProtocol = IpProtocol;
const udpPort = UdpPort;
const dhcpv6Field = Dhcpv6Field;

export class FrameDecoder {
  readonly ethernet = new EthernetView();
  readonly ipv6 = new Ipv6View();
  readonly udp = new UdpView();
  readonly failure = new Failure();
  private readonly icmpv6 = new Icmpv6Validator();
  /**
   * The option walk of an ND or Inverse ND message (`icmpv6Type` one of theirs, decode() Ok):
   * where its Source and Target Link-Layer Address options and Target Address List stand.
   */
  readonly ndpOptions: NdpOptionCursor = this.icmpv6.options;
  /** Off for captures whose checksums were offloaded to the NIC (left as garbage). */
  verifyChecksums = true;
  /**
   * Leave an Echo Request's checksum to the caller, who copies the message into its reply and
   * can sum it on the way (one pass instead of two). decode() then sets `checksumDeferred`, and
   * the caller must verify before acting on the message (`verifyUpperLayer`, or
   * `copySumWords` plus `pseudoHeaderSum`).
   */
  deferEchoRequestChecksum = false;

  // ---- Results of the last decode() ----
  linkType: number = linkType.Ethernet;
  hasEthernet = false;
  vlanId = noVlan;
  /** Offset of the IPv6 header, -1 when the frame carries none. */
  ipv6Offset = -1;
  /** Upper-layer protocol (58, 17, …), -1 before the IPv6 walk succeeded. */
  upperProtocol = -1;
  upperOffset = 0;
  upperLength = 0;
  /** ICMPv6 type, or -1. */
  icmpv6Type = -1;
  /** True when the ICMPv6 checksum was left unverified for the caller (deferEchoRequestChecksum). */
  checksumDeferred = false;
  /** DHCPv6 message type, or -1; the message is at dhcpv6Offset/dhcpv6Length. */
  dhcpv6Type = -1;
  dhcpv6Offset = 0;
  dhcpv6Length = 0;

  /** Decodes one frame; on a non-Ok status `failure` says layer, offset and reason. */
  decode(buf: Uint8Array, off: number, len: number, link: number = linkType.Ethernet): Status {
    this.failure.reset();
    this.linkType = link;
    this.hasEthernet = false;
    this.vlanId = noVlan;
    this.ipv6Offset = -1;
    this.upperProtocol = -1;
    this.icmpv6Type = -1;
    this.checksumDeferred = false;
    this.dhcpv6Type = -1;
    if (off < 0 || len < 0 || off + len > buf.length) {
      return this.failure.fail(Status.Truncated, Layer.Ethernet, off, 'frame extends past the buffer', Rule.Length);
    }
    let p: number;
    const end = off + len;
    switch (link) {
      case linkType.Ethernet: {
        const eth = this.ethernet.wrap(buf, off, len);
        const s = eth.check();
        if (s !== Ok) {
          // A fault at or after a tag's EtherType (0x8100, 0x88a8) belongs to the VLAN layer.
          const tpid = len >= ethernetHeaderLength ? u16(buf, off + ethernetField.EtherType) : 0;
          const tagged = tpid === etherType.Vlan || tpid === etherType.QinQ;
          return this.failure.from(s, tagged ? Layer.Vlan : Layer.Ethernet, eth);
        }
        this.hasEthernet = true;
        // Read where check() found them: the EtherType (inner, behind a tag) ends the header.
        p = off + eth.headerLength;
        if (p !== off + ethernetHeaderLength) this.vlanId = u16(buf, off + ethernetField.Tci) & vlanIdMask;
        if (u16(buf, p - 2) !== etherType.Ipv6)
          return this.failure.fail(Status.Unsupported, Layer.Ethernet, p - 2, 'not IPv6', Rule.NotDecoded);
        break;
      }
      case linkType.LinuxSll:
        if (len < SLL_HEADER_LENGTH)
          return this.failure.fail(
            Status.Truncated,
            Layer.Ethernet,
            end,
            'frame shorter than the Linux cooked header',
            Rule.Length,
          );
        if (u16(buf, off + SLL_PROTOCOL) !== etherType.Ipv6)
          return this.failure.fail(Status.Unsupported, Layer.Ethernet, off + SLL_PROTOCOL, 'not IPv6', Rule.NotDecoded);
        p = off + SLL_HEADER_LENGTH;
        break;
      case linkType.LinuxSll2:
        if (len < SLL2_HEADER_LENGTH)
          return this.failure.fail(
            Status.Truncated,
            Layer.Ethernet,
            end,
            'frame shorter than the Linux cooked v2 header',
            Rule.Length,
          );
        if (u16(buf, off + SLL2_PROTOCOL) !== etherType.Ipv6)
          return this.failure.fail(
            Status.Unsupported,
            Layer.Ethernet,
            off + SLL2_PROTOCOL,
            'not IPv6',
            Rule.NotDecoded,
          );
        p = off + SLL2_HEADER_LENGTH;
        break;
      case linkType.Loop:
      case linkType.Null: {
        if (len < NULL_HEADER_LENGTH)
          return this.failure.fail(
            Status.Truncated,
            Layer.Ethernet,
            end,
            'frame shorter than the loopback header',
            Rule.Length,
          );
        // Address family in the capturing host's byte order; IPv6 is 10, 24, 28 or 30 by OS.
        const fam = (buf[off + NULL_FAMILY_FIRST] as number) | (buf[off + NULL_FAMILY_LAST] as number);
        if (fam !== 10 && fam !== 24 && fam !== 28 && fam !== 30)
          return this.failure.fail(Status.Unsupported, Layer.Ethernet, off, 'not IPv6', Rule.NotDecoded);
        p = off + NULL_HEADER_LENGTH;
        break;
      }
      case linkType.Raw:
      case linkType.Ipv6:
        // Raw IP may carry IPv4 too: say so rather than blame a short IPv6 header.
        if (len >= 1 && (buf[off + Ipv6Field.VersionTrafficFlow] as number) >>> 4 === 4)
          return this.failure.fail(Status.Unsupported, Layer.Ipv6, off, 'not IPv6', Rule.NotDecoded);
        p = off;
        break;
      default:
        return this.failure.fail(Status.Unsupported, Layer.Ethernet, off, 'link type not supported', Rule.NotDecoded);
    }
    return this.decodeIpv6(buf, p, end - p);
  }

  private decodeIpv6(buf: Uint8Array, p: number, len: number): Status {
    const ip = this.ipv6.wrap(buf, p, len);
    this.ipv6Offset = p;
    const s = ip.check();
    if (s !== Ok) return this.failure.from(s, ip.errorInExtension ? Layer.Ipv6Extension : Layer.Ipv6, ip);
    this.upperProtocol = ip.upperProtocol;
    this.upperOffset = ip.upperOffset;
    this.upperLength = ip.upperLength;
    if (ip.isFragment && ip.moreFragments) {
      // First fragment of several: the upper layer is incomplete and its checksum unverifiable.
      return this.failure.fail(
        Status.Unsupported,
        Layer.Ipv6Extension,
        ip.fragmentHeaderOffset,
        'first fragment (not reassembled)',
        Rule.NotDecoded,
      );
    }
    switch (ip.upperProtocol) {
      case ipProtocol.Icmpv6:
        return this.decodeIcmpv6(buf, ip.upperOffset, ip.upperLength);
      case ipProtocol.Udp:
        return this.decodeUdp(buf, ip.upperOffset, ip.upperLength);
      case ipProtocol.NoNextHeader:
        return Ok;
      default:
        return this.failure.fail(
          Status.Unsupported,
          Layer.Ipv6,
          ip.upperOffset,
          'upper-layer protocol not decoded',
          Rule.NotDecoded,
        );
    }
  }

  private decodeIcmpv6(buf: Uint8Array, p: number, len: number): Status {
    if (len < icmpv6HeaderLength)
      return this.failure.fail(
        Status.Truncated,
        Layer.Icmpv6,
        p + len,
        'message shorter than the 4-byte ICMPv6 header',
        Rule.Length,
      );
    this.icmpv6Type = buf[p + icmpv6Field.Type] as number;
    const s = this.icmpv6.validate(buf, p, len, this.failure);
    if (s !== Ok) return s;
    if (!this.verifyChecksums) return Ok;
    if (this.deferEchoRequestChecksum && this.icmpv6Type === icmpv6Type.EchoRequest) {
      this.checksumDeferred = true;
      return Ok;
    }
    if (
      !verifyUpperLayer(buf, this.ipv6.sourceOffset, this.ipv6.checksumDestinationOffset, ipProtocol.Icmpv6, p, len)
    ) {
      return this.failure.fail(
        Status.BadChecksum,
        Layer.Icmpv6,
        p + icmpv6Field.Checksum,
        'ICMPv6 checksum does not verify',
        Rule.Checksum,
      );
    }
    return Ok;
  }

  private decodeUdp(buf: Uint8Array, p: number, len: number): Status {
    const udp = this.udp.wrap(buf, p, len);
    let s = udp.check();
    if (s !== Ok) return this.failure.from(s, Layer.Udp, udp);
    if (this.verifyChecksums) {
      s = udp.checkChecksum(this.ipv6.sourceOffset, this.ipv6.checksumDestinationOffset);
      if (s !== Ok) return this.failure.from(s, Layer.Udp, udp);
    }
    const sp = udp.sourcePort;
    const dp = udp.destinationPort;
    if (
      dp !== udpPort.Dhcpv6Server &&
      dp !== udpPort.Dhcpv6Client &&
      sp !== udpPort.Dhcpv6Server &&
      sp !== udpPort.Dhcpv6Client
    ) {
      return Ok;
    }
    this.dhcpv6Offset = udp.payloadOffset;
    this.dhcpv6Length = udp.payloadLength;
    if (udp.payloadLength < 1)
      return this.failure.fail(Status.Truncated, Layer.Dhcpv6, udp.payloadOffset, 'empty DHCPv6 message', Rule.Length);
    this.dhcpv6Type = buf[udp.payloadOffset + dhcpv6Field.MsgType] as number;
    return validateDhcpv6(buf, udp.payloadOffset, udp.payloadLength, this.failure);
  }
}
