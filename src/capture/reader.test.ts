/**
 * Reading captures to their end or to their first structural fault: the frames before a fault
 * are delivered, then the read fails naming the file, the record (or block) and its byte offset,
 * with a filter or without one. Captures are built from fixtures (capture-test-support.ts).
 */

import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { fixtureNames, fixturePath } from '../../fixtures/test-support.js';
import {
  CaptureFileError,
  CaptureReadError,
  loadCaptureFile,
  loadCaptureUntilFault,
  readCaptureFile,
  type LoadedFrame,
} from './reader.js';
import { fixtureCaptures, pcapFixture, ScratchFiles } from '../test-support/captures.js';
import { CaptureWriter } from './writer.js';

// Every await before the first test: ava takes declarations only until the first one's turn ends.
const { sound, faulty } = await fixtureCaptures();
const scratch = new ScratchFiles('punt6-capture-file-');
test.after.always(() => scratch.remove());
const file = (name: string, bytes: Uint8Array): string => scratch.write(name, bytes);

/** Every frame readCaptureFile delivers, copied, and how it ended. */
async function readAll(
  path: string,
  filter = '',
  each?: (index: number) => void,
): Promise<{ frames: LoadedFrame[]; error: unknown }> {
  const frames: LoadedFrame[] = [];
  try {
    await readCaptureFile(
      path,
      (f) => {
        frames.push({
          data: Uint8Array.from(f.data.subarray(0, f.captureLength)),
          seconds: f.seconds,
          microseconds: f.microseconds,
          originalLength: f.originalLength,
        });
        each?.(f.index);
      },
      filter,
    );
    return { frames, error: null };
  } catch (e) {
    return { frames, error: e };
  }
}

function sameFrames(t: ExecutionContext, got: LoadedFrame[], want: LoadedFrame[], timestamps = true): void {
  t.is(got.length, want.length, 'frames delivered');
  t.deepEqual(
    got.map((f) => f.data),
    want.map((f) => f.data),
  );
  if (timestamps)
    t.deepEqual(
      got.map((f) => [f.seconds, f.microseconds, f.originalLength]),
      want.map((f) => [f.seconds, f.microseconds, f.originalLength]),
    );
}

for (const c of sound) {
  test(`${c.name}: every frame, no error`, async (t) => {
    const path = file(c.name, c.bytes);
    const r = await readAll(path);
    t.is(r.error, null);
    sameFrames(t, r.frames, c.frames, c.timestamps);
    // The fixture frames are all IPv6: a filter that keeps them all changes nothing.
    const filtered = await readAll(path, 'ip6');
    t.is(filtered.error, null);
    sameFrames(t, filtered.frames, c.frames, c.timestamps);
  });
}

for (const c of faulty) {
  const where = `${c.fault.unit} ${c.fault.number} at byte offset ${c.fault.offset}`;
  test(`${c.name}: the frames before the fault, then an error naming ${where}`, async (t) => {
    const path = file(c.name, c.bytes);
    for (const filter of ['', 'ip6']) {
      const r = await readAll(path, filter);
      sameFrames(t, r.frames, c.frames);
      t.true(r.error instanceof CaptureReadError, `${filter || 'no filter'}: ${String(r.error)}`);
      const e = r.error as CaptureReadError;
      t.true(e.message.startsWith(`${path}: ${where}: `), e.message);
      t.regex(e.reason, c.fault.reason);
      t.like(e, {
        path,
        status: c.fault.status,
        unit: c.fault.unit,
        number: c.fault.number,
        offset: c.fault.offset,
        frames: c.frames.length,
      });
    }
    await t.throwsAsync(loadCaptureFile(path), { instanceOf: CaptureReadError });
    const partial = await loadCaptureUntilFault(path);
    sameFrames(t, partial.frames, c.frames);
    t.is(partial.error?.message, `${path}: ${where}: ${partial.error?.reason ?? ''}`);
  });
}

test('libpcap stopping before the walk did (here: the file cut while it is read) is an error too', async (t) => {
  const frame = sound[0]?.frames[0];
  if (frame === undefined) throw new Error('no frame');
  // More records than libpcap buffers at once, so that it reads the cut file after the cut.
  const records = 1000;
  const w = new CaptureWriter(join(scratch.dir, 'long.pcap'));
  for (let i = 0; i < records; i++) w.write(frame.data, 0, frame.data.length, frame.seconds + i);
  w.close();
  const path = join(scratch.dir, 'long.pcap');
  const record = 16 + frame.data.length;
  const r = await readAll(path, '', (index) => {
    if (index === 1) truncateSync(path, 24 + 500 * record);
  });
  t.true(r.error instanceof CaptureReadError, String(r.error));
  const e = r.error as CaptureReadError;
  t.is(e.frames, 500);
  t.is(r.frames.length, 500);
  t.is(
    e.message,
    `${path}: record 501 at byte offset ${24 + 500 * record}: libpcap stops reading after frame 500, and the pcap package does not pass on why`,
  );
});

for (const name of fixtureNames) {
  test(`fixtures/${name}.pcap reads to its end as before`, async (t) => {
    const fx = await pcapFixture(fixturePath(name));
    const r = await readAll(fixturePath(name));
    t.is(r.error, null);
    sameFrames(t, r.frames, fx.frames);
  });
}

test('a CaptureReadError is a CaptureFileError (callers that report one report both)', (t) => {
  const e = new CaptureReadError('x.pcap', {
    status: 1,
    unit: 'record',
    number: 2,
    offset: 40,
    frames: 1,
    reason: 'why',
  });
  t.true(e instanceof CaptureFileError);
  t.is(e.message, 'x.pcap: record 2 at byte offset 40: why');
  t.is(e.name, 'CaptureReadError');
});
