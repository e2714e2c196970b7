/**
 * Work in pieces: a generator that yields between two pieces of its work (a port checked, a few
 * hundred lines parsed, a port's rules built), and may be run two ways.
 *
 * - `runSteps`: at once, for the callers that want the result now (the command line, a start).
 * - `runInSlices`: a slice of at most `sliceMs` at a time, the event loop getting a turn between
 *   two slices, for work that must not hold up what the loop serves meanwhile (a reload of
 *   `punt6 run` prepares its configuration while the running one answers). A slice ends at the
 *   first yield after its time is up, so a piece of work should take a small part of a slice.
 *
 * Both give the same result: which one runs the work changes only when the event loop gets its
 * turns. A piece yields nothing and receives nothing; a `Steps` may call another with `yield*`.
 */

import { setImmediate as nextTurn } from 'node:timers/promises';

export type Steps<T> = Generator<void, T, void>;

/** The longest slice `runInSlices` runs by default, ms. */
export const DEFAULT_SLICE_MS = 3;

/** Runs the steps through and returns the result (or throws what they throw). */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

export interface SliceOptions {
  /** Longest slice, ms (default DEFAULT_SLICE_MS). */
  readonly sliceMs?: number;
  /** Stops the work at the end of the current slice: the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * Runs the steps in slices of at most `sliceMs` (a step is never cut), yielding to the event loop
 * between two slices. An abort ends the generator (its `finally` blocks run) at the next turn.
 */
export async function runInSlices<T>(steps: Steps<T>, options: SliceOptions = {}): Promise<T> {
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  const signal = options.signal;
  let finished = false;
  try {
    signal?.throwIfAborted();
    let end = performance.now() + sliceMs;
    for (;;) {
      const r = steps.next();
      if (r.done === true) {
        finished = true;
        return r.value;
      }
      if (performance.now() < end) continue;
      await nextTurn();
      signal?.throwIfAborted();
      end = performance.now() + sliceMs;
    }
  } finally {
    // An abort (or a throw from the steps, which has ended them already) leaves nothing running.
    if (!finished) steps.return(undefined as T);
  }
}
