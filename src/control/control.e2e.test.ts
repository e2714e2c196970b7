/**
 * End to end: `punt6 run` (the built CLI) with a control socket, a "VM" network namespace on a
 * veth pair, and real dhclient -6 clients in it. The leases `punt6 ctl leases list` and the
 * offline `punt6 leases list` show are what the clients were given; an offline release is
 * refused while punt6 holds the journal; with the pool's one address taken, a second client
 * gets nothing, and after `punt6 ctl leases release` (the first client gone without releasing)
 * it gets that address. Needs root, `ip netns`, dhclient and `dist/`; outside CI it skips,
 * loudly, when any of that is missing; under CI=true it fails.
 */

import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LeaseView } from '../dhcp/lease-view.js';
import { CLI, e2eGate, freePort, Punt6Process, sh, tenantConfig, until, VethVm } from '../test-support/e2e.js';

const gate = e2eGate('punt6 control socket end-to-end tests', ['ip', 'ethtool', 'sysctl', 'dhclient']);
const e2e = gate.enabled ? test.serial : test.serial.skip;

const id = String(process.pid % 100000);
/** Not the MAC of a configured port: its clients get pool addresses. */
const VM_MAC = '02:00:00:00:00:33';
const vm = new VethVm(`p6c-${id}`, `p6c${id}`, VM_MAC);
const POOL = '2001:db8:1::1000';
let dir = '';
let configPath = '';
let punt6: Punt6Process | undefined;
const clients: ChildProcess[] = [];

test.before(async () => {
  if (!gate.check()) return;
  dir = await mkdtemp(join(tmpdir(), 'punt6-control-e2e-'));
  configPath = join(dir, 'punt6.yaml');
  const text = tenantConfig({
    punt: vm.hostIf,
    vmMac: '02:00:00:00:00:01',
    net: 1,
    stateDirectory: join(dir, 'state'),
    metricsPort: await freePort(),
  }).replace('2001:db8:1::1000-2001:db8:1::1fff', `${POOL}-${POOL}`);
  await writeFile(configPath, `${text}control: { socket: ${JSON.stringify(join(dir, 'control.sock'))} }\n`);
  await vm.create();
  await vm.createLink();
  punt6 = new Punt6Process(configPath);
  await punt6.logged('control socket listening');
  await vm.up();
  await vm.linkLocalReady();
  // dhclient binds to an address of the interface: none may be tentative then (the SLAAC one
  // from punt6's RA included), or its bind fails.
  await until('the SLAAC address past DAD', async () => {
    const r = await vm.exec(['ip', '-6', '-j', 'addr', 'show', 'dev', vm.vmIf]);
    const info = r.code === 0 ? ((JSON.parse(r.out) as { addr_info?: AddrInfo[] }[])[0]?.addr_info ?? []) : [];
    return info.some((a) => a.scope === 'global') && info.every((a) => a.tentative !== true);
  });
});

interface AddrInfo {
  scope: string;
  tentative?: boolean;
}

test.after.always(async () => {
  for (const c of clients) if (c.exitCode === null) c.kill('SIGKILL');
  await punt6?.kill();
  if (gate.reason === null) await vm.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `punt6 ARGS` (the built CLI): its exit status and output. */
async function punt6Cli(...args: string[]): Promise<{ code: number; out: string }> {
  return sh(process.execPath, [CLI, ...args], 30_000);
}

/** A DUID-LL of `mac` as dhclient's lease file spells it: each byte as an octal escape. */
function duidLine(mac: string): string {
  const bytes = [0, 3, 0, 1, ...mac.split(':').map((x) => Number.parseInt(x, 16))];
  return `default-duid "${bytes.map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')}";\n`;
}

/**
 * dhclient -6 in the VM with a DUID of its own (written into its lease file first); gives up
 * after `timeout` seconds without a lease. `out` collects its script's calls.
 */
async function client(name: string, duidMac: string): Promise<{ child: ChildProcess; out: string }> {
  const out = join(dir, `${name}.env`);
  const script = join(dir, `${name}.sh`);
  await writeFile(script, `#!/bin/sh\n{ env | grep -E '^(reason|new_)' | sort | tr '\\n' ' '; echo; } >> '${out}'\n`);
  await chmod(script, 0o755);
  await writeFile(join(dir, `${name}.leases`), duidLine(duidMac));
  await writeFile(join(dir, `${name}.conf`), 'timeout 8;\n');
  const child = spawn(
    'ip',
    [
      ...['netns', 'exec', vm.ns, 'dhclient', '-6', '-d', '-1'],
      ...['-cf', join(dir, `${name}.conf`), '-lf', join(dir, `${name}.leases`), '-pf', join(dir, `${name}.pid`)],
      ...['-sf', script, vm.vmIf],
    ],
    { stdio: 'ignore' },
  );
  clients.push(child);
  return { child, out };
}

async function bound(out: string): Promise<string | undefined> {
  const lines = (await readFile(out, 'utf8').catch(() => '')).split('\n');
  return lines.find((l) => l.includes('reason=BOUND6'));
}

/** The leases `punt6 leases list` (offline) or `punt6 ctl leases list` (the socket) prints as JSON. */
async function listed(args: string[]): Promise<LeaseView[]> {
  const r = await punt6Cli(...args, '--config', configPath, '--json');
  if (r.code !== 0) throw new Error(`punt6 ${args.join(' ')}: ${r.out}`);
  const printed = JSON.parse(r.out) as LeaseView[] | { arguments?: LeaseView[] };
  return Array.isArray(printed) ? printed : (printed.arguments ?? []);
}

/** What identifies a lease (its end moves with every renewal, every 3 s here). */
const held = (views: LeaseView[]) => views.map((v) => [v.address, v.state, v.clientDuid, v.portMac]);

e2e(
  'leases match what dhclient holds; a release through the socket frees the address for the next client',
  async (t) => {
    t.timeout(120_000);
    const a = await client('a', '02:00:00:00:aa:01');
    const line = await until('client a bound', () => bound(a.out), 30_000);
    t.regex(line, new RegExp(`new_ip6_address=${POOL} `));

    // What punt6 says through its socket, and what its journal says read offline, beside it.
    const viaSocket = await listed(['ctl', 'leases', 'list']);
    const offline = await listed(['leases', 'list']);
    t.deepEqual(held(offline), held(viaSocket));
    t.deepEqual(held(viaSocket), [[POOL, 'active', '00:03:00:01:02:00:00:00:aa:01', VM_MAC]]);
    const refused = await punt6Cli('leases', 'release', POOL, '--config', configPath);
    t.is(refused.code, 1);
    t.regex(refused.out, new RegExp(`is in use by process ${punt6!.child.pid}`));

    // The first client vanishes without a Release; the pool's one address stays taken.
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    const b = await client('b', '02:00:00:00:bb:02');
    const gaveUp = await new Promise<number | null>((r) => b.child.once('exit', r));
    t.not(gaveUp, 0, 'client b finds no address while client a holds it');
    t.is(await bound(b.out), undefined);

    const released = await punt6Cli('ctl', 'leases', 'release', POOL, '--config', configPath);
    t.is(released.code, 0, released.out);
    t.deepEqual(await listed(['leases', 'list']), [], 'the Release is in the journal');
    const c = await client('c', '02:00:00:00:bb:02');
    t.regex(await until('client c bound', () => bound(c.out), 30_000), new RegExp(`new_ip6_address=${POOL} `));
    t.deepEqual(
      (await listed(['ctl', 'leases', 'list'])).map((v) => [v.address, v.clientDuid]),
      [[POOL, '00:03:00:01:02:00:00:00:bb:02']],
    );
  },
);
