/**
 * `punt6 check` as a command, in process: what it prints and its exit status. That it agrees with
 * `punt6 run` is src/daemon/config-check.test.ts.
 */

import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCommand } from './check.js';
import type { CommandIo } from './command.js';

const dir = await mkdtemp(join(tmpdir(), 'punt6-check-cmd-'));
test.after.always(() => rm(dir, { recursive: true, force: true }));

async function check(path: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CommandIo = { write: (t) => (out += t), error: (t) => (err += t), env: {} };
  const code = await checkCommand.main(['--config', path], io);
  return { code, out, err };
}

const valid = `interfaces: [{ name: punt0, network: tenant }]
networks:
  - name: tenant
    routerMac: 02:00:00:00:00:fe
    prefixes: [2001:db8:1::/64]
    dhcpv6: { mode: stateful, addressPools: [2001:db8:1::1000-2001:db8:1::1fff] }
server: { stateDirectory: state }
`;

test('a valid configuration: one line saying what it sets up, exit 0', async (t) => {
  const path = join(dir, 'valid.yaml');
  await writeFile(path, valid);
  const r = await check(path);
  t.is(r.code, 0);
  t.is(
    r.out,
    `${path}: ok: 1 interface, 1 network (1 with stateful DHCPv6), 0 ports, state in ${join(dir, 'state')}\n`,
  );
  t.is(r.err, '');
});

test('problems: one PATH: reason line each on stdout, the count on stderr, exit 1', async (t) => {
  const path = join(dir, 'invalid.yaml');
  await writeFile(path, valid.replace('02:00:00:00:00:fe', '03:00:00:00:00:fe').replace('/64]', '/64, fd00::/129]'));
  const r = await check(path);
  t.is(r.code, 1);
  t.is(
    r.out,
    'networks[0].prefixes[1]: "fd00::/129" is not an IPv6 prefix\n' +
      'networks[0].routerMac: "03:00:00:00:00:fe" is a multicast MAC address\n',
  );
  t.is(r.err, `punt6 check: ${path}: 2 problems\n`);
});

test('a state directory that cannot be made: the server key, the directory and why', async (t) => {
  const path = join(dir, 'blocked.yaml');
  await writeFile(join(dir, 'blocker'), '');
  await writeFile(path, valid.replace('stateDirectory: state', 'stateDirectory: blocker/state'));
  const r = await check(path);
  t.is(r.code, 1);
  t.is(r.out, `server.stateDirectory: ${join(dir, 'blocker', 'state')}: ${join(dir, 'blocker')} is not a directory\n`);
});
