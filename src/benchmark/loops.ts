/**
 * The measuring loops of punt6's in-process benchmarks (`punt6 bench replay`, bench/replay.ts,
 * bench/instructions.ts): frames laid out in one receive buffer, the two loops that hand them to
 * `Dispatcher.handle()`, the warm-up that runs every kind through those loops before anything is
 * timed, and the heap in use after collecting.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Dispatcher } from '../responder/dispatcher.js';

/**
 * Frames that would arrive one after another go into one receive buffer, `slot` bytes apart, as
 * a capture handle delivers them (one buffer for every frame): per-array state such as the word
 * view (codecs/word-view.ts) is made once, as in a live run, not once per frame.
 */
export const RING_SLOT = 512;
export interface FrameRing {
  ring: Uint8Array;
  lengths: number[];
  /** Bytes from one frame's start to the next's; every frame fits in it. */
  slot: number;
}

/** `n` frames, frame `i` from `build(i)` (which may reuse its buffer: each is copied at once). */
export function inOneBuffer(n: number, build: (i: number) => Uint8Array, slot = RING_SLOT): FrameRing {
  const ring = new Uint8Array(slot * n);
  const lengths: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = build(i);
    if (f.length > slot) throw new RangeError(`frame ${i} has ${f.length} bytes, more than the slot of ${slot}`);
    ring.set(f, i * slot);
    lengths.push(f.length);
  }
  return { ring, lengths, slot };
}

/**
 * The loops every measurement goes through: `n` handles of one frame, and `n` frames of a ring
 * from frame `first`; each returns how many were answered at once. The warm-up runs every kind
 * through these same two functions, so by the time anything is measured they are compiled whole,
 * with `handle()` inlined and the feedback of every kind, as a sidecar's receive loop is. A loop
 * written inside a benchmark's own round logic would instead be compiled by on-stack replacement
 * while the first kind runs, then thrown away and compiled again as the code after it is reached
 * (a deoptimization for every first-time operation), in the middle of the rounds.
 */
export function handleRepeatedly(d: Dispatcher, frame: Uint8Array, len: number, n: number): number {
  let answered = 0;
  for (let i = 0; i < n; i++) if (d.handle(frame, 0, len, 0) > 0) answered++;
  return answered;
}

export function handleRing(d: Dispatcher, frames: FrameRing, first: number, n: number, ifIndex = 0): number {
  let answered = 0;
  for (let i = first; i < first + n; i++)
    if (d.handle(frames.ring, i * frames.slot, frames.lengths[i] as number, ifIndex) > 0) answered++;
  return answered;
}

/**
 * Every kind through the dispatcher, interleaved, as a sidecar sees them, before anything is
 * measured: the optimizing compiler inlines by how often each call was taken, so code warmed up
 * on one kind alone is not the code a sidecar runs. `rounds` times: `perFrame` of each frame in
 * `frames`, then the next `perSolicit` Solicits of `solicits`, from its first, all through the
 * measuring loops above. Returns how many Solicits it used.
 */
export function warmUpEveryKind(
  d: Dispatcher,
  frames: readonly Uint8Array[],
  solicits: FrameRing,
  rounds: number,
  perFrame: number,
  perSolicit: number,
): number {
  let next = 0;
  for (let r = 0; r < rounds; r++) {
    for (const f of frames) handleRepeatedly(d, f, f.length, perFrame);
    handleRing(d, solicits, next, perSolicit);
    next += perSolicit;
  }
  return next;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
}

/**
 * The garbage collector as a function: the one `--expose-gc` gave, else one exposed now (V8
 * makes `gc` for contexts created after the flag is set).
 */
export function garbageCollector(): () => void {
  const given = (globalThis as { gc?: () => void }).gc;
  if (given !== undefined) return given;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Heap in use after collecting. Two collections: what survives both, the frames of the next run
 * included, is in the old generation, as a capture handle's buffer is in a process that has been
 * running a while. A frame left young would make every store of it into the (old) codec views go
 * through V8's write barrier, a cost a live capture does not have.
 */
export function heapAfterCollecting(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
