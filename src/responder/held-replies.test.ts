import test from 'ava';
import { HeldReplies } from './held-replies.js';

function harness(fail = false) {
  const sent: { ifIndex: number; bytes: number[] }[] = [];
  let commits = 0;
  const errors: number[] = [];
  const held = new HeldReplies(
    (ifIndex, frame, off, len) => sent.push({ ifIndex, bytes: Array.from(frame.subarray(off, off + len)) }),
    () => {
      commits++;
      return fail ? Promise.reject(new Error('disk full')) : Promise.resolve();
    },
    (_e, replies) => errors.push(replies),
  );
  return { held, sent, errors, commits: () => commits };
}

test('replies held in one turn wait for one commit, then go out in order, copied', async (t) => {
  const h = harness();
  const tx = Uint8Array.of(1, 2, 3, 4);
  h.held.hold(0, tx, 2);
  tx[0] = 9;
  h.held.hold(1, tx, 3);
  t.is(h.held.waiting, 2);
  t.deepEqual(h.sent, [], 'nothing before the commit');
  await h.held.flush();
  t.is(h.commits(), 1);
  t.deepEqual(h.sent, [
    { ifIndex: 0, bytes: [1, 2] },
    { ifIndex: 1, bytes: [9, 2, 3] },
  ]);
  t.is(h.held.waiting, 0);
});

test('a failed commit sends none of its replies and counts them', async (t) => {
  const h = harness(true);
  h.held.hold(0, Uint8Array.of(1), 1);
  h.held.hold(0, Uint8Array.of(2), 1);
  await h.held.flush();
  t.deepEqual(h.sent, []);
  t.is(h.held.failures, 2);
  t.deepEqual(h.errors, [2]);
});
