/**
 * Property tests (fast-check) over the decoders: random and structured bytes, and mutations of
 * every fixture packet, must never throw, must answer with one of the statuses, and must give
 * the same answer whatever lies outside the bytes they were given (a decoder that reads past its
 * range sees the canary change). Ok results are parsed from exact-length copies, where a read
 * past the end yields undefined and shows up as NaN or undefined in the Repr.
 */

import test from 'ava';
import fc from 'fast-check';
import { describeDhcpv6, parseDhcpv6Message, validateDhcpv6 } from './dhcpv6.js';
import { FrameDecoder } from './frame.js';
import { EchoView, Icmpv6Type, describeIcmpv6, validateIcmpv6 } from './icmpv6.js';
import {
  parseNeighborAdvertisement,
  parseNeighborSolicitation,
  parseRedirect,
  parseRouterAdvertisement,
  parseRouterSolicitation,
} from './ndp.js';
import { Failure, Status } from './status.js';
import {
  allStatuses,
  badNumbers,
  canaries,
  dhcpv6Bytes,
  embed,
  icmpv6Bytes,
  loadFixturePackets,
} from '../src/test-support/codecs.js';

const packets = await loadFixturePackets();
const dhcpMessages = packets.filter((p) => p.kind === 'dhcpv6').map(dhcpv6Bytes);
const icmpMessages = packets.filter((p) => p.kind === 'icmpv6').map(icmpv6Bytes);

type Validate = (b: Uint8Array, off: number, len: number, f: Failure) => Status;

/** status, layer, offset (relative to the message) and reason, or a description of what went wrong. */
function answer(validate: Validate, b: Uint8Array, off: number, len: number): string {
  const f = new Failure();
  const s = validate(b, off, len, f);
  if (!allStatuses.includes(s)) return `status ${String(s)} is not a Status`;
  if (s !== f.status && s !== Status.Ok) return `returned ${s} but the failure says ${f.status}`;
  return s === Status.Ok ? 'ok' : `${s} ${f.layer} ${f.offset - off} ${f.reason}`;
}

/**
 * Checks one input: no throw, a Status, the same answer in an exact-length copy and inside
 * buffers with different canaries around it. Returns the status.
 */
function checkEverywhere(validate: Validate, bytes: Uint8Array): Status {
  const exact = Uint8Array.from(bytes);
  const want = answer(validate, exact, 0, exact.length);
  if (!/^(ok|\d )/.test(want)) throw new Error(want);
  for (const canary of canaries) {
    const got = answer(validate, embed(bytes, 5, 9, canary), 5, bytes.length);
    if (got !== want) throw new Error(`with canary ${canary} around the bytes: ${got}, alone: ${want}`);
  }
  return want === 'ok' ? Status.Ok : (Number(want[0]) as Status);
}

function noBadNumbers(what: string, value: unknown): void {
  const bad = badNumbers(value);
  if (bad.length > 0) throw new Error(`${what}: NaN or undefined at ${bad.join(', ')}`);
}

// ---- DHCPv6 ----

function tlv(code: number, data: Uint8Array): Uint8Array {
  return Uint8Array.of(code >>> 8, code & 0xff, data.length >>> 8, data.length & 0xff, ...data);
}
const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

const dhcpCodes = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 31, 32, 39, 56, 79, 82, 83,
];

/** Options that are mostly framed right, with nesting (IAs, IA Address/Prefix, Relay Message). */
const dhcpArbitraries = fc.letrec<{ option: Uint8Array; message: Uint8Array }>((tie) => ({
  option: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(
        fc.oneof(fc.constantFrom(...dhcpCodes), fc.integer({ min: 0, max: 0xffff })),
        fc.uint8Array({ maxLength: 40 }),
      )
      .map(([c, d]) => tlv(c, d)),
    fc
      .tuple(
        fc.constantFrom(3, 25, 4, 5, 26),
        fc.uint8Array({ minLength: 12, maxLength: 25 }),
        fc.array(tie('option'), { maxLength: 3 }),
      )
      .map(([c, head, inner]) => tlv(c, concat([head, ...inner]))),
    tie('message').map((m) => tlv(9, m)),
  ),
  message: fc
    .tuple(
      fc.integer({ min: 0, max: 15 }),
      fc.uint8Array({ minLength: 33, maxLength: 33 }),
      fc.array(tie('option'), { maxLength: 5 }),
    )
    .map(([type, head, options]) =>
      concat([Uint8Array.of(type), type === 12 || type === 13 ? head : head.subarray(0, 3), ...options]),
    ),
})).message;

/** A message with a few bytes changed, cut or extended. */
function mutated(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      base,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: -3, max: 3 }),
    )
    .map(([bytes, flips, resize]) => {
      const b = Uint8Array.from(bytes);
      if (b.length === 0) return b;
      for (const [at, mask] of flips) b[at % b.length] = ((b[at % b.length] as number) ^ mask) & 0xff;
      if (resize < 0) return b.subarray(0, Math.max(0, b.length + resize));
      return Uint8Array.of(...b, ...new Array<number>(resize).fill(0));
    });
}

function dhcpProperty(bytes: Uint8Array): void {
  const s = checkEverywhere(validateDhcpv6, bytes);
  if (s === Status.BadChecksum || s === Status.Unsupported)
    throw new Error('DHCPv6 validation has no checksum and nothing unsupported');
  const exact = Uint8Array.from(bytes);
  const json = describeDhcpv6(exact, 0, exact.length);
  noBadNumbers('describeDhcpv6', json);
  if (s === Status.Ok) noBadNumbers('parseDhcpv6Message', parseDhcpv6Message(exact, 0, exact.length));
  // The JSON has absolute offsets: compare at the same offset, with opposite canaries.
  if (
    JSON.stringify(describeDhcpv6(embed(bytes, 2, 7, 0xff), 2, bytes.length)) !==
    JSON.stringify(describeDhcpv6(embed(bytes, 2, 7, 0x00), 2, bytes.length))
  ) {
    throw new Error('describeDhcpv6 read past the message');
  }
}

test('DHCPv6: random bytes', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), dhcpProperty), { numRuns: 2000 });
  t.pass();
});

test('DHCPv6: structured messages (options, IAs, relays), as built and mutated', (t) => {
  let ok = 0;
  fc.assert(
    fc.property(fc.oneof(dhcpArbitraries, mutated(dhcpArbitraries)), (b) => {
      dhcpProperty(b);
      if (validateDhcpv6(b, 0, b.length, new Failure()) === Status.Ok) ok++;
    }),
    { numRuns: 3000 },
  );
  t.true(ok > 100, `only ${ok} structured messages validated: the generator does not reach the option checks`);
});

test('DHCPv6: every fixture message with random bytes changed, cut or extended', (t) => {
  fc.assert(fc.property(mutated(fc.constantFrom(...dhcpMessages)), dhcpProperty), { numRuns: 3000 });
  t.pass();
});

// ---- ICMPv6 ----

const ndTypes = [133, 134, 135, 136, 137, 141, 142];
const ndpTypes = [1, 2, 3, 4, 5, 7, 8, 9, 10, 14, 24, 25, 31, 37, 38];
const ndpOption = fc
  .tuple(
    fc.oneof({ arbitrary: fc.constantFrom(...ndpTypes), weight: 4 }, fc.nat(255)),
    fc.oneof({ arbitrary: fc.integer({ min: 1, max: 5 }), weight: 9 }, fc.constant(0)),
    fc.uint8Array({ maxLength: 40 }),
  )
  .map(([type, units, body]) => {
    const n = Math.max(2, units * 8);
    const o = new Uint8Array(n);
    o[0] = type;
    o[1] = units;
    o.set(body.subarray(0, n - 2), 2);
    return o;
  });
const icmpStructured = fc
  .tuple(
    fc.oneof(
      { arbitrary: fc.constantFrom(...ndTypes, 128, 129, 1, 2, 130, 131, 143, 151, 152), weight: 4 },
      fc.nat(255),
    ),
    fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, fc.nat(255)),
    fc.uint8Array({ minLength: 4, maxLength: 40 }),
    fc.array(ndpOption, { maxLength: 4 }),
  )
  .map(([type, code, fixed, options]) => {
    const fixedLength =
      type === 134 ? 16 : type === 135 || type === 136 ? 24 : type === 137 ? 40 : Math.min(fixed.length + 4, 8);
    const head = new Uint8Array(fixedLength);
    head[0] = type;
    head[1] = code;
    head.set(fixed.subarray(0, fixedLength - 4), 4);
    return concat([head, ...options]);
  });

function icmpProperty(bytes: Uint8Array): void {
  const s = checkEverywhere(validateIcmpv6, bytes);
  if (s === Status.BadChecksum || s === Status.Unsupported)
    throw new Error('ICMPv6 validation does not look at checksums');
  const exact = Uint8Array.from(bytes);
  noBadNumbers('describeIcmpv6', describeIcmpv6(exact, 0, exact.length));
  if (
    JSON.stringify(describeIcmpv6(embed(bytes, 3, 9, 0xff), 3, bytes.length)) !==
    JSON.stringify(describeIcmpv6(embed(bytes, 3, 9, 0x00), 3, bytes.length))
  ) {
    throw new Error('describeIcmpv6 read past the message');
  }
  if (s !== Status.Ok) return;
  const n = exact.length;
  switch (exact[0]) {
    case Icmpv6Type.EchoRequest:
    case Icmpv6Type.EchoReply: {
      const v = new EchoView().wrap(exact, 0, n);
      if (v.check() !== Status.Ok) throw new Error('a validated echo does not check');
      noBadNumbers('echo', { id: v.identifier, seq: v.sequenceNumber, dataLength: v.dataLength, checksum: v.checksum });
      break;
    }
    case Icmpv6Type.RouterSolicitation:
      noBadNumbers('RS', parseRouterSolicitation(exact, 0, n));
      break;
    case Icmpv6Type.RouterAdvertisement:
      noBadNumbers('RA', parseRouterAdvertisement(exact, 0, n));
      break;
    case Icmpv6Type.NeighborSolicitation:
      noBadNumbers('NS', parseNeighborSolicitation(exact, 0, n));
      break;
    case Icmpv6Type.NeighborAdvertisement:
      noBadNumbers('NA', parseNeighborAdvertisement(exact, 0, n));
      break;
    case Icmpv6Type.Redirect:
      noBadNumbers('redirect', parseRedirect(exact, 0, n));
      break;
    default:
      break;
  }
}

test('ICMPv6: random bytes', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), icmpProperty), { numRuns: 3000 });
  t.pass();
});

test('ICMPv6: structured messages (every type, NDP options of every kind), as built and mutated', (t) => {
  let ndOk = 0;
  fc.assert(
    fc.property(fc.oneof(icmpStructured, mutated(icmpStructured)), (b) => {
      icmpProperty(b);
      if (
        ndTypes.includes(b[0] as number) &&
        b.length > 24 &&
        validateIcmpv6(b, 0, b.length, new Failure()) === Status.Ok
      )
        ndOk++;
    }),
    { numRuns: 4000 },
  );
  t.true(ndOk > 50, `only ${ndOk} ND messages with options validated`);
});

test('ICMPv6: every fixture message with random bytes changed, cut or extended', (t) => {
  fc.assert(fc.property(mutated(fc.constantFrom(...icmpMessages)), icmpProperty), { numRuns: 3000 });
  t.pass();
});

// ---- Whole frames ----

const decoders = [new FrameDecoder(), new FrameDecoder()];
(decoders[1] as FrameDecoder).verifyChecksums = false;

function frameProperty(bytes: Uint8Array): void {
  for (const d of decoders) {
    const decode: Validate = (b, off, len, f) => {
      const s = d.decode(b, off, len);
      f.fail(d.failure.status, d.failure.layer, d.failure.offset, d.failure.reason);
      return s;
    };
    checkEverywhere(decode, bytes);
  }
}

test('frames: random bytes, and random bytes behind a real Ethernet + IPv6 header', (t) => {
  const headers = packets.map((p) => p.frame.subarray(0, 62));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), frameProperty), { numRuns: 1500 });
  fc.assert(
    fc.property(fc.constantFrom(...headers), fc.uint8Array({ maxLength: 150 }), (h, rest) =>
      frameProperty(Uint8Array.of(...h, ...rest)),
    ),
    { numRuns: 1500 },
  );
  t.pass();
});

test('frames: every fixture frame with random bytes changed, cut or extended, checksums verified and not', (t) => {
  fc.assert(fc.property(mutated(fc.constantFrom(...packets.map((p) => p.frame))), frameProperty), { numRuns: 3000 });
  t.pass();
});
