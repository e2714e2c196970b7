/**
 * `punt6 check` agrees with `punt6 run`: on every fixture configuration, on every configuration
 * the config tests refuse (src/test-support/config-cases.ts), and on state that cannot be used,
 * `checkConfigFile` finds problems exactly when the service's start refuses, and the same ones.
 * The start is the real one (src/daemon/service.ts) on an in-memory dataplane.
 */

import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseDocument, stringify } from 'yaml';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { ConfigError, formatProblem } from '../config/index.js';
import { createLogger } from '../system/logging.js';
import { base, refusedConfigs, refusedText } from '../test-support/config-cases.js';
import { corruptJournal } from '../test-support/dhcp.js';
import { MemoryDataplane } from '../test-support/memory-dataplane.js';
import { checkConfigFile, StateError } from './config-check.js';
import { Punt6Service } from './service.js';

// Every await before the first test: ava takes declarations only until the first one's turn ends.
const root = await mkdtemp(join(tmpdir(), 'punt6-check-'));
const fixtureConfigs = (await readdir(join(fixturesDirectory, 'config'))).filter((f) => f.endsWith('.yaml')).sort();
test.after.always(() => rm(root, { recursive: true, force: true }));
let files = 0;

/** A fresh directory under the test's root. */
async function scratch(): Promise<string> {
  const dir = join(root, String(files++));
  await mkdir(dir);
  return dir;
}

/** What the start of `punt6 run` did with a configuration: started, or its problems, or another error. */
type RunOutcome = { started: true } | { problems: string[] } | { error: string };

async function startRun(configPath: string): Promise<RunOutcome> {
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const service = new Punt6Service({
    configPath,
    logger: createLogger({ level: 'fatal', destination: quiet }),
    dataplane: (names, onEvent) => new MemoryDataplane(names, onEvent),
    finalRaPauseMs: 0,
  });
  try {
    await service.start();
  } catch (e) {
    if (e instanceof ConfigError || e instanceof StateError) return { problems: e.problems.map(formatProblem) };
    return { error: (e as Error).message };
  }
  await service.stop('test');
  return { started: true };
}

async function checked(configPath: string): Promise<string[]> {
  return (await checkConfigFile(configPath)).problems.map(formatProblem);
}

/**
 * Checks then starts: no problem and a start, or the same problems from both. `contentOnly`: the
 * problem is in the contents of a state file, which run finds by opening it (another error, which
 * names the file) rather than by the check.
 */
async function agree(t: ExecutionContext, configPath: string, contentOnly?: string): Promise<string[]> {
  const problems = await checked(configPath);
  const outcome = await startRun(configPath);
  if (problems.length === 0) t.deepEqual(outcome, { started: true });
  else if (contentOnly !== undefined && 'error' in outcome) t.true(outcome.error.includes(contentOnly), outcome.error);
  else t.deepEqual(outcome, { problems });
  return problems;
}

/** A copy of a YAML document in `dir`, its `server.stateDirectory` set to `state` when given. */
async function writeConfig(dir: string, text: string, server?: Record<string, unknown>): Promise<string> {
  const doc = parseDocument(text);
  for (const [k, v] of Object.entries(server ?? {})) doc.setIn(['server', k], v);
  const path = join(dir, 'punt6.yaml');
  await writeFile(path, server === undefined ? text : doc.toString());
  return path;
}

test.serial('the fixture configurations are there', (t) => {
  t.true(fixtureConfigs.length >= 3, fixtureConfigs.join(' '));
});

for (const name of fixtureConfigs) {
  test.serial(`fixture ${name}: check finds no problem and run starts`, async (t) => {
    const dir = await scratch();
    const text = await readFile(join(fixturesDirectory, 'config', name), 'utf8');
    // The state goes under the test's directory (relative paths are taken from the file's).
    const path = await writeConfig(dir, text, { stateDirectory: 'state' });
    t.deepEqual(await agree(t, path), []);
    // A second start finds the state the first one made (journal, DUID file) and checks it too.
    t.deepEqual(await agree(t, path), []);
  });
}

for (const c of refusedConfigs) {
  test.serial(`refused: ${c.title}: check lists the config test's problems, run refuses with them`, async (t) => {
    const dir = await scratch();
    const path = await writeConfig(dir, refusedText(c));
    // A YAML error names the file it is in.
    t.deepEqual(
      await agree(t, path),
      c.problems.map((p) => p.replace(/^test\.yaml:/, `${path}:`)),
    );
  });
}

test.serial('a file that cannot be read: its path and the reason, from check and run alike', async (t) => {
  const path = join(await scratch(), 'missing.yaml');
  t.deepEqual(await agree(t, path), [`${path}: no such file`]);
});

/** The base document with its state in `dir`, and `server` keys added. */
async function baseWithState(dir: string, server: Record<string, unknown> = {}): Promise<string> {
  return writeConfig(dir, stringify(base()), { stateDirectory: join(dir, 'state'), ...server });
}

test.serial('a state directory that cannot be created (its parent is a file)', async (t) => {
  const dir = await scratch();
  await writeFile(join(dir, 'file'), '');
  const path = await baseWithState(dir, { stateDirectory: join(dir, 'file', 'state') });
  t.deepEqual(await agree(t, path), [
    `server.stateDirectory: ${join(dir, 'file', 'state')}: ${join(dir, 'file')} is not a directory`,
  ]);
});

test.serial(
  'a lease journal that is a FIFO, and a lease file in a directory elsewhere that cannot be made',
  async (t) => {
    const dir = await scratch();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    t.deepEqual(await agree(t, await baseWithState(dir, { leaseFile: fifo })), [
      `server.leaseFile: ${fifo}: is a FIFO, not a regular file`,
    ]);
    await writeFile(join(dir, 'plain'), '');
    const leaseFile = join(dir, 'plain', 'sub', 'leases.journal');
    t.deepEqual(await agree(t, await baseWithState(dir, { leaseFile })), [
      `server.leaseFile: ${join(dir, 'plain', 'sub')}: ${join(dir, 'plain')} is not a directory`,
    ]);
  },
);

test.serial('a state directory on /proc: refused before anything is created there', async (t) => {
  const path = await baseWithState(await scratch(), { stateDirectory: '/proc/punt6-check-test' });
  t.deepEqual(await agree(t, path), [
    'server.stateDirectory: /proc/punt6-check-test: /proc is on a proc file system, which does not store files',
  ]);
});

test.serial(
  'a corrupt lease journal, a file that is no journal, a DUID file that is no DUID: check reads them, run refuses to open them',
  async (t) => {
    const dir = await scratch();
    const path = await baseWithState(dir);
    const state = join(dir, 'state');
    await mkdir(state);
    const journal = join(state, 'leases.journal');
    await writeFile(journal, corruptJournal());
    t.deepEqual(await agree(t, path, journal), [
      `server.leaseFile: ${journal}: the lease journal is corrupt at offset 208: bad magic; the good record at offset 416 belongs to a later commit batch`,
    ]);
    await writeFile(journal, 'leases:\n  - 2001:db8:1::1000\n');
    t.deepEqual(await agree(t, path, journal), [`server.leaseFile: ${journal}: not a punt6 lease journal`]);
    await rm(journal);
    const duid = join(state, 'server-duid');
    await writeFile(duid, 'not hex\n');
    t.deepEqual(await agree(t, path, duid), [`server.duidFile: ${duid}: not a hex string of whole bytes`]);
    await rm(duid);
    t.deepEqual(await agree(t, path), [], 'the state is made again');
  },
);

test.serial('a state directory that is not writable', async (t) => {
  const dir = await scratch();
  const state = join(dir, 'state');
  await mkdir(state);
  const path = await baseWithState(dir);
  let undo: () => Promise<void>;
  if (process.getuid?.() === 0) {
    // Root writes through file modes; a read-only file system stops it.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'punt6-check', state]);
    undo = async () => {
      execFileSync('umount', [state]);
    };
  } else {
    await chmod(state, 0o500);
    undo = () => chmod(state, 0o700);
  }
  try {
    const reason = process.getuid?.() === 0 ? 'read-only file system' : 'permission denied';
    t.deepEqual(await agree(t, path), [`server.stateDirectory: ${state}: not writable: ${reason}`]);
  } finally {
    await undo();
  }
});

test.serial('a configuration that gives the server DUID and has no stateful network uses no state', async (t) => {
  const dir = await scratch();
  const d = base();
  d.networks[0].dhcpv6 = { mode: 'stateless' };
  d.server = { duid: '00030001020000000002', stateDirectory: '/proc/punt6-unused' };
  const path = await writeConfig(dir, stringify(d));
  t.deepEqual(await agree(t, path), []);
});

test.serial('a control socket where a file is, or in a directory that cannot be made', async (t) => {
  const dir = await scratch();
  await writeFile(join(dir, 'file'), '');
  const d = base();
  d.control = { socket: join(dir, 'file') };
  const path = await writeConfig(dir, stringify(d), { stateDirectory: join(dir, 'state') });
  t.deepEqual(await agree(t, path), [
    `control.socket: ${join(dir, 'file')}: something else is there (not a socket); punt6 would not replace it`,
  ]);
  d.control = { socket: join(dir, 'file', 'run', 'control.sock') };
  const under = await writeConfig(dir, stringify(d), { stateDirectory: join(dir, 'state') });
  t.deepEqual(await agree(t, under), [
    `control.socket: ${join(dir, 'file', 'run')}: ${join(dir, 'file')} is not a directory`,
  ]);
});
