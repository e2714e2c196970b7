/**
 * End to end: `punt6 run` (the built CLI) and its state when things go wrong: a reload whose
 * state cannot open, a start that fails, a state directory that fills up. Each test starts its
 * own punt6 on one end of a veth pair, with a "VM" network namespace on the other end and real
 * clients there (ndisc6, rdisc6, ping). Needs root, `ip netns`, those programs and `dist/`. Outside
 * CI it skips, loudly, when any of that is missing; under CI=true it fails.
 */

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIpv6, toHex } from '../../codecs/bytes.js';
import { decodeRecord, RECORD_LENGTH, RecordKind, scanJournal } from '../dhcp/journal.js';
import { corruptJournal } from '../test-support/dhcp.js';
import {
  e2eGate,
  freePort,
  gauge,
  must,
  Punt6Process,
  scrape,
  sh,
  tenantConfig,
  VethVm,
  type TenantConfig,
} from '../test-support/e2e.js';

const gate = e2eGate('punt6 run state end-to-end tests', [
  'ip',
  'ethtool',
  'sysctl',
  'rdisc6',
  'ndisc6',
  'ping',
  'mkfifo',
  'mount',
  'umount',
  'dd',
]);
const e2e = gate.enabled ? test.serial : test.serial.skip;

const id = String(process.pid % 100000);
const VM_MAC = '02:00:00:00:00:01';
const vm = new VethVm(`p6s-${id}`, `p6s${id}`, VM_MAC);
const VM_IF = vm.vmIf;
/** The test files' temporary directory. */
let dir = '';
/** The punt6 of the test under way, killed at the end if a test left it running. */
let punt6: Punt6Process | undefined;

test.before(async () => {
  if (!gate.check()) return;
  dir = await mkdtemp(join(tmpdir(), 'punt6-e2e-'));
  await vm.create();
  await vm.createLink();
  await vm.up();
  await vm.linkLocalReady();
});

/** A tmpfs mounted by a test, unmounted at the end whatever happens. */
let mounted = '';

test.after.always(async () => {
  await punt6?.kill();
  if (mounted) await sh('umount', ['-l', mounted]);
  if (gate.reason === null) await vm.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Writes a configuration for the lab's link into the test's directory; returns its path. */
async function writeConfig(name: string, c: Partial<TenantConfig> & { stateDirectory: string }): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(
    path,
    tenantConfig({ punt: vm.hostIf, vmMac: VM_MAC, net: 1, metricsPort: c.metricsPort ?? (await freePort()), ...c }),
  );
  return path;
}

/** The exit status, or 'running' when punt6 has not exited within `ms`. */
async function exitWithin(p: Punt6Process, ms: number): Promise<number | null | 'running'> {
  let timer: NodeJS.Timeout | undefined;
  const running = new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), ms)));
  const r = await Promise.race([p.exit, running]);
  clearTimeout(timer);
  return r;
}

const ndisc = (): Promise<{ code: number; out: string }> =>
  vm.exec(['ndisc6', '-1', '-w', '1000', '-r', '3', '2001:db8:1::1', VM_IF]);

e2e(
  'SIGHUP with a FIFO as lease file: the reload is abandoned while punt6 answers on; SIGTERM then exits 0 at once',
  async (t) => {
    t.timeout(60_000);
    const configPath = await writeConfig('fifo', { stateDirectory: join(dir, 'fifo-state') });
    punt6 = new Punt6Process(configPath);
    await punt6.logged('punt6 running');
    const fifo = join(dir, 'leases.fifo');
    execFileSync('mkfifo', [fifo]);
    try {
      await writeConfig('fifo', {
        stateDirectory: join(dir, 'fifo-state'),
        server: `  leaseFile: ${JSON.stringify(fifo)}`,
      });
      const mark = punt6.logs.length;
      punt6.child.kill('SIGHUP');
      // NS from the VM are answered during and after the attempt.
      const nd = await ndisc();
      t.is(nd.code, 0, nd.out);
      const abandoned = await punt6
        .logged('reload abandoned; the running configuration stays', mark, 5000)
        .catch(() => undefined);
      t.regex(String(abandoned?.reason), /leases\.fifo: is a FIFO, not a regular file/);
      t.is((await ndisc()).code, 0);
      const started = Date.now();
      punt6.child.kill('SIGTERM');
      t.is(await exitWithin(punt6, 5000), 0, 'exit status 0 within 5 s');
      t.true(Date.now() - started < 5000);
      t.is(punt6.logs.at(-1)?.msg, 'stopped');
    } finally {
      // A reader stuck on the FIFO (if any) gets EOF, so the process can be reaped.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // nobody reads it
      }
    }
  },
);

/**
 * Runs `body` with the VM's link down, so that no frame reaches punt6's interface: a capture
 * that the pcap package has closed but not freed keeps the process alive until the next frame.
 */
async function quietLink(body: () => Promise<void>): Promise<void> {
  await vm.exec(['ip', 'link', 'set', VM_IF, 'down']);
  try {
    await body();
  } finally {
    await vm.up();
    await vm.linkLocalReady();
  }
}

e2e('a corrupt lease journal: run exits 1 at once, naming the journal and the offset', async (t) => {
  t.timeout(30_000);
  const state = join(dir, 'corrupt-state');
  await mkdir(state);
  const journal = corruptJournal();
  const journalPath = join(state, 'leases.journal');
  await writeFile(journalPath, journal);
  const configPath = await writeConfig('corrupt', { stateDirectory: state });
  await quietLink(async () => {
    punt6 = new Punt6Process(configPath);
    t.is(await exitWithin(punt6, 5000), 1, 'exit status 1 within 5 s');
  });
  t.true(punt6!.stderr.includes(`lease journal ${journalPath} is corrupt at offset ${RECORD_LENGTH}`), punt6!.stderr);
  t.is(punt6!.logs.find((l) => l.level === 60)?.msg, 'cannot start');
});

e2e('a start that fails after the interfaces are captured (metrics port taken) exits 1 at once', async (t) => {
  t.timeout(30_000);
  const taken = createServer();
  const port = await new Promise<number>((resolve) =>
    taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
  );
  try {
    const configPath = await writeConfig('port-taken', {
      stateDirectory: join(dir, 'port-taken-state'),
      metricsPort: port,
    });
    await quietLink(async () => {
      punt6 = new Punt6Process(configPath);
      t.is(await exitWithin(punt6, 5000), 1, 'exit status 1 within 5 s');
    });
  } finally {
    taken.close();
  }
  t.true(
    punt6!.logs.some((l) => l.msg === 'interface attached'),
    'the interface was captured first',
  );
  t.is(punt6!.logs.find((l) => l.level === 60)?.msg, 'cannot start');
  t.regex(punt6!.stderr, /EADDRINUSE/);
});

// ------------------------------------------------------------------ a full disk

const clientScript = fileURLToPath(new URL('../test-support/dhcp-client.ts', import.meta.url));

interface PoolClient {
  client: number;
  duid: string;
  advertised: string | null;
  replied: string | null;
}

/** Pool clients FIRST.. (src/test-support/dhcp-client.ts) in the VM: Solicit, then Request. */
async function poolClients(first: number, count: number): Promise<PoolClient[]> {
  const r = await vm.exec(
    [process.execPath, '--import=tsx', clientScript, VM_IF, String(first), String(count), '800'],
    60_000,
  );
  if (r.code !== 0) throw new Error(`the DHCPv6 clients failed (${r.code}): ${r.out}`);
  return r.out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as PoolClient);
}

/** The leases the journal holds once replayed: client DUID (hex) -> address. */
async function journalLeases(path: string): Promise<Map<string, string>> {
  const data = await readFile(path);
  const scan = scanJournal(data);
  const leases = new Map<string, string>();
  for (let off = 0; off < scan.goodLength; off += RECORD_LENGTH) {
    const r = decodeRecord(data, off);
    const duid = toHex(r.duid);
    if (r.kind === RecordKind.Grant || r.kind === RecordKind.Renew) leases.set(duid, formatIpv6(r.address, 0));
    else if (leases.get(duid) === formatIpv6(r.address, 0)) leases.delete(duid);
  }
  return leases;
}

const storageFailing =
  'lease storage failing: DHCPv6 replies that change leases are withheld until a retry succeeds; everything else is answered';
const storageRecovered = 'lease storage recovered: DHCPv6 replies that change leases are sent again';

e2e(
  'a full disk: lease changes are withheld while NS, RS and echo are answered; the storage recovers by itself; no acknowledged lease is lost',
  async (t) => {
    t.timeout(240_000);
    const state = join(dir, 'tmpfs-state');
    await mkdir(state);
    await must('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', state]);
    mounted = state;
    const filler = join(state, 'filler');
    const journalPath = join(state, 'leases.journal');
    try {
      const metricsPort = await freePort();
      const configPath = await writeConfig('full', {
        stateDirectory: state,
        metricsPort,
        validLifetime: 3600,
        server: '  rateLimit: { rate: 100000, burst: 100000 }',
      });
      punt6 = new Punt6Process(configPath);
      await punt6.logged('punt6 running');
      /** Every lease a Reply granted on the wire: DUID -> address. */
      const acknowledged = new Map<string, string>();
      const record = (clients: PoolClient[]): PoolClient[] => {
        for (const c of clients) if (c.replied !== null) acknowledged.set(c.duid, c.replied);
        return clients;
      };
      let next = 1;
      const batch = async (count: number): Promise<PoolClient[]> => {
        const clients = record(await poolClients(next, count));
        next += count;
        return clients;
      };

      const healthy = await batch(5);
      t.is(healthy.filter((c) => c.replied !== null).length, 5, 'with storage, every client gets its lease');
      t.is(gauge(await scrape(metricsPort), 'punt6_lease_storage_ok'), 1);

      // Fill the file system. The journal's last page may still take a few records, so clients
      // come until a write needs a page that is not there.
      const dd = await sh('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], 30_000);
      t.regex(dd.out, /No space left on device/);
      const full = next;
      for (let i = 0; i < 20 && !punt6.logs.some((l) => l.msg === storageFailing); i++) await batch(5);
      t.true(
        punt6.logs.some((l) => l.msg === storageFailing),
        'the failure is logged',
      );
      t.log(
        `storage failed after ${next - full} clients on the full file system (${acknowledged.size} leases acknowledged by then)`,
      );
      t.is(gauge(await scrape(metricsPort), 'punt6_lease_storage_ok'), 0);

      // While storage fails: many lease changes asked, none granted; everything else answered.
      const failing = await batch(60);
      t.is(failing.filter((c) => c.advertised !== null).length, 60, 'Advertises (no lease change) are sent');
      t.is(failing.filter((c) => c.replied !== null).length, 0, 'no Reply grants a lease that cannot be stored');
      const [nd, rd, ping] = await Promise.all([
        vm.exec(['ndisc6', '-1', '-w', '1000', '-r', '3', '2001:db8:1::1', VM_IF]),
        vm.exec(['rdisc6', '-1', '-w', '1000', '-r', '3', VM_IF]),
        vm.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', `fe80::ff:fe00:fe%${VM_IF}`]),
      ]);
      t.is(nd.code, 0, nd.out);
      t.is(rd.code, 0, rd.out);
      t.is(ping.code, 0, ping.out);
      t.regex(ping.out, /3 received/);
      const during = await scrape(metricsPort);
      t.is(gauge(during, 'punt6_lease_storage_ok'), 0);
      t.true(gauge(during, 'punt6_lease_storage_failures_total') >= 1);
      t.log(`storage failures counted while full: ${gauge(during, 'punt6_lease_storage_failures_total')}`);
      t.is(punt6.child.exitCode, null, 'punt6 is still running');
      t.is(punt6.logs.filter((l) => l.msg === storageFailing).length, 1, 'the failure is logged once');

      // Room again: the journal's retry succeeds by itself.
      await rm(filler);
      await punt6.logged(storageRecovered, 0, 10_000);
      t.is(gauge(await scrape(metricsPort), 'punt6_lease_storage_ok'), 1);
      const fresh = await batch(3);
      t.is(fresh.filter((c) => c.replied !== null).length, 3, 'a new client gets its lease');
      t.is(punt6.logs.filter((l) => l.msg === storageFailing).length, 1);
      t.is(punt6.logs.filter((l) => l.msg === storageRecovered).length, 1, 'the recovery is logged once');

      punt6.child.kill('SIGTERM');
      t.is(await punt6.exit, 0);
      // Every lease a Reply granted is in the journal, and a restart opens it.
      const stored = await journalLeases(journalPath);
      for (const [duid, address] of acknowledged) t.is(stored.get(duid), address, `client ${duid}: ${address}`);
      t.true(acknowledged.size >= 8, `${acknowledged.size} leases acknowledged`);
      punt6 = new Punt6Process(configPath);
      await punt6.logged('punt6 running');
      t.is(gauge(await scrape(metricsPort), 'punt6_leases{kind="address"}'), stored.size);
      punt6.child.kill('SIGTERM');
      t.is(await punt6.exit, 0);
    } finally {
      await punt6?.kill();
      await sh('umount', [state]);
      mounted = '';
    }
  },
);
