import test from 'ava';
import { formatIpv6, formatMac, fromHex, parseIpv6, parseMac, toHex } from './bytes.js';
import {
  EchoView,
  Icmpv6Type,
  Icmpv6View,
  describeIcmpv6,
  echoLength,
  emitEcho,
  fillIcmpv6Checksum,
  validateIcmpv6,
  verifyIcmpv6Checksum,
  type EchoRepr,
} from './icmpv6.js';
import {
  NeighborAdvertisementView,
  NeighborSolicitationView,
  RouterAdvertisementView,
  emitNeighborAdvertisement,
  emitNeighborSolicitation,
  emitRedirect,
  emitRouterAdvertisement,
  emitRouterSolicitation,
  neighborAdvertisementLength,
  neighborSolicitationLength,
  parseNeighborAdvertisement,
  parseNeighborSolicitation,
  parseRedirect,
  parseRouterAdvertisement,
  parseRouterSolicitation,
  redirectLength,
  routerAdvertisementLength,
  routerSolicitationLength,
  type RouterAdvertisementRepr,
} from './ndp.js';
import {
  NdpOptionCursor,
  NdpOptionType,
  RouterPreference,
  ndpOptionType,
  pref64LengthCode,
  readNdpOptions,
  type NdpOptionRepr,
} from './ndp-options.js';
import { Failure, Layer, Status } from './status.js';
import { fixturePacket, icmpv6Bytes, loadFixturePackets, type FixturePacket } from '../src/test-support/codecs.js';

const packets = await loadFixturePackets();
const icmp = packets.filter((p) => p.kind === 'icmpv6');
const a = (text: string): Uint8Array => parseIpv6(text);

// ---- Concrete values of every ICMPv6 fixture frame ----

/** The fields a frame is checked against, read with the views (hot-path API). */
function fields(p: FixturePacket): Record<string, unknown> {
  const b = p.frame;
  const off = p.upperOffset;
  const len = p.upperLength;
  const out: Record<string, unknown> = {
    type: b[off],
    code: b[off + 1],
    checksum: new Icmpv6View().wrap(b, off, len).checksum,
  };
  const options = (from: number): string[] => {
    const c = new NdpOptionCursor().reset(b, from, off + len);
    const list: string[] = [];
    while (c.next() === Status.Ok) list.push(`${c.type}/${c.length}`);
    return list;
  };
  switch (p.icmpv6Type) {
    case Icmpv6Type.EchoRequest:
    case Icmpv6Type.EchoReply: {
      const v = new EchoView().wrap(b, off, len);
      if (v.check() !== Status.Ok) throw new Error(v.errorReason);
      return {
        ...out,
        identifier: v.identifier,
        sequenceNumber: v.sequenceNumber,
        dataLength: v.dataLength,
        dataTail: toHex(b, v.dataOffset + 16, 8),
      };
    }
    case Icmpv6Type.NeighborSolicitation: {
      const v = new NeighborSolicitationView().wrap(b, off, len);
      if (v.check() !== Status.Ok) throw new Error(v.errorReason);
      return {
        ...out,
        target: formatIpv6(b, v.targetOffset),
        source: formatIpv6(b, p.ipv6Offset + 8),
        options: options(v.optionsOffset),
        optionData: toHex(b, v.optionsOffset + 2, 6),
      };
    }
    case Icmpv6Type.NeighborAdvertisement: {
      const v = new NeighborAdvertisementView().wrap(b, off, len);
      if (v.check() !== Status.Ok) throw new Error(v.errorReason);
      return {
        ...out,
        router: v.router,
        solicited: v.solicited,
        override: v.override,
        target: formatIpv6(b, v.targetOffset),
        options: options(v.optionsOffset),
        optionData: formatMac(b, v.optionsOffset + 2),
      };
    }
    case Icmpv6Type.RouterSolicitation:
      return { ...out, options: options(off + 8), optionData: len > 8 ? formatMac(b, off + 10) : '' };
    case Icmpv6Type.RouterAdvertisement: {
      const v = new RouterAdvertisementView().wrap(b, off, len);
      if (v.check() !== Status.Ok) throw new Error(v.errorReason);
      return {
        ...out,
        curHopLimit: v.curHopLimit,
        managed: v.managed,
        other: v.other,
        preference: v.preference,
        routerLifetime: v.routerLifetime,
        reachableTime: v.reachableTime,
        retransTimer: v.retransTimer,
        options: options(v.optionsOffset),
      };
    }
    default:
      throw new Error(`unexpected ICMPv6 type ${p.icmpv6Type} in ${p.name}`);
  }
}

const ping = (type: number, checksum: number, seq: number): Record<string, unknown> => ({
  type,
  code: 0,
  checksum,
  identifier: 19260,
  sequenceNumber: seq,
  dataLength: 56,
  dataTail: '1011121314151617',
});

const expected: [string, number, Record<string, unknown>][] = [
  [
    'kernel-link-up.pcap',
    0,
    {
      type: 135,
      code: 0,
      checksum: 55271,
      target: 'fd00::1',
      source: '::',
      options: ['14/8'],
      optionData: 'bd230646d44a',
    },
  ],
  [
    'kernel-link-up.pcap',
    1,
    {
      type: 135,
      code: 0,
      checksum: 64607,
      target: 'fe80::ff:fe00:1',
      source: '::',
      options: ['14/8'],
      optionData: '24b3e0a46d64',
    },
  ],
  [
    'kernel-link-up.pcap',
    2,
    { type: 133, code: 0, checksum: 31532, options: ['1/8'], optionData: '02:00:00:00:00:01' },
  ],
  [
    'kernel-link-up.pcap',
    3,
    { type: 133, code: 0, checksum: 31532, options: ['1/8'], optionData: '02:00:00:00:00:01' },
  ],
  [
    'ndisc6-ns-na.pcap',
    0,
    {
      type: 135,
      code: 0,
      checksum: 32023,
      target: 'fd00::2',
      source: 'fe80::ff:fe00:1',
      options: ['1/8'],
      optionData: '020000000001',
    },
  ],
  [
    'ndisc6-ns-na.pcap',
    1,
    {
      type: 136,
      code: 0,
      checksum: 7194,
      router: false,
      solicited: true,
      override: true,
      target: 'fd00::2',
      options: ['2/8'],
      optionData: '02:00:00:00:00:02',
    },
  ],
  ['ping6-echo.pcap', 0, ping(128, 22111, 1)],
  ['ping6-echo.pcap', 1, ping(129, 21855, 1)],
  ['ping6-echo.pcap', 2, ping(128, 58247, 2)],
  ['ping6-echo.pcap', 3, ping(129, 57991, 2)],
  ['ping6-echo.pcap', 4, ping(128, 2147, 3)],
  ['ping6-echo.pcap', 5, ping(129, 1891, 3)],
  ['rdisc6-rs-ra.pcap', 0, { type: 133, code: 0, checksum: 32310, options: [], optionData: '' }],
  [
    'rdisc6-rs-ra.pcap',
    1,
    {
      type: 134,
      code: 0,
      checksum: 58936,
      curHopLimit: 64,
      managed: false,
      other: true,
      preference: RouterPreference.High,
      routerLifetime: 1800,
      reachableTime: 30000,
      retransTimer: 1000,
      options: ['3/32', '3/32', '24/24', '25/40', '31/40', '5/8', '1/8'],
    },
  ],
];

test('the table covers every ICMPv6 frame of the fixtures', (t) => {
  t.deepEqual(
    icmp.map((p) => p.name),
    expected.map(([f, i]) => `${f}#${i}`),
  );
});

for (const [file, index, want] of expected) {
  test(`${file}#${index}: decoded fields`, (t) => {
    const p = fixturePacket(packets, file, index);
    t.deepEqual(fields(p), want);
    t.is(validateIcmpv6(p.frame, p.upperOffset, p.upperLength, new Failure()), Status.Ok);
    t.true(verifyIcmpv6Checksum(p.frame, p.ipv6Offset + 8, p.ipv6Offset + 24, p.upperOffset, p.upperLength));
  });
}

test('the router advertisement options, field by field (Reprs read from the frame)', (t) => {
  const p = fixturePacket(packets, 'rdisc6-rs-ra.pcap', 1);
  const r = parseRouterAdvertisement(p.frame, p.upperOffset, p.upperLength);
  t.deepEqual(r.options, [
    {
      kind: 'prefix-information',
      prefixLength: 64,
      onLink: true,
      autonomous: true,
      routerAddress: false,
      pdPreferred: false,
      validLifetime: 86400,
      preferredLifetime: 14400,
      prefix: a('2001:db8:1::'),
    },
    {
      kind: 'prefix-information',
      prefixLength: 64,
      onLink: true,
      autonomous: false,
      routerAddress: false,
      pdPreferred: false,
      validLifetime: 7200,
      preferredLifetime: 3600,
      prefix: a('2001:db8:2::'),
    },
    // radvd sends a /48 in a 24-byte option (RFC 4191 §2.3 allows length 2 or 3).
    {
      kind: 'route-information',
      prefixLength: 48,
      preference: RouterPreference.Low,
      routeLifetime: 1800,
      prefix: a('2001:db8:ff00::'),
      prefixBytes: 16,
    },
    { kind: 'rdnss', lifetime: 1200, addresses: [a('2001:db8:1::53'), a('2001:db8:1::54')] },
    { kind: 'dnssl', lifetime: 1200, domains: ['example.com.', 'lab.example.net.'] },
    { kind: 'mtu', mtu: 1452 },
    { kind: 'source-link-layer-address', address: parseMac('02:00:00:00:00:02') },
  ]);
});

// ---- emit(parse(x)) = x, checksum included, for every ICMPv6 fixture ----

/** Parses the message at b[off, off+len) and emits it at o[oo]; returns bytes written. */
function reemit(b: Uint8Array, off: number, len: number, o: Uint8Array, oo: number): number {
  switch (b[off]) {
    case Icmpv6Type.EchoRequest:
    case Icmpv6Type.EchoReply: {
      const v = new EchoView().wrap(b, off, len);
      if (v.check() !== Status.Ok) throw new Error(v.errorReason);
      const r: EchoRepr = {
        type: v.type,
        identifier: v.identifier,
        sequenceNumber: v.sequenceNumber,
        data: b.slice(v.dataOffset, v.dataOffset + v.dataLength),
      };
      return emitEcho(r, o, oo);
    }
    case Icmpv6Type.RouterSolicitation:
      return emitRouterSolicitation(parseRouterSolicitation(b, off, len), o, oo);
    case Icmpv6Type.RouterAdvertisement:
      return emitRouterAdvertisement(parseRouterAdvertisement(b, off, len), o, oo);
    case Icmpv6Type.NeighborSolicitation:
      return emitNeighborSolicitation(parseNeighborSolicitation(b, off, len), o, oo);
    case Icmpv6Type.NeighborAdvertisement:
      return emitNeighborAdvertisement(parseNeighborAdvertisement(b, off, len), o, oo);
    case Icmpv6Type.Redirect:
      return emitRedirect(parseRedirect(b, off, len), o, oo);
    default:
      throw new Error(`no parse for type ${b[off]}`);
  }
}

for (const p of icmp) {
  test(`${p.name}: emit(parse(message)) and the filled checksum give the captured bytes`, (t) => {
    const out = Uint8Array.from(p.frame);
    // Everything the emitter must write is garbage first.
    out.fill(0xcc, p.upperOffset, p.upperOffset + p.upperLength);
    t.is(reemit(p.frame, p.upperOffset, p.upperLength, out, p.upperOffset), p.upperLength);
    t.is(out[p.upperOffset + 2], 0, 'emit leaves the checksum 0');
    t.is(out[p.upperOffset + 3], 0);
    const c = fillIcmpv6Checksum(out, p.ipv6Offset + 8, p.ipv6Offset + 24, p.upperOffset, p.upperLength);
    t.is(c, new Icmpv6View().wrap(p.frame, p.upperOffset, p.upperLength).checksum);
    t.is(toHex(out), toHex(p.frame), 'the whole frame, ICMPv6 message and checksum included');
  });
}

// ---- Built from hand-written Reprs ----

test('builds the neighbor advertisement of ndisc6-ns-na.pcap#1 and the router advertisement of rdisc6-rs-ra.pcap#1', (t) => {
  const na = fixturePacket(packets, 'ndisc6-ns-na.pcap', 1);
  const naRepr = {
    router: false,
    solicited: true,
    override: true,
    target: a('fd00::2'),
    options: [{ kind: 'target-link-layer-address', address: parseMac('02:00:00:00:00:02') }] as NdpOptionRepr[],
  };
  const ra = fixturePacket(packets, 'rdisc6-rs-ra.pcap', 1);
  const raRepr: RouterAdvertisementRepr = {
    curHopLimit: 64,
    managed: false,
    other: true,
    preference: RouterPreference.High,
    routerLifetime: 1800,
    reachableTime: 30000,
    retransTimer: 1000,
    options: [
      {
        kind: 'prefix-information',
        prefixLength: 64,
        onLink: true,
        autonomous: true,
        validLifetime: 86400,
        preferredLifetime: 14400,
        prefix: a('2001:db8:1::'),
      },
      {
        kind: 'prefix-information',
        prefixLength: 64,
        onLink: true,
        autonomous: false,
        validLifetime: 7200,
        preferredLifetime: 3600,
        prefix: a('2001:db8:2::'),
      },
      {
        kind: 'route-information',
        prefixLength: 48,
        preference: RouterPreference.Low,
        routeLifetime: 1800,
        prefix: a('2001:db8:ff00::'),
        prefixBytes: 16,
      },
      { kind: 'rdnss', lifetime: 1200, addresses: [a('2001:db8:1::53'), a('2001:db8:1::54')] },
      { kind: 'dnssl', lifetime: 1200, domains: ['example.com', 'lab.example.net'] },
      { kind: 'mtu', mtu: 1452 },
      { kind: 'source-link-layer-address', address: parseMac('02:00:00:00:00:02') },
    ],
  };
  for (const [p, n, emit] of [
    [na, neighborAdvertisementLength(naRepr), (b: Uint8Array, o: number) => emitNeighborAdvertisement(naRepr, b, o)],
    [ra, routerAdvertisementLength(raRepr), (b: Uint8Array, o: number) => emitRouterAdvertisement(raRepr, b, o)],
  ] as const) {
    t.is(n, p.upperLength);
    const out = Uint8Array.from(p.frame).fill(0x11, p.upperOffset);
    t.is(emit(out, p.upperOffset), n);
    fillIcmpv6Checksum(out, p.ipv6Offset + 8, p.ipv6Offset + 24, p.upperOffset, n);
    t.is(toHex(out), toHex(p.frame), p.name);
  }
});

test('an echo reply built from the request it answers: same id, sequence and data, checksum fills to the capture', (t) => {
  const req = fixturePacket(packets, 'ping6-echo.pcap', 2);
  const rep = fixturePacket(packets, 'ping6-echo.pcap', 3);
  const v = new EchoView().wrap(req.frame, req.upperOffset, req.upperLength);
  t.is(v.check(), Status.Ok);
  const r: EchoRepr = {
    type: Icmpv6Type.EchoReply,
    identifier: v.identifier,
    sequenceNumber: v.sequenceNumber,
    data: req.frame.slice(v.dataOffset, v.dataOffset + v.dataLength),
  };
  t.is(echoLength(r), 64);
  const out = Uint8Array.from(rep.frame).fill(0, rep.upperOffset);
  emitEcho(r, out, rep.upperOffset);
  fillIcmpv6Checksum(out, rep.ipv6Offset + 8, rep.ipv6Offset + 24, rep.upperOffset, 64);
  t.is(toHex(out), toHex(rep.frame));
});

test('echo view: too short is Truncated, another type is Malformed', (t) => {
  const b = icmpv6Bytes(fixturePacket(packets, 'ping6-echo.pcap', 0));
  const v = new EchoView();
  t.is(v.wrap(b, 0, 7).check(), Status.Truncated);
  t.is(v.errorOffset, 7);
  t.is(v.wrap(b, 0, 8).check(), Status.Ok);
  t.is(v.dataLength, 0);
  t.is(v.wrap(b, 1, 64).check(), Status.Truncated, 'runs past the buffer');
  b[0] = Icmpv6Type.NeighborSolicitation;
  t.is(v.wrap(b, 0, 64).check(), Status.Malformed);
});

// ---- Checksums ----

for (const p of icmp) {
  test(`${p.name}: the checksum verifies, and fails for any single flipped bit of the message or the addresses`, (t) => {
    const b = Uint8Array.from(p.frame);
    const src = p.ipv6Offset + 8;
    const dst = p.ipv6Offset + 24;
    t.true(verifyIcmpv6Checksum(b, src, dst, p.upperOffset, p.upperLength));
    for (let i = src; i < p.upperOffset + p.upperLength; i += i < p.upperOffset ? 5 : 1) {
      if (i >= p.ipv6Offset + 40 && i < p.upperOffset) continue;
      for (const bit of [0x01, 0x80]) {
        b[i] = (b[i] as number) ^ bit;
        t.false(verifyIcmpv6Checksum(b, src, dst, p.upperOffset, p.upperLength), `byte ${i} bit ${bit}`);
        b[i] = (b[i] as number) ^ bit;
      }
    }
    // fill zeroes the field first: the same value whatever was there.
    b[p.upperOffset + 2] = 0xde;
    b[p.upperOffset + 3] = 0xad;
    fillIcmpv6Checksum(b, src, dst, p.upperOffset, p.upperLength);
    t.is(toHex(b), toHex(p.frame));
  });
}

// ---- Truncation of every ICMPv6 fixture message ----

/** Lengths at which a shorter message is still a whole, valid one: after the fixed part, at option ends. */
function validLengths(b: Uint8Array): Set<number> {
  const type = b[0] as number;
  if (type === Icmpv6Type.EchoRequest || type === Icmpv6Type.EchoReply)
    return new Set(Array.from({ length: b.length - 7 }, (_, i) => 8 + i));
  const fixed = type === Icmpv6Type.RouterSolicitation ? 8 : type === Icmpv6Type.RouterAdvertisement ? 16 : 24;
  const out = new Set([fixed]);
  const c = new NdpOptionCursor().reset(b, fixed, b.length);
  while (c.next() === Status.Ok) out.add(c.offset + c.length);
  return out;
}

for (const p of icmp) {
  test(`${p.name}: every shorter message is Truncated (or a whole, shorter message), never a throw`, (t) => {
    const whole = icmpv6Bytes(p);
    const ok = validLengths(whole);
    const f = new Failure();
    for (let len = 0; len < whole.length; len++) {
      const s = validateIcmpv6(whole.slice(0, len), 0, len, f);
      t.is(
        validateIcmpv6(p.frame, p.upperOffset, len, new Failure()),
        s,
        `length ${len}: the bytes after the cut changed the answer`,
      );
      if (ok.has(len)) {
        t.is(s, Status.Ok, `length ${len}`);
        continue;
      }
      t.is(s, Status.Truncated, `length ${len}: ${f.reason}`);
      t.true(
        f.layer === Layer.Icmpv6 || f.layer === Layer.Ndp || f.layer === Layer.NdpOption,
        `length ${len}: layer ${f.layer}`,
      );
      t.true(f.offset <= len);
      t.notThrows(() => describeIcmpv6(whole, 0, len));
    }
  });
}

// ---- NDP options inside whole messages (beyond the option-level tests in ndp-options.test.ts) ----

const everyOption: NdpOptionRepr[] = [
  { kind: 'source-link-layer-address', address: parseMac('02:00:00:00:00:02') },
  { kind: 'target-link-layer-address', address: parseMac('02:00:00:00:00:03') },
  {
    kind: 'prefix-information',
    prefixLength: 64,
    onLink: true,
    autonomous: true,
    routerAddress: false,
    pdPreferred: true,
    validLifetime: 86400,
    preferredLifetime: 14400,
    prefix: a('2001:db8:1::'),
  },
  { kind: 'redirected-header', data: fromHex('6000000000203a40' + '00'.repeat(8)) },
  { kind: 'mtu', mtu: 1280 },
  { kind: 'advertisement-interval', interval: 3000 },
  { kind: 'home-agent-information', preference: 10, lifetime: 1800 },
  { kind: 'source-address-list', addresses: [a('fe80::2')] },
  { kind: 'target-address-list', addresses: [a('fe80::3'), a('2001:db8::3')] },
  { kind: 'nonce', nonce: fromHex('0102030405060708090a0b0c0d0e') },
  {
    kind: 'route-information',
    prefixLength: 0,
    preference: RouterPreference.High,
    routeLifetime: 600,
    prefix: new Uint8Array(16),
  },
  {
    kind: 'route-information',
    prefixLength: 56,
    preference: RouterPreference.Low,
    routeLifetime: 600,
    prefix: a('2001:db8:ff00::'),
  },
  {
    kind: 'route-information',
    prefixLength: 128,
    preference: RouterPreference.Medium,
    routeLifetime: 600,
    prefix: a('2001:db8::1'),
  },
  {
    kind: 'route-information',
    prefixLength: 0,
    preference: RouterPreference.Medium,
    routeLifetime: 0,
    prefix: new Uint8Array(16),
    prefixBytes: 8,
  },
  {
    kind: 'route-information',
    prefixLength: 32,
    preference: RouterPreference.Medium,
    routeLifetime: 0,
    prefix: a('2001:db8::'),
    prefixBytes: 16,
  },
  { kind: 'rdnss', lifetime: 1200, addresses: [a('2001:db8::53')] },
  { kind: 'dnssl', lifetime: 1200, domains: ['example.com.', 'a.b.c.d.'] },
  { kind: 'captive-portal', uri: 'https://captive.example/api/v1' },
  {
    kind: 'pref64',
    scaledLifetime: 8191,
    prefixLengthCode: pref64LengthCode(96),
    prefix: fromHex('0064ff9b0000000000000000'),
  },
  { kind: 'unknown', type: 253, data: fromHex('00112233445566778899aabbccdd') },
];

test('a router advertisement with every NDP option kind: validate, parse and emit at an offset, checksum', (t) => {
  const repr: RouterAdvertisementRepr = {
    curHopLimit: 255,
    managed: true,
    other: false,
    homeAgent: true,
    proxy: true,
    preference: RouterPreference.Low,
    routerLifetime: 0,
    reachableTime: 1,
    retransTimer: 0xffffffff,
    options: everyOption,
  };
  const n = routerAdvertisementLength(repr);
  // An IPv6 header's addresses in front, then the message at offset 40 + 7.
  const b = new Uint8Array(7 + 40 + n + 5).fill(0x99);
  b.set(a('fe80::2'), 7 + 8);
  b.set(a('ff02::1'), 7 + 24);
  t.is(emitRouterAdvertisement(repr, b, 47), n);
  t.is(b[47 + n], 0x99);
  fillIcmpv6Checksum(b, 15, 31, 47, n);
  t.true(verifyIcmpv6Checksum(b, 15, 31, 47, n));
  const f = new Failure();
  t.is(validateIcmpv6(b, 47, n, f), Status.Ok, f.reason);
  const back = parseRouterAdvertisement(b, 47, n);
  t.deepEqual(back, repr);
  const again = new Uint8Array(n);
  emitRouterAdvertisement(back, again, 0);
  t.is(toHex(again, 4), toHex(b, 47 + 4, n - 4));
  const json = describeIcmpv6(b, 47, n);
  t.is((json['options'] as unknown[]).length, everyOption.length);
  t.false('error' in json);
});

test('neighbor solicitation, redirect and router solicitation with options: parse gives the Repr back', (t) => {
  const kind = (k: NdpOptionRepr['kind']): NdpOptionRepr => everyOption.find((r) => r.kind === k) as NdpOptionRepr;
  const ns = { target: a('2001:db8::5'), options: [kind('source-link-layer-address'), kind('nonce')] };
  const rd = {
    target: a('fe80::1'),
    destination: a('2001:db8::99'),
    options: [kind('target-link-layer-address'), kind('redirected-header')],
  };
  const rs = { options: [kind('source-link-layer-address'), kind('unknown'), kind('captive-portal')] };
  const f = new Failure();
  const b = new Uint8Array(300);
  let n = emitNeighborSolicitation(ns, b, 3);
  t.is(n, neighborSolicitationLength(ns));
  t.is(validateIcmpv6(b, 3, n, f), Status.Ok);
  t.deepEqual(parseNeighborSolicitation(b, 3, n), ns);
  n = emitRedirect(rd, b, 3);
  t.is(n, redirectLength(rd));
  t.is(validateIcmpv6(b, 3, n, f), Status.Ok);
  t.deepEqual(parseRedirect(b, 3, n), rd);
  n = emitRouterSolicitation(rs, b, 3);
  t.is(n, routerSolicitationLength(rs));
  t.is(validateIcmpv6(b, 3, n, f), Status.Ok);
  t.deepEqual(parseRouterSolicitation(b, 3, n), rs);
  // A parse reads nothing past the message: the options stop at its end.
  t.deepEqual(parseRouterSolicitation(b, 3, 8 + 8).options, [kind('source-link-layer-address')]);
});

const knownTypes = [...new Set(everyOption.map((r) => ndpOptionType(r)))];

for (const type of knownTypes) {
  test(`NDP option type ${type} with length 0 inside a router advertisement is Malformed at its length byte`, (t) => {
    const repr: RouterAdvertisementRepr = {
      curHopLimit: 64,
      managed: false,
      other: false,
      preference: 0,
      routerLifetime: 1800,
      reachableTime: 0,
      retransTimer: 0,
      options: [{ kind: 'mtu', mtu: 1500 }],
    };
    const n = routerAdvertisementLength(repr);
    const b = new Uint8Array(5 + n + 16);
    emitRouterAdvertisement(repr, b, 5);
    // A zero-length option after the MTU option, with a plausible body behind it.
    b[5 + n] = type;
    b[5 + n + 1] = 0;
    const f = new Failure();
    t.is(validateIcmpv6(b, 5, n + 16, f), Status.Malformed);
    t.like(f, { layer: Layer.NdpOption, offset: 5 + n + 1, reason: 'option with length 0' });
    t.like(describeIcmpv6(b, 5, n + 16), {
      type: 134,
      routerLifetime: 1800,
      options: [{ type: NdpOptionType.Mtu, mtu: 1500 }],
      error: { status: 'malformed', layer: 'ndp-option', offset: 5 + n + 1 },
    });
  });
}

// ---- Other ICMPv6 types validateIcmpv6 knows ----

// [what, message hex, status, layer, failure offset]
const others: [string, string, Status, Layer, number][] = [
  ['destination unreachable of 8 bytes', '01040000' + '00000000', Status.Ok, Layer.Icmpv6, 0],
  ['packet too big of 7 bytes', '02000000' + '000005', Status.Truncated, Layer.Icmpv6, 7],
  ['MLD report of 24 bytes', '83000000' + '00000000' + toHex(a('ff02::fb')), Status.Ok, Layer.Icmpv6, 0],
  ['MLD done of 23 bytes', '84000000' + '00000000' + toHex(a('ff02::fb')).slice(2), Status.Truncated, Layer.Icmpv6, 23],
  [
    'MLDv2 query of 26 bytes',
    '82000000' + '00000000' + toHex(a('ff02::fb')) + '0000',
    Status.Truncated,
    Layer.Icmpv6,
    26,
  ],
  [
    'MLDv2 query with a source past the end',
    '82000000' + '00000000' + toHex(a('ff02::fb')) + '027d' + '0001',
    Status.Truncated,
    Layer.Icmpv6,
    28,
  ],
  [
    'MLDv2 report with a record past the end',
    '8f000000' + '00000001' + '04000000' + toHex(a('ff02::fb')).slice(0, 24),
    Status.Truncated,
    Layer.Icmpv6,
    8,
  ],
  [
    'MLDv2 report with one record',
    '8f000000' + '00000001' + '04000000' + toHex(a('ff02::fb')),
    Status.Ok,
    Layer.Icmpv6,
    0,
  ],
  ['node information query of 15 bytes', '8b000000' + '00'.repeat(11), Status.Truncated, Layer.Icmpv6, 15],
  ['neighbor solicitation with code 1', '87010000' + '00000000' + toHex(a('fe80::1')), Status.Malformed, Layer.Ndp, 1],
  ['router advertisement of 15 bytes', '86000000' + '00'.repeat(11), Status.Truncated, Layer.Ndp, 15],
  ['an unknown type with no body', 'c8000000', Status.Ok, Layer.Icmpv6, 0],
  ['3 bytes', '800000', Status.Truncated, Layer.Icmpv6, 3],
];

for (const [what, hex, status, layer, at] of others) {
  test(`validateIcmpv6: ${what}`, (t) => {
    const body = fromHex(hex);
    const b = new Uint8Array(6 + body.length + 40).fill(0xff);
    b.set(body, 6);
    const f = new Failure();
    t.is(validateIcmpv6(b, 6, body.length, f), status, f.reason);
    if (status !== Status.Ok) t.like(f, { status, layer, offset: 6 + at });
    t.notThrows(() => describeIcmpv6(b, 6, body.length));
  });
}

test('the options of a captured message are exactly what readNdpOptions gives back', (t) => {
  const p = fixturePacket(packets, 'kernel-link-up.pcap', 0);
  t.deepEqual(readNdpOptions(p.frame, p.upperOffset + 24, p.upperOffset + p.upperLength), [
    { kind: 'nonce', nonce: fromHex('bd230646d44a') },
  ]);
});
