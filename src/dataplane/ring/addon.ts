/**
 * The native packet ring (ring.cc beside this file, built by node-gyp at `npm ci` into
 * build/Release/punt6_ring.node), its types, and the sizes derived from an interface's MTU.
 *
 * One `NativeRing` is one AF_PACKET socket bound to one interface:
 *
 * - `rx` is the TPACKET_V2 receive ring itself, mapped: frames are read where the kernel wrote
 *   them. `receive(max)` gives the kernel back the previous batch, then describes up to `max`
 *   ready frames in `descriptors` (four words each: offset of the frame in `rx`, captured
 *   length, the kernel's `tp_status`, length on the wire) and returns how many. `release()`
 *   gives a batch back without taking the next.
 * - `tx` holds `txFrames` slots of `frameSize` bytes; `send(n)` sends slots 0..n-1, slot k
 *   holding `txLengths[k]` bytes, with one sendmmsg(2), and returns how many went out.
 * - `onReadable(code)` is called once per wake-up of the event loop's poll: 0 when frames are
 *   ready; a negative errno after a socket error, with polling going on (`-ENETDOWN`: the link
 *   went down, and the kernel resumes delivery when it comes up) unless the interface is gone
 *   (`-ENODEV`, polling stopped).
 * - `close()` stops polling, detaches the ArrayBuffers (views kept past it read as empty),
 *   unmaps and closes the socket; a second call does nothing.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RingOptions {
  /** Receive slots (rounded up to whole kernel blocks). */
  frames: number;
  /** Bytes per slot, receive and transmit: `slotSize(mtu)`. */
  frameSize: number;
  /** Transmit slots: the most replies one batch holds. */
  txFrames: number;
  /** The most frames one `receive()` describes. */
  batch: number;
  /** Classic BPF, four numbers per instruction (code, jt, jf, k); none: every frame. */
  filter?: Int32Array;
  onReadable: (code: number) => void;
}

export interface RingStats {
  /** Frames the socket accepted (past its filter) and dropped for want of a free slot. */
  received: number;
  dropped: number;
  /** Text of the last send error, '' when none. */
  error: string;
}

export interface NativeRing {
  readonly rx: ArrayBuffer;
  readonly tx: ArrayBuffer;
  readonly descriptors: Int32Array;
  readonly txLengths: Int32Array;
  readonly frames: number;
  readonly frameSize: number;
  readonly txFrames: number;
  readonly batch: number;
  readonly ifindex: number;
  /** The callback given at construction, kept on the object (see ring.cc). */
  readonly onReadable: (code: number) => void;
  receive(max?: number): number;
  release(): void;
  send(count: number): number;
  stats(): RingStats;
  close(): void;
}

export interface RingAddon {
  Ring: new (name: string, options: RingOptions) => NativeRing;
  /** TP_STATUS_* bits of the descriptors' status word (linux/if_packet.h). */
  status: { user: number; losing: number; csumNotReady: number; vlanValid: number; csumValid: number };
  descriptorWords: number;
  /** Bytes of a slot in front of the frame's network header. */
  headroom: number;
}

/** Descriptor words: offset, captured length, status, wire length. */
export const Descriptor = { Offset: 0, Length: 1, Status: 2, WireLength: 3 } as const;

const ADDON = join('build', 'Release', 'punt6_ring.node');

/** The built addon's path: found from this file upward (it runs from src/ and from dist/src/). */
export function addonPath(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, ADDON);
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  return null;
}

let loaded: RingAddon | Error | undefined;

/** The addon, loaded once; an Error saying why it cannot be (not built, not loadable). */
export function loadRing(): RingAddon | Error {
  if (loaded === undefined) {
    const path = addonPath();
    if (path === null) {
      loaded = new Error(`${ADDON} is not built (npm ci builds it; or npm run build:addon)`);
    } else {
      try {
        loaded = createRequire(import.meta.url)(path) as RingAddon;
      } catch (e) {
        loaded = new Error(`${path}: ${(e as Error).message}`);
      }
    }
  }
  return loaded;
}

/** TPACKET_ALIGNMENT (linux/if_packet.h). */
const ALIGNMENT = 16;

/**
 * Bytes per slot for frames of an interface whose MTU is `mtu`: the kernel puts the network
 * header at `headroom` (the TPACKET2 header, the sockaddr_ll, the link header), and a frame of
 * the MTU must fit whole behind it. A reinserted VLAN tag uses the headroom, not the tail.
 */
export function slotSize(mtu: number, headroom: number): number {
  return Math.ceil((headroom + mtu) / ALIGNMENT) * ALIGNMENT;
}

/** The MTU of interface `name` from sysfs, or null when there is no such interface. */
export function interfaceMtu(name: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8'), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
