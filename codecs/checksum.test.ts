import test from 'ava';
import { fold, sumWords } from './checksum.js';

test('RFC 1071 §3 example: sum and end-around carry', (t) => {
  const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  t.is(fold(sumWords(b, 0, 8)), 0xddf2);
});

test('odd lengths pad the last byte with zero', (t) => {
  t.is(sumWords(Uint8Array.from([0x12, 0x34, 0x56]), 0, 3), 0x1234 + 0x5600);
});

test('folding large sums', (t) => {
  t.is(fold(0xffff * 70000), 0xffff);
  t.is(fold(0x1fffe), 0xffff);
});
