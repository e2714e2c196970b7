import test from 'ava';
import fc from 'fast-check';
import {
  compareAddr,
  formatColonHex,
  hostBitsZero,
  inPrefix,
  sameBytes,
  copyAddr,
  copyBytes,
  formatIpv6,
  parseIpv6,
  formatMac,
  parseMac,
  u32,
  setU32,
  isSolicitedNode,
  writeSolicitedNode,
  fromHex,
  toHex,
  sliceBytes,
} from './bytes.js';

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

/** RFC 4291 §2.2 text read with regular expressions and splits: the reference parseIpv6 agrees with. */
function referenceIpv6(text: string): number[] | null {
  let t = text;
  const v4 = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(2).map(Number) as [number, number, number, number];
    if (a > 255 || b > 255 || c > 255 || d > 255) return null;
    t = (v4[1] as string) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === '') return [];
    const g = s.split(':');
    return g.every((x) => /^[0-9a-fA-F]{1,4}$/.test(x)) ? g.map((x) => parseInt(x, 16)) : null;
  };
  const head = parse(halves[0] as string);
  const rest = halves.length === 2 ? parse(halves[1] as string) : [];
  if (head === null || rest === null) return null;
  const explicit = head.length + rest.length;
  if (halves.length === 2) return explicit > 7 ? null : [...head, ...new Array<number>(8 - explicit).fill(0), ...rest];
  return explicit === 8 ? head : null;
}

test('parseIpv6 reads exactly what the regular-expression reading does', (t) => {
  const groupsOf = (b: Uint8Array): number[] =>
    Array.from({ length: 8 }, (_, i) => ((b[2 * i] as number) << 8) | (b[2 * i + 1] as number));
  const check = (text: string): boolean => {
    let got: number[] | null;
    try {
      got = groupsOf(parseIpv6(text));
    } catch {
      got = null;
    }
    const want = referenceIpv6(text);
    if (JSON.stringify(got) !== JSON.stringify(want))
      throw new Error(`${JSON.stringify(text)}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    return true;
  };
  const pieces = ['0', '1', 'a', 'F', 'ffff', '12345', 'g', ':', ':', '::', '.', '1.2.3.4', '255', '256', '01'];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 14 }), (p) => check(p.join(''))),
    {
      numRuns: 20_000,
    },
  );
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFg:.') }), check), {
    numRuns: 20_000,
  });
  for (const text of ['::', '::1', '1::', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4', '::1.2.3.4'])
    t.true(check(text), text);
});

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

test('address helpers: order, prefix containment, host bits', (t) => {
  const a = parseIpv6('2001:db8::1');
  const b = parseIpv6('2001:db8::2');
  const shifted = new Uint8Array(20);
  shifted.set(b, 4);
  t.true(compareAddr(a, 0, shifted, 4) < 0);
  t.true(compareAddr(shifted, 4, a, 0) > 0);
  t.is(compareAddr(a, 0, parseIpv6('2001:db8::1'), 0), 0);
  t.true(compareAddr(parseIpv6('ff00::'), 0, parseIpv6('7fff::'), 0) > 0, 'unsigned');
  const prefix = parseIpv6('2001:db8:100::');
  t.true(inPrefix(parseIpv6('2001:db8:1ff::9'), 0, prefix, 39));
  t.false(inPrefix(parseIpv6('2001:db8:200::'), 0, prefix, 39));
  t.true(inPrefix(a, 0, prefix, 0), 'every address is in ::/0');
  t.true(inPrefix(prefix, 0, prefix, 128));
  t.true(hostBitsZero(parseIpv6('2001:db8:100::'), 0, 40));
  t.false(hostBitsZero(parseIpv6('2001:db8:180::'), 0, 40));
  t.true(hostBitsZero(a, 0, 128));
  t.false(hostBitsZero(a, 0, 127));
});

test('sameBytes compares whole arrays; formatColonHex writes any length', (t) => {
  t.true(sameBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
  t.false(sameBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3)));
  t.false(sameBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
  t.is(formatColonHex(Uint8Array.of(0, 0x0c, 0xff), 0, 3), '00:0c:ff');
  t.is(formatColonHex(Uint8Array.of(1), 1, 0), '');
  t.is(formatMac(Uint8Array.of(2, 0, 0, 0, 0, 1)), '02:00:00:00:00:01');
});

test('copyBytes and copyAddr copy exactly the range, whatever its length and offsets', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 80 }),
      fc.nat(80),
      fc.nat(80),
      fc.nat(40),
      (src, so0, dO0, n0) => {
        const so = Math.min(so0, src.length);
        const n = Math.min(n0, src.length - so);
        const dst = new Uint8Array(128).fill(0xa5);
        const dO = Math.min(dO0, dst.length - n);
        const expected = Uint8Array.from(dst);
        expected.set(src.subarray(so, so + n), dO);
        copyBytes(src, so, dst, dO, n);
        return dst.every((v, i) => v === expected[i]);
      },
    ),
    { numRuns: 3000 },
  );
  const src = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
  const dst = new Uint8Array(20);
  copyAddr(src, 3, dst, 2);
  t.deepEqual([...dst], [0, 0, ...src.subarray(3, 19), 0, 0]);
});

test('sliceBytes copies a range of a Buffer, sharing no memory with it', (t) => {
  const b = Buffer.from([1, 2, 3, 4, 5]);
  const s = sliceBytes(b, 1, 4);
  t.deepEqual(Array.from(s), [2, 3, 4]);
  b[2] = 9;
  t.is(s[1], 3, 'no memory shared with b');
});
