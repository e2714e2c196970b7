/**
 * The live dataplane through punt6's packet ring (ring/ring.cc, ring/addon.ts): per punt
 * interface one AF_PACKET socket with a TPACKET_V2 receive ring of `frames` slots, each slot
 * holding a whole frame of the interface's MTU.
 *
 * - When the event loop finds the socket readable, one call takes every ready frame (up to
 *   `batch`) and the frames go to the receiver where the kernel wrote them: no copy, no object
 *   per frame.
 * - Replies (and frames sent between batches: RAs, DHCPv6 replies after their commit) are
 *   copied into the transmit slots; a batch's replies leave with one sendmmsg(2) when the batch
 *   ends, a frame sent outside a batch leaves at once. When the slots run out mid-batch, those
 *   written so far are sent first.
 * - A frame the kernel marks TP_STATUS_CSUMNOTREADY (its sender left the checksum to transmit
 *   offload: a VM's virtio or veth) or TP_STATUS_CSUM_VALID (already verified) is handed over
 *   as checksum-trusted, and counted per port; every other frame's checksums are verified.
 * - The kernel's filter (filter.ts, `puntSocketFilter`) keeps everything but the punted kinds
 *   out of the ring.
 *
 * A link that goes down leaves the socket in place (the kernel delivers again once the link is
 * up) and is reported once; an interface that is removed is detached and attached again by the
 * shared part (live.ts) when it is back, and so is one whose MTU grows past its slots.
 */

import { constants } from 'node:os';
import { copyWords, wordView } from '../../codecs/word-view.js';
import type { PortStatus } from './dataplane.js';
import { puntSocketFilter } from './filter.js';
import { LiveDataplane, type LiveDataplaneOptions, type LivePort } from './live.js';
import { Descriptor, interfaceMtu, loadRing, slotSize, type NativeRing, type RingAddon } from './ring/addon.js';

export interface RingDataplaneOptions extends LiveDataplaneOptions {
  /** Receive slots per interface (default 32768), whatever the MTU. */
  frames?: number;
  /** Transmit slots per interface: replies sent with one system call (default 1024). */
  txFrames?: number;
  /** The most frames handed over per wake-up (default 1024). */
  batch?: number;
  /** The MTU slots are sized for (default: each interface's own, read when it is attached). */
  mtu?: number;
  /** The kernel's filter; null: every frame (default `puntSocketFilter()`). */
  filter?: Int32Array | null;
}

interface RingPort extends LivePort<NativeRing> {
  /** Views over the open ring's memory, made at attach. */
  rx: Uint8Array;
  descriptors: Int32Array;
  tx: DataView;
  txLengths: Int32Array;
  /** Transmit slots written since the last send. */
  txCount: number;
  slot: number;
  txFrames: number;
}

const EMPTY = new ArrayBuffer(0);
const ENODEV = constants.errno.ENODEV;

export class RingDataplane extends LiveDataplane<NativeRing, RingPort> {
  private readonly addon: RingAddon;
  private readonly frames: number;
  private readonly txFrames: number;
  private readonly batch: number;
  private readonly mtu: number | undefined;
  private readonly filter: Int32Array | undefined;
  /** The status bits that make a frame checksum-trusted. */
  private readonly trusted: number;
  private readonly notReady: number;
  /** Ports with replies written during the batch under way; null outside a batch. */
  private toSend: RingPort[] | null = null;

  /** Throws when the addon cannot be loaded (not built): the caller may fall back to pcap. */
  constructor(names: readonly string[], options: RingDataplaneOptions = {}) {
    super(options);
    const addon = loadRing();
    if (addon instanceof Error) throw addon;
    this.addon = addon;
    this.frames = options.frames ?? 32768;
    this.txFrames = options.txFrames ?? 1024;
    this.batch = options.batch ?? 1024;
    this.mtu = options.mtu;
    this.filter = options.filter === null ? undefined : (options.filter ?? puntSocketFilter());
    this.notReady = addon.status.csumNotReady;
    this.trusted = addon.status.csumNotReady | addon.status.csumValid;
    this.begin(names);
  }

  send(port: number, frame: Uint8Array, off: number, len: number): boolean {
    const st = this.states[port];
    if (st === undefined) return false;
    if (st.handle === null) {
      st.status.sendErrors++;
      return false;
    }
    if (len <= 0 || len > st.slot) {
      this.sendFailed(st, 1, `a frame of ${len} bytes does not fit a slot of ${st.slot}`);
      return false;
    }
    if (st.txCount === st.txFrames) this.flush(st);
    const k = st.txCount++;
    copyWords(wordView(frame), off, st.tx, k * st.slot, len);
    st.txLengths[k] = len;
    if (this.toSend === null) this.flush(st);
    else if (k === 0) this.toSend.push(st);
    return true;
  }

  protected newPort(status: PortStatus): RingPort {
    return {
      status,
      handle: null,
      lastFailure: '',
      sendFailing: false,
      rx: new Uint8Array(EMPTY),
      descriptors: new Int32Array(EMPTY),
      tx: new DataView(EMPTY),
      txLengths: new Int32Array(EMPTY),
      txCount: 0,
      slot: 0,
      txFrames: 0,
    };
  }

  protected open(st: RingPort, _ifindex: number): NativeRing | string {
    const name = st.status.name;
    const mtu = this.mtu ?? interfaceMtu(name) ?? 1500;
    let ring: NativeRing;
    try {
      ring = new this.addon.Ring(name, {
        frames: this.frames,
        frameSize: slotSize(mtu, this.addon.headroom),
        txFrames: this.txFrames,
        batch: this.batch,
        filter: this.filter,
        onReadable: (code) => this.readable(st, ring, code),
      });
    } catch (e) {
      return (e as Error).message;
    }
    st.rx = new Uint8Array(ring.rx);
    st.descriptors = ring.descriptors;
    st.tx = new DataView(ring.tx);
    st.txLengths = ring.txLengths;
    st.txCount = 0;
    st.slot = ring.frameSize;
    st.txFrames = ring.txFrames;
    return ring;
  }

  protected shut(st: RingPort, ring: NativeRing): void {
    const s = ring.stats();
    st.status.captureReceived += s.received;
    st.status.captureDropped += s.dropped;
    ring.close();
    st.rx = new Uint8Array(EMPTY);
    st.tx = new DataView(EMPTY);
    st.txCount = 0;
  }

  /** A larger MTU than the slots were sized for: the ring is opened again with larger slots. */
  protected override outdated(st: RingPort): string | null {
    if (this.mtu !== undefined) return null;
    const mtu = interfaceMtu(st.status.name);
    return mtu !== null && slotSize(mtu, this.addon.headroom) > st.slot ? `MTU raised to ${mtu}` : null;
  }

  protected withLiveCounters(st: RingPort, s: PortStatus): PortStatus {
    if (st.handle !== null) {
      const x = st.handle.stats();
      s.captureReceived += x.received;
      s.captureDropped += x.dropped;
    }
    return s;
  }

  private readable(st: RingPort, ring: NativeRing, code: number): void {
    if (st.handle !== ring) return;
    if (code === 0) this.drain(st, ring);
    else if (code === -ENODEV) this.lost(st, 'interface removed');
    else this.onEvent({ type: 'link-down', port: st.status.port, name: st.status.name });
  }

  /** Hands every ready frame to the receiver, gives the slots back, sends the replies. */
  private drain(st: RingPort, ring: NativeRing): void {
    const n = ring.receive();
    const d = st.descriptors;
    const rx = st.rx;
    const port = st.status.port;
    const toSend: RingPort[] = [];
    this.toSend = toSend;
    let notReady = 0;
    let valid = 0;
    try {
      for (let i = 0, w = 0; i < n; i++, w += 4) {
        const status = d[w + Descriptor.Status] as number;
        const trusted = (status & this.trusted) !== 0;
        if (trusted) {
          if ((status & this.notReady) !== 0) notReady++;
          else valid++;
        }
        this.receiver(port, rx, d[w + Descriptor.Offset] as number, d[w + Descriptor.Length] as number, trusted);
      }
    } finally {
      this.toSend = null;
      st.status.received += n;
      st.status.checksumNotReady += notReady;
      st.status.checksumValid += valid;
      if (st.handle === ring) ring.release();
      for (const p of toSend) this.flush(p);
    }
  }

  /** Sends the transmit slots written so far. */
  private flush(st: RingPort): void {
    const n = st.txCount;
    const ring = st.handle;
    if (n === 0 || ring === null) return;
    st.txCount = 0;
    const sent = ring.send(n);
    st.status.sent += sent;
    if (sent < n) this.sendFailed(st, n - sent, ring.stats().error || 'not sent');
    else st.sendFailing = false;
  }
}
