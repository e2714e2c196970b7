import test from 'ava';
import fc from 'fast-check';
import { toHex } from '../../codecs/bytes.js';
import { BytesMap } from './bytes-map.js';

/** The model: a Map keyed by the bytes in hex with the two integers (as 32-bit values). */
function modelKey(b: Uint8Array, x: number, y: number): string {
  return `${toHex(b)}/${x | 0}/${y | 0}`;
}

const key = fc.record({
  bytes: fc.uint8Array({ maxLength: 20 }),
  x: fc.oneof(fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 0xffffffff })),
  y: fc.constantFrom(0, 1, 0xffffffff),
});
// Few distinct short keys, so sets, replacements, deletes and misses all happen often.
const smallKey = fc.record({
  bytes: fc.uint8Array({ maxLength: 3 }).map((b) => b.map((v) => v & 3)),
  x: fc.constantFrom(0, 1),
  y: fc.constantFrom(0, 1),
});
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), k: fc.oneof(key, smallKey), value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), k: fc.oneof(key, smallKey) }),
  fc.record({ kind: fc.constant('get' as const), k: fc.oneof(key, smallKey) }),
);

test('behaves as a Map keyed by the bytes and the two integers, in insertion order', (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), fc.integer(), (ops, seed) => {
      const map = new BytesMap<number>(16, seed);
      const model = new Map<string, number>();
      for (const o of ops) {
        const { bytes, x, y } = o.k;
        const mk = modelKey(bytes, x, y);
        if (o.kind === 'set') {
          // The map keeps the key array: give it its own copy, as the lease table does.
          map.set(Uint8Array.from(bytes), x, y, o.value);
          model.set(mk, o.value);
        } else if (o.kind === 'delete') {
          if (map.delete(bytes, 0, bytes.length, x, y) !== model.delete(mk)) return false;
        } else if (
          map.get(bytes, 0, bytes.length, x, y) !== model.get(mk) ||
          map.has(bytes, 0, bytes.length, x, y) !== model.has(mk)
        ) {
          return false;
        }
        if (map.size !== model.size) return false;
      }
      const values = [...map.values()];
      return values.length === model.size && values.every((v, i) => v === [...model.values()][i]);
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('a key is found where it lies inside a larger array, and lengths keep keys apart', (t) => {
  const map = new BytesMap<string>();
  map.set(Uint8Array.of(1, 2), 7, 9, 'short');
  map.set(Uint8Array.of(1, 2, 0), 7, 9, 'long');
  map.set(new Uint8Array(0), 0, 0, 'empty');
  const frame = Uint8Array.of(0xee, 0xee, 1, 2, 0, 0xee);
  t.is(map.get(frame, 2, 2, 7, 9), 'short');
  t.is(map.get(frame, 2, 3, 7, 9), 'long');
  t.is(map.get(frame, 2, 2, 7, 8), undefined, 'another integer is another key');
  t.is(map.get(frame, 0, 0, 0, 0), 'empty');
  t.is(map.get(frame, 1, 2, 7, 9), undefined);
});

test('grows past its first capacity and packs the holes deletes leave, keeping order', (t) => {
  const map = new BytesMap<number>(16, 1);
  const k = (i: number): Uint8Array => Uint8Array.of(i >>> 8, i & 0xff);
  for (let i = 0; i < 1000; i++) map.set(k(i), 0, 0, i);
  for (let i = 0; i < 1000; i += 2) t.true(map.delete(k(i), 0, 2, 0, 0));
  // Many more sets than the arrays hold: each time they fill, the holes are packed away.
  for (let round = 0; round < 20; round++) {
    for (let i = 1000; i < 1100; i++) map.set(k(i), 0, 0, i);
    for (let i = 1000; i < 1100; i++) map.delete(k(i), 0, 2, 0, 0);
  }
  t.is(map.size, 500);
  t.deepEqual(
    [...map.values()],
    Array.from({ length: 500 }, (_, i) => 2 * i + 1),
  );
  for (let i = 0; i < 1000; i++) t.is(map.get(k(i), 0, 2, 0, 0), i % 2 === 1 ? i : undefined);
});

test('keys with the same bytes and other integers are other keys', (t) => {
  const map = new BytesMap<number>(16, 0);
  for (let i = 0; i < 200; i++) map.set(Uint8Array.of(i), i, 0, i);
  for (let i = 0; i < 200; i++) t.is(map.get(Uint8Array.of(i), 0, 1, i, 0), i);
  t.is(map.get(Uint8Array.of(1), 0, 1, 2, 0), undefined);
});
