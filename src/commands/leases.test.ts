/**
 * `punt6 leases` on a real lease journal, in process: leases granted, declined and left to run
 * out by a lease table, then listed with every filter, shown with their history, exported as
 * JSON and CSV, and released; a release is refused while another process holds the journal for
 * writing, and listing goes on meanwhile.
 */

import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIpv6 } from '../../codecs/bytes.js';
import { loadConfig, type Punt6Config } from '../config/index.js';
import { readJournalRecords, RecordKind } from '../dhcp/journal.js';
import type { LeaseView } from '../dhcp/lease-view.js';
import { LeaseTable, LeaseType } from '../dhcp/leases.js';
import { leaseTableConfigOf } from '../responder/responder.js';
import type { CommandIo } from './command.js';
import { leasesCommand } from './leases.js';

// Every await before the first test: ava takes declarations only until the first one's turn ends.
const dir = await mkdtemp(join(tmpdir(), 'punt6-leases-'));

const VM1_MAC = Uint8Array.of(2, 0, 0, 0, 0, 1);
const duid = (n: number): Uint8Array => Uint8Array.of(0, 3, 0, 1, 2, 0, 0, 0, 0xa0, n);
const configPath = join(dir, 'punt6.yaml');
await writeFile(
  configPath,
  `interfaces: [{ name: punt0, networks: [tenant, other] }]
networks:
  - name: tenant
    routerMac: 02:00:00:00:00:fe
    prefixes: [2001:db8:1::/64]
    dhcpv6:
      mode: stateful
      addressPools: [2001:db8:1::1000-2001:db8:1::1fff]
      prefixDelegation: [{ prefix: 2001:db8:100::/40, delegatedLength: 56 }]
  - name: other
    vlan: 200
    routerMac: 02:00:00:00:00:fd
    prefixes: [2001:db8:2::/64]
    dhcpv6: { mode: stateful, addressPools: [2001:db8:2::1000-2001:db8:2::1fff] }
ports:
  - { name: vm1, mac: "02:00:00:00:00:01", network: tenant, addresses: [2001:db8:1::101] }
server: { stateDirectory: state }
`,
);
const config: Punt6Config = await loadConfig(configPath);
const now = Date.now();

// Client 1 from vm1: an address and a prefix on tenant; client 2: an address on other; client 3:
// an address that runs out in a minute; client 4: declined (quarantined).
{
  await mkdir(config.server.stateDirectory);
  const table = await LeaseTable.open(config.server.leaseFile, leaseTableConfigOf(config));
  const grant = (networkId: number, n: number, type: LeaseType, lifetime?: number) => {
    const r = table.allocate(
      {
        networkId,
        type,
        duid: duid(n),
        iaid: 1,
        portMac: n === 1 ? VM1_MAC : null,
      },
      now,
    );
    if (r.lease === null) throw new Error(`no lease for client ${n}`);
    // Renewed as long ago as makes it end `lifetime` seconds from now.
    const valid = config.networks[networkId]!.dhcpv6.validLifetime;
    if (lifetime !== undefined) table.renew({ type, duid: duid(n), iaid: 1 }, now - (valid - lifetime) * 1000);
    return r.lease;
  };
  grant(0, 1, LeaseType.Address);
  grant(0, 1, LeaseType.Prefix);
  grant(1, 2, LeaseType.Address);
  grant(0, 3, LeaseType.Address, 60);
  grant(0, 4, LeaseType.Address);
  table.decline({ type: LeaseType.Address, duid: duid(4), iaid: 1 }, now);
  await table.close();
}

test.after.always(() => rm(dir, { recursive: true, force: true }));

async function leases(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CommandIo = { write: (t) => (out += t), error: (t) => (err += t), env: {} };
  const code = await leasesCommand.main([args[0] as string, '--config', configPath, ...args.slice(1)], io);
  return { code, out, err };
}

async function listed(...filters: string[]): Promise<LeaseView[]> {
  const r = await leases('list', '--json', ...filters);
  if (r.code !== 0) throw new Error(r.err);
  return JSON.parse(r.out) as LeaseView[];
}

test.serial('list: every lease and the quarantine, with the configuration names', async (t) => {
  const all = await listed();
  t.is(all.length, 5);
  const byDuid = (n: number) => all.filter((v) => v.clientDuid.endsWith(`:a0:0${n}`));
  t.deepEqual(
    byDuid(1).map((v) => [v.type, v.network, v.port, v.portMac, v.state]),
    [
      ['address', 'tenant', 'vm1', '02:00:00:00:00:01', 'active'],
      ['prefix', 'tenant', 'vm1', '02:00:00:00:00:01', 'active'],
    ],
  );
  t.regex(byDuid(1)[1]!.address, /^2001:db8:1[0-9a-f:]*\/56$/);
  t.is(byDuid(2)[0]?.network, 'other');
  t.is(byDuid(4)[0]?.state, 'quarantined');
  const text = await leases('list');
  t.is(text.code, 0);
  t.regex(text.out, /^address +state +network +port +client DUID +IAID +ends$/m);
  t.regex(text.out, /\n5 leases\n$/);
});

test.serial('list filters: network, port, DUID, address or prefix, expiring before', async (t) => {
  t.deepEqual(
    (await listed('--network', 'other')).map((v) => v.clientDuid.slice(-2)),
    ['02'],
  );
  t.deepEqual(
    (await listed('--port', 'vm1')).map((v) => v.type),
    ['address', 'prefix'],
  );
  t.is((await listed('--duid', '00:03:00:01:02:00:00:00:a0:03')).length, 1);
  t.is((await listed('--duid', '0003000102000000a009')).length, 0, 'hex without colons; no such client');
  t.is((await listed('--address', '2001:db8:1::/64')).length, 3, 'tenant addresses, the quarantine included');
  t.is((await listed('--address', '2001:db8:100::/40')).length, 1, 'the delegated prefix inside the pool');
  const [pd] = await listed('--port', 'vm1', '--address', '2001:db8:100::/40');
  const inside = pd!.address.replace('::/56', '::1');
  t.is((await listed('--address', inside))[0]?.address, pd!.address, 'an address inside a delegated prefix');
  t.deepEqual(
    (await listed('--expiring-before', '10m')).map((v) => v.clientDuid.slice(-2)),
    ['03'],
  );
  t.is((await listed('--expiring-before', new Date(now + 3 * 86_400_000).toISOString())).length, 5);
  const bad = await leases('list', '--network', 'blue');
  t.is(bad.code, 1);
  t.is(bad.err, 'punt6 leases list: network: no network named "blue" in the configuration\n');
  t.is((await leases('list', '--expiring-before', 'soon')).code, 1);
});

test.serial('export: JSON as list prints it, and CSV with a header', async (t) => {
  const json = await leases('export', '--network', 'tenant');
  t.deepEqual(JSON.parse(json.out), await listed('--network', 'tenant'));
  const csv = await leases('export', '--format', 'csv', '--port', 'vm1');
  const lines = csv.out.split('\r\n');
  t.is(
    lines[0],
    'state,type,address,network,port,portMac,clientDuid,iaid,validLifetime,preferredLifetime,expiresAt,static',
  );
  t.is(lines.length, 4, 'header, two leases, the final line end');
  t.regex(
    lines[1]!,
    /^active,address,2001:db8:1::[0-9a-f]+,tenant,vm1,02:00:00:00:00:01,00:03:00:01:02:00:00:00:a0:01,1,/,
  );
});

test.serial('show: the lease and its history in the journal', async (t) => {
  const [short] = await listed('--duid', '00:03:00:01:02:00:00:00:a0:03');
  const r = await leases('show', short!.address, '--json');
  t.is(r.code, 0, r.err);
  const shown = JSON.parse(r.out) as { lease: LeaseView; history: { event: string }[] };
  t.deepEqual(shown.lease, short);
  t.deepEqual(
    shown.history.map((h) => h.event),
    ['grant', 'renew'],
  );
  const none = await leases('show', '2001:db8:1::ffff');
  t.is(none.code, 1);
  t.regex(none.out, /^no lease on 2001:db8:1::ffff\n/);
});

test.serial('release: refused while another process holds the journal for writing; then journaled', async (t) => {
  const [lease] = await listed('--network', 'other');
  const holder = spawn(process.execPath, [
    '-e',
    `require('fs').openSync(${JSON.stringify(config.server.leaseFile)}, 'r+'); console.log('open'); setInterval(() => {}, 1000)`,
  ]);
  try {
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const refused = await leases('release', lease!.address);
    t.is(refused.code, 1);
    t.regex(refused.err, new RegExp(`is in use by process ${holder.pid}.*punt6 ctl leases release`));
    t.is((await listed()).length, 5, 'listing goes on beside the writer');
  } finally {
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
  }
  const released = await leases('release', lease!.address);
  t.is(released.code, 0, released.err);
  t.regex(
    released.out,
    /^released 2001:db8:2::[0-9a-f]+ \(client DUID 00:03:00:01:02:00:00:00:a0:02, IAID 1\); journaled in /,
  );
  t.deepEqual(await listed('--network', 'other'), []);
  const last = (await readJournalRecords(config.server.leaseFile)).at(-1);
  t.is(last?.kind, RecordKind.Release);
  t.deepEqual(last?.address, parseIpv6(lease!.address));
  const again = await leases('release', lease!.address);
  t.is(again.code, 1);
  t.regex(again.err, /no lease on/);
});
