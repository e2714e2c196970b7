import test from 'ava';
import fc from 'fast-check';
import { parseIpv6 } from '../../codecs/bytes.js';
import { AddressTable } from './address-table.js';

test('finds what was set, at any offset, and nothing else', (t) => {
  const table = new AddressTable(4);
  t.true(table.set(parseIpv6('fd00::1'), 0, 7));
  t.true(table.set(parseIpv6('fe80::1'), 0, 9));
  const frame = new Uint8Array(64);
  parseIpv6('fd00::1', frame, 22);
  t.is(table.lookup(frame, 22), 7);
  parseIpv6('fd00::2', frame, 22);
  t.is(table.lookup(frame, 22), -1);
  t.true(table.set(parseIpv6('fd00::1'), 0, 8));
  t.is(table.lookup(parseIpv6('fd00::1'), 0), 8);
  t.is(table.size, 2);
});

test('refuses entries beyond its capacity instead of degrading', (t) => {
  const table = new AddressTable(2);
  let accepted = 0;
  for (let i = 1; i <= 10; i++) if (table.set(parseIpv6(`fd00::${i}`), 0, i)) accepted++;
  t.true(accepted >= 2 && accepted < 10);
});

test('agrees with a Map for random addresses', (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.uint8Array({ minLength: 16, maxLength: 16 }), {
        maxLength: 200,
        selector: (a) => Buffer.from(a).toString('hex'),
      }),
      (keys) => {
        const table = new AddressTable(keys.length);
        keys.forEach((k, i) => table.set(k, 0, i));
        return (
          keys.every((k, i) => table.lookup(k, 0) === i) &&
          table.lookup(new Uint8Array(16).fill(0xab), 0) === keys.findIndex((k) => k.every((x) => x === 0xab))
        );
      },
    ),
  );
  t.pass();
});

test('refuses a value it could not tell from a free slot', (t) => {
  const table = new AddressTable(2);
  t.throws(() => table.set(parseIpv6('fd00::1'), 0, -1), { instanceOf: RangeError });
  t.throws(() => table.set(parseIpv6('fd00::1'), 0, 2 ** 31), { instanceOf: RangeError });
  t.is(table.size, 0);
  t.is(table.lookup(parseIpv6('fd00::1'), 0), -1);
});
