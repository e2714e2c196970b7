import test from 'ava';
import fc from 'fast-check';
import { fold, sumWords } from './checksum.js';

test('RFC 1071 §3 example: sum and end-around carry', (t) => {
  const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  t.is(fold(sumWords(b, 0, 8)), 0xddf2);
});

test('odd lengths pad the last byte with zero', (t) => {
  t.is(fold(sumWords(Uint8Array.from([0x12, 0x34, 0x56]), 0, 3)), 0x1234 + 0x5600);
});

test('folding large sums', (t) => {
  t.is(fold(0xffff * 70000), 0xffff);
  t.is(fold(0x1fffe), 0xffff);
});

test('sumWords folds to the plain 16-bit word sum, for any bytes, offset and length', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, a, b) => {
      const o = bytes.length === 0 ? 0 : a % bytes.length;
      const n = bytes.length - o === 0 ? 0 : b % (bytes.length - o + 1);
      let plain = 0;
      for (let i = 0; i < n; i += 2) plain += ((bytes[o + i] as number) << 8) | (i + 1 < n ? (bytes[o + i + 1] as number) : 0);
      return fold(sumWords(bytes, o, n)) === fold(plain);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
