import test from 'ava';
import { codesOf, nameOf, namesOf, rowsOf } from './code-table.js';
import { dhcpv6MessageTypes, dhcpv6Options, dhcpv6StatusCodes, ntpSuboptions } from './dhcpv6.js';
import { duidTypes } from './duid.js';

const table = {
  One: { code: 1, name: 'one' },
  Three: { code: 3, name: 'three' },
} as const;

test('a table gives its constants, its rows by code and its names', (t) => {
  const codes = codesOf(table);
  t.deepEqual(codes, { One: 1, Three: 3 });
  const rows = rowsOf(table);
  t.is(rows[3], table.Three);
  t.is(rows[2], undefined);
  const names = namesOf(table);
  t.is(nameOf(names, 1), 'one');
  for (const code of [0, 2, 4, -1, 1.5, 70000]) t.is(nameOf(names, code), 'unknown', String(code));
});

test('no code or name appears twice in a DHCPv6 table', (t) => {
  for (const family of [dhcpv6MessageTypes, dhcpv6Options, dhcpv6StatusCodes, ntpSuboptions, duidTypes]) {
    const rows = Object.values(family);
    t.is(new Set(rows.map((r) => r.code)).size, rows.length);
    t.is(new Set(rows.map((r) => r.name)).size, rows.length);
  }
});
