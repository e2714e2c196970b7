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
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
