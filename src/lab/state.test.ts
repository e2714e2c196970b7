/**
 * `lab up` and `lab down` delete their state directory recursively; `--state` names any path.
 * Which directories they may delete, without building a lab.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { stateDirectoryProblem } from './lab.js';

test("a lab's state directory may go; anyone else's directory or file is left alone", (t) => {
  const root = mkdtempSync(join(tmpdir(), 'punt6-lab-state-'));
  try {
    const dir = (name: string, files: string[]): string => {
      const d = join(root, name);
      mkdirSync(d);
      for (const f of files) writeFileSync(join(d, f), '');
      return d;
    };
    t.is(stateDirectoryProblem(join(root, 'absent')), null);
    t.is(stateDirectoryProblem(dir('empty', [])), null);
    t.is(stateDirectoryProblem(dir('lab', ['lab.json', 'punt6.yaml', 'leases-of-punt6'])), null);
    t.is(stateDirectoryProblem(dir('lab-before-lab-json', ['punt6.yaml', 'ovs'])), null);
    t.is(
      stateDirectoryProblem(dir('home', ['thesis.tex', 'punt6.yaml'])),
      `not a lab's state directory (no lab.json, and it holds thesis.tex); left alone`,
    );
    t.is(
      stateDirectoryProblem(dir('busy', ['a', 'b', 'c', 'd', 'e'])),
      `not a lab's state directory (no lab.json, and it holds a, b, c, … (5 in all)); left alone`,
    );
    t.is(stateDirectoryProblem(join(root, 'home', 'thesis.tex')), 'not a directory; left alone');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
