/**
 * docs/punt6.service, the systemd unit operators install (docs/operations.md): what it grants,
 * and `systemd-analyze verify` on it, which must say nothing. verify also checks that each
 * command exists, so the copy it reads has the installed `punt6` replaced by node and the
 * built CLI; every other line is the unit's own. Needs systemd-analyze (Debian package systemd,
 * which .ci/setup installs); without it the test is skipped loudly, and fails under CI=true.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { repositoryRoot } from '../../fixtures/paths.js';
import { commandAvailable, testNeeding } from '../../fixtures/test-support.js';
import { CLI } from '../test-support/e2e.js';

const unitPath = join(repositoryRoot, 'docs', 'punt6.service');
const unit = readFileSync(unitPath, 'utf8');
const INSTALLED = '/usr/local/bin/punt6';

/** The values of `key=` lines, in order. */
function values(key: string): string[] {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] as string);
}

test('an unprivileged user with CAP_NET_RAW alone, notify readiness, restarted on failure', (t) => {
  t.deepEqual(values('User'), ['punt6']);
  t.deepEqual(values('AmbientCapabilities'), ['CAP_NET_RAW']);
  t.deepEqual(values('CapabilityBoundingSet'), ['CAP_NET_RAW']);
  t.deepEqual(values('NoNewPrivileges'), ['yes']);
  t.deepEqual(values('Type'), ['notify']);
  t.deepEqual(values('NotifyAccess'), ['all'], 'systemd-notify is a child of punt6');
  t.deepEqual(values('Restart'), ['on-failure']);
  t.deepEqual(values('ExecStart'), [`${INSTALLED} run --config /etc/punt6/punt6.yaml`]);
  t.deepEqual(values('ExecReload'), [`${INSTALLED} check --config /etc/punt6/punt6.yaml`, '/bin/kill -HUP $MAINPID']);
  t.deepEqual(values('StateDirectory'), ['punt6'], 'the default server.stateDirectory, /var/lib/punt6');
  t.deepEqual(values('RuntimeDirectory'), ['punt6'], '/run/punt6, for the control socket');
});

testNeeding(
  'systemd-analyze verify says nothing about it',
  {
    available: commandAvailable('systemd-analyze', ['--version']),
    reason: 'systemd-analyze is not installed (Debian package systemd)',
  },
  (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'punt6-unit-'));
    try {
      const copy = join(dir, 'punt6.service');
      writeFileSync(copy, unit.replaceAll(INSTALLED, `${process.execPath} ${CLI}`));
      const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 60_000 });
      t.is(r.status, 0, r.stderr);
      t.is(r.stderr + r.stdout, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
