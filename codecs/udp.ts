/**
 * UDP (RFC 768) over IPv6, with the checksum over the IPv6 pseudo-header (RFC 8200 §8.1).
 *
 * ```text
 *  0      7 8     15 16    23 24    31
 * +--------+--------+--------+--------+
 * |     Source      |   Destination   |
 * |      Port       |      Port       |
 * +--------+--------+--------+--------+
 * |     Length      |    Checksum     |
 * +--------+--------+--------+--------+
 * |          data octets ...
 * ```
 *
 * Over IPv6 the checksum is mandatory: a zero checksum is reported as BadChecksum (RFC 8200
 * §8.1; the RFC 6936 tunnel exception does not apply to what punt6 answers). A computed zero is
 * sent as 0xffff.
 */

import { setU16, u16 } from './bytes.js';
import { fillUpperLayer, verifyUpperLayer } from './checksum.js';
import { IpProtocol } from './ipv6.js';
import { ByteView, Rule, Status } from './status.js';

export const UDP_HEADER_LENGTH = 8;
/** UDP's IPv6 next header value. */
export const UDP_PROTOCOL = IpProtocol.Udp;

export const UdpPort = {
  Dhcpv6Client: 546,
  Dhcpv6Server: 547,
} as const;

export const UdpField = { SourcePort: 0, DestinationPort: 2, Length: 4, Checksum: 6 } as const;

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const udpField = UdpField;
const udpHeaderLength = UDP_HEADER_LENGTH;
const udpProtocol = UDP_PROTOCOL;
const { Ok } = Status;

export class UdpView extends ByteView {
  /** `len` is the upper-layer length from IPv6; the UDP length field must agree with it. */
  check(): Status {
    const o = this.off;
    if (o < 0 || o + this.len > this.buf.length || this.len < udpHeaderLength) {
      return this.fail(
        Status.Truncated,
        o + Math.max(0, this.len),
        'datagram shorter than the 8-byte UDP header',
        Rule.Length,
      );
    }
    const l = u16(this.buf, o + udpField.Length);
    if (l < udpHeaderLength)
      return this.fail(Status.Malformed, o + udpField.Length, 'UDP length below 8', Rule.LengthField);
    if (l > this.len)
      return this.fail(Status.Truncated, o + this.len, 'datagram ends before its UDP length', Rule.Length);
    if (l < this.len)
      return this.fail(
        Status.Malformed,
        o + udpField.Length,
        'UDP length shorter than the IPv6 payload',
        Rule.LengthField,
      );
    return Ok;
  }

  /** Verifies the checksum; addresses are at srcOff/dstOff in the same buffer. */
  checkChecksum(srcOff: number, dstOff: number): Status {
    if (this.checksum === 0)
      return this.fail(Status.BadChecksum, this.off + udpField.Checksum, 'zero UDP checksum over IPv6', Rule.Checksum);
    if (!verifyUpperLayer(this.buf, srcOff, dstOff, udpProtocol, this.off, this.length)) {
      return this.fail(Status.BadChecksum, this.off + udpField.Checksum, 'UDP checksum does not verify', Rule.Checksum);
    }
    return Ok;
  }

  get sourcePort(): number {
    return u16(this.buf, this.off + udpField.SourcePort);
  }
  set sourcePort(v: number) {
    setU16(this.buf, this.off + udpField.SourcePort, v);
  }
  get destinationPort(): number {
    return u16(this.buf, this.off + udpField.DestinationPort);
  }
  set destinationPort(v: number) {
    setU16(this.buf, this.off + udpField.DestinationPort, v);
  }
  get length(): number {
    return u16(this.buf, this.off + udpField.Length);
  }
  get checksum(): number {
    return u16(this.buf, this.off + udpField.Checksum);
  }
  get payloadOffset(): number {
    return this.off + udpHeaderLength;
  }
  get payloadLength(): number {
    return this.length - udpHeaderLength;
  }
}

export interface UdpRepr {
  sourcePort: number;
  destinationPort: number;
  /** Payload length (the header's length field is this + 8). */
  payloadLength: number;
}

export function udpLength(r: UdpRepr): number {
  return udpHeaderLength + r.payloadLength;
}

/** Writes the header (checksum zero) at b[o]; returns 8. Fill the checksum after the payload. */
export function emitUdpHeader(r: UdpRepr, b: Uint8Array, o: number): number {
  setU16(b, o + udpField.SourcePort, r.sourcePort);
  setU16(b, o + udpField.DestinationPort, r.destinationPort);
  setU16(b, o + udpField.Length, udpHeaderLength + r.payloadLength);
  setU16(b, o + udpField.Checksum, 0);
  return udpHeaderLength;
}

/** Computes the checksum of the datagram at b[o] (header and payload in place). */
export function fillUdpChecksum(b: Uint8Array, srcOff: number, dstOff: number, o: number): number {
  return fillUpperLayer(b, srcOff, dstOff, udpProtocol, o, u16(b, o + udpField.Length), o + udpField.Checksum, 0xffff);
}
