import test from 'ava';
import { toHex } from './bytes.js';
import { FrameDecoder, LinkType } from './frame.js';
import { IpProtocol } from './ipv6.js';
import { Icmpv6Type } from './icmpv6.js';
import { NdpOptionType } from './ndp-options.js';
import { Failure, Layer, Status } from './status.js';
import {
  embed,
  fixtureFiles,
  fixturePcapFiles,
  flipped,
  loadFixturePackets,
  type FixturePacket,
} from '../src/test-support/codecs.js';

const packets = await loadFixturePackets();

/** What a decode leaves on the decoder, offsets made relative to `base`. */
function results(d: FrameDecoder, base: number): Record<string, unknown> {
  return {
    hasEthernet: d.hasEthernet,
    vlanId: d.vlanId,
    ipv6Offset: d.ipv6Offset - base,
    upperProtocol: d.upperProtocol,
    upperOffset: d.upperOffset - base,
    upperLength: d.upperLength,
    icmpv6Type: d.icmpv6Type,
    dhcpv6Type: d.dhcpv6Type,
    dhcpv6Offset: d.dhcpv6Type >= 0 ? d.dhcpv6Offset - base : -1,
    dhcpv6Length: d.dhcpv6Type >= 0 ? d.dhcpv6Length : -1,
  };
}

test('the fixture captures are the ones the tests are written against, all Ethernet', (t) => {
  t.deepEqual(fixturePcapFiles(), [...fixtureFiles].sort());
  t.true(packets.every((p) => p.linkType === LinkType.Ethernet));
  t.is(packets.length, 42);
  t.is(packets.filter((p) => p.kind === 'dhcpv6').length, 28);
});

for (const p of packets) {
  test(`${p.name}: decodes where it lies, at offset 37 of a larger buffer, and whatever surrounds it`, (t) => {
    const d = new FrameDecoder();
    t.is(d.decode(p.frame, 0, p.frame.length), Status.Ok);
    const want = results(d, 0);
    // Untagged Ethernet, no extension headers: IPv6 at 14, the upper layer at 54.
    t.like(want, { hasEthernet: true, vlanId: -1, ipv6Offset: 14, upperOffset: 54, upperLength: p.frame.length - 54 });
    if (p.kind === 'dhcpv6')
      t.like(want, {
        upperProtocol: IpProtocol.Udp,
        icmpv6Type: -1,
        dhcpv6Offset: 62,
        dhcpv6Length: p.frame.length - 62,
      });
    else t.like(want, { upperProtocol: IpProtocol.Icmpv6, dhcpv6Type: -1, icmpv6Type: p.frame[54] });
    for (const canary of [0x00, 0xff]) {
      const b = embed(p.frame, 37, 23, canary);
      t.is(d.decode(b, 37, p.frame.length), Status.Ok);
      t.deepEqual(results(d, 37), want);
    }
  });
}

for (const p of packets) {
  test(`${p.name}: every shorter frame is Truncated at the Ethernet or IPv6 layer, never a throw`, (t) => {
    const d = new FrameDecoder();
    for (let len = 0; len < p.frame.length; len++) {
      const exact = p.frame.slice(0, len);
      const s = d.decode(exact, 0, len);
      t.is(s, Status.Truncated, `length ${len}: ${d.failure.reason}`);
      const layer = d.failure.layer;
      // (Past the 40-byte header the layer is not asserted: frame.ts names any IPv6 failure
      // whose offset lies past the fixed header "ipv6-extension", even without extension headers.)
      if (len <= 54) t.is(layer, len < 14 ? Layer.Ethernet : Layer.Ipv6, `length ${len}`);
      t.is(
        d.failure.reason,
        len < 14
          ? 'frame shorter than the 14-byte Ethernet header'
          : len < 54
            ? 'packet shorter than the 40-byte IPv6 header'
            : 'packet ends before its payload length',
      );
      t.is(d.failure.offset, len, `length ${len}: the failure is where the bytes end`);
      // Same answer when the bytes after the cut are there but not part of the frame.
      t.is(d.decode(p.frame, 0, len), Status.Truncated);
      t.is(d.failure.layer, layer);
    }
    t.is(d.decode(p.frame, 0, p.frame.length + 1), Status.Truncated, 'a length past the buffer');
    t.is(d.decode(p.frame, -1, p.frame.length), Status.Truncated);
  });
}

for (const p of packets) {
  test(`${p.name}: a flipped bit of the addresses or the ${p.kind === 'dhcpv6' ? 'UDP datagram' : 'ICMPv6 message'} never decodes Ok; addresses and checksum give BadChecksum`, (t) => {
    const d = new FrameDecoder();
    const src = p.ipv6Offset + 8;
    const checksumAt = p.kind === 'dhcpv6' ? p.upperOffset + 6 : p.upperOffset + 2;
    const layer = p.kind === 'dhcpv6' ? Layer.Udp : Layer.Icmpv6;
    for (let i = src; i < p.frame.length; i++) {
      const b = flipped(p.frame, i, 0x01);
      const s = d.decode(b, 0, b.length);
      t.not(s, Status.Ok, `byte ${i}`);
      if (i < p.upperOffset || i === checksumAt || i === checksumAt + 1) {
        t.is(s, Status.BadChecksum, `byte ${i}`);
        t.is(d.failure.layer, layer);
        t.is(d.failure.offset, checksumAt);
      }
    }
    // With verification off (offloaded checksums), a changed address decodes.
    d.verifyChecksums = false;
    t.is(d.decode(flipped(p.frame, src + 15, 0x01), 0, p.frame.length), Status.Ok);
  });
}

test('a zero UDP checksum is BadChecksum (RFC 8200 §8.1), and decodes with verification off', (t) => {
  const p = packets.find((x) => x.kind === 'dhcpv6') as FixturePacket;
  const b = Uint8Array.from(p.frame);
  b[p.upperOffset + 6] = 0;
  b[p.upperOffset + 7] = 0;
  const d = new FrameDecoder();
  t.is(d.decode(b, 0, b.length), Status.BadChecksum);
  t.is(d.failure.reason, 'zero UDP checksum over IPv6');
  d.verifyChecksums = false;
  t.is(d.decode(b, 0, b.length), Status.Ok);
});

test("deferEchoRequestChecksum leaves an echo request's checksum to the caller, and only an echo request's", (t) => {
  const d = new FrameDecoder();
  d.deferEchoRequestChecksum = true;
  let requests = 0;
  for (const p of packets) {
    if (p.kind !== 'icmpv6') continue;
    const type = p.frame[p.upperOffset] as number;
    const b = flipped(p.frame, p.upperOffset + 2, 0x01); // checksum off by one bit
    const s = d.decode(b, 0, b.length);
    if (type === 128) {
      requests++;
      t.is(s, Status.Ok);
      t.true(d.checksumDeferred);
    } else {
      t.is(s, Status.BadChecksum, `type ${type} still verified`);
      t.false(d.checksumDeferred);
    }
    // A good frame after a deferred one: the flag is the last decode's.
    t.is(d.decode(p.frame, 0, p.frame.length), Status.Ok);
    t.is(d.checksumDeferred, type === 128);
  }
  t.true(requests > 0, 'the fixtures hold echo requests');
  // With verification off nothing is deferred: there is nothing to verify.
  d.verifyChecksums = false;
  const echo = packets.find((x) => x.kind === 'icmpv6' && x.frame[x.upperOffset] === 128) as FixturePacket;
  t.is(d.decode(echo.frame, 0, echo.frame.length), Status.Ok);
  t.false(d.checksumDeferred);
});

test('the same IPv6 packets over the other link types', (t) => {
  const d = new FrameDecoder();
  for (const p of packets) {
    const ip = p.frame.subarray(14);
    const framings: [number, Uint8Array][] = [
      [LinkType.Raw, ip],
      [LinkType.Ipv6, ip],
      [LinkType.LinuxSll, Uint8Array.of(0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x86, 0xdd, ...ip)],
      [LinkType.Null, Uint8Array.of(30, 0, 0, 0, ...ip)],
      [LinkType.Null, Uint8Array.of(0, 0, 0, 10, ...ip)],
      [LinkType.Loop, Uint8Array.of(0, 0, 0, 24, ...ip)],
      [LinkType.LinuxSll2, Uint8Array.of(0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...ip)],
    ];
    for (const [linkType, frame] of framings) {
      const base = frame.length - ip.length;
      t.is(d.decode(frame, 0, frame.length, linkType), Status.Ok, `${p.name} as link type ${linkType}`);
      t.like(results(d, base), { hasEthernet: false, ipv6Offset: 0, upperOffset: 40, upperLength: ip.length - 40 });
      // Cut inside the link header: Truncated; past it, Truncated at IPv6.
      for (let len = 0; len < frame.length; len += 7) {
        t.is(d.decode(frame, 0, len, linkType), Status.Truncated, `${p.name} as link type ${linkType}, length ${len}`);
      }
    }
  }
  const ip = (packets[0] as FixturePacket).frame.subarray(14);
  t.is(d.decode(Uint8Array.of(2, 0, 0, 0, ...ip), 0, ip.length + 4, LinkType.Null), Status.Unsupported, 'AF_INET');
  t.is(d.decode(ip, 0, ip.length, 147), Status.Unsupported, 'a link type not read');
  // IPv4 on a raw link: not IPv6 (rather than a short IPv6 header).
  const v4 = Uint8Array.of(
    0x45,
    0,
    0,
    28,
    0,
    0,
    0,
    0,
    64,
    17,
    0,
    0,
    10,
    0,
    0,
    1,
    10,
    0,
    0,
    2,
    0,
    53,
    0,
    53,
    0,
    8,
    0,
    0,
  );
  t.is(d.decode(v4, 0, v4.length, LinkType.Raw), Status.Unsupported);
  t.is(d.failure.reason, 'not IPv6');
  t.is(
    d.decode(Uint8Array.of(0x08, 0x00, ...new Uint8Array(18), ...v4), 0, 48, LinkType.LinuxSll2),
    Status.Unsupported,
    'SLL2 carrying IPv4',
  );
});

test('an 802.1Q tag: the VLAN id is reported and the layers move by 4', (t) => {
  const d = new FrameDecoder();
  for (const p of packets) {
    const f = p.frame;
    const tagged = Uint8Array.of(...f.subarray(0, 12), 0x81, 0x00, 0x20, 0x2a, ...f.subarray(12));
    t.is(d.decode(tagged, 0, tagged.length), Status.Ok, p.name);
    t.like(results(d, 0), { hasEthernet: true, vlanId: 42, ipv6Offset: 18, upperOffset: 58 });
    t.is(d.decode(tagged, 0, 16), Status.Truncated);
    t.is(d.failure.reason, 'frame ends inside the 802.1Q tag');
    t.is(d.failure.offset, 16);
  }
});

test('not IPv6, or an upper layer not decoded: Unsupported, with the layer and offset', (t) => {
  const p = packets[0] as FixturePacket;
  const d = new FrameDecoder();
  const v4 = flipped(p.frame, 12, 0x86 ^ 0x08);
  v4[13] = 0x00;
  t.is(d.decode(v4, 0, v4.length), Status.Unsupported);
  t.like(d.failure, { layer: Layer.Ethernet, offset: 12 });
  const tcp = Uint8Array.from(p.frame);
  tcp[20] = 6;
  t.is(d.decode(tcp, 0, tcp.length), Status.Unsupported);
  t.like(d.failure, { layer: Layer.Ipv6, offset: 54 });
  const none = Uint8Array.from(p.frame);
  none[20] = IpProtocol.NoNextHeader;
  t.is(d.decode(none, 0, none.length), Status.Ok);
  t.is(d.upperProtocol, IpProtocol.NoNextHeader);
});

test('one decoder reused: results of a frame never leak into the next', (t) => {
  const d = new FrameDecoder();
  const dhcp = packets.find((x) => x.kind === 'dhcpv6') as FixturePacket;
  const icmp = packets.find((x) => x.kind === 'icmpv6') as FixturePacket;
  t.is(d.decode(dhcp.frame, 0, dhcp.frame.length), Status.Ok);
  t.true(d.dhcpv6Type > 0);
  t.is(d.decode(icmp.frame, 0, icmp.frame.length), Status.Ok);
  t.is(d.dhcpv6Type, -1);
  t.is(d.decode(icmp.frame, 0, 10), Status.Truncated);
  t.is(d.icmpv6Type, -1);
  t.is(d.ipv6Offset, -1);
  t.is(d.decode(dhcp.frame, 0, dhcp.frame.length), Status.Ok);
  t.is(d.failure.status, Status.Ok);
  t.is(d.failure.reason, '');
  t.is(toHex(dhcp.frame, d.dhcpv6Offset, 1), toHex(Uint8Array.of(d.dhcpv6Type)));
  t.true(new Failure().toError() instanceof Error);
});

test('a cut frame is blamed on the layer it was cut in: ipv6 (not ipv6-extension) and vlan', (t) => {
  const d = new FrameDecoder();
  for (const p of packets) {
    const f = p.frame;
    // Cut inside the IPv6 payload of a packet without extension headers.
    if (f[20] !== IpProtocol.Icmpv6 && f[20] !== IpProtocol.Udp) continue;
    t.is(d.decode(f, 0, 55, LinkType.Ethernet), Status.Truncated);
    t.is(d.failure.layer, Layer.Ipv6, `${p.name} cut to 55 bytes`);
  }
  const tagged = new Uint8Array(18);
  tagged.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x81, 0x00, 0x00, 0x64, 0x86, 0xdd]);
  for (let n = 14; n < 18; n++) {
    t.is(d.decode(tagged, 0, n, LinkType.Ethernet), Status.Truncated);
    t.is(d.failure.layer, Layer.Vlan, `tagged frame cut to ${n} bytes`);
  }
});

test('an ND message decoded Ok says where its link-layer address options stand, found in the one walk', (t) => {
  const d = new FrameDecoder();
  let nd = 0;
  for (const p of packets) {
    if (d.decode(p.frame, 0, p.frame.length) !== Status.Ok) continue;
    const type = d.icmpv6Type;
    if (type < Icmpv6Type.RouterSolicitation || type > Icmpv6Type.NeighborAdvertisement) continue;
    nd++;
    const fixed = type === Icmpv6Type.RouterSolicitation ? 8 : type === Icmpv6Type.RouterAdvertisement ? 16 : 24;
    // The first option of each type, found by walking the options here.
    const first = (want: number): number => {
      for (let o = d.upperOffset + fixed; o < d.upperOffset + d.upperLength; o += 8 * (p.frame[o + 1] as number))
        if (p.frame[o] === want) return o;
      return -1;
    };
    t.is(d.ndpOptions.sourceLinkLayerOption, first(NdpOptionType.SourceLinkLayerAddress), p.name);
    t.is(d.ndpOptions.targetLinkLayerOption, first(NdpOptionType.TargetLinkLayerAddress), p.name);
  }
  t.true(nd >= 4, `${nd} ND messages in the fixtures`);
});
