import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseDocument, stringify } from 'yaml';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { runSteps } from '../system/steps.js';
import { coreScalar, readYamlSubset } from './yaml-subset.js';

const subset = (text: string): { value: unknown } | undefined => runSteps(readYamlSubset(text));

/** What the `yaml` package makes of the text, as load.ts asks it; 'error' for a refused text. */
function full(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, version: '1.2' });
  return doc.errors.length > 0 ? 'error' : doc.toJS({ maxAliasCount: 1000 });
}

const read: [string, string, unknown][] = [
  [
    'nested mappings, comments, blank lines',
    'a:\n  b: 1   # one\n\n  # between\n  c: x\nd: y\n',
    { a: { b: 1, c: 'x' }, d: 'y' },
  ],
  [
    'sequences indented or not under their key, entries opening mappings',
    'p:\n  - name: a\n    n: [1, two, "3"]\nq:\n- x\n- name: b\n  list:\n  - 1\n  m: ~\n',
    { p: [{ name: 'a', n: [1, 'two', '3'] }], q: ['x', { name: 'b', list: [1], m: null }] },
  ],
  [
    'addresses and MACs are text; integers, booleans and null by the core schema',
    'mac: 02:00:00:00:00:01\na: 2001:db8::1\np: 2001:db8::/64\nr: 2001:db8::1-2001:db8::9\nn: 007\nt: True\nf: no\nz:\n',
    {
      mac: '02:00:00:00:00:01',
      a: '2001:db8::1',
      p: '2001:db8::/64',
      r: '2001:db8::1-2001:db8::9',
      n: 7,
      t: true,
      f: 'no',
      z: null,
    },
  ],
  ['integer keys are property names', 'vlans:\n  100: a\n  200: b\n', { vlans: { '100': 'a', '200': 'b' } }],
  ['quoted keys', '"100": a\n\'x: y\': b\n', { '100': 'a', 'x: y': 'b' }],
  ["single quotes, '' inside", "a: 'it''s # not a comment'\nb: []\n", { a: "it's # not a comment", b: [] }],
  ['empty entries are null', 'a:\n  -\n  - b\n', { a: [null, 'b'] }],
  [
    'flow mappings on one line, with scalars and flow sequences',
    'd: { mode: stateful, pools: [2001:db8::/112], "q": 1 }\ne: {}\nf: {a: ~}\n',
    { d: { mode: 'stateful', pools: ['2001:db8::/112'], q: 1 }, e: {}, f: { a: null } },
  ],
];

for (const [title, text, value] of read) {
  test(`read: ${title}`, (t) => {
    t.deepEqual(subset(text), { value });
    t.deepEqual(full(text), value);
  });
}

const declined: [string, string][] = [
  ['an anchor and an alias', 'a: &x 1\nb: *x\n'],
  ['a tag', 'a: !!str 1\n'],
  ['a block scalar', 'a: |\n  text\n'],
  ['a flow mapping in a flow mapping', 'a: {b: {c: 1}}\n'],
  ['a flow mapping in a flow sequence', 'a: [{b: 1}]\n'],
  ['a flow mapping entry without a value', 'a: {b}\n'],
  ['a multi-line plain scalar', 'a: one\n  two\n'],
  ['a flow sequence over two lines', 'a: [1,\n  2]\n'],
  ['an escape', 'a: "x\\ty"\n'],
  ['a duplicate key (an error)', 'a: 1\na: 2\n'],
  ['a tab (an error as indentation)', 'a:\n\tb: 1\n'],
  ['CR LF line ends', 'a: 1\r\nb: 2\r\n'],
  ['a document marker', '---\na: 1\n'],
  ['a value that is a mapping key', 'a: b: c\n'],
  ['a value ending with a colon (a key)', 'a: 2001:db8::\n'],
  ['a sequence after a value at the same column (an error)', 'a: 1\n- b\n'],
  ['a plain key with a space', 'a b: 1\n'],
  ['a key that reads as a boolean', 'true: 1\n'],
  ['an integer key not in canonical form', '0100: a\n'],
  ['a list at the top', '- a\n'],
  ['an empty text', ''],
  ['non-ASCII text', 'name: vé\n'],
  ['a trailing comma in a flow sequence', 'a: [1, 2, ]\n'],
];

for (const [title, text] of declined) {
  test(`declined: ${title}`, (t) => {
    t.is(subset(text), undefined);
  });
}

test('the configuration fixtures and what yaml.stringify writes are in the subset, read as yaml reads them', (t) => {
  for (const name of ['lab.yaml', 'trunk.yaml', 'peers.yaml']) {
    const text = readFileSync(join(fixturesDirectory, 'config', name), 'utf8');
    t.deepEqual(subset(text), { value: full(text) }, name);
    const again = stringify(full(text));
    t.deepEqual(subset(again), { value: full(again) }, `${name}, as yaml.stringify writes it`);
  }
});

test('plain scalars resolve as the yaml package resolves them', (t) => {
  for (const s of [
    '~',
    'null',
    'Null',
    'NULL',
    'nULL',
    'true',
    'TRUE',
    'tRUE',
    'False',
    '0',
    '-0',
    '+12',
    '007',
    '0o17',
    '0o8',
    '0x1F',
    '0xg',
    '1.5',
    '.5',
    '5.',
    '-.5e3',
    '1e5',
    '1E-2',
    '.inf',
    '-.Inf',
    '+.INF',
    '.nan',
    '.NaN',
    'nan',
    '1_000',
    '0b1',
    '12:30',
    '2001:db8::1',
    'fe80::1',
    '1.2.3.4',
    'e5',
    '-a',
    '+',
    '.',
  ]) {
    t.true(isDeepStrictEqual(coreScalar(s), full(`${s}\n`)), s);
  }
});

// ---- generated texts: whatever the subset reads, yaml reads the same, without an error ----

type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

const keys = [
  'name',
  'mac',
  'a',
  'b-c',
  'x.y',
  '_k',
  '100',
  '0',
  '007',
  'true',
  'null',
  'yes',
  'e1',
  '-k',
  '__proto__',
  '"q"',
  "'it''s'",
  '"a: b"',
  "'100'",
];
const strings = [
  'p0',
  '02:00:00:00:00:01',
  '2001:db8::1',
  '2001:db8::/64',
  '2001:db8::',
  '',
  'null',
  '~',
  'True',
  'yes',
  '0o17',
  '0x1F',
  '1e3',
  '-1',
  '+1',
  '-0',
  '007',
  '1.5',
  '.5',
  '.inf',
  '.nan',
  'a: b',
  'a:b',
  'a #b',
  'a#b',
  '#x',
  '-',
  '- a',
  '-a',
  '?x',
  ':x',
  "it's",
  'say "hi"',
  'a\\b',
  ' lead',
  'trail ',
  'x,y',
  '[x]',
  '{x}',
  '*a',
  '&a',
  '!t',
  '|',
  '>',
  '%',
  '@',
  '`',
  'two words',
  'é',
];

const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...strings),
    fc.integer({ min: -1000, max: 1000 }),
    fc.constantFrom(null, true, false, 0.5, -0),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...keys), tie('v'), { maxKeys: 4 }),
  ),
})).v;

/** Renders a value as YAML, each choice of style taken from `pick`. */
function render(v: Value, pick: () => number): string {
  const scalar = (s: Value): string => {
    if (typeof s !== 'string') return s === null ? ['', '~', 'null'][pick() % 3]! : String(s);
    switch (pick() % 3) {
      case 0:
        return s;
      case 1:
        return `'${s.replace(/'/g, "''")}'`;
      default:
        return JSON.stringify(s);
    }
  };
  const comment = (): string => (pick() % 5 === 0 ? '  # note' : '');
  const lines: string[] = [];
  const block = (x: Value, indent: number, inEntry: boolean): void => {
    const pad = ' '.repeat(indent);
    if (Array.isArray(x)) {
      for (const item of x) {
        if (item !== null && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length > 0) {
          const entries = Object.entries(item);
          entries.forEach(([k, e], i) => {
            const head = i === 0 ? `${pad}- ` : `${pad}  `;
            keyed(head, k, e, indent + 2);
          });
        } else if (Array.isArray(item) && pick() % 2 === 0 && item.every((i) => typeof i !== 'object' || i === null)) {
          lines.push(`${pad}- [${item.map(scalar).join(', ')}]${comment()}`);
        } else if (item !== null && typeof item === 'object') {
          lines.push(`${pad}-`);
          block(item, indent + 2, true);
        } else {
          lines.push(`${pad}- ${scalar(item)}${comment()}`);
        }
      }
      if (x.length === 0) lines.push(`${pad}${inEntry ? '' : ''}[]`);
    } else if (x !== null && typeof x === 'object') {
      for (const [k, e] of Object.entries(x)) keyed(pad, k, e, indent);
      if (Object.keys(x).length === 0) lines.push(`${pad}{}`);
    } else {
      lines.push(`${pad}${scalar(x)}`);
    }
  };
  const keyed = (head: string, k: string, e: Value, indent: number): void => {
    if (
      Array.isArray(e) &&
      (e.length === 0 || (pick() % 2 === 0 && e.every((i) => typeof i !== 'object' || i === null)))
    ) {
      lines.push(`${head}${k}: [${e.map(scalar).join(', ')}]${comment()}`);
    } else if (e !== null && typeof e === 'object') {
      lines.push(`${head}${k}:${comment()}`);
      if (pick() % 4 === 0) lines.push('');
      block(e, Array.isArray(e) && pick() % 2 === 0 ? indent : indent + 2, false);
    } else {
      lines.push(`${head}${k}: ${scalar(e)}${comment()}`);
    }
  };
  block(v, 0, false);
  return lines.join('\n') + '\n';
}

const noise = [' ', ':', '-', '#', '\n', '"', "'", '[', ']', '{', '}', ',', 'a', '1', '  ', '\t', '&', '*'];

test('generated texts, as written and with a character inserted or removed: read alike or declined', (t) => {
  let read = 0;
  let declinedCount = 0;
  fc.assert(
    fc.property(
      fc.dictionary(fc.constantFrom(...keys), value, { minKeys: 1, maxKeys: 5 }),
      fc.integer(),
      fc.option(fc.tuple(fc.nat(), fc.constantFrom(...noise), fc.boolean()), { freq: 2 }),
      (doc, seed, edit) => {
        let state = seed >>> 0;
        const pick = (): number => {
          state = (Math.imul(state, 1103515245) + 12345) >>> 0;
          return state >>> 16;
        };
        let text = render(doc, pick);
        if (edit !== null) {
          const [at, c, remove] = edit;
          const i = at % (text.length + 1);
          text = remove ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + c + text.slice(i);
        }
        const fast = subset(text);
        if (fast === undefined) {
          declinedCount++;
          return true;
        }
        read++;
        const expected = full(text);
        if (!isDeepStrictEqual(fast.value, expected))
          throw new Error(
            `${JSON.stringify(text)}: subset ${JSON.stringify(fast.value)}, yaml ${JSON.stringify(expected)}`,
          );
        return true;
      },
    ),
    { numRuns: 20_000 },
  );
  t.log(`${read} read by the subset, ${declinedCount} declined`);
  t.true(read > 2000 && declinedCount > 2000, 'both ways were exercised');
});
