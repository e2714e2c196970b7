import test from 'ava';
import fc from 'fast-check';
import { MacTable } from './mac-table.js';

const mac = (...b: number[]): Uint8Array => Uint8Array.from(b);

test('looks MACs up where they lie in a frame; unknown MACs, including ones sharing a last byte, are -1', (t) => {
  const table = new MacTable([
    { mac: mac(2, 0, 0, 0, 0, 1), value: 7 },
    { mac: mac(2, 0, 0, 0, 1, 1), value: 8 },
    { mac: mac(0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54), value: 0 },
  ]);
  const frame = new Uint8Array(20);
  const at = (m: Uint8Array): number => {
    frame.set(m, 9);
    return table.lookup(frame, 9);
  };
  t.is(at(mac(2, 0, 0, 0, 0, 1)), 7);
  t.is(at(mac(2, 0, 0, 0, 1, 1)), 8);
  t.is(at(mac(0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54)), 0);
  t.is(at(mac(2, 0, 0, 0, 2, 1)), -1, 'same last byte as two keys, not a key');
  t.is(at(mac(2, 0, 0, 0, 0, 2)), -1, 'a last byte no key has');
  t.is(new MacTable([]).lookup(frame, 9), -1);
});

test('any set of MACs: every key finds its value, every other MAC finds -1', (t) => {
  const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 });
  fc.assert(
    fc.property(
      fc.uniqueArray(macArb, { maxLength: 40, selector: (m) => Array.from(m).join() }),
      fc.array(macArb, { maxLength: 20 }),
      (keys, probes) => {
        const table = new MacTable(keys.map((m, i) => ({ mac: m, value: i })));
        const index = new Map(keys.map((m, i) => [Array.from(m).join(), i]));
        for (const [i, m] of keys.entries()) if (table.lookup(m, 0) !== i) return false;
        for (const m of probes) if (table.lookup(m, 0) !== (index.get(Array.from(m).join()) ?? -1)) return false;
        return true;
      },
    ),
    { numRuns: 500 },
  );
  t.pass();
});
