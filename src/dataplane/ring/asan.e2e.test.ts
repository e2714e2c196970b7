/**
 * The packet ring addon built with AddressSanitizer and driven through everything it does
 * (src/test-support/ring-exercise.mjs: many frame lengths, wrap-around and a full ring, send
 * counts past the slots, a VLAN tag put back, close twice, rings left to the garbage collector,
 * the interface removed under a ring). Any out-of-bounds access, use after free or double free
 * aborts the run. Needs root, `ip`, g++ with libasan and the addon's build tools; outside CI it
 * skips saying why, with CI=true it must run.
 */

import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '../../../fixtures/paths.js';
import { deleteLink, ringGate, vethPair } from '../../test-support/ring.js';

const gate = ringGate('src/dataplane/ring/asan.e2e.test.ts');

/** libasan's path from g++, or null. */
function libasan(): string | null {
  const r = spawnSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' });
  const path = r.status === 0 ? r.stdout.trim() : '';
  return path.startsWith('/') && existsSync(path) ? path : null;
}

const asan = gate.reason === null ? libasan() : null;
const reason = gate.reason ?? (asan === null ? 'g++ has no libasan' : null);
if (reason !== null && gate.reason === null && process.env['CI'] !== 'true')
  process.stderr.write(`\n*** src/dataplane/ring/asan.e2e.test.ts SKIPPED: ${reason} ***\n\n`);
const run = reason === null || process.env['CI'] === 'true' ? test : test.skip;

run('the addon under AddressSanitizer: the whole exercise runs clean', (t) => {
  if (reason !== null) t.fail(`CI=true but ${reason}`);
  t.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'punt6-asan-'));
  const A = 'p6rg-sa';
  const B = 'p6rg-sb';
  try {
    // A build of its own, beside the real one: the same binding.gyp with its asan variable set.
    mkdirSync(join(dir, 'src', 'dataplane', 'ring'), { recursive: true });
    copyFileSync(join(repositoryRoot, 'binding.gyp'), join(dir, 'binding.gyp'));
    copyFileSync(
      join(repositoryRoot, 'src', 'dataplane', 'ring', 'ring.cc'),
      join(dir, 'src', 'dataplane', 'ring', 'ring.cc'),
    );
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'punt6-ring-asan', private: true, scripts: { build: 'node-gyp rebuild --asan=1' } }),
    );
    const env = { ...process.env, NODE_PATH: join(repositoryRoot, 'node_modules') };
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: dir, env, stdio: 'pipe', timeout: 240_000 });
    const addon = join(dir, 'build', 'Release', 'punt6_ring.node');
    t.regex(execFileSync('nm', ['-D', addon], { encoding: 'utf8' }), /__asan_/, 'built with AddressSanitizer');
    vethPair(A, B);
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', join(repositoryRoot, 'src', 'test-support', 'ring-exercise.mjs'), addon, A, B],
      {
        encoding: 'utf8',
        timeout: 120_000,
        // Node itself is not built for leak checking: only memory errors count.
        env: { ...process.env, LD_PRELOAD: asan ?? '', ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1' },
      },
    );
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /^ok \d+/);
    t.notRegex(r.stderr, /AddressSanitizer/);
  } finally {
    deleteLink(A);
    rmSync(dir, { recursive: true, force: true });
  }
});
