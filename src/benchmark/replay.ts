/**
 * `punt6 bench replay`: the frames of a user's captures looped through the dispatcher built from
 * a configuration, in process (no capture, no injection), timed per message kind.
 *
 * 1. Every frame goes through the dispatcher once, in capture order; the counter it moved names
 *    its kind (the dispatcher's own classification, src/responder/counters.ts), and its state
 *    (leases, neighbour knowledge) is then what the capture leaves.
 * 2. Warm-up: the whole capture, in order, again and again (every kind interleaved, so the
 *    compiled code is what a sidecar seeing all of them runs; src/benchmark/loops.ts).
 * 3. Each kind's frames, in a ring of their own, for `seconds` split into `rounds`: the median
 *    round gives ns/packet and packets/s, the fastest round is printed beside it. Then the whole
 *    capture in order, as the row `all`.
 *
 * A looped capture repeats its clients: after the first pass a DHCPv6 client is known, and what
 * is timed is the steady state of that traffic (a Request renews a lease, writing a journal
 * record). Replies held for their lease commit are flushed every `batch` frames, inside the
 * timing: a Reply costs its share of the fsync. The journal and the server DUID are in a
 * temporary directory; the configuration's state directory is not touched. There is no
 * per-sender rate limit: the responder is measured, not the limiter.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Punt6Config } from '../config/index.js';
import type { JournalStats } from '../dhcp/journal.js';
import { messageKindNames, Outcome, outcomeNames } from '../responder/counters.js';
import type { Dispatcher } from '../responder/dispatcher.js';
import { openResponder } from '../responder/responder.js';
import { handleRing, heapAfterCollecting, inOneBuffer, median, RING_SLOT, type FrameRing } from './loops.js';

export interface BenchReplayOptions {
  config: Punt6Config;
  /** Every frame of the captures, in order (Ethernet). */
  frames: readonly Uint8Array[];
  /** The punt interface the frames arrive on (index into `config.interfaces`). */
  interfaceIndex: number;
  verifyChecksums: boolean;
  /** Time each kind this long, s. */
  seconds: number;
  rounds: number;
  /** Frames between two flushes of the replies held for their lease commit. */
  batch: number;
  /** Frames handled in the warm-up, at least (whole passes over the capture). */
  warmUp: number;
  /** Collects garbage (for the heap figures). */
  gc: () => void;
  /** Told after each timed round: rounds done, rounds in all, and the row being timed. */
  progress?: (done: number, total: number, row: string) => void;
}

/** One row of the report: a message kind, or `all` (the whole capture in order). */
export interface KindResult {
  kind: string;
  /** Frames of this kind in the captures. */
  frames: number;
  /** Frames handled in the timed rounds. */
  handled: number;
  answered: number;
  /** handled - answered, and by outcome (src/responder/counters.ts's names). */
  dropped: number;
  drops: Record<string, number>;
  /** The median round's. */
  nsPerPacket: number;
  packetsPerSecond: number;
  /** The fastest round's. */
  bestPacketsPerSecond: number;
  /** Heap in use after the rows's rounds minus before, bytes (after collecting). */
  heapGrowthBytes: number;
}

export interface BenchReplayResult {
  frames: number;
  warmUpFrames: number;
  rows: KindResult[];
  /** The lease journal's counters at the end, when a network is stateful. */
  journal: JournalStats | null;
  /** Replies sent after their lease commit (not counted in handle()'s return). */
  heldRepliesSent: number;
}

/** Frames handled between two readings of the clock, at least (unless a flush comes first). */
const PASS_FRAMES = 256;

const KINDS = messageKindNames.length;
const OUTCOMES = outcomeNames.length;

/** The kind of the frame the dispatcher just handled: the first counter that moved since `before`. */
function kindMoved(values: Float64Array, before: Float64Array): number {
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== before[i] && i % OUTCOMES !== Outcome.Conflict) return Math.floor(i / OUTCOMES) % KINDS;
  }
  return messageKindNames.indexOf('other');
}

/** Per kind and outcome, summed over ports. */
function totals(values: Float64Array): Float64Array {
  const out = new Float64Array(KINDS * OUTCOMES);
  for (let i = 0; i < values.length; i++) out[i % (KINDS * OUTCOMES)]! += values[i] as number;
  return out;
}

/**
 * Passes over rings of frames, with the replies held for their lease commit flushed every
 * `batch` frames. A pass that needs no flush runs without yielding to the event loop, as a
 * receive loop handles a burst.
 */
class Looper {
  private readonly d: Dispatcher;
  private readonly batch: number;
  private readonly ifIndex: number;
  private sinceFlush = 0;

  constructor(d: Dispatcher, batch: number, ifIndex: number) {
    this.d = d;
    this.batch = batch;
    this.ifIndex = ifIndex;
  }

  /**
   * Handles every frame of `ring`, over and over until at least PASS_FRAMES were (or the next
   * flush is due); returns how many. The clock is read between passes, not between frames.
   */
  pass(ring: FrameRing): number {
    const n = ring.lengths.length;
    let done = 0;
    do {
      handleRing(this.d, ring, 0, n, this.ifIndex);
      done += n;
      this.sinceFlush += n;
    } while (done < PASS_FRAMES && this.sinceFlush < this.batch);
    return done;
  }

  get flushDue(): boolean {
    return this.sinceFlush >= this.batch;
  }

  /** Resolves once every held reply is committed and sent. */
  async flush(): Promise<void> {
    this.sinceFlush = 0;
    await this.d.flush();
  }
}

export async function benchReplay(o: BenchReplayOptions): Promise<BenchReplayResult> {
  if (o.frames.length === 0) throw new RangeError('no frames to replay');
  const longest = o.frames.reduce((m, f) => Math.max(m, f.length), 0);
  const slot = Math.max(RING_SLOT, Math.ceil(longest / 64) * 64);
  const dir = await mkdtemp(join(tmpdir(), 'punt6-bench-'));
  let heldRepliesSent = 0;
  try {
    const responder = await openResponder(o.config, {
      leaseFile: join(dir, 'leases.journal'),
      duidFile: join(dir, 'server-duid'),
      createDirectories: false,
      rateLimit: null,
      verifyChecksums: o.verifyChecksums,
      seed: 1,
      sink: () => {
        heldRepliesSent++;
      },
    });
    try {
      const d = responder.dispatcher;
      const looper = new Looper(d, o.batch, o.interfaceIndex);
      const values = d.counters.values;

      // 1. Classify, in capture order.
      const all = inOneBuffer(o.frames.length, (i) => o.frames[i] as Uint8Array, slot);
      const byKind = new Map<number, number[]>();
      const before = new Float64Array(values.length);
      for (let i = 0; i < o.frames.length; i++) {
        before.set(values);
        handleRing(d, all, i, 1, o.interfaceIndex);
        const kind = kindMoved(values, before);
        const list = byKind.get(kind) ?? [];
        list.push(i);
        byKind.set(kind, list);
      }
      await looper.flush();

      // 2. Warm up on the whole capture, every kind interleaved.
      let warmUpFrames = 0;
      while (warmUpFrames < o.warmUp) {
        warmUpFrames += looper.pass(all);
        if (looper.flushDue) await looper.flush();
      }
      await looper.flush();

      // 3. Each kind, then the whole capture.
      const rows: { kind: string; ring: FrameRing; frames: number }[] = [];
      for (let k = 0; k < KINDS; k++) {
        const list = byKind.get(k);
        if (list === undefined) continue;
        const ring = inOneBuffer(list.length, (j) => o.frames[list[j] as number] as Uint8Array, slot);
        rows.push({ kind: messageKindNames[k] as string, ring, frames: list.length });
      }
      rows.push({ kind: 'all', ring: all, frames: o.frames.length });
      const totalRounds = rows.length * o.rounds;
      const results: KindResult[] = [];
      for (const [r, row] of rows.entries()) {
        const counted = totals(values);
        const heapBefore = heapAfterCollecting(o.gc);
        const roundNs: number[] = [];
        let handled = 0;
        for (let round = 0; round < o.rounds; round++) {
          const start = process.hrtime.bigint();
          const deadline = start + BigInt(Math.round((o.seconds / o.rounds) * 1e9));
          let m = 0;
          let now = start;
          do {
            m += looper.pass(row.ring);
            if (looper.flushDue) await looper.flush();
            now = process.hrtime.bigint();
          } while (now < deadline);
          await looper.flush();
          now = process.hrtime.bigint();
          roundNs.push(Number(now - start) / m);
          handled += m;
          o.progress?.(r * o.rounds + round + 1, totalRounds, row.kind);
        }
        const heapGrowthBytes = heapAfterCollecting(o.gc) - heapBefore;
        const moved = totals(values).map((v, i) => v - (counted[i] as number));
        let answered = 0;
        const drops: Record<string, number> = {};
        for (let i = 0; i < moved.length; i++) {
          const n = moved[i] as number;
          const outcome = i % OUTCOMES;
          if (n === 0 || outcome === Outcome.Conflict) continue;
          if (outcome === Outcome.Answered) answered += n;
          else {
            const name = outcomeNames[outcome] as string;
            drops[name] = (drops[name] ?? 0) + n;
          }
        }
        const ns = median(roundNs);
        results.push({
          kind: row.kind,
          frames: row.frames,
          handled,
          answered,
          dropped: handled - answered,
          drops,
          nsPerPacket: ns,
          packetsPerSecond: 1e9 / ns,
          bestPacketsPerSecond: 1e9 / Math.min(...roundNs),
          heapGrowthBytes,
        });
      }
      return {
        frames: o.frames.length,
        warmUpFrames,
        rows: results,
        journal: responder.leases?.journalStats() ?? null,
        heldRepliesSent,
      };
    } finally {
      await responder.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
