import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { repositoryRoot } from '../fixtures/paths.js';
import { Rooms, type Room } from './rooms.js';

/** The room of a repository-relative path, or null for a file outside the rooms (tests, test support). */
function roomOf(path: string): Room | 'test' | null {
  const parts = path.split(sep);
  if (parts[0] === 'codecs') return parts.at(-1)?.endsWith('.test.ts') ? 'test' : 'codecs';
  if (parts[0] !== 'src' || parts.length < 3) return null;
  if (parts[1] === 'test-support' || path.endsWith('.test.ts')) return 'test';
  if (parts[1] === undefined) return null;
  return parts[1] in Rooms ? (parts[1] as Room) : null;
}

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(join(repositoryRoot, dir), { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* sources(path);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield path;
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'/g;

test('every import points down the rooms (src/rooms.ts), and src/ holds nothing but rooms and their index', (t) => {
  const wrong: string[] = [];
  let checked = 0;
  for (const file of [...sources('src'), ...sources('codecs')]) {
    const from = roomOf(file);
    if (from === null && !['src/rooms.ts', 'src/rooms.test.ts'].includes(file)) {
      if (!file.startsWith(join('src', 'types'))) wrong.push(`${file}: not in a room`);
      continue;
    }
    if (from === null || from === 'test') continue;
    const text = readFileSync(join(repositoryRoot, file), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const target = normalize(join(dirname(file), m[1] as string));
      const to = roomOf(relative('.', target));
      checked++;
      if (to === 'test') wrong.push(`${file} imports test support ${target}`);
      else if (to === null) wrong.push(`${file} imports ${target}, outside the rooms`);
      else if (to !== from && Rooms[to] >= Rooms[from])
        wrong.push(`${file} (${from}, rank ${Rooms[from]}) imports ${target} (${to}, rank ${Rooms[to]})`);
    }
  }
  t.true(checked > 100, `${checked} imports checked`);
  t.deepEqual(wrong, []);
});

test('no import cycle among the files of codecs/', (t) => {
  const imports = new Map<string, string[]>();
  for (const file of sources('codecs')) {
    if (file.endsWith('.test.ts')) continue;
    const text = readFileSync(join(repositoryRoot, file), 'utf8');
    const targets = [...text.matchAll(IMPORT)].map((m) => normalize(join(dirname(file), m[1] as string)));
    imports.set(
      file,
      targets.filter((f) => f.startsWith('codecs' + sep)).map((f) => f.replace(/\.js$/, '.ts')),
    );
  }
  t.true(imports.size > 10, `${imports.size} codecs read`);
  // Depth-first search; a file met again while it is still on the path closes a cycle.
  const cycles: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string): void => {
    const at = path.indexOf(file);
    if (at >= 0) {
      cycles.push([...path.slice(at), file].join(' -> '));
      return;
    }
    if (done.has(file)) return;
    path.push(file);
    for (const next of imports.get(file) ?? []) visit(next);
    path.pop();
    done.add(file);
  };
  for (const file of imports.keys()) visit(file);
  t.deepEqual(cycles, []);
});
