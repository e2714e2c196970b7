import test from 'ava';
import { formatIpv6, formatMac, fromHex, parseIpv6, parseMac, toHex, u16 } from './bytes.js';
import {
  DHCPV6_HOP_COUNT_LIMIT,
  Dhcpv6MessageType,
  Dhcpv6OptionCursor,
  Dhcpv6View,
  Done,
  describeDhcpv6,
  dhcpv6MessageLength,
  emitDhcpv6Message,
  parseDhcpv6Message,
  validateDhcpv6,
  type Dhcpv6MessageRepr,
  type Dhcpv6RelayRepr,
  Dhcpv6OptionCode,
  IaAddressView,
  IaPrefixView,
  IaView,
  readElapsedTime,
  readStatusCode,
} from './dhcpv6.js';
import { DuidType, DuidView } from './duid.js';
import { DecodeError, Failure, Layer, Status } from './status.js';
import {
  dhcpv6Bytes,
  embed,
  fixturePacket,
  loadFixturePackets,
  type FixturePacket,
} from '../src/test-support/codecs.js';

const packets = await loadFixturePackets();
const dhcp = packets.filter((p) => p.kind === 'dhcpv6');
const a = (text: string): Uint8Array => parseIpv6(text);
const T = Dhcpv6MessageType;

// ---- What every fixture message says, read with the hot-path API (view, cursor, read helpers) ----

interface Summary {
  msgType: number;
  /** Transaction id, or the hop count of a relay message. */
  id: number;
  codes: number[];
  relayed?: Summary;
}

function summarize(b: Uint8Array, off: number, len: number): Summary {
  const v = new Dhcpv6View().wrap(b, off, len);
  if (v.check() !== Status.Ok) throw new Error(v.errorReason);
  const out: Summary = { msgType: v.msgType, id: v.isRelay ? v.hopCount : v.transactionId, codes: [] };
  const c = new Dhcpv6OptionCursor().reset(b, v.optionsOffset, v.end, false);
  let s;
  while ((s = c.next()) === Status.Ok) {
    out.codes.push(c.code);
    if (c.code === Dhcpv6OptionCode.RelayMessage) out.relayed = summarize(b, c.dataOffset, c.dataLength);
  }
  if (s !== Done) throw new Error(c.errorReason);
  return out;
}

const m = (msgType: number, id: number, codes: number[], relayed?: Summary): Summary =>
  relayed === undefined ? { msgType, id, codes } : { msgType, id, codes, relayed };

// [file, frame, summary] for every DHCPv6 frame of the fixtures (from `punt6 decode`, checked by hand).
const expected: [string, number, Summary][] = [
  ['dhclient-pd.pcap', 0, m(T.Solicit, 11529086, [1, 6, 8, 25])],
  ['dhclient-pd.pcap', 1, m(T.Advertise, 11529086, [1, 2, 23, 24, 25])],
  ['dhclient-pd.pcap', 2, m(T.Request, 500597, [1, 2, 6, 8, 25])],
  ['dhclient-pd.pcap', 3, m(T.Reply, 500597, [1, 2, 23, 24, 25])],
  ['dhclient-pd.pcap', 4, m(T.Release, 10967033, [1, 2, 6, 8])],
  ['dhclient-pd.pcap', 5, m(T.Reply, 10967033, [1, 2, 13])],
  ['dhclient-stateful.pcap', 0, m(T.Solicit, 2089827, [1, 6, 8, 3])],
  ['dhclient-stateful.pcap', 1, m(T.Advertise, 2089827, [1, 2, 3, 23, 24])],
  ['dhclient-stateful.pcap', 2, m(T.Request, 15561985, [1, 2, 6, 8, 3])],
  ['dhclient-stateful.pcap', 3, m(T.Reply, 15561985, [1, 2, 3, 23, 24])],
  ['dhclient-stateful.pcap', 4, m(T.Renew, 4099604, [1, 2, 6, 8, 3])],
  ['dhclient-stateful.pcap', 5, m(T.Reply, 4099604, [1, 2, 3, 23, 24])],
  ['dhclient-stateful.pcap', 6, m(T.Release, 5505761, [1, 2, 6, 8, 3])],
  ['dhclient-stateful.pcap', 7, m(T.Reply, 5505761, [1, 2, 3, 13])],
  ['dhclient-stateless.pcap', 0, m(T.InformationRequest, 8070086, [1, 6, 8])],
  ['dhclient-stateless.pcap', 1, m(T.Reply, 8070086, [1, 2, 23, 24])],
  ['dhcp6-relay.pcap', 0, m(T.Solicit, 12800242, [1, 6, 8, 3])],
  ['dhcp6-relay.pcap', 1, m(T.RelayForw, 0, [9], m(T.Solicit, 12800242, [1, 6, 8, 3]))],
  ['dhcp6-relay.pcap', 2, m(T.RelayRepl, 0, [9], m(T.Advertise, 12800242, [1, 2, 3, 23, 24]))],
  ['dhcp6-relay.pcap', 3, m(T.Advertise, 12800242, [1, 2, 3, 23, 24])],
  ['dhcp6-relay.pcap', 4, m(T.Request, 442305, [1, 2, 6, 8, 3])],
  ['dhcp6-relay.pcap', 5, m(T.RelayForw, 0, [9], m(T.Request, 442305, [1, 2, 6, 8, 3]))],
  ['dhcp6-relay.pcap', 6, m(T.RelayRepl, 0, [9], m(T.Reply, 442305, [1, 2, 3, 23, 24]))],
  ['dhcp6-relay.pcap', 7, m(T.Reply, 442305, [1, 2, 3, 23, 24])],
  ['dhcp6-relay.pcap', 8, m(T.Release, 3101702, [1, 2, 6, 8, 3])],
  ['dhcp6-relay.pcap', 9, m(T.RelayForw, 0, [9], m(T.Release, 3101702, [1, 2, 6, 8, 3]))],
  ['dhcp6-relay.pcap', 10, m(T.RelayRepl, 0, [9], m(T.Reply, 3101702, [1, 2, 3, 13]))],
  ['dhcp6-relay.pcap', 11, m(T.Reply, 3101702, [1, 2, 3, 13])],
];

test('the table covers every DHCPv6 frame of the fixtures', (t) => {
  t.deepEqual(
    dhcp.map((p) => p.name),
    expected.map(([f, i]) => `${f}#${i}`),
  );
});

for (const [file, index, want] of expected) {
  test(`${file}#${index}: type, transaction id and option order`, (t) => {
    const p = fixturePacket(packets, file, index);
    t.deepEqual(summarize(p.frame, p.dhcpv6Offset, p.dhcpv6Length), want);
    t.is(validateDhcpv6(p.frame, p.dhcpv6Offset, p.dhcpv6Length, new Failure()), Status.Ok);
  });
}

/** Data offset of the first option `code` inside [from, end), or -1 (nested framing). */
function find(b: Uint8Array, from: number, end: number, code: number): number {
  const c = new Dhcpv6OptionCursor().reset(b, from, end, true);
  while (c.next() === Status.Ok) if (c.code === code) return c.dataOffset;
  return -1;
}

/** The innermost client/server message of a fixture packet: [buffer, offset, length]. */
function innermost(p: FixturePacket): [Uint8Array, number, number] {
  const b = p.frame;
  let off = p.dhcpv6Offset;
  let len = p.dhcpv6Length;
  for (;;) {
    const v = new Dhcpv6View().wrap(b, off, len);
    if (!v.isRelay) return [b, off, len];
    const d = v.findOption(Dhcpv6OptionCode.RelayMessage);
    off = d;
    len = u16(b, d - 2);
  }
}

for (const p of dhcp) {
  test(`${p.name}: client DUID-LL 02:00:00:00:00:01, server DUID-LL 02:00:00:00:00:02`, (t) => {
    const [b, off, len] = innermost(p);
    const v = new Dhcpv6View().wrap(b, off, len);
    const duid = new DuidView();
    const cid = v.findOption(Dhcpv6OptionCode.ClientId);
    t.true(cid > 0);
    t.is(duid.wrap(b, cid, u16(b, cid - 2)).check(), Status.Ok);
    t.like(duid, { type: DuidType.LinkLayer, hardwareType: 1, time: -1, enterpriseNumber: -1, valueLength: 6 });
    t.is(formatMac(b, duid.valueOffset), '02:00:00:00:00:01');
    const sid = v.findOption(Dhcpv6OptionCode.ServerId);
    const fromClient = [T.Solicit, T.InformationRequest].includes(v.msgType as 1 | 11);
    t.is(sid < 0, fromClient, 'only Solicit and Information-request go without a Server Identifier');
    if (sid > 0) {
      t.is(duid.wrap(b, sid, u16(b, sid - 2)).check(), Status.Ok);
      t.is(toHex(b, sid, 10), '00030001020000000002');
    }
    const ero = v.findOption(Dhcpv6OptionCode.ElapsedTime);
    if (ero > 0) t.is(readElapsedTime(b, ero), 0);
    const oro = v.findOption(Dhcpv6OptionCode.OptionRequest);
    if (oro > 0)
      t.is(toHex(b, oro - 2, 6), '000400170018', 'asks for DNS servers (23) and the domain search list (24)');
  });
}

// [file, frame, IAID, T1, T2, address or prefix, prefix length (0 for IA_NA), preferred, valid]
const leases: [string, number, number, number, number, string, number, number, number][] = [
  ['dhclient-stateful.pcap', 1, 1, 5, 8, '2001:db8:1::100', 0, 20, 30],
  ['dhclient-stateful.pcap', 2, 1, 3600, 5400, '2001:db8:1::100', 0, 7200, 7500],
  ['dhclient-stateful.pcap', 3, 1, 5, 8, '2001:db8:1::100', 0, 20, 30],
  ['dhclient-stateful.pcap', 4, 1, 3600, 5400, '2001:db8:1::100', 0, 7200, 7500],
  ['dhclient-stateful.pcap', 6, 1, 0, 0, '2001:db8:1::100', 0, 0, 0],
  ['dhclient-pd.pcap', 1, 1, 5, 8, '2001:db8:100::', 56, 20, 30],
  ['dhclient-pd.pcap', 2, 1, 3600, 5400, '2001:db8:100::', 56, 7200, 7500],
  ['dhclient-pd.pcap', 3, 1, 5, 8, '2001:db8:100::', 56, 20, 30],
  ['dhcp6-relay.pcap', 6, 1, 5, 8, '2001:db8:1::100', 0, 20, 30],
];

for (const [file, index, iaid, t1, t2, addr, plen, preferred, valid] of leases) {
  test(`${file}#${index}: IA IAID ${iaid}, T1 ${t1}, T2 ${t2}, ${addr}${plen ? '/' + plen : ''} ${preferred}/${valid} s`, (t) => {
    const [b, off, len] = innermost(fixturePacket(packets, file, index));
    const v = new Dhcpv6View().wrap(b, off, len);
    const pd = plen > 0;
    const ia = v.findOption(pd ? Dhcpv6OptionCode.IaPd : Dhcpv6OptionCode.IaNa);
    t.true(ia > 0);
    const iaView = new IaView().wrap(b, ia, u16(b, ia - 2));
    t.deepEqual([iaView.iaid, iaView.t1, iaView.t2], [iaid, t1, t2]);
    const code = pd ? Dhcpv6OptionCode.IaPrefix : Dhcpv6OptionCode.IaAddress;
    const inner = find(b, iaView.optionsOffset, iaView.end, code);
    t.true(inner > 0);
    if (pd) {
      const p = new IaPrefixView().wrap(b, inner, u16(b, inner - 2));
      t.deepEqual([p.preferredLifetime, p.validLifetime, p.prefixLength], [preferred, valid, plen]);
      t.is(formatIpv6(b, p.prefixOffset), addr);
    } else {
      const ia = new IaAddressView().wrap(b, inner, u16(b, inner - 2));
      t.is(formatIpv6(b, ia.addressOffset), addr);
      t.deepEqual([ia.preferredLifetime, ia.validLifetime], [preferred, valid]);
    }
  });
}

test('server replies carry the DNS servers, the search list and status messages', (t) => {
  const [b, off, len] = innermost(fixturePacket(packets, 'dhclient-stateless.pcap', 1));
  const v = new Dhcpv6View().wrap(b, off, len);
  const dns = v.findOption(Dhcpv6OptionCode.DnsServers);
  t.is(u16(b, dns - 2), 32);
  t.deepEqual([formatIpv6(b, dns), formatIpv6(b, dns + 16)], ['2001:db8:1::53', '2001:db8:1::54']);
  const dsl = v.findOption(Dhcpv6OptionCode.DomainSearchList);
  t.is(
    toHex(b, dsl, u16(b, dsl - 2)),
    toHex(new TextEncoder().encode('\x07example\x03com\x00\x03lab\x07example\x03net\x00')),
  );
  const [rb, ro, rl] = innermost(fixturePacket(packets, 'dhclient-stateful.pcap', 7));
  const reply = new Dhcpv6View().wrap(rb, ro, rl);
  const st = reply.findOption(Dhcpv6OptionCode.StatusCode);
  t.is(readStatusCode(rb, st), 0);
  t.is(new TextDecoder().decode(rb.subarray(st + 2, st + u16(rb, st - 2))), 'Summary status for all processed IA_NAs');
  const ia = reply.findOption(Dhcpv6OptionCode.IaNa);
  const inner = find(rb, ia + 12, ia + u16(rb, ia - 2), Dhcpv6OptionCode.StatusCode);
  t.is(
    new TextDecoder().decode(rb.subarray(inner + 2, inner + u16(rb, inner - 2))),
    'Lease released. Thank you, please come again.',
  );
});

test('relay messages: hop count, link and peer addresses, the relayed message as it was sent', (t) => {
  for (const i of [1, 2, 5, 6, 9, 10]) {
    const p = fixturePacket(packets, 'dhcp6-relay.pcap', i);
    const v = new Dhcpv6View().wrap(p.frame, p.dhcpv6Offset, p.dhcpv6Length);
    t.true(v.isRelay);
    t.is(v.hopCount, 0);
    t.is(formatIpv6(p.frame, v.linkAddressOffset), '2001:db8:1::1');
    t.is(formatIpv6(p.frame, v.peerAddressOffset), 'fe80::ff:fe00:1');
  }
  // The Relay-forw of frame 1 carries frame 0's Solicit byte for byte, and frame 3's Advertise
  // is what the Relay-repl of frame 2 carried.
  for (const [outer, inner] of [
    [1, 0],
    [2, 3],
    [5, 4],
    [6, 7],
    [9, 8],
    [10, 11],
  ] as const) {
    const [b, off, len] = innermost(fixturePacket(packets, 'dhcp6-relay.pcap', outer));
    t.is(
      toHex(b, off, len),
      toHex(dhcpv6Bytes(fixturePacket(packets, 'dhcp6-relay.pcap', inner))),
      `frame ${outer} relays frame ${inner}`,
    );
  }
});

// ---- Build from a Repr and compare with the captured bytes ----

const clientId = {
  kind: 'client-id',
  duid: { kind: 'll', hardwareType: 1, linkLayerAddress: parseMac('02:00:00:00:00:01') },
} as const;
const serverId = {
  kind: 'server-id',
  duid: { kind: 'll', hardwareType: 1, linkLayerAddress: parseMac('02:00:00:00:00:02') },
} as const;

const advertise: Dhcpv6MessageRepr = {
  kind: 'message',
  msgType: T.Advertise,
  transactionId: 12800242,
  options: [
    clientId,
    serverId,
    {
      kind: 'ia-na',
      iaid: 1,
      t1: 5,
      t2: 8,
      options: [
        { kind: 'ia-address', address: a('2001:db8:1::100'), preferredLifetime: 20, validLifetime: 30, options: [] },
      ],
    },
    { kind: 'dns-servers', addresses: [a('2001:db8:1::53'), a('2001:db8:1::54')] },
    { kind: 'domain-search-list', names: ['example.com.', 'lab.example.net.'] },
  ],
};
const relayReply: Dhcpv6RelayRepr = {
  kind: 'relay',
  msgType: T.RelayRepl,
  hopCount: 0,
  linkAddress: a('2001:db8:1::1'),
  peerAddress: a('fe80::ff:fe00:1'),
  options: [{ kind: 'relay-message', message: advertise }],
};
const solicitPd: Dhcpv6MessageRepr = {
  kind: 'message',
  msgType: T.Solicit,
  transactionId: 11529086,
  options: [
    clientId,
    { kind: 'option-request', codes: [23, 24] },
    { kind: 'elapsed-time', elapsedTime: 0 },
    { kind: 'ia-pd', iaid: 1, t1: 3600, t2: 5400, options: [] },
  ],
};

const built: [string, number, Dhcpv6MessageRepr][] = [
  ['dhcp6-relay.pcap', 3, advertise],
  ['dhcp6-relay.pcap', 2, relayReply],
  ['dhclient-pd.pcap', 0, solicitPd],
];

for (const [file, index, repr] of built) {
  test(`builds ${file}#${index} from a Repr byte for byte; round trip at offset 13`, (t) => {
    const want = dhcpv6Bytes(fixturePacket(packets, file, index));
    const n = dhcpv6MessageLength(repr);
    t.is(n, want.length);
    const exact = new Uint8Array(n);
    t.is(emitDhcpv6Message(repr, exact, 0), n);
    t.is(toHex(exact), toHex(want));
    // Inside a larger buffer, at an odd offset: the bytes around stay as they were.
    const b = new Uint8Array(n + 13 + 11).fill(0xa5);
    t.is(emitDhcpv6Message(repr, b, 13), n);
    t.is(toHex(b, 13, n), toHex(want));
    t.true(b.subarray(0, 13).every((x) => x === 0xa5) && b.subarray(13 + n).every((x) => x === 0xa5));
    t.is(validateDhcpv6(b, 13, n, new Failure()), Status.Ok);
    t.deepEqual(parseDhcpv6Message(b, 13, n), repr);
  });
}

// ---- emit(parse(x)) = x for every fixture message ----

for (const p of dhcp) {
  test(`${p.name}: emit(parse(message)) gives the captured bytes`, (t) => {
    // Parsed where it sits in the frame (a non-zero offset), emitted at another offset.
    const repr = parseDhcpv6Message(p.frame, p.dhcpv6Offset, p.dhcpv6Length);
    t.is(repr.msgType, p.dhcpv6Type);
    t.is(dhcpv6MessageLength(repr), p.dhcpv6Length);
    const out = new Uint8Array(p.dhcpv6Length + 7).fill(0xee);
    t.is(emitDhcpv6Message(repr, out, 5), p.dhcpv6Length);
    t.is(toHex(out, 5, p.dhcpv6Length), toHex(dhcpv6Bytes(p)));
    t.is(out[4], 0xee);
    t.is(out[5 + p.dhcpv6Length], 0xee);
  });
}

// ---- Truncation of every fixture message ----

/** Offsets (from the message start) where a top-level option ends, the header end included. */
function topLevelBoundaries(b: Uint8Array): Set<number> {
  const v = new Dhcpv6View().wrap(b, 0, b.length);
  const out = new Set<number>([v.headerLength]);
  const c = new Dhcpv6OptionCursor().reset(b, v.optionsOffset, b.length, false);
  while (c.next() === Status.Ok) out.add(c.dataOffset + c.dataLength);
  return out;
}

for (const p of dhcp) {
  test(`${p.name}: every shorter length is Truncated, or Ok exactly at a top-level option boundary`, (t) => {
    const whole = dhcpv6Bytes(p);
    const boundaries = topLevelBoundaries(whole);
    const header = new Dhcpv6View().wrap(whole, 0, whole.length).headerLength;
    const f = new Failure();
    for (let len = 0; len < whole.length; len++) {
      // Cut both ways: a buffer ending at the cut, and the frame's buffer with a shorter length.
      const cut = whole.slice(0, len);
      const s = validateDhcpv6(cut, 0, len, f);
      const s2 = validateDhcpv6(p.frame, p.dhcpv6Offset, len, new Failure());
      t.is(s2, s, `length ${len}: the bytes after the cut changed the answer`);
      if (boundaries.has(len)) {
        t.is(s, Status.Ok, `length ${len} ends at an option boundary`);
        continue;
      }
      t.is(s, Status.Truncated, `length ${len}: ${f.reason}`);
      if (len < header) {
        t.is(f.layer, Layer.Dhcpv6);
        t.is(f.offset, len);
      } else {
        t.is(f.layer, Layer.Dhcpv6Option, `length ${len}`);
        t.true(f.offset >= header && f.offset <= len, `length ${len}: failure offset ${f.offset} inside the message`);
      }
    }
    t.is(validateDhcpv6(whole, 0, whole.length, f), Status.Ok);
  });
}

// ---- Bad input ----

/** Hex of an option: code, length, data. */
function opt(code: number, ...data: string[]): string {
  const d = data.join('');
  return toHex(Uint8Array.of(code >>> 8, code & 0xff, (d.length / 2) >>> 8, (d.length / 2) & 0xff)) + d;
}
/** Hex of a client/server message. */
function msg(type: number, ...options: string[]): string {
  return toHex(Uint8Array.of(type, 0x12, 0x34, 0x56)) + options.join('');
}
const duidLl = '0003000102000000' + '0001';
const elapsed = opt(8, '0000');
const iaAddr = (n = 24): string => opt(5, toHex(a('2001:db8:1::100')), '00000014', '0000001e', '00'.repeat(n - 24));

// [what, message hex, status, layer, offset of the failure from the message start, reason]
const badMessages: [string, string, Status, Layer, number, RegExp][] = [
  // IA_NA (at 4) of length 12 + 28 = 40 whose IA Address (at 20) says 24 + 16: past the IA_NA, not past the message.
  [
    'an IA Address longer than its IA_NA',
    msg(
      T.Request,
      opt(
        3,
        '00000001',
        '00000005',
        '00000008',
        opt(5, toHex(a('2001:db8:1::100')), '00000014', '0000001e').replace(/^00050018/, '00050028'),
      ),
      elapsed,
      elapsed,
      elapsed,
      elapsed,
    ),
    Status.Malformed,
    Layer.Dhcpv6Option,
    22,
    /runs past its container/,
  ],
  [
    'an IA Address shorter than 24 octets',
    msg(T.Request, opt(3, '00000001', '00000005', '00000008', opt(5, '00'.repeat(20)))),
    Status.Malformed,
    Layer.Dhcpv6Option,
    22,
    /shorter than 24/,
  ],
  [
    'an option header cut by its IA_NA',
    msg(T.Request, opt(3, '00000001', '00000005', '00000008', '000d00'), elapsed),
    Status.Malformed,
    Layer.Dhcpv6Option,
    20,
    /header runs past its container/,
  ],
  [
    'a status code past its IA Address',
    msg(
      T.Reply,
      opt(3, '00000001', '00000005', '00000008', iaAddr(24 + 6).slice(0, -12) + '000d0009' + '0000'),
      elapsed,
      elapsed,
    ),
    Status.Malformed,
    Layer.Dhcpv6Option,
    50,
    /runs past its container/,
  ],
  // Domain Search List at 4, data at 8: 3 "foo", then a label of 7 with 3 bytes left in the option.
  [
    'a DNS label past its Domain Search List option',
    msg(T.Reply, opt(24, '03666f6f', '07657861'), elapsed, elapsed),
    Status.Malformed,
    Layer.Dhcpv6Option,
    12,
    /label runs past its option/,
  ],
  [
    'a DNS name without its final zero',
    msg(T.Reply, opt(24, '03666f6f'), elapsed),
    Status.Malformed,
    Layer.Dhcpv6Option,
    12,
    /runs past its option/,
  ],
  [
    'a compression pointer in a search list',
    msg(T.Reply, opt(24, 'c00c'), elapsed),
    Status.Malformed,
    Layer.Dhcpv6Option,
    8,
    /compression/,
  ],
  ['a zero-length IA_NA', msg(T.Solicit, opt(3), elapsed), Status.Malformed, Layer.Dhcpv6Option, 6, /IA_NA/],
  ['a zero-length IA_PD', msg(T.Solicit, opt(25), elapsed), Status.Malformed, Layer.Dhcpv6Option, 6, /IA_PD/],
  ['a zero-length IA_TA', msg(T.Solicit, opt(4), elapsed), Status.Malformed, Layer.Dhcpv6Option, 6, /IA_TA/],
  [
    'a zero-length Client Identifier',
    msg(T.Solicit, opt(1), elapsed),
    Status.Malformed,
    Layer.Dhcpv6Option,
    8,
    /DUID shorter/,
  ],
  [
    'a zero-length Preference',
    msg(T.Advertise, opt(7), elapsed),
    Status.Malformed,
    Layer.Dhcpv6Option,
    6,
    /Preference/,
  ],
  ['a zero-length Elapsed Time', msg(T.Solicit, opt(8)), Status.Malformed, Layer.Dhcpv6Option, 6, /Elapsed Time/],
  ['a zero-length Status Code', msg(T.Reply, opt(13)), Status.Malformed, Layer.Dhcpv6Option, 6, /Status Code/],
  ['a zero-length DNS server list', msg(T.Reply, opt(23)), Status.Malformed, Layer.Dhcpv6Option, 6, /multiple of 16/],
  [
    'a zero-length Information Refresh Time',
    msg(T.Reply, opt(32)),
    Status.Malformed,
    Layer.Dhcpv6Option,
    6,
    /Information Refresh Time/,
  ],
  [
    'a zero-length Client Link-Layer Address',
    msg(T.Reply, opt(79)),
    Status.Malformed,
    Layer.Dhcpv6Option,
    6,
    /Link-Layer/,
  ],
  [
    'a zero-length IA Address inside an IA_NA',
    msg(T.Request, opt(3, '00000001', '00000005', '00000008', opt(5))),
    Status.Malformed,
    Layer.Dhcpv6Option,
    22,
    /IA Address/,
  ],
  [
    'a zero-length IA Prefix inside an IA_PD',
    msg(T.Request, opt(25, '00000001', '00000005', '00000008', opt(26))),
    Status.Malformed,
    Layer.Dhcpv6Option,
    22,
    /IA Prefix/,
  ],
  ['a zero-length NTP Server option', msg(T.Reply, opt(56)), Status.Malformed, Layer.Dhcpv6Option, 6, /NTP/],
  [
    'an IA Prefix of length 129',
    msg(T.Reply, opt(25, '00000001', '00000005', '00000008', opt(26, '00000014', '0000001e', '81', '00'.repeat(16)))),
    Status.Malformed,
    Layer.Dhcpv6Option,
    32,
    /above 128/,
  ],
  ['an Option Request of odd length', msg(T.Solicit, opt(6, '001700')), Status.Malformed, Layer.Dhcpv6Option, 6, /odd/],
  // Top level: running past the message end is the message being cut.
  [
    'a top-level option past the message end',
    msg(T.Solicit, elapsed, '00080004' + '0000'),
    Status.Truncated,
    Layer.Dhcpv6Option,
    12,
    /past the end of the message/,
  ],
  [
    'a top-level option header cut',
    msg(T.Solicit, elapsed, '000800'),
    Status.Truncated,
    Layer.Dhcpv6Option,
    10,
    /cut short/,
  ],
  ['a message of 3 bytes', '010203', Status.Truncated, Layer.Dhcpv6, 3, /shorter than its header/],
  ['a relay header of 33 bytes', '0c' + '00'.repeat(32), Status.Truncated, Layer.Dhcpv6, 33, /shorter than its header/],
  // Inside a Relay Message the message is a container: running short is Malformed.
  [
    'a zero-length Relay Message',
    '0c00' + '00'.repeat(32) + opt(9),
    Status.Malformed,
    Layer.Dhcpv6Option,
    36,
    /empty Relay Message/,
  ],
  [
    'a relayed message shorter than its header',
    '0c00' + '00'.repeat(32) + opt(9, '0100'),
    Status.Malformed,
    Layer.Dhcpv6,
    38,
    /shorter than its header/,
  ],
  [
    'a relayed option past the Relay Message',
    '0c00' + '00'.repeat(32) + opt(9, msg(T.Solicit, '00080004')) + elapsed + elapsed,
    Status.Malformed,
    Layer.Dhcpv6Option,
    44,
    /runs past its container/,
  ],
  [
    'a client identifier with a bad DUID inside a relay',
    '0d00' + '00'.repeat(32) + opt(9, msg(T.Reply, opt(1, '0003'))),
    Status.Malformed,
    Layer.Dhcpv6Option,
    46,
    /DUID-LL shorter/,
  ],
];

for (const [what, hex, status, layer, at, reason] of badMessages) {
  test(`bad DHCPv6: ${what} is ${status === Status.Truncated ? 'Truncated' : 'Malformed'} at ${at}`, (t) => {
    const body = fromHex(hex);
    // At offset 9 of a larger buffer: offsets are absolute, and the bytes behind do not matter.
    for (const canary of [0x00, 0xff]) {
      const b = embed(body, 9, 40, canary);
      const f = new Failure();
      t.is(validateDhcpv6(b, 9, body.length, f), status, f.reason);
      t.is(f.status, status);
      t.is(f.layer, layer);
      t.is(f.offset, 9 + at);
      t.regex(f.reason, reason);
      const e = t.throws(() => parseDhcpv6Message(b, 9, body.length), { instanceOf: DecodeError });
      t.like(e, { status, layer, offset: 9 + at });
      t.notThrows(() => describeDhcpv6(b, 9, body.length));
    }
  });
}

test('options that may be empty: Rapid Commit, Reconfigure Accept, Option Request, Interface-Id, unknown codes', (t) => {
  const body = fromHex(msg(T.Solicit, opt(1, duidLl), opt(14), opt(20), opt(6), opt(18), opt(0xfffe), elapsed));
  t.is(validateDhcpv6(body, 0, body.length, new Failure()), Status.Ok);
  const r = parseDhcpv6Message(body, 0, body.length);
  t.deepEqual(
    r.options.map((o) => o.kind),
    ['client-id', 'rapid-commit', 'reconfigure-accept', 'option-request', 'interface-id', 'unknown', 'elapsed-time'],
  );
  t.deepEqual(r.options[5], { kind: 'unknown', code: 0xfffe, data: new Uint8Array(0) });
});

// ---- Relay nesting (HOP_COUNT_LIMIT, RFC 9915 §7.6) ----

/** `levels` Relay-forw messages, each inside the one before; innermost carries `inner`, or nothing. */
function nestedRelays(levels: number, inner: Dhcpv6MessageRepr | undefined): Dhcpv6MessageRepr {
  let r: Dhcpv6MessageRepr | undefined = inner;
  for (let i = levels - 1; i >= 0; i--) {
    r = {
      kind: 'relay',
      msgType: T.RelayForw,
      hopCount: i,
      linkAddress: a('2001:db8::1'),
      peerAddress: a('fe80::1'),
      options:
        r === undefined
          ? [{ kind: 'interface-id', interfaceId: Uint8Array.of(i) }]
          : [
              { kind: 'interface-id', interfaceId: Uint8Array.of(i) },
              { kind: 'relay-message', message: r },
            ],
    };
  }
  if (r === undefined) throw new Error('no message');
  return r;
}

function emitted(r: Dhcpv6MessageRepr): Uint8Array {
  const b = new Uint8Array(dhcpv6MessageLength(r));
  emitDhcpv6Message(r, b, 0);
  return b;
}

for (const withClient of [true, false]) {
  const inner: Dhcpv6MessageRepr | undefined = withClient ? solicitPd : undefined;
  const what = withClient ? 'around a Solicit' : 'with nothing inside the last';
  test(`${DHCPV6_HOP_COUNT_LIMIT} nested Relay-forw messages ${what} validate; ${DHCPV6_HOP_COUNT_LIMIT + 1} are Malformed`, (t) => {
    const ok = emitted(nestedRelays(DHCPV6_HOP_COUNT_LIMIT, inner));
    const f = new Failure();
    t.is(validateDhcpv6(ok, 0, ok.length, f), Status.Ok, f.reason);
    const parsed = parseDhcpv6Message(ok, 0, ok.length);
    t.deepEqual(parsed, nestedRelays(DHCPV6_HOP_COUNT_LIMIT, inner));
    const tooDeep = emitted(nestedRelays(DHCPV6_HOP_COUNT_LIMIT + 1, inner));
    t.is(validateDhcpv6(tooDeep, 0, tooDeep.length, f), Status.Malformed);
    t.is(f.layer, Layer.Dhcpv6);
    t.regex(f.reason, /nested deeper than 32/);
    // The 33rd relay message starts after 32 relay headers, Interface-Id (5) and Relay Message (4) headers.
    t.is(f.offset, 32 * (34 + 5 + 4));
    t.throws(() => parseDhcpv6Message(tooDeep, 0, tooDeep.length), { instanceOf: DecodeError });
    // Deeper still: Malformed, no throw, no stack trouble.
    const deeper = emitted(nestedRelays(200, inner));
    t.is(validateDhcpv6(deeper, 0, deeper.length, f), Status.Malformed);
    t.notThrows(() => describeDhcpv6(deeper, 0, deeper.length));
  });
}

test('a failure is reset by the next validation, and the same Failure reports each one', (t) => {
  const f = new Failure();
  const good = dhcpv6Bytes(dhcp[0] as FixturePacket);
  t.is(validateDhcpv6(good, 0, good.length - 1, f), Status.Truncated);
  t.is(f.toError().message, `dhcpv6-option: truncated at offset ${f.offset}: option runs past the end of the message`);
  f.reset();
  t.is(validateDhcpv6(good, 0, good.length, f), Status.Ok);
  t.is(f.status, Status.Ok);
  t.is(validateDhcpv6(good, 0, good.length + 1, f), Status.Truncated, 'a length past the buffer');
  t.is(f.layer, Layer.Dhcpv6);
});
