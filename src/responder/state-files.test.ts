/**
 * openResponder looks at its state files before it opens them: a lease journal or server DUID
 * file that is a FIFO, a device, or on a kernel file system (/proc, /sys) is refused at once,
 * naming the path and the reason, and nothing is created. Opening such a path could block for
 * good (a FIFO waits for a writer) and hold one of libuv's threads until the process ends.
 */

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peersVariant, type YamlDocument } from '../test-support/dhcp.js';
import { openResponder } from './responder.js';

/** The error message of openResponder for this configuration, or 'opened' / 'hung'. */
async function outcome(edit: (server: YamlDocument) => void): Promise<string> {
  const config = peersVariant((doc) => edit(doc.server));
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('hung'), 3000)));
  const opened = openResponder(config).then(
    async (r) => {
      await r.close();
      return 'opened';
    },
    (e: unknown) => (e as Error).message,
  );
  const r = await Promise.race([opened, hung]);
  clearTimeout(timer);
  return r;
}

/** Opens the FIFO for writing without blocking, so that a reader stuck on it (if any) gets EOF. */
function releaseFifo(path: string): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: nobody reads it
  }
}

test('state files that could block an open are refused before anything opens them', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'punt6-state-files-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  await writeFile(join(dir, 'plain'), '');
  try {
    t.is(await outcome((s) => (s.leaseFile = fifo)), `lease journal ${fifo}: is a FIFO, not a regular file`);
    t.is(
      await outcome((s) => {
        delete s.duid;
        s.stateDirectory = dir;
        s.duidFile = fifo;
      }),
      `server DUID file ${fifo}: is a FIFO, not a regular file`,
    );
    t.is(await outcome((s) => (s.leaseFile = '/dev/null')), 'lease journal /dev/null: is a device, not a regular file');
    t.is(await outcome((s) => (s.leaseFile = dir)), `lease journal ${dir}: is a directory, not a regular file`);
    t.is(
      await outcome((s) => (s.stateDirectory = '/proc/punt6-test')),
      'lease journal /proc/punt6-test/leases.journal: /proc is on a proc file system, which does not store files',
    );
    t.false(existsSync('/proc/punt6-test'));
    t.regex(
      await outcome((s) => (s.stateDirectory = '/sys/kernel/punt6-test')),
      /^lease journal \/sys\/kernel\/punt6-test\/leases\.journal: \/sys\/kernel is on a sysfs file system/,
    );
    t.is(
      await outcome((s) => (s.stateDirectory = join(dir, 'plain', 'state'))),
      `lease journal ${join(dir, 'plain', 'state', 'leases.journal')}: ${join(dir, 'plain')} is not a directory`,
    );
    // A state directory on a file system that stores files is created and used.
    t.is(await outcome((s) => (s.stateDirectory = join(dir, 'state'))), 'opened');
    t.true(existsSync(join(dir, 'state', 'leases.journal')));
  } finally {
    releaseFifo(fifo);
    await rm(dir, { recursive: true, force: true });
  }
});
