import test from 'ava';
import { parseIpv6, parseMac, toHex } from './bytes.js';
import { Icmpv6Type, describeIcmpv6, validateIcmpv6 } from './icmpv6.js';
import {
  InverseNeighborAdvertisementView,
  InverseNeighborSolicitationView,
  checkInverseNdOptions,
  emitInverseNd,
  inverseNdLength,
  type InverseNdRepr,
} from './inverse-nd.js';
import { NdpOptionCursor, readNdpOptions } from './ndp-options.js';
import { Failure, Layer, Rule, Status } from './status.js';

const sourceMac = parseMac('02:00:00:00:00:01');
const targetMac = parseMac('02:00:00:00:00:02');

const solicitation: InverseNdRepr = {
  type: Icmpv6Type.InverseNeighborSolicitation,
  options: [
    { kind: 'source-link-layer-address', address: sourceMac },
    { kind: 'target-link-layer-address', address: targetMac },
    { kind: 'source-address-list', addresses: [parseIpv6('fe80::1')] },
    { kind: 'mtu', mtu: 1500 },
  ],
};
const advertisement: InverseNdRepr = {
  type: Icmpv6Type.InverseNeighborAdvertisement,
  options: [
    { kind: 'source-link-layer-address', address: targetMac },
    { kind: 'target-link-layer-address', address: sourceMac },
    { kind: 'target-address-list', addresses: [parseIpv6('fe80::2'), parseIpv6('2001:db8::2')] },
  ],
};

test('builds an inverse neighbor solicitation byte for byte', (t) => {
  const b = new Uint8Array(inverseNdLength(solicitation));
  t.is(emitInverseNd(solicitation, b, 0), 56);
  t.is(
    toHex(b),
    '8d00000000000000' +
      '0101020000000001' +
      '0201020000000002' +
      '0903000000000000fe800000000000000000000000000001' +
      '050100000000' +
      '05dc',
  );
});

for (const [name, repr, View] of [
  ['solicitation', solicitation, InverseNeighborSolicitationView],
  ['advertisement', advertisement, InverseNeighborAdvertisementView],
] as const) {
  test(`inverse neighbor ${name}: round trip at offset 10, validation, JSON`, (t) => {
    const n = inverseNdLength(repr);
    const b = new Uint8Array(n + 20).fill(0xaa);
    t.is(emitInverseNd(repr, b, 10), n);
    const v = new View().wrap(b, 10, n);
    t.is(v.check(), Status.Ok);
    t.is(v.type, repr.type);
    t.deepEqual(readNdpOptions(b, v.optionsOffset, v.optionsEnd), repr.options);
    t.is(checkInverseNdOptions(repr.type, new NdpOptionCursor(), b, v.optionsOffset, v.optionsEnd, v), Status.Ok);
    const f = new Failure();
    t.is(validateIcmpv6(b, 10, n, f), Status.Ok, f.reason);
    const d = describeIcmpv6(b, 10, n);
    t.is(d['typeName'], `inverse-neighbor-${name}`);
    t.deepEqual(
      (d['options'] as { name: string }[]).map((o) => o.name),
      repr.options.map((o) => o.kind),
    );
  });
}

test('a required option missing is Malformed in the inverse-nd layer', (t) => {
  const cases: [InverseNdRepr, RegExp][] = [
    [{ type: 141, options: [{ kind: 'target-link-layer-address', address: targetMac }] }, /Source Link-Layer/],
    [{ type: 141, options: [{ kind: 'source-link-layer-address', address: sourceMac }] }, /Target Link-Layer/],
    [{ type: 142, options: advertisement.options.slice(0, 2) }, /Target Address List/],
  ];
  for (const [repr, reason] of cases) {
    const n = inverseNdLength(repr);
    const b = new Uint8Array(n + 4);
    emitInverseNd(repr, b, 4);
    const f = new Failure();
    t.is(validateIcmpv6(b, 4, n, f), Status.Malformed);
    t.is(f.layer, Layer.InverseNd);
    t.is(f.offset, 12);
    t.is(f.rule, Rule.RequiredOption);
    t.regex(f.reason, reason);
    t.like(describeIcmpv6(b, 4, n), { error: { status: 'malformed', layer: 'inverse-nd' } });
  }
});

test('a bad option is reported in the ndp-option layer; a short message in the inverse-nd layer', (t) => {
  const n = inverseNdLength(advertisement);
  const b = new Uint8Array(n);
  emitInverseNd(advertisement, b, 0);
  b[8 + 16 + 1] = 2; // the address list's length: 5 -> 2
  const f = new Failure();
  t.is(validateIcmpv6(b, 0, n, f), Status.Malformed);
  t.is(f.layer, Layer.NdpOption);
  t.is(f.offset, 25);
  for (let len = 4; len < 8; len++) {
    t.is(validateIcmpv6(b, 0, len, f), Status.Truncated);
    t.is(f.layer, Layer.InverseNd);
  }
});
