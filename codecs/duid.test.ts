import test from 'ava';
import fc from 'fast-check';
import { fromHex, parseMac, toHex, u16 } from './bytes.js';
import { Dhcpv6OptionCode, Dhcpv6View } from './dhcpv6.js';
import {
  DUID_MAX_LENGTH,
  DuidType,
  DuidView,
  checkDuid,
  describeDuid,
  duidLength,
  duidTypeName,
  emitDuid,
  formatUuid,
  parseDuid,
  type DuidRepr,
} from './duid.js';
import { Status, type Checked } from './status.js';
import { canaries, embed, loadFixturePackets } from '../src/test-support/codecs.js';

const packets = await loadFixturePackets();

test('every fixture client uses DUID-LL 02:00:00:00:00:01, read in place from the frame', (t) => {
  const v = new DuidView();
  let seen = 0;
  for (const p of packets.filter((x) => x.kind === 'dhcpv6' && x.dhcpv6Type !== 12 && x.dhcpv6Type !== 13)) {
    const d = new Dhcpv6View().wrap(p.frame, p.dhcpv6Offset, p.dhcpv6Length).findOption(Dhcpv6OptionCode.ClientId);
    const n = u16(p.frame, d - 2);
    t.is(n, 10, p.name);
    t.is(v.wrap(p.frame, d, n).check(), Status.Ok);
    t.like(v, {
      type: DuidType.LinkLayer,
      hardwareType: 1,
      time: -1,
      enterpriseNumber: -1,
      valueOffset: d + 4,
      valueLength: 6,
    });
    t.deepEqual(parseDuid(p.frame, d, n), {
      kind: 'll',
      hardwareType: 1,
      linkLayerAddress: parseMac('02:00:00:00:00:01'),
    });
    t.like(describeDuid(p.frame, d, n), {
      type: 3,
      typeName: 'll',
      hardwareType: 1,
      linkLayerAddress: '02:00:00:00:00:01',
      hex: '00030001020000000001',
    });
    seen++;
  }
  t.is(seen, 22);
});

// [repr, bytes, JSON fields, the view's getters]
const table: [DuidRepr, string, Record<string, unknown>, Record<string, number>][] = [
  [
    { kind: 'llt', hardwareType: 1, time: 0x2a2b2c2d, linkLayerAddress: parseMac('00:0c:29:38:f3:68') },
    '0001' + '0001' + '2a2b2c2d' + '000c2938f368',
    { type: 1, typeName: 'llt', hardwareType: 1, time: 0x2a2b2c2d, linkLayerAddress: '00:0c:29:38:f3:68' },
    { type: 1, hardwareType: 1, time: 0x2a2b2c2d, enterpriseNumber: -1, valueLength: 6 },
  ],
  [
    { kind: 'llt', hardwareType: 6, time: 0xffffffff, linkLayerAddress: new Uint8Array(0) },
    '0001' + '0006' + 'ffffffff',
    { type: 1, typeName: 'llt', hardwareType: 6, time: 0xffffffff, linkLayerAddress: '' },
    { type: 1, hardwareType: 6, time: 0xffffffff, enterpriseNumber: -1, valueLength: 0 },
  ],
  [
    { kind: 'en', enterpriseNumber: 0x80000009, identifier: fromHex('0a0b0c0d0e') },
    '0002' + '80000009' + '0a0b0c0d0e',
    { type: 2, typeName: 'en', enterpriseNumber: 0x80000009, identifier: '0a0b0c0d0e' },
    { type: 2, hardwareType: -1, time: -1, enterpriseNumber: 0x80000009, valueLength: 5 },
  ],
  [
    { kind: 'll', hardwareType: 1, linkLayerAddress: parseMac('02:00:00:00:00:01') },
    '0003' + '0001' + '020000000001',
    { type: 3, typeName: 'll', hardwareType: 1, linkLayerAddress: '02:00:00:00:00:01' },
    { type: 3, hardwareType: 1, time: -1, enterpriseNumber: -1, valueLength: 6 },
  ],
  [
    { kind: 'uuid', uuid: fromHex('6ba7b8109dad11d180b400c04fd430c8') },
    '0004' + '6ba7b8109dad11d180b400c04fd430c8',
    { type: 4, typeName: 'uuid', uuid: '6ba7b810-9dad-11d1-80b4-00c04fd430c8' },
    { type: 4, hardwareType: -1, time: -1, enterpriseNumber: -1, valueLength: 16 },
  ],
  [
    { kind: 'unknown', type: 0xfffe, data: fromHex('c0ffee') },
    'fffe' + 'c0ffee',
    { type: 0xfffe, typeName: 'unknown', identifier: 'c0ffee' },
    { type: 0xfffe, hardwareType: -1, time: -1, enterpriseNumber: -1, valueLength: 3 },
  ],
  [
    { kind: 'unknown', type: 0, data: new Uint8Array(0) },
    '0000',
    { type: 0, typeName: 'unknown', identifier: '' },
    { type: 0, hardwareType: -1, time: -1, enterpriseNumber: -1, valueLength: 0 },
  ],
];

/** The shortest a DUID of each type may be (checkDuid's rules). */
function minimum(type: number): number {
  return type === 1 ? 8 : type === 2 ? 6 : type === 3 ? 4 : type === 4 ? 18 : 2;
}

for (const [repr, hex, json, fields] of table) {
  test(`DUID-${repr.kind} ${hex}: bytes, view, parse, JSON, round trip at offset 9`, (t) => {
    const n = duidLength(repr);
    t.is(n * 2, hex.length);
    const b = new Uint8Array(9 + n + 4).fill(0x3c);
    t.is(emitDuid(repr, b, 9), n);
    t.is(toHex(b, 9, n), hex);
    t.true(b.subarray(0, 9).every((x) => x === 0x3c) && b.subarray(9 + n).every((x) => x === 0x3c));
    const v = new DuidView().wrap(b, 9, n);
    t.is(v.check(), Status.Ok, v.errorReason);
    t.like(v, fields);
    t.deepEqual(parseDuid(b, 9, n), repr);
    t.deepEqual(describeDuid(b, 9, n), { ...json, hex });
    t.is(duidTypeName(v.type), json['typeName'] as string);
  });

  test(`DUID-${repr.kind} ${hex}: every shorter length`, (t) => {
    const whole = fromHex(hex);
    const sink: Checked = { errorOffset: 0, errorReason: '' };
    for (let len = 0; len < whole.length; len++) {
      const cut = whole.slice(0, len);
      const type = len >= 2 ? u16(cut, 0) : -1;
      const want = len >= 2 && type !== DuidType.Uuid && len >= minimum(type) ? Status.Ok : Status.Malformed;
      t.is(checkDuid(cut, 0, len, sink), want, `length ${len}`);
      if (want !== Status.Ok) t.is(sink.errorOffset, 0);
      // A DUID that does not check is kept as bytes.
      const r = parseDuid(cut, 0, len);
      if (want !== Status.Ok)
        t.deepEqual(r, { kind: 'unknown', type: len >= 2 ? type : 0, data: cut.slice(Math.min(2, len)) });
      t.notThrows(() => describeDuid(cut, 0, len));
    }
  });
}

test('DUID length limits: 130 octets check, 131 do not', (t) => {
  const sink: Checked = { errorOffset: 0, errorReason: '' };
  const b = new Uint8Array(DUID_MAX_LENGTH + 1);
  b[1] = 2;
  t.is(checkDuid(b, 0, DUID_MAX_LENGTH, sink), Status.Ok);
  t.is(checkDuid(b, 0, DUID_MAX_LENGTH + 1, sink), Status.Malformed);
  t.regex(sink.errorReason, /longer than 128/);
  t.is(checkDuid(fromHex('0004' + '00'.repeat(17)), 0, 19, sink), Status.Malformed, 'UUID of 19 octets');
});

test('a DuidView over a range past its buffer is Truncated and the JSON says why', (t) => {
  const b = fromHex('00030001020000000001');
  const v = new DuidView();
  t.is(v.wrap(b, 0, 11).check(), Status.Truncated);
  t.is(v.wrap(b, 4, 10).check(), Status.Truncated);
  t.is(v.errorOffset, 4);
  t.is(v.wrap(b, -1, 4).check(), Status.Truncated);
  t.is(v.wrap(b, 0, 10).check(), Status.Ok);
  t.like(describeDuid(fromHex('000300'), 0, 3), {
    type: 3,
    typeName: 'll',
    error: 'DUID-LL shorter than 4 octets',
    hex: '000300',
  });
  t.is(formatUuid(fromHex('00112233445566778899aabbccddeeff'), 0), '00112233-4455-6677-8899-aabbccddeeff');
});

test('property: every DUID that checks is emitted back byte for byte; none reads past its range', (t) => {
  const duidBytes = fc.oneof(
    fc.uint8Array({ maxLength: 140 }),
    // Mostly known types, so the type-specific paths are exercised.
    fc
      .tuple(fc.constantFrom(1, 2, 3, 4, 5), fc.uint8Array({ maxLength: 40 }))
      .map(([type, rest]) => Uint8Array.of(0, type, ...rest)),
  );
  fc.assert(
    fc.property(duidBytes, (bytes) => {
      const sink: Checked = { errorOffset: 0, errorReason: '' };
      const s = checkDuid(bytes, 0, bytes.length, sink);
      if (s !== Status.Ok && s !== Status.Malformed) return false;
      // Same answer with the bytes inside a larger buffer, whatever surrounds them.
      for (const canary of canaries) {
        const b = embed(bytes, 3, 6, canary);
        if (checkDuid(b, 3, bytes.length, sink) !== s) return false;
        if (JSON.stringify(describeDuid(b, 3, bytes.length)) !== JSON.stringify(describeDuid(bytes, 0, bytes.length)))
          return false;
      }
      const r = parseDuid(bytes, 0, bytes.length);
      if (s !== Status.Ok) return r.kind === 'unknown';
      const out = new Uint8Array(duidLength(r));
      emitDuid(r, out, 0);
      return toHex(out) === toHex(bytes);
    }),
    { numRuns: 3000 },
  );
  t.pass();
});
