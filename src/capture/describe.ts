/**
 * Frame -> plain JSON, for `punt6 decode`, fixtures and tests. Allocates freely: this is the
 * edge, never the hot path. Every layer the decoder reached is described, even when a later one
 * failed; the failure itself is reported as `error` with status, layer and offset.
 */

import { formatIpv6, formatMac, toHex, u16, u32 } from '../../codecs/bytes.js';
import { describeDhcpv6 } from '../../codecs/dhcpv6.js';
import { EtherType } from '../../codecs/ethernet.js';
import { FrameDecoder } from '../../codecs/frame.js';
import { describeIcmpv6, icmpv6TypeName } from '../../codecs/icmpv6.js';
import { IpProtocol, IPV6_HEADER_LENGTH, ipProtocolName, isExtensionHeader } from '../../codecs/ipv6.js';
import { dhcpv6MessageTypeName } from '../../codecs/dhcpv6.js';
import { layerName, Status, statusName, type Status as StatusT } from '../../codecs/status.js';

export type Json = Record<string, unknown>;

export interface FrameDescription extends Json {
  status: string;
  error?: { status: string; layer: string; offset: number; reason: string };
}

function etherTypeName(t: number): string {
  switch (t) {
    case EtherType.Ipv6:
      return 'ipv6';
    case EtherType.Ipv4:
      return 'ipv4';
    case EtherType.Arp:
      return 'arp';
    default:
      return 'unknown';
  }
}

/** Describes the frame the decoder has just decoded (call right after decode()). */
export function describeFrame(d: FrameDecoder, buf: Uint8Array, status: StatusT): FrameDescription {
  const out: FrameDescription = { status: statusName(status) };
  if (d.hasEthernet) {
    const e = d.ethernet;
    const eth: Json = { destination: formatMac(buf, e.destinationOffset), source: formatMac(buf, e.sourceOffset) };
    if (e.hasVlan) eth['vlan'] = { id: e.vlanId, pcp: e.vlanPcp, dei: e.vlanDei };
    eth['etherType'] = e.etherType;
    eth['etherTypeName'] = etherTypeName(e.etherType);
    out['ethernet'] = eth;
  }
  if (d.ipv6Offset >= 0 && d.ipv6.len >= IPV6_HEADER_LENGTH) {
    const ip = d.ipv6;
    const ipj: Json = {
      version: ip.version,
      trafficClass: ip.trafficClass,
      flowLabel: ip.flowLabel,
      payloadLength: ip.payloadLength,
      nextHeader: ip.nextHeader,
      hopLimit: ip.hopLimit,
      source: formatIpv6(buf, ip.sourceOffset),
      destination: formatIpv6(buf, ip.destinationOffset),
    };
    const ext = describeExtensions(
      buf,
      ip.off + IPV6_HEADER_LENGTH,
      ip.off + Math.min(ip.len, IPV6_HEADER_LENGTH + ip.payloadLength),
      ip.nextHeader,
    );
    if (ext.length > 0) ipj['extensions'] = ext;
    out['ipv6'] = ipj;
  }
  if (
    d.upperProtocol === IpProtocol.Icmpv6 &&
    d.upperLength >= 4 &&
    !(d.ipv6.isFragment && d.ipv6.fragmentOffset !== 0)
  ) {
    out['icmpv6'] = describeIcmpv6(buf, d.upperOffset, d.upperLength);
  } else if (d.upperProtocol === IpProtocol.Udp && d.upperLength >= 8) {
    const u = d.udp;
    out['udp'] = {
      sourcePort: u.sourcePort,
      destinationPort: u.destinationPort,
      length: u.length,
      checksum: u.checksum,
    };
    if (d.dhcpv6Type >= 0) out['dhcpv6'] = describeDhcpv6(buf, d.dhcpv6Offset, d.dhcpv6Length);
  }
  if (status !== Status.Ok) {
    const f = d.failure;
    out.error = { status: statusName(f.status), layer: layerName(f.layer), offset: f.offset, reason: f.reason };
  }
  return out;
}

/** The extension-header chain as JSON; stops quietly where the bytes stop making sense. */
function describeExtensions(b: Uint8Array, p: number, end: number, nh: number): Json[] {
  const out: Json[] = [];
  while (isExtensionHeader(nh) && p + 2 <= end && out.length < 16) {
    const next = b[p] as number;
    const hlen =
      nh === IpProtocol.Fragment
        ? 8
        : nh === IpProtocol.Ah
          ? ((b[p + 1] as number) + 2) * 4
          : ((b[p + 1] as number) + 1) * 8;
    if (p + hlen > end) break;
    const h: Json = { type: ipProtocolName(nh), nextHeader: next, length: hlen };
    if (nh === IpProtocol.Fragment) {
      h['fragmentOffset'] = u16(b, p + 2) >>> 3;
      h['moreFragments'] = ((b[p + 3] as number) & 1) === 1;
      h['identification'] = u32(b, p + 4);
    } else if (nh === IpProtocol.Routing) {
      h['routingType'] = b[p + 2];
      h['segmentsLeft'] = b[p + 3];
    } else if (nh === IpProtocol.HopByHop || nh === IpProtocol.DestinationOptions) {
      const opts: Json[] = [];
      let q = p + 2;
      while (q < p + hlen) {
        const t = b[q] as number;
        if (t === 0) {
          opts.push({ type: 0, name: 'pad1' });
          q++;
          continue;
        }
        if (q + 2 > p + hlen) break;
        const l = b[q + 1] as number;
        if (q + 2 + l > p + hlen) break;
        const o: Json = { type: t, name: t === 1 ? 'padn' : t === 5 ? 'router-alert' : 'unknown', length: l };
        if (t === 5 && l === 2) o['value'] = u16(b, q + 2);
        else if (t !== 1) o['data'] = toHex(b, q + 2, l);
        opts.push(o);
        q += 2 + l;
      }
      h['options'] = opts;
    }
    out.push(h);
    p += hlen;
    nh = next;
  }
  return out;
}

/** One line per frame, tcpdump-like, for `--summary`. */
export function summarizeFrame(d: FrameDecoder, buf: Uint8Array, status: StatusT): string {
  let s = '';
  if (d.ipv6Offset >= 0 && d.ipv6.len >= IPV6_HEADER_LENGTH) {
    s = `${formatIpv6(buf, d.ipv6.sourceOffset)} > ${formatIpv6(buf, d.ipv6.destinationOffset)}`;
  } else if (d.hasEthernet) {
    s = `${formatMac(buf, d.ethernet.sourceOffset)} > ${formatMac(buf, d.ethernet.destinationOffset)}`;
  }
  if (d.hasEthernet && d.ethernet.hasVlan) s = `vlan ${d.vlanId} ${s}`;
  if (d.icmpv6Type >= 0) {
    s += ` icmpv6 ${icmpv6TypeName(d.icmpv6Type)}`;
    const j = describeIcmpv6(buf, d.upperOffset, d.upperLength);
    if (typeof j['target'] === 'string') s += ` target ${j['target']}`;
    if (typeof j['identifier'] === 'number') s += ` id ${j['identifier']} seq ${String(j['sequenceNumber'])}`;
  } else if (d.dhcpv6Type >= 0) {
    s += ` dhcpv6 ${dhcpv6MessageTypeName(d.dhcpv6Type)}`;
    const j = describeDhcpv6(buf, d.dhcpv6Offset, d.dhcpv6Length);
    if (typeof j['transactionId'] === 'number') s += ` xid 0x${j['transactionId'].toString(16).padStart(6, '0')}`;
  } else if (d.upperProtocol >= 0) {
    s += ` ${ipProtocolName(d.upperProtocol)}`;
  }
  if (status !== Status.Ok)
    s += ` [${statusName(d.failure.status)} ${layerName(d.failure.layer)} @${d.failure.offset}: ${d.failure.reason}]`;
  return s.trim();
}
