import test from 'ava';
import fc from 'fast-check';
import { fillUpperLayer, fold, sumWords } from '../../codecs/checksum.js';
import { EtherType, emitEthernet, NO_VLAN } from '../../codecs/ethernet.js';
import { emitIpv6, IpProtocol } from '../../codecs/ipv6.js';
import { emitNeighborAdvertisement, NeighborAdvertisementFlag } from '../../codecs/ndp.js';
import { NeighborAdvertisementTemplates, TAGGED_LENGTH, UNTAGGED_LENGTH } from './na-templates.js';

/** The whole NA built field by field with the codecs, checksum computed over the frame. */
function built(
  target: Uint8Array,
  mac: Uint8Array,
  router: boolean,
  solicited: boolean,
  dstMac: Uint8Array,
  dst: Uint8Array,
  tci: number | undefined,
): Uint8Array {
  const f = new Uint8Array(tci === undefined ? UNTAGGED_LENGTH : TAGGED_LENGTH);
  const ip = emitEthernet(
    {
      destination: dstMac,
      source: mac,
      etherType: EtherType.Ipv6,
      vlanId: tci === undefined ? NO_VLAN : tci & 0x0fff,
      vlanPcp: tci === undefined ? 0 : tci >>> 13,
    },
    f,
    0,
  );
  // The NS's TCI is kept whole, its DEI bit (which the emitter does not take) included.
  if (tci !== undefined) f[14] = tci >>> 8;
  emitIpv6(
    { source: target, destination: dst, nextHeader: IpProtocol.Icmpv6, hopLimit: 255, payloadLength: 32 },
    f,
    ip,
  );
  emitNeighborAdvertisement(
    { router, solicited, override: true, target, options: [{ kind: 'target-link-layer-address', address: mac }] },
    f,
    ip + 40,
  );
  fillUpperLayer(f, ip + 8, ip + 24, IpProtocol.Icmpv6, ip + 40, 32, ip + 42);
  return f;
}

/** The template patched the way the dispatcher patches it (dispatcher.ts, writeNeighborAdvertisement). */
function patched(
  na: NeighborAdvertisementTemplates,
  i: number,
  solicited: boolean,
  dstMac: Uint8Array,
  dst: Uint8Array,
  tci: number | undefined,
): Uint8Array {
  const tx = new Uint8Array(256);
  const len = na.copy(tx, i, tci !== undefined);
  const ip = tci === undefined ? 14 : 18;
  tx.set(dstMac, 0);
  if (tci !== undefined) {
    tx[14] = tci >>> 8;
    tx[15] = tci & 0xff;
  }
  tx.set(dst, ip + 24);
  let sum = (na.sums[i] as number) + sumWords(dst, 0, 16);
  if (solicited) {
    tx[ip + 44] = (tx[ip + 44] as number) | NeighborAdvertisementFlag.Solicited;
    sum += NeighborAdvertisementFlag.Solicited << 8;
  }
  const c = 0xffff - fold(sum);
  tx[ip + 42] = c >>> 8;
  tx[ip + 43] = c & 0xff;
  return tx.slice(0, len);
}

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

test('a template patched for an NS is the NA built field by field, tagged or not, solicited or DAD', (t) => {
  fc.assert(
    fc.property(
      bytes(16),
      bytes(6),
      fc.boolean(),
      fc.boolean(),
      bytes(6),
      bytes(16),
      fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
      (target, mac, router, solicited, dstMac, dst, tci) => {
        const na = new NeighborAdvertisementTemplates(3);
        // Neighbours in the same buffer must not leak into the entry.
        na.set(0, new Uint8Array(16).fill(0xaa), Uint8Array.of(1, 2, 3, 4, 5, 6), true);
        na.set(1, target, mac, router);
        na.set(2, new Uint8Array(16).fill(0x55), Uint8Array.of(6, 5, 4, 3, 2, 1), false);
        t.deepEqual(
          patched(na, 1, solicited, dstMac, dst, tci),
          built(target, mac, router, solicited, dstMac, dst, tci),
        );
      },
    ),
    { numRuns: 500 },
  );
});

test('templates refuse what they cannot hold', (t) => {
  const na = new NeighborAdvertisementTemplates(1);
  t.is(na.entries, 1);
  t.throws(() => na.set(1, new Uint8Array(16), new Uint8Array(6), true), { instanceOf: RangeError });
  t.throws(() => na.set(0, new Uint8Array(4), new Uint8Array(6), true), { instanceOf: RangeError });
  t.throws(() => na.set(0, new Uint8Array(16), new Uint8Array(8), true), { instanceOf: RangeError });
});
