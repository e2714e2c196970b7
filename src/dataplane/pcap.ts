/**
 * The live dataplane through libpcap (the `pcap` package): the fallback when the packet ring
 * (ring.ts) cannot be used.
 *
 * - immediate mode (`buffer_timeout: 0`): each frame is handed over as it arrives, not batched;
 * - the BPF filter of filter.ts (frames of the kinds punt6 answers, tagged or not);
 * - the snap length is what a frame of the interface's MTU needs (Ethernet header and one
 *   802.1Q tag on top), not 65,535: libpcap sizes its ring slots by the snap length, so the
 *   kernel buffer holds `frames` whole frames instead of a hundred-odd 64 KiB slots;
 * - replies are injected with `pcap_inject` on the port the request came from.
 *
 * Interfaces that vanish and come back are handled by the shared part (live.ts); a failed read
 * is one more sign of a vanished interface. Every frame's checksum is verified: libpcap does
 * not pass on the kernel's checksum status.
 *
 * The package copies each frame into one reused buffer (`session.buf`) and writes the capture
 * length as a little-endian u32 at offset 8 of its header buffer; the receiver gets that buffer.
 */

import type { PcapSession } from 'pcap';
import { loadPcap } from '../system/pcap.js';
import type { PortStatus } from './dataplane.js';
import { puntCaptureFilter } from './filter.js';
import { LiveDataplane, type LiveDataplaneOptions, type LivePort } from './live.js';
import { interfaceMtu, slotSize } from './ring/addon.js';

/** Link header bytes a capture adds to the MTU: Ethernet and one 802.1Q tag. */
const LINK_HEADER = 18;
/** What libpcap's TPACKET slot holds besides the frame (its header, aligned). */
const PCAP_SLOT_HEADROOM = 80;

export interface PcapDataplaneOptions extends LiveDataplaneOptions {
  /** Frames the kernel buffer holds (default 32768), whatever the MTU. */
  frames?: number;
  /** Longest frame captured (default: the interface's MTU plus an Ethernet header and a tag). */
  snapLength?: number;
  /** The BPF filter (default: `puntCaptureFilter()`). */
  filter?: string;
}

/** The snap length for an interface of this MTU: the whole frame, tagged. */
export function snapLengthFor(mtu: number): number {
  return mtu + LINK_HEADER;
}

/** The parts of the package's session object the dataplane uses beyond its typings. */
interface SessionInternals {
  buf: Buffer;
  header: Buffer;
  session: { read_callback: () => void; dispatch(buf: Buffer, header: Buffer): number };
}

interface PcapPort extends LivePort<PcapSession> {
  /** libpcap counters of the current session, kept to add to the totals at detach. */
  live: { recv: number; drop: number; ifdrop: number };
}

export class PcapDataplane extends LiveDataplane<PcapSession, PcapPort> {
  private readonly frames: number;
  private readonly snapLength: number | undefined;
  private readonly filter: string;
  /** Buffer views over the frames to inject, kept per source array to avoid one per send. */
  private txView: { src: Uint8Array; buf: Buffer } | null = null;

  constructor(names: readonly string[], options: PcapDataplaneOptions = {}) {
    super(options);
    this.frames = options.frames ?? 32768;
    this.snapLength = options.snapLength;
    this.filter = options.filter ?? puntCaptureFilter();
    this.begin(names);
  }

  send(port: number, frame: Uint8Array, off: number, len: number): boolean {
    const st = this.states[port];
    if (st === undefined) return false;
    const s = st.handle;
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
      this.sendFailed(st, 1, (e as Error).message);
      return false;
    }
  }

  protected newPort(status: PortStatus): PcapPort {
    return { status, handle: null, lastFailure: '', sendFailing: false, live: { recv: 0, drop: 0, ifdrop: 0 } };
  }

  protected open(st: PcapPort, _ifindex: number): PcapSession | string {
    const snap = this.snapLength ?? snapLengthFor(interfaceMtu(st.status.name) ?? 1500);
    let session: PcapSession;
    try {
      session = loadPcap().createSession(st.status.name, {
        filter: this.filter,
        buffer_timeout: 0,
        buffer_size: this.frames * slotSize(snap, PCAP_SLOT_HEADROOM),
        snap_length: snap,
        promiscuous: true,
      });
    } catch (e) {
      return (e as Error).message;
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
      this.receiver(st.status.port, buf, 0, len, false);
    });
    // The package's read callback ignores a failed read, and a socket whose interface is gone
    // stays readable: detach on the first error instead of spinning.
    binding.read_callback = () => {
      const n = binding.dispatch(buf, header);
      if (n === -1 && st.handle === session) this.lost(st, 'capture read failed');
    };
    st.live = { recv: 0, drop: 0, ifdrop: 0 };
    return session;
  }

  protected shut(st: PcapPort, session: PcapSession): void {
    this.readStats(st, session);
    st.status.captureReceived += st.live.recv;
    st.status.captureDropped += st.live.drop;
    st.status.interfaceDropped += st.live.ifdrop;
    st.live = { recv: 0, drop: 0, ifdrop: 0 };
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

  protected withLiveCounters(st: PcapPort, s: PortStatus): PortStatus {
    if (st.handle !== null) this.readStats(st, st.handle);
    s.captureReceived += st.live.recv;
    s.captureDropped += st.live.drop;
    s.interfaceDropped += st.live.ifdrop;
    return s;
  }

  private readStats(st: PcapPort, s: PcapSession): void {
    try {
      const x = s.stats();
      st.live = { recv: x.ps_recv, drop: x.ps_drop, ifdrop: x.ps_ifdrop };
    } catch {
      // keep the last values
    }
  }
}
