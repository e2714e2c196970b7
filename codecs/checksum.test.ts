import test from 'ava';
import fc from 'fast-check';
import { fillUpperLayer, fold, sumWords, verifyUpperLayer } from './checksum.js';

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
  t.is(fold(0), 0);
});

test('fold agrees with end-around carry on bigints for any sum up to 2^53', (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }), (x) => {
      let r = x;
      while (r > 0xffffn) r = (r & 0xffffn) + (r >> 16n);
      return fold(Number(x)) === Number(r);
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test('sumWords folds to the plain 16-bit word sum, for any bytes, offset and length', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, a, b) => {
      const o = bytes.length === 0 ? 0 : a % bytes.length;
      const n = bytes.length - o === 0 ? 0 : b % (bytes.length - o + 1);
      let plain = 0;
      for (let i = 0; i < n; i += 2)
        plain += ((bytes[o + i] as number) << 8) | (i + 1 < n ? (bytes[o + i + 1] as number) : 0);
      return fold(sumWords(bytes, o, n)) === fold(plain);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('verification over ranges outside the buffer is false, never a read past it', (t) => {
  const b = new Uint8Array(40 + 8);
  fillUpperLayer(b, 0, 16, 58, 40, 8, 42);
  t.true(verifyUpperLayer(b, 0, 16, 58, 40, 8));
  t.false(verifyUpperLayer(b, 0, 16, 58, 40, 9), 'message one byte past the end');
  t.false(verifyUpperLayer(b, 0, 40, 58, 40, 8), 'destination past the end');
  t.false(verifyUpperLayer(b, -2, 16, 58, 40, 8), 'negative source');
  t.throws(() => fillUpperLayer(b, 0, 16, 58, 40, 9, 42), { instanceOf: RangeError });
});

test('sums through the word view agree with byte-wise sums for source and destination apart or adjacent', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 96, maxLength: 96 }), fc.nat(40), fc.nat(40), (bytes, s, d) => {
      const plain = (o: number, n: number): number => {
        let x = 0;
        for (let i = 0; i < n; i += 2)
          x += ((bytes[o + i] as number) << 8) | (i + 1 < n ? (bytes[o + i + 1] as number) : 0);
        return x;
      };
      const len = 96 - 80;
      const c = Uint8Array.from(bytes);
      fillUpperLayer(c, s, d, 17, 80, len, 80);
      const expected =
        0xffff -
        fold(
          plain(s, 16) +
            plain(d, 16) +
            len +
            17 +
            plain(80, len) -
            ((bytes[80] as number) << 8) -
            (bytes[81] as number),
        );
      return (((c[80] as number) << 8) | (c[81] as number)) === expected && verifyUpperLayer(c, s, d, 17, 80, len);
    }),
    { numRuns: 1000 },
  );
  t.pass();
});
