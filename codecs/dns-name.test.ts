import test from 'ava';
import fc from 'fast-check';
import {
  checkDnsNameList,
  dnsNameError,
  dnsNameListLength,
  emitDnsNameList,
  formatDnsNameList,
  walkDnsName,
  formatDnsName,
} from './dns-name.js';
import { Status } from './status.js';

test('encode and decode a name list at an offset', (t) => {
  const names = ['example.com', 'lab.punt6.test.'];
  const n = dnsNameListLength(names);
  const b = new Uint8Array(n + 10);
  t.is(emitDnsNameList(names, b, 10), n);
  t.is(checkDnsNameList(b, 10, 10 + n), Status.Ok);
  t.deepEqual(formatDnsNameList(b, 10, 10 + n), ['example.com.', 'lab.punt6.test.']);
});

test('a label running past its option is Malformed with its offset', (t) => {
  const b = Uint8Array.from([3, 0x61, 0x62, 0x63, 5, 0x61, 0x62]);
  t.is(checkDnsNameList(b, 0, b.length), Status.Malformed);
  t.is(dnsNameError.offset, 4);
  t.regex(dnsNameError.reason, /past its option/);
});

test('compression pointers and long labels are Malformed', (t) => {
  t.is(checkDnsNameList(Uint8Array.from([0xc0, 0x0c]), 0, 2), Status.Malformed);
  t.regex(dnsNameError.reason, /compression/);
  t.is(checkDnsNameList(Uint8Array.from([64, ...new Array<number>(64).fill(0x61), 0]), 0, 66), Status.Malformed);
});

test('a name without its final zero is Malformed unless partial names are allowed', (t) => {
  const b = Uint8Array.from([3, 0x61, 0x62, 0x63]);
  t.is(walkDnsName(b, 0, 4), -1);
  t.is(walkDnsName(b, 0, 4, true), 4);
  t.is(formatDnsName(b, 0, 4), 'abc');
});

test('DNSSL zero padding is accepted only when asked for and only zeros', (t) => {
  const b = Uint8Array.from([1, 0x61, 0, 0, 0, 0]);
  t.is(checkDnsNameList(b, 0, b.length, true), Status.Ok);
  t.is(checkDnsNameList(Uint8Array.from([1, 0x61, 0, 0, 1]), 0, 5, true), Status.Malformed);
});

test('names longer than 255 bytes are refused', (t) => {
  const label = 'a'.repeat(63);
  t.throws(() => dnsNameListLength([[label, label, label, label].join('.')]));
  const b = new Uint8Array(300);
  let p = 0;
  for (let i = 0; i < 4; i++) {
    b[p++] = 63;
    p += 63;
  }
  t.is(walkDnsName(b, 0, 300), -1);
});

test('random bytes never throw', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(20), (bytes, cut) => {
      const end = Math.max(0, bytes.length - cut);
      checkDnsNameList(bytes, 0, end, true);
      formatDnsNameList(bytes, 0, end);
    }),
  );
  t.pass();
});
