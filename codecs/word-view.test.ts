import test from 'ava';
import { copyAddressWords, copyMacWords, copySumWords, copyWords, wordView } from './word-view.js';
import { fold, sumWords } from './checksum.js';

test('a word view reads big-endian words of exactly the array it was made for', (t) => {
  const whole = Uint8Array.from([0xaa, 0xbb, 0x12, 0x34, 0x56, 0x78, 0xcc]);
  const part = whole.subarray(2, 6);
  const v = wordView(part);
  t.is(v.getUint32(0), 0x12345678);
  t.is(v.getUint16(2), 0x5678);
  // The neighbours in the shared ArrayBuffer are out of reach.
  t.throws(() => v.getUint8(4), { instanceOf: RangeError });
  t.throws(() => v.getUint16(-1), { instanceOf: RangeError });
});

test('views are cached per array and follow writes to it', (t) => {
  const rx = new Uint8Array(8);
  const tx = new Uint8Array(8);
  const v = wordView(rx);
  t.is(wordView(tx), wordView(tx));
  t.is(wordView(rx), v, 'two arrays in turn keep their views');
  rx[0] = 0x80;
  t.is(v.getUint8(0), 0x80);
  v.setUint16(2, 0xbeef);
  t.is(rx[2], 0xbe);
  t.is(rx[3], 0xef);
});

test('more arrays than slots: every lookup still gives a view of the right array', (t) => {
  const arrays = Array.from({ length: 9 }, (_, i) => Uint8Array.of(i, i + 1));
  for (let round = 0; round < 3; round++) {
    for (const [i, a] of arrays.entries()) t.is(wordView(a).getUint16(0), (i << 8) | (i + 1));
  }
});

test('word copies: addresses (with their checksum sum), MACs and any length', (t) => {
  const src = Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff);
  const dst = new Uint8Array(48);
  const sum = copyAddressWords(wordView(src), 3, wordView(dst), 5);
  t.deepEqual(dst.subarray(5, 21), src.subarray(3, 19));
  let plain = 0;
  for (let i = 3; i < 19; i += 2) plain += ((src[i] as number) << 8) | (src[i + 1] as number);
  t.is(sum, plain);
  copyMacWords(wordView(src), 20, wordView(dst), 30);
  t.deepEqual(dst.subarray(30, 36), src.subarray(20, 26));
  for (let n = 0; n <= 33; n++) {
    const out = new Uint8Array(40);
    copyWords(wordView(src), 7, wordView(out), 1, n);
    t.deepEqual(out.subarray(1, 1 + n), src.subarray(7, 7 + n), `length ${n}`);
    t.is(out[1 + n], 0, `nothing written past length ${n}`);
  }
});

test('an array keeps its one view even after other arrays took every slot', (t) => {
  const first = Uint8Array.of(1, 2, 3, 4);
  const v = wordView(first);
  for (let i = 0; i < 10; i++) wordView(new Uint8Array(4));
  t.is(wordView(first), v);
});

test('copy and sum: the bytes of any length land as copied, and the sum is the checksum sum of them', (t) => {
  const src = Uint8Array.from({ length: 80 }, (_, i) => (i * 53 + 7) & 0xff);
  for (let n = 0; n <= 70; n++) {
    const out = new Uint8Array(80);
    const s = copySumWords(wordView(src), 5, wordView(out), 3, n);
    t.deepEqual(out.subarray(3, 3 + n), src.subarray(5, 5 + n), `length ${n}`);
    t.is(out[3 + n], 0, `nothing written past length ${n}`);
    t.is(fold(s), fold(sumWords(src, 5, n)), `sum of length ${n}`);
  }
});
