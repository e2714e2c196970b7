/**
 * DHCPv6 replies that change a lease, held until the lease journal has made the change durable:
 * a client must not be given a binding the server could forget in a crash. Each reply is copied
 * out of the transmit buffer; the first one held in a turn of the event loop asks the journal
 * for a commit, and every reply held in the same turn waits for that one fsync (group commit),
 * then all are sent through the sink. A failed commit sends none of its replies.
 */

import type { FrameSink } from './reply.js';

interface HeldReply {
  ifIndex: number;
  frame: Uint8Array;
}

export class HeldReplies {
  private held: HeldReply[] = [];
  private readonly commits = new Set<Promise<void>>();
  private readonly sink: FrameSink;
  private readonly commit: () => Promise<void>;
  private readonly onCommitError: (error: unknown, replies: number) => void;
  /** Replies never sent because their lease commit failed. */
  failures = 0;

  /** `commit` makes the lease journal's pending changes durable. */
  constructor(sink: FrameSink, commit: () => Promise<void>, onCommitError: (error: unknown, replies: number) => void) {
    this.sink = sink;
    this.commit = commit;
    this.onCommitError = onCommitError;
  }

  /** Keeps a copy of frame[0, len) for `ifIndex` until the next commit. */
  hold(ifIndex: number, frame: Uint8Array, len: number): void {
    this.held.push({ ifIndex, frame: frame.slice(0, len) });
    if (this.held.length === 1) queueMicrotask(() => this.commitHeld());
  }

  private commitHeld(): void {
    const batch = this.held;
    if (batch.length === 0) return;
    this.held = [];
    const p = this.commit().then(
      () => {
        for (const r of batch) this.sink(r.ifIndex, r.frame, 0, r.frame.length);
      },
      (e: unknown) => {
        this.failures += batch.length;
        this.onCommitError(e, batch.length);
      },
    );
    this.commits.add(p);
    void p.finally(() => this.commits.delete(p));
  }

  /** Replies waiting for a commit that has not started yet. */
  get waiting(): number {
    return this.held.length;
  }

  /** Resolves when every held reply has been committed and sent (or its commit failed). */
  async flush(): Promise<void> {
    for (;;) {
      if (this.held.length > 0) this.commitHeld();
      if (this.commits.size === 0) return;
      await Promise.all([...this.commits]);
    }
  }
}
