import test from 'ava';
import { formatIpv6, parseIpv6, formatMac, parseMac, u32, setU32, isSolicitedNode, writeSolicitedNode, fromHex, toHex } from './bytes.js';

const rfc5952 = [
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['2001:0db8:0:0:0:0:2:1', '2001:db8::2:1'],
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ['2001:db8::0:1', '2001:db8::1'],
  ['2001:DB8::1', '2001:db8::1'],
  ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ['0:0:0:0:0:0:0:0', '::'],
  ['::1', '::1'],
  ['fe80::', 'fe80::'],
  ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ['1:0:0:0:1:0:0:0', '1::1:0:0:0'],
] as const;

for (const [input, expected] of rfc5952) {
  test(`RFC 5952 text of ${input}`, (t) => {
    t.is(formatIpv6(parseIpv6(input)), expected);
  });
}

for (const bad of ['', ':', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '::1.2.3.256']) {
  test(`parseIpv6 refuses ${JSON.stringify(bad)}`, (t) => {
    t.throws(() => parseIpv6(bad), { instanceOf: TypeError });
  });
}

test('MAC text round trip', (t) => {
  t.is(formatMac(parseMac('02:00:00:AB:cd:01')), '02:00:00:ab:cd:01');
  t.throws(() => parseMac('02:00:00:ab:cd'));
});

test('u32 stays unsigned', (t) => {
  const b = new Uint8Array(4);
  setU32(b, 0, 0xfffffffe);
  t.is(u32(b, 0), 0xfffffffe);
  t.is(toHex(b), 'fffffffe');
});

test('solicited-node address', (t) => {
  const target = parseIpv6('fd00::12:3456');
  const out = new Uint8Array(20);
  writeSolicitedNode(target, 0, out, 4);
  t.is(formatIpv6(out, 4), 'ff02::1:ff12:3456');
  t.true(isSolicitedNode(out, 4));
  t.false(isSolicitedNode(parseIpv6('ff02::1'), 0));
  t.deepEqual(fromHex('0a:0B'), new Uint8Array([10, 11]));
});
