import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateServerDuid, makeServerDuid } from './server-duid.js';

const MAC = Uint8Array.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
const OTHER_MAC = Uint8Array.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x02]);

function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'punt6-duid-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('a DUID-LLT counts seconds from 2000-01-01 UTC (RFC 9915 §11.2)', (t) => {
  // 2024-01-01T00:00:00Z is 757382400 s after 2000-01-01T00:00:00Z = 0x2d24bd00.
  const duid = makeServerDuid(MAC, 'llt', Date.UTC(2024, 0, 1) + 999);
  t.deepEqual([...duid], [0, 1, 0, 1, 0x2d, 0x24, 0xbd, 0x00, 2, 0, 0, 0, 0, 1]);
  t.deepEqual([...makeServerDuid(MAC, 'll', 0)], [0, 3, 0, 1, 2, 0, 0, 0, 0, 1]);
  t.throws(() => makeServerDuid(new Uint8Array(5), 'llt', 0), { message: /6 bytes/ });
});

test('the server DUID is created once and stays the same across restarts, whatever the MAC then', async (t) => {
  await withDir(async (dir) => {
    const path = join(dir, 'server-duid');
    const first = await loadOrCreateServerDuid(path, MAC, { now: Date.UTC(2024, 0, 1) });
    t.deepEqual([...first.subarray(0, 4)], [0, 1, 0, 1]);
    t.is(readFileSync(path, 'utf8'), '000100012d24bd00020000000001\n');
    t.false(existsSync(path + '.tmp'));
    const second = await loadOrCreateServerDuid(path, OTHER_MAC, { now: Date.UTC(2025, 0, 1), type: 'll' });
    t.deepEqual(second, first);
    const ll = await loadOrCreateServerDuid(join(dir, 'll'), MAC, { type: 'll' });
    t.deepEqual([...ll], [0, 3, 0, 1, 2, 0, 0, 0, 0, 1]);
  });
});

test('a DUID file written by hand is taken as it is; a damaged one is refused, never replaced', async (t) => {
  await withDir(async (dir) => {
    const path = join(dir, 'server-duid');
    writeFileSync(path, '  000200007ed90102\n\n');
    t.deepEqual([...(await loadOrCreateServerDuid(path, MAC))], [0, 2, 0, 0, 0x7e, 0xd9, 1, 2]);
    for (const bad of ['', 'zz', '0001000', '0001', '000100012d24']) {
      writeFileSync(path, bad);
      await t.throwsAsync(loadOrCreateServerDuid(path, MAC), { message: /server DUID file/ }, JSON.stringify(bad));
      t.is(readFileSync(path, 'utf8'), bad);
    }
  });
});
