/**
 * End to end: `punt6 run` (the built CLI) and its state when things go wrong: a reload whose
 * state cannot open, a start that fails, a state directory that fills up. Each test starts its
 * own punt6 on one end of a veth pair, with a "VM" network namespace on the other end and real
 * clients there (ndisc6, rdisc6, ping). Needs root, `ip netns`, those tools and `dist/`. Outside
 * CI it skips, loudly, when any of that is missing; under CI=true it fails.
 */

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseIpv6 } from '../codecs/bytes.js';
import { encodeRecord, LeaseType, RECORD_LENGTH, RecordKind, type LeaseRecord } from './dhcp/journal.js';
import { freePort, killPunt6, labConfig, logged, requirements, startPunt6, VM_IF, VmLab, type LabConfig, type Punt6 } from './run-e2e-support.js';

const reason = requirements(['ip', 'ethtool', 'sysctl', 'rdisc6', 'ndisc6', 'ping', 'mkfifo']);
const inCi = process.env.CI === 'true';
const e2e = reason === null || inCi ? test.serial : test.serial.skip;
if (reason !== null && !inCi) {
  process.stderr.write(`\n*** punt6 run state end-to-end tests SKIPPED: ${reason} ***\n\n`);
}

const lab = new VmLab('p6s');
/** The punt6 of the test under way, killed at the end if a test left it running. */
let punt6: Punt6 | undefined;

test.before(async () => {
  if (reason !== null) {
    if (inCi) throw new Error(`end-to-end tests cannot run under CI: ${reason}`);
    return;
  }
  await lab.setUp();
  await lab.vmUp();
  await lab.linkLocalReady();
});

test.after.always(async () => {
  await killPunt6(punt6);
  if (reason === null) await lab.tearDown();
});

/** Writes a configuration for the lab's link into the test's directory; returns its path. */
async function writeConfig(name: string, c: Partial<LabConfig> & { stateDirectory: string }): Promise<string> {
  const path = join(lab.dir, `${name}.yaml`);
  await writeFile(path, labConfig({ punt: lab.punt, net: 1, metricsPort: c.metricsPort ?? (await freePort()), ...c }));
  return path;
}

/** The exit status, or 'running' when punt6 has not exited within `ms`. */
async function exitWithin(p: Punt6, ms: number): Promise<number | null | 'running'> {
  let timer: NodeJS.Timeout | undefined;
  const running = new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), ms)));
  const r = await Promise.race([p.exit, running]);
  clearTimeout(timer);
  return r;
}

const ndisc = (): Promise<{ code: number; out: string }> => lab.inVm(['ndisc6', '-1', '-w', '1000', '-r', '3', '2001:db8:1::1', VM_IF]);

e2e('SIGHUP with a FIFO as lease file: the reload is abandoned while punt6 answers on; SIGTERM then exits 0 at once', async (t) => {
  t.timeout(60_000);
  const configPath = await writeConfig('fifo', { stateDirectory: join(lab.dir, 'fifo-state') });
  punt6 = startPunt6(configPath);
  await logged(punt6, 'punt6 running');
  const fifo = join(lab.dir, 'leases.fifo');
  execFileSync('mkfifo', [fifo]);
  try {
    await writeConfig('fifo', { stateDirectory: join(lab.dir, 'fifo-state'), server: `  leaseFile: ${JSON.stringify(fifo)}` });
    const mark = punt6.logs.length;
    punt6.child.kill('SIGHUP');
    // NS from the VM are answered during and after the attempt.
    const nd = await ndisc();
    t.is(nd.code, 0, nd.out);
    const abandoned = await logged(punt6, 'reload abandoned; the running configuration stays', mark, 5000).catch(() => undefined);
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
});

/** A Grant of 2001:db8:1::1000 to a client, as the journal stores it. */
function grant(n: number): LeaseRecord {
  return {
    kind: RecordKind.Grant,
    leaseType: LeaseType.Address,
    prefixLength: 128,
    address: parseIpv6(`2001:db8:1::${(0x1000 + n).toString(16)}`),
    iaid: 1,
    duid: Uint8Array.from([0, 3, 0, 1, 2, 0, 0, 0, 0xa0, n]),
    validLifetime: 60,
    preferredLifetime: 30,
    expiresAt: Date.now() + 60_000,
    networkId: 0,
  };
}

/**
 * Runs `body` with the VM's link down, so that no frame reaches punt6's interface: a capture
 * that the pcap package has closed but not freed keeps the process alive until the next frame.
 */
async function quietLink(body: () => Promise<void>): Promise<void> {
  await lab.inVm(['ip', 'link', 'set', VM_IF, 'down']);
  try {
    await body();
  } finally {
    await lab.vmUp();
    await lab.linkLocalReady();
  }
}

e2e('a corrupt lease journal: run exits 1 at once, naming the journal and the offset', async (t) => {
  t.timeout(30_000);
  const state = join(lab.dir, 'corrupt-state');
  await mkdir(state);
  // A good record, a bad one, then a good record of a later commit batch: corruption in the
  // middle (the bad record cannot be a torn last batch), which must never be cut off.
  const journal = Buffer.alloc(3 * RECORD_LENGTH);
  encodeRecord(grant(1), 1, 0, 1, journal, 0);
  journal.fill(0x5a, RECORD_LENGTH, 2 * RECORD_LENGTH);
  encodeRecord(grant(3), 3, 0, 1, journal, 2 * RECORD_LENGTH);
  const journalPath = join(state, 'leases.journal');
  await writeFile(journalPath, journal);
  const configPath = await writeConfig('corrupt', { stateDirectory: state });
  await quietLink(async () => {
    punt6 = startPunt6(configPath);
    t.is(await exitWithin(punt6, 5000), 1, 'exit status 1 within 5 s');
  });
  t.true(punt6!.stderr().includes(`lease journal ${journalPath} is corrupt at offset ${RECORD_LENGTH}`), punt6!.stderr());
  t.is(punt6!.logs.find((l) => l.level === 60)?.msg, 'cannot start');
});

e2e('a start that fails after the interfaces are captured (metrics port taken) exits 1 at once', async (t) => {
  t.timeout(30_000);
  const taken = createServer();
  const port = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)));
  try {
    const configPath = await writeConfig('port-taken', { stateDirectory: join(lab.dir, 'port-taken-state'), metricsPort: port });
    await quietLink(async () => {
      punt6 = startPunt6(configPath);
      t.is(await exitWithin(punt6, 5000), 1, 'exit status 1 within 5 s');
    });
  } finally {
    taken.close();
  }
  t.true(punt6!.logs.some((l) => l.msg === 'interface attached'), 'the interface was captured first');
  t.is(punt6!.logs.find((l) => l.level === 60)?.msg, 'cannot start');
  t.regex(punt6!.stderr(), /EADDRINUSE/);
});
