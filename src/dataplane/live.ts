/**
 * What the live dataplanes share: the ports by name, attaching and detaching them, and the
 * watchdog. `PcapDataplane` (libpcap) and `RingDataplane` (the packet ring) differ only in how
 * they open, read, write and close one interface.
 *
 * An interface that vanishes (a deleted veth, an OVS port removed) is noticed by the dataplane's
 * own read errors or by the watchdog, which checks every `retryMs` that
 * `/sys/class/net/NAME/ifindex` still names the interface the port was opened on (a veth deleted
 * and created again gets a new index, and the old socket would stay silent). The port is then
 * detached and attached again as soon as an interface of that name exists. Events go to
 * `onEvent` (for the log): one per change, not one per retry.
 */

import { readFileSync } from 'node:fs';
import { emptyStatus, type Dataplane, type FrameReceiver, type PortEvent, type PortStatus } from './dataplane.js';

/** The interface index of `name` from sysfs, or 0 when there is no such interface. */
export function interfaceIndex(name: string): number {
  try {
    const n = Number.parseInt(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'), 10);
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** One port: its counters, its open handle (null while detached), what was reported. */
export interface LivePort<H> {
  status: PortStatus;
  handle: H | null;
  /** The last attach failure reported, so a retry streak logs once. */
  lastFailure: string;
  /** A send failure was reported and no send has succeeded since. */
  sendFailing: boolean;
}

export interface LiveDataplaneOptions {
  /** How often a detached port is retried and an attached one checked, ms (default 1000). */
  retryMs?: number;
  onEvent?: (event: PortEvent) => void;
}

export abstract class LiveDataplane<H, P extends LivePort<H>> implements Dataplane {
  ports: readonly string[] = [];
  protected states: P[] = [];
  protected receiver: FrameReceiver = () => {};
  protected readonly onEvent: (e: PortEvent) => void;
  private readonly retryMs: number;
  private timer: NodeJS.Timeout | null = null;
  protected closed = false;

  constructor(options: LiveDataplaneOptions) {
    this.onEvent = options.onEvent ?? (() => {});
    this.retryMs = options.retryMs ?? 1000;
  }

  /** A new port's state, detached. */
  protected abstract newPort(status: PortStatus): P;
  /** Opens the interface of a port (index `ifindex`): the handle, or why it cannot be opened. */
  protected abstract open(st: P, ifindex: number): H | string;
  /** Closes a port's handle, its counters added to `st.status`. */
  protected abstract shut(st: P, handle: H): void;
  /** `s` (a copy of the port's status) with the open handle's counters added. */
  protected abstract withLiveCounters(st: P, s: PortStatus): PortStatus;
  abstract send(port: number, frame: Uint8Array, off: number, len: number): boolean;

  /** Attaches the first ports and starts the watchdog: called once, by the subclass's constructor. */
  protected begin(names: readonly string[]): void {
    this.setPorts(names);
    this.timer = setInterval(() => this.watch(), this.retryMs);
  }

  setReceiver(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  setPorts(names: readonly string[]): void {
    const old = new Map(this.states.map((s) => [s.status.name, s]));
    this.states = names.map((name, port) => {
      const kept = old.get(name);
      old.delete(name);
      if (kept) {
        kept.status.port = port;
        return kept;
      }
      const st = this.newPort(emptyStatus(port, name));
      if (!this.closed) this.attach(st);
      return st;
    });
    for (const st of old.values()) {
      if (st.handle !== null) {
        this.detach(st);
        this.onEvent({ type: 'detached', port: st.status.port, name: st.status.name });
      }
    }
    this.ports = [...names];
  }

  status(): PortStatus[] {
    return this.states.map((st) =>
      st.handle === null ? { ...st.status } : this.withLiveCounters(st, { ...st.status }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    for (const st of this.states) {
      if (st.handle !== null) {
        this.detach(st);
        this.onEvent({ type: 'detached', port: st.status.port, name: st.status.name });
      }
    }
  }

  protected attach(st: P): void {
    const name = st.status.name;
    const ifindex = interfaceIndex(name);
    if (ifindex === 0) {
      this.attachFailed(st, 'no such interface');
      return;
    }
    const h = this.open(st, ifindex);
    if (typeof h === 'string') {
      this.attachFailed(st, h);
      return;
    }
    st.handle = h;
    st.status.attached = true;
    st.status.ifindex = ifindex;
    st.status.attaches++;
    st.lastFailure = '';
    st.sendFailing = false;
    this.onEvent({ type: 'attached', port: st.status.port, name, ifindex });
  }

  private attachFailed(st: P, reason: string): void {
    if (reason !== st.lastFailure)
      this.onEvent({ type: 'attach-failed', port: st.status.port, name: st.status.name, reason });
    st.lastFailure = reason;
  }

  /** The port's interface is gone or failing: detach it; the watchdog attaches it again. */
  protected lost(st: P, reason: string): void {
    this.detach(st);
    st.lastFailure = '';
    this.onEvent({ type: 'lost', port: st.status.port, name: st.status.name, reason });
  }

  private detach(st: P): void {
    const h = st.handle;
    if (h === null) return;
    st.handle = null;
    st.status.attached = false;
    st.status.ifindex = 0;
    this.shut(st, h);
  }

  /** A send failed: counted, and reported once until a send succeeds. */
  protected sendFailed(st: P, frames: number, reason: string): void {
    st.status.sendErrors += frames;
    if (!st.sendFailing) {
      st.sendFailing = true;
      this.onEvent({ type: 'send-failed', port: st.status.port, name: st.status.name, reason });
    }
  }

  /** Why an attached port must be opened again although its interface is the same; null: it need not. */
  protected outdated(_st: P): string | null {
    return null;
  }

  /**
   * The watchdog: detach ports whose interface is gone, replaced or changed beyond what the open
   * handle serves, attach the missing ones.
   */
  private watch(): void {
    if (this.closed) return;
    for (const st of this.states) {
      if (st.handle !== null) {
        const now = interfaceIndex(st.status.name);
        const outdated = now === st.status.ifindex ? this.outdated(st) : null;
        if (now === 0) this.lost(st, 'interface vanished');
        else if (now !== st.status.ifindex) this.lost(st, `interface replaced (index ${st.status.ifindex} -> ${now})`);
        else if (outdated !== null) this.lost(st, outdated);
      }
      if (st.handle === null) this.attach(st);
    }
  }
}
