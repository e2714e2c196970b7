import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { fixtureNames, fixturePath } from '../../fixtures/test-support.js';
import { checkCaptureStructure } from './structure.js';
import { fixtureCaptures, pcapFixture, ScratchFiles } from '../test-support/captures.js';

// Every await before the first test: ava takes declarations only until the first one's turn ends.
const { sound, faulty } = await fixtureCaptures();
const scratch = new ScratchFiles('punt6-structure-');
test.after.always(() => scratch.remove());
const file = (name: string, bytes: Uint8Array): string => scratch.write(name, bytes);

for (const name of fixtureNames) {
  test(`fixtures/${name}.pcap: sound, every record a frame`, async (t) => {
    const fx = await pcapFixture(fixturePath(name));
    const s = checkCaptureStructure(fixturePath(name));
    t.like(s, {
      format: 'pcap',
      frames: fx.frames.length,
      stopNumber: fx.frames.length + 1,
      stopOffset: fx.bytes.length,
      fault: null,
    });
  });
}

for (const c of sound) {
  test(`${c.name}: sound, every packet block a frame`, (t) => {
    const s = checkCaptureStructure(file(c.name, c.bytes));
    t.is(s.fault, null);
    t.is(s.frames, c.frames.length);
    t.is(s.stopOffset, c.bytes.length);
  });
}

for (const c of faulty) {
  test(`${c.name}: the fault, where it is and the frames before it`, (t) => {
    const s = checkCaptureStructure(file(c.name, c.bytes));
    const { reason, ...where } = c.fault;
    t.like(s.fault, { ...where, frames: c.frames.length });
    t.regex(s.fault?.reason ?? '', reason);
    t.is(s.frames, c.frames.length);
    t.is(s.stopOffset, c.fault.offset);
  });

  test(`${c.name}: every shorter cut is sound or truncated, never another fault`, (t) => {
    // A file cut anywhere before the fault ends inside a record or between two: the walk must say
    // so, and never read a field the file does not hold.
    const cut = join(scratch.dir, 'cut');
    for (let n = c.fault.offset; n > c.fault.offset - 200 && n >= 24 + 8; n--) {
      writeFileSync(cut, c.bytes.subarray(0, n));
      const s = checkCaptureStructure(cut);
      if (s.fault !== null) t.is(s.fault.status, 1, `cut at ${n}: ${s.fault.reason}`);
      else t.is(s.stopOffset, n);
    }
  });
}

test('maxFrames stops the walk before the next packet and says where', (t) => {
  const c = sound.find((x) => x.name === 'pcapng, blocks of other types between the packets');
  if (c === undefined) throw new Error('capture missing');
  const path = file(c.name, c.bytes);
  const s = checkCaptureStructure(path, 2);
  // shb, unknown, idb, (epb, nrb) × 6: the walk stops right after the second packet, at block 7.
  t.like(s, { frames: 2, stopNumber: 7, fault: null });
  const p = checkCaptureStructure(fixturePath('ping6-echo'), 4);
  t.like(p, { frames: 4, stopNumber: 5, stopOffset: 24 + 4 * (16 + 118), fault: null });
});

test('a file that is neither pcap nor pcapng: unknown, no verdict', (t) => {
  t.like(checkCaptureStructure(file('text', new TextEncoder().encode('this is not a capture, not at all\n'))), {
    format: 'unknown',
    fault: null,
  });
  t.like(checkCaptureStructure(file('empty', new Uint8Array(0))), { format: 'unknown', fault: null });
});
