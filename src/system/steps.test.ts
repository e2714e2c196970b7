import test from 'ava';
import { runInSlices, runSteps, type Steps } from './steps.js';

/** Counts to n, a number a step, spending about `busyMs` per step; `log` records what happened. */
function* counting(n: number, busyMs: number, log: string[]): Steps<number> {
  let sum = 0;
  try {
    for (let i = 1; i <= n; i++) {
      const until = performance.now() + busyMs;
      while (performance.now() < until);
      sum += i;
      yield;
    }
    return sum;
  } finally {
    log.push('finally');
  }
}

test('at once and in slices, the same result', async (t) => {
  t.is(runSteps(counting(100, 0, [])), 5050);
  t.is(await runInSlices(counting(100, 0, []), { sliceMs: 1 }), 5050);
  t.is(await runInSlices(counting(100, 0, []), { sliceMs: Infinity }), 5050);
});

test('in slices, the event loop runs between two slices, and no slice runs much past its length', async (t) => {
  const turns: number[] = [];
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    turns.push(now);
  }, 0);
  const started = performance.now();
  // 200 steps of 0.5 ms: 100 ms of work, in slices of 2 ms.
  t.is(await runInSlices(counting(200, 0.5, []), { sliceMs: 2 }), 20100);
  const took = performance.now() - started;
  clearInterval(timer);
  t.true(turns.length >= 10, `${turns.length} timer turns during ${took.toFixed(0)} ms of work`);
  // At once, the timer would wait the whole 100 ms; a busy machine can still stretch a slice.
  t.true(longest < took / 2, `longest wait between two turns ${longest.toFixed(1)} ms of ${took.toFixed(0)} ms`);
});

test('an abort stops the work at the next slice and ends the generator', async (t) => {
  const log: string[] = [];
  const stop = new AbortController();
  setTimeout(() => stop.abort(new Error('stopping')), 5);
  await t.throwsAsync(runInSlices(counting(100_000, 0.1, log), { sliceMs: 1, signal: stop.signal }), {
    message: 'stopping',
  });
  t.deepEqual(log, ['finally']);
  const already = AbortSignal.abort(new Error('too late'));
  const before: string[] = [];
  await t.throwsAsync(runInSlices(counting(3, 0, before), { signal: already }), { message: 'too late' });
  t.deepEqual(before, [], 'never started');
});

test('a throw from a step rejects, at once or in slices', async (t) => {
  function* failing(): Steps<number> {
    yield;
    throw new RangeError('bad step');
  }
  t.throws(() => runSteps(failing()), { instanceOf: RangeError });
  await t.throwsAsync(runInSlices(failing()), { instanceOf: RangeError });
});
