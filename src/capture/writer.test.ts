import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCaptureFile } from './reader.js';
import { CaptureWriter, pcapFileHeaderLayout } from './writer.js';

test('frames written are read back by libpcap with their times', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'punt6-pcap-'));
  try {
    const path = join(dir, 'out.pcap');
    const w = new CaptureWriter(path, 1, 65535, 64);
    const frames = [new Uint8Array(60).fill(1), new Uint8Array(100).fill(2), new Uint8Array(14).fill(3)];
    frames.forEach((f, i) => w.write(f, 0, f.length, 1700000000 + i + 0.25));
    w.close();
    t.is(w.frames, 3);
    const header = pcapFileHeaderLayout.decode(readFileSync(path), 0);
    t.is(header.magic, 0xa1b2c3d4);
    t.is(header.linkType, 1);
    const back = await loadCaptureFile(path);
    t.is(back.frames.length, 3);
    back.frames.forEach((f, i) => {
      t.deepEqual(f.data, frames[i]);
      t.is(f.seconds, 1700000000 + i);
      t.is(f.microseconds, 250000);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing capture file is refused with a clear message', async (t) => {
  await t.throwsAsync(loadCaptureFile(join(tmpdir(), 'punt6-no-such-file.pcap')), { message: /no such file/ });
});

test('a file that is not a capture is refused with a clear message', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'punt6-pcap-'));
  try {
    const path = join(dir, 'junk.pcap');
    (await import('node:fs')).writeFileSync(path, 'this is not a capture\n');
    await t.throwsAsync(loadCaptureFile(path), { message: /not a readable pcap or pcapng capture/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
