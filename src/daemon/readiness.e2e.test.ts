/**
 * `punt6 run` (the built CLI) under a service manager: with NOTIFY_SOCKET set it tells, through
 * systemd-notify, what it waits for, READY=1 only once its punt interface exists and is
 * attached, and STOPPING=1 at SIGTERM. systemd-notify is a stand-in on PATH that writes down
 * what it is given (no systemd runs here); docs/punt6.service is the unit that reads it. Needs
 * root, `ip netns` and `dist/`; outside CI it skips, loudly, when any of that is missing; under
 * CI=true it fails.
 */

import test from 'ava';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { e2eGate, freePort, Punt6Process, tenantConfig, until, VethVm } from '../test-support/e2e.js';

const gate = e2eGate('punt6 run readiness end-to-end tests', ['ip', 'sysctl', 'ethtool']);
const e2e = gate.enabled ? test.serial : test.serial.skip;

const id = String(process.pid % 100000);
const VM_MAC = '02:00:00:00:00:01';
const vm = new VethVm(`p6rd-${id}`, `p6rd${id}`, VM_MAC);
let dir = '';
let punt6: Punt6Process | undefined;

test.before(async () => {
  if (!gate.check()) return;
  dir = await mkdtemp(join(tmpdir(), 'punt6-readiness-'));
});

test.after.always(async () => {
  await punt6?.kill();
  if (gate.reason === null) await vm.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

e2e('READY=1 once the punt interface is attached, not before; STOPPING=1 at SIGTERM', async (t) => {
  t.timeout(60_000);
  const bin = join(dir, 'bin');
  await mkdir(bin);
  const log = join(dir, 'notify.log');
  await writeFile(
    join(bin, 'systemd-notify'),
    '#!/bin/sh\nprintf \'%s %s\\n\' "$NOTIFY_SOCKET" "$*" >> "$P6_NOTIFY_LOG"\n',
  );
  await chmod(join(bin, 'systemd-notify'), 0o755);
  const configPath = join(dir, 'punt6.yaml');
  await writeFile(
    configPath,
    tenantConfig({
      punt: vm.hostIf,
      vmMac: VM_MAC,
      net: 1,
      metricsPort: await freePort(),
      stateDirectory: join(dir, 'state'),
    }),
  );
  const notified = async (): Promise<string[]> =>
    (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
  punt6 = new Punt6Process(configPath, [], {
    ...process.env,
    PATH: `${bin}:${process.env['PATH'] ?? ''}`,
    NOTIFY_SOCKET: '/run/punt6-test/notify',
    P6_NOTIFY_LOG: log,
  });
  await punt6.logged('punt6 running');
  await until('the status line', async () => (await notified()).length > 0);
  await new Promise((r) => setTimeout(r, 1500));
  t.deepEqual(await notified(), [`/run/punt6-test/notify STATUS=waiting for interface ${vm.hostIf}`]);

  await vm.create();
  await vm.createLink();
  await punt6.logged('interface attached');
  await until('READY=1', async () => (await notified()).some((l) => l.includes('READY=1')));
  t.is((await notified()).at(-1), '/run/punt6-test/notify READY=1 STATUS=answering on 1 interface');

  punt6.child.kill('SIGTERM');
  t.is(await punt6.exit, 0);
  t.is((await notified()).at(-1), '/run/punt6-test/notify STOPPING=1');
});
