/**
 * The live dataplane: one libpcap capture per punt interface, through the `pcap` package.
 *
 * - immediate mode (`buffer_timeout: 0`): each frame is handed over as it arrives, not batched;
 * - the BPF filter of filter.ts (frames of the kinds punt6 answers, tagged or not);
 * - a kernel buffer sized for bursts (8 MiB by default);
 * - replies are injected with `pcap_inject` on the port the request came from.
 *
 * An interface that vanishes (a deleted veth, an OVS port removed) is noticed either by a failed
 * read or by the watchdog, which checks every `retryMs` that `/sys/class/net/NAME/ifindex` still
 * names the interface the capture was opened on (a veth deleted and created again gets a new
 * index, and the old socket would stay silent). The port is then detached and re-attached as soon
 * as an interface of that name exists again. Events go to `onEvent` (for the log): one per change,
 * not one per retry.
 *
 * The package copies each frame into one reused buffer (`session.buf`) and writes the capture
 * length as a little-endian u32 at offset 8 of its header buffer; the receiver gets that buffer.
 */

import { readFileSync } from 'node:fs';
import type { PcapSession } from 'pcap';
import { loadPcap } from '../system/pcap.js';
import { emptyStatus, type Dataplane, type FrameReceiver, type PortEvent, type PortStatus } from './dataplane.js';
import { puntCaptureFilter } from './filter.js';

export interface PcapDataplaneOptions {
  /** Kernel capture buffer, bytes (default 8 MiB). */
  bufferSize?: number;
  /** Longest frame captured (default 65535). */
  snapLength?: number;
  /** How often a detached port is retried and an attached one checked, ms (default 1000). */
  retryMs?: number;
  /** The BPF filter (default: `puntCaptureFilter()`). */
  filter?: string;
  onEvent?: (event: PortEvent) => void;
}

/** The parts of the package's session object the dataplane uses beyond its typings. */
interface SessionInternals {
  buf: Buffer;
  header: Buffer;
  session: { read_callback: () => void; dispatch(buf: Buffer, header: Buffer): number };
}

interface PortState {
  status: PortStatus;
  session: PcapSession | null;
  /** The last attach failure reported, so a retry streak logs once. */
  lastFailure: string;
  /** A send failure was reported and no send has succeeded since. */
  sendFailing: boolean;
  /** libpcap counters of the current session, kept to add to the totals at detach. */
  live: { recv: number; drop: number; ifdrop: number };
}

/** The interface index of `name` from sysfs, or 0 when there is no such interface. */
export function interfaceIndex(name: string): number {
  try {
    const n = Number.parseInt(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'), 10);
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

export class PcapDataplane implements Dataplane {
  ports: readonly string[] = [];
  private states: PortState[] = [];
  private receiver: FrameReceiver = () => {};
  private readonly onEvent: (e: PortEvent) => void;
  private readonly bufferSize: number;
  private readonly snapLength: number;
  private readonly filter: string;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Buffer views over the frames to inject, kept per source array to avoid one per send. */
  private txView: { src: Uint8Array; buf: Buffer } | null = null;

  constructor(names: readonly string[], options: PcapDataplaneOptions = {}) {
    this.onEvent = options.onEvent ?? (() => {});
    this.bufferSize = options.bufferSize ?? 8 * 1024 * 1024;
    this.snapLength = options.snapLength ?? 65535;
    this.filter = options.filter ?? puntCaptureFilter();
    this.setPorts(names);
    this.timer = setInterval(() => this.watch(), options.retryMs ?? 1000);
  }

  setReceiver(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  send(port: number, frame: Uint8Array, off: number, len: number): boolean {
    const st = this.states[port];
    if (st === undefined) return false;
    const s = st.session;
    if (s === null) {
      st.status.sendErrors++;
      return false;
    }
    let v = this.txView;
    if (v === null || v.src !== frame) {
      v = { src: frame, buf: Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength) };
      this.txView = v;
    }
    try {
      s.inject(off === 0 && len === frame.length ? v.buf : v.buf.subarray(off, off + len));
      st.status.sent++;
      st.sendFailing = false;
      return true;
    } catch (e) {
      st.status.sendErrors++;
      if (!st.sendFailing) {
        st.sendFailing = true;
        this.onEvent({ type: 'send-failed', port: st.status.port, name: st.status.name, reason: (e as Error).message });
      }
      return false;
    }
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
      const st: PortState = {
        status: emptyStatus(port, name),
        session: null,
        lastFailure: '',
        sendFailing: false,
        live: { recv: 0, drop: 0, ifdrop: 0 },
      };
      if (!this.closed) this.attach(st);
      return st;
    });
    for (const st of old.values()) {
      if (st.session !== null) {
        this.detach(st);
        this.onEvent({ type: 'detached', port: st.status.port, name: st.status.name });
      }
    }
    this.ports = [...names];
  }

  status(): PortStatus[] {
    return this.states.map((st) => {
      this.readStats(st);
      const s = { ...st.status };
      s.captureReceived += st.live.recv;
      s.captureDropped += st.live.drop;
      s.interfaceDropped += st.live.ifdrop;
      return s;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const st of this.states) {
      if (st.session !== null) {
        this.detach(st);
        this.onEvent({ type: 'detached', port: st.status.port, name: st.status.name });
      }
    }
  }

  private attach(st: PortState): void {
    const name = st.status.name;
    const ifindex = interfaceIndex(name);
    if (ifindex === 0) {
      this.attachFailed(st, 'no such interface');
      return;
    }
    let session: PcapSession;
    try {
      session = loadPcap().createSession(name, {
        filter: this.filter,
        buffer_timeout: 0,
        buffer_size: this.bufferSize,
        snap_length: this.snapLength,
        promiscuous: true,
      });
    } catch (e) {
      this.attachFailed(st, (e as Error).message);
      return;
    }
    const internals = session as unknown as SessionInternals;
    const buf = internals.buf;
    const header = internals.header;
    const binding = internals.session;
    session.on('packet', () => {
      // caplen: little-endian u32 at offset 8 of the header (the package's layout).
      const caplen =
        (header[8] as number) |
        ((header[9] as number) << 8) |
        ((header[10] as number) << 16) |
        ((header[11] as number) << 24);
      const len = caplen > buf.length || caplen < 0 ? buf.length : caplen;
      st.status.received++;
      this.receiver(st.status.port, buf, len);
    });
    // The package's read callback ignores a failed read, and a socket whose interface is gone
    // stays readable: detach on the first error instead of spinning.
    binding.read_callback = () => {
      const n = binding.dispatch(buf, header);
      if (n === -1 && st.session === session) this.lost(st, 'capture read failed');
    };
    st.session = session;
    st.status.attached = true;
    st.status.ifindex = ifindex;
    st.status.attaches++;
    st.lastFailure = '';
    st.sendFailing = false;
    st.live = { recv: 0, drop: 0, ifdrop: 0 };
    this.onEvent({ type: 'attached', port: st.status.port, name, ifindex });
  }

  private attachFailed(st: PortState, reason: string): void {
    if (reason !== st.lastFailure)
      this.onEvent({ type: 'attach-failed', port: st.status.port, name: st.status.name, reason });
    st.lastFailure = reason;
  }

  private lost(st: PortState, reason: string): void {
    this.detach(st);
    st.lastFailure = '';
    this.onEvent({ type: 'lost', port: st.status.port, name: st.status.name, reason });
  }

  private detach(st: PortState): void {
    const session = st.session;
    if (session === null) return;
    this.readStats(st);
    st.status.captureReceived += st.live.recv;
    st.status.captureDropped += st.live.drop;
    st.status.interfaceDropped += st.live.ifdrop;
    st.live = { recv: 0, drop: 0, ifdrop: 0 };
    st.session = null;
    st.status.attached = false;
    st.status.ifindex = 0;
    const internals = session as unknown as SessionInternals;
    session.close();
    // close() only asks libpcap to break its loop; the package frees the handle (and stops its
    // poll handle, which keeps the process alive) when a dispatch returns -2, which libpcap in
    // non-blocking mode does only when a frame is waiting. Dispatch once now for that case;
    // otherwise the handle is freed by the next frame that arrives, or never for a vanished
    // interface (one socket per vanish stays open: a limitation of the package).
    try {
      internals.session.dispatch(internals.buf, internals.header);
    } catch {
      // the handle is gone either way
    }
  }

  private readStats(st: PortState): void {
    const s = st.session;
    if (s === null) return;
    try {
      const x = s.stats();
      st.live = { recv: x.ps_recv, drop: x.ps_drop, ifdrop: x.ps_ifdrop };
    } catch {
      // keep the last values
    }
  }

  /** The watchdog: detach ports whose interface is gone or replaced, attach the missing ones. */
  private watch(): void {
    if (this.closed) return;
    for (const st of this.states) {
      if (st.session !== null) {
        const now = interfaceIndex(st.status.name);
        if (now === 0) this.lost(st, 'interface vanished');
        else if (now !== st.status.ifindex) this.lost(st, `interface replaced (index ${st.status.ifindex} -> ${now})`);
      }
      if (st.session === null) this.attach(st);
    }
  }
}
