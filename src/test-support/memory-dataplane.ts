/**
 * An in-memory dataplane for tests: `deliver()` plays a frame arriving on a port, `sent` keeps a
 * copy of every frame sent, `unplug()`/`plug()` play an interface vanishing and returning.
 */

import {
  emptyStatus,
  type Dataplane,
  type FrameReceiver,
  type PortEvent,
  type PortStatus,
} from '../dataplane/dataplane.js';

export interface SentFrame {
  port: number;
  name: string;
  frame: Uint8Array;
}

export class MemoryDataplane implements Dataplane {
  ports: readonly string[] = [];
  readonly sent: SentFrame[] = [];
  private receiver: FrameReceiver = () => {};
  private portStatus: PortStatus[] = [];
  /** Names whose interface is currently gone. */
  private readonly unplugged = new Set<string>();
  private readonly onEvent: (e: PortEvent) => void;
  /** A reused receive buffer, as a live capture has, so tests see the same aliasing. */
  private readonly rx = new Uint8Array(65536);
  closed = false;

  constructor(names: readonly string[], onEvent: (e: PortEvent) => void = () => {}) {
    this.onEvent = onEvent;
    this.setPorts(names);
  }

  setReceiver(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  /**
   * A frame arrives on `port` (`checksumTrusted`: the kernel vouched for its checksums); returns
   * false when the port is not attached (the frame is lost).
   */
  deliver(port: number, frame: Uint8Array, checksumTrusted = false): boolean {
    const st = this.portStatus[port];
    if (st === undefined || !st.attached || this.closed) return false;
    this.rx.set(frame, 0);
    st.received++;
    this.receiver(port, this.rx, 0, frame.length, checksumTrusted);
    return true;
  }

  send(port: number, frame: Uint8Array, off: number, len: number): boolean {
    const st = this.portStatus[port];
    if (st === undefined || !st.attached || this.closed) {
      if (st) st.sendErrors++;
      return false;
    }
    st.sent++;
    this.sent.push({ port, name: st.name, frame: frame.slice(off, off + len) });
    return true;
  }

  setPorts(names: readonly string[]): void {
    const old = new Map(this.portStatus.map((s) => [s.name, s]));
    this.portStatus = names.map((name, port) => {
      const kept = old.get(name);
      old.delete(name);
      if (kept) {
        kept.port = port;
        return kept;
      }
      const s = emptyStatus(port, name);
      if (!this.unplugged.has(name)) this.attach(s);
      return s;
    });
    for (const s of old.values()) if (s.attached) this.onEvent({ type: 'detached', port: s.port, name: s.name });
    this.ports = [...names];
  }

  /** The interface `name` vanishes: its port is detached until `plug(name)`. */
  unplug(name: string): void {
    this.unplugged.add(name);
    for (const s of this.portStatus) {
      if (s.name === name && s.attached) {
        s.attached = false;
        s.ifindex = 0;
        this.onEvent({ type: 'lost', port: s.port, name, reason: 'unplugged' });
      }
    }
  }

  plug(name: string): void {
    this.unplugged.delete(name);
    for (const s of this.portStatus) if (s.name === name && !s.attached) this.attach(s);
  }

  private attach(s: PortStatus): void {
    s.attached = true;
    s.attaches++;
    s.ifindex = 1000 + s.port;
    this.onEvent({ type: 'attached', port: s.port, name: s.name, ifindex: s.ifindex });
  }

  status(): PortStatus[] {
    return this.portStatus.map((s) => ({ ...s }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
