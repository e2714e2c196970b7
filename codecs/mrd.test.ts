import test from 'ava';
import { toHex } from './bytes.js';
import { describeIcmpv6, validateIcmpv6 } from './icmpv6.js';
import { MrdView, emitMrd, mrdLength, type MrdRepr } from './mrd.js';
import { Failure, Layer, Status } from './status.js';

// [repr, bytes (checksum 0), JSON fields]
const table: [MrdRepr, string, Record<string, unknown>][] = [
  [
    { kind: 'advertisement', advertisementInterval: 20, queryInterval: 125, robustnessVariable: 2 },
    '97140000007d0002',
    {
      type: 151,
      typeName: 'multicast-router-advertisement',
      code: 20,
      advertisementInterval: 20,
      queryInterval: 125,
      robustnessVariable: 2,
    },
  ],
  [{ kind: 'solicitation' }, '98000000', { type: 152, typeName: 'multicast-router-solicitation', code: 0 }],
  [{ kind: 'termination' }, '99000000', { type: 153, typeName: 'multicast-router-termination', code: 0 }],
];

for (const [repr, hex, json] of table) {
  test(`MRD ${repr.kind}: bytes, round trip at offset 10, JSON, truncations`, (t) => {
    const n = mrdLength(repr);
    const b = new Uint8Array(n + 20).fill(0xaa);
    t.is(emitMrd(repr, b, 10), n);
    t.is(toHex(b, 10, n), hex);
    t.is(b[10 + n], 0xaa);
    const v = new MrdView().wrap(b, 10, n);
    t.is(v.check(), Status.Ok);
    t.is(v.isAdvertisement, repr.kind === 'advertisement');
    if (repr.kind === 'advertisement') {
      t.like(v, {
        advertisementInterval: repr.advertisementInterval,
        queryInterval: repr.queryInterval,
        robustnessVariable: repr.robustnessVariable,
      });
    }
    t.like(describeIcmpv6(b, 10, n), json);
    const f = new Failure();
    t.is(validateIcmpv6(b, 10, n, f), Status.Ok);
    for (let len = 0; len < n; len++) {
      t.is(new MrdView().wrap(b, 10, len).check(), Status.Truncated, `view, length ${len}`);
      if (len >= 4) {
        t.is(validateIcmpv6(b, 10, len, f), Status.Truncated);
        t.is(f.layer, Layer.Mrd);
        t.is(f.offset, 10 + len);
      }
    }
  });
}

test('setters write the advertisement fields', (t) => {
  const b = new Uint8Array(8);
  emitMrd({ kind: 'advertisement', advertisementInterval: 0, queryInterval: 0, robustnessVariable: 0 }, b, 0);
  const v = new MrdView().wrap(b, 0, 8);
  v.advertisementInterval = 4;
  v.queryInterval = 0x1234;
  v.robustnessVariable = 3;
  t.is(toHex(b), '9704000012340003');
});

test('a view over another ICMPv6 type is Malformed', (t) => {
  const v = new MrdView().wrap(Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 0]), 0, 8);
  t.is(v.check(), Status.Malformed);
});
