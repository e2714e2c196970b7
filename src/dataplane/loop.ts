/**
 * The punt loop: frames from a Dataplane go through the responder's dispatcher, replies go back
 * on the port the request came from, and the RA timer is driven by `dispatcher.poll()`.
 *
 * The responder can be swapped (a configuration reload): `pause()` then `start()` with the new
 * one, in the same turn of the event loop, so that no frame arrives in between; one that did
 * would be dropped and counted in `droppedWhilePaused`. Frames held by the old dispatcher
 * (DHCPv6 replies waiting for their journal commit) still go out through the sink, which sends
 * on the dataplane whichever responder owns it.
 */

import type { Responder } from '../responder/responder.js';
import type { Dataplane } from './dataplane.js';

export interface PuntLoopOptions {
  now?: () => number;
  /** Longest single timer wait, ms: a safety net against a clock jump (default 60 s). */
  maxWaitMs?: number;
}

export class PuntLoop {
  readonly dataplane: Dataplane;
  private responder: Responder | null = null;
  private paused = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private repollQueued = false;
  private readonly now: () => number;
  private readonly maxWaitMs: number;
  /** When the next RA (or other timed frame) is due, ms since the epoch; Infinity: none. */
  nextDue = Infinity;
  /** Frames received while no responder was running (between a pause and a start). */
  droppedWhilePaused = 0;
  /** Replies the dataplane could not send. */
  sendFailures = 0;

  constructor(dataplane: Dataplane, options: PuntLoopOptions = {}) {
    this.dataplane = dataplane;
    this.now = options.now ?? Date.now;
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
    dataplane.setReceiver((port, frame, off, len, trusted) => this.receive(port, frame, off, len, trusted));
  }

  /** The sink to give `openResponder`: frames produced outside `handle()` go out here. */
  readonly sink = (port: number, frame: Uint8Array, off: number, len: number): void => {
    if (!this.dataplane.send(port, frame, off, len)) this.sendFailures++;
  };

  get current(): Responder | null {
    return this.responder;
  }

  /** Starts answering with `responder` (its periodic RAs start now). */
  start(responder: Responder): void {
    this.responder = responder;
    this.paused = false;
    responder.dispatcher.start();
    this.pollNow();
  }

  /** Stops answering: frames are dropped until `start()` is called again. */
  pause(): Responder | null {
    const r = this.responder;
    this.paused = true;
    this.responder = null;
    this.clearTimer();
    return r;
  }

  private receive(port: number, frame: Uint8Array, off: number, len: number, checksumTrusted: boolean): void {
    const r = this.responder;
    if (r === null || this.paused) {
      this.droppedWhilePaused++;
      return;
    }
    const d = r.dispatcher;
    const n = d.handle(frame, off, len, port, checksumTrusted);
    if (n > 0 && !this.dataplane.send(port, d.tx, 0, n)) this.sendFailures++;
    // An RS may have scheduled a multicast RA: poll once after this burst of frames.
    if (!this.repollQueued) {
      this.repollQueued = true;
      setImmediate(this.repoll);
    }
  }

  private readonly repoll = (): void => {
    this.repollQueued = false;
    this.pollNow();
  };

  /** Sends what is due and sets the timer for the next due time. */
  pollNow(): void {
    const r = this.responder;
    if (r === null || this.stopped) return;
    const now = this.now();
    const next = r.dispatcher.poll(now);
    this.nextDue = next;
    if (next === Infinity) {
      this.clearTimer();
      return;
    }
    if (this.timer !== null && this.timerAt === next) return;
    this.clearTimer();
    const wait = Math.min(Math.max(0, next - now), this.maxWaitMs);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.pollNow();
    }, wait);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  /**
   * Shutdown, RFC 4861 §6.2.5: `rounds` rounds of final RAs (router lifetime 0) `pauseMs` apart,
   * then no more periodic RAs. Frames keep being answered meanwhile.
   * Returns the RA frames sent.
   */
  async sendFinalAdvertisements(rounds = 3, pauseMs = 500): Promise<number> {
    const r = this.responder;
    if (r === null) return 0;
    this.clearTimer();
    this.nextDue = Infinity;
    let frames = 0;
    for (let i = 0; i < rounds; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      frames += r.dispatcher.sendFinalAdvertisements();
    }
    return frames;
  }

  /** Stops the timer and answering; the dataplane is left to its owner. */
  stop(): Responder | null {
    this.stopped = true;
    return this.pause();
  }
}
