/**
 * For the packet ring's tests on real interfaces: whether they can run here (root, `ip`, the
 * addon built), a veth pair, frames of a chosen length numbered in their payload, two rings
 * talking to each other, and the process's descriptors and mappings counted.
 *
 * Test code only: nothing in src/ or codecs/ imports it.
 */

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadRing, slotSize, type NativeRing, type RingAddon, type RingOptions } from '../dataplane/ring/addon.js';
import { inCi } from './e2e.js';

/** Why the ring's live tests cannot run here, or null when they can. */
export function ringUnavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return '`ip` is missing';
  }
  const addon = loadRing();
  return addon instanceof Error ? addon.message : null;
}

/**
 * Whether a file of ring tests runs: outside CI a missing requirement skips it, saying why on
 * standard error; under CI=true the tests run and fail with the reason.
 */
export function ringGate(title: string): { reason: string | null; enabled: boolean } {
  const reason = ringUnavailable();
  if (reason !== null && !inCi)
    process.stderr.write(`\n*** ${title} SKIPPED: ${reason} (CI=true makes it fail) ***\n\n`);
  return { reason, enabled: reason === null || inCi };
}

/**
 * The test function of a file of ring tests (serial: they share links), skipped per `ringGate`;
 * the links named are deleted after each test, and under CI=true a missing requirement fails.
 */
export function ringTests(file: string, links: readonly string[]): typeof test.serial.skip {
  const gate = ringGate(file);
  test.before(() => {
    if (gate.reason !== null && gate.enabled) throw new Error(`CI=true but ${gate.reason}`);
  });
  test.afterEach.always(() => {
    if (gate.reason === null) for (const l of links) deleteLink(l);
  });
  return gate.enabled ? test.serial : test.serial.skip;
}

export function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

/** A veth pair `a`-`b`, both up, IPv6 off (the kernel sends nothing on them); a leftover is replaced. */
export function vethPair(a: string, b: string, mtu = 1500): void {
  try {
    ip('link', 'del', a);
  } catch {
    // not there
  }
  ip('link', 'add', a, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', b, 'mtu', String(mtu));
  execFileSync('sysctl', ['-qw', `net.ipv6.conf.${a}.disable_ipv6=1`, `net.ipv6.conf.${b}.disable_ipv6=1`]);
  ip('link', 'set', a, 'up');
  ip('link', 'set', b, 'up');
}

export function deleteLink(name: string): void {
  try {
    ip('link', 'del', name);
  } catch {
    // gone already
  }
}

/**
 * An Ethernet frame of `length` bytes (at least 20) from 02:00:00:00:00:01 to 02:00:00:00:00:02,
 * EtherType 0x88b5 (local experimental), carrying `seq` at bytes 14-17 and a pattern after it.
 */
export function numberedFrame(length: number, seq: number): Uint8Array {
  const f = new Uint8Array(length);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]);
  new DataView(f.buffer).setUint32(14, seq);
  for (let i = 18; i < length; i++) f[i] = (i * 7 + seq) & 0xff;
  return f;
}

export function addon(): RingAddon {
  const a = loadRing();
  if (a instanceof Error) throw a;
  return a;
}

/** A ring on `name` whose frames are copied out as they arrive into `received`. */
export function collectingRing(
  name: string,
  options: Partial<RingOptions> & { mtu?: number } = {},
): { ring: NativeRing; received: Uint8Array[]; codes: number[] } {
  const a = addon();
  const received: Uint8Array[] = [];
  const codes: number[] = [];
  const ring: NativeRing = new a.Ring(name, {
    frames: 4096,
    frameSize: slotSize(options.mtu ?? 1500, a.headroom),
    txFrames: 256,
    batch: 256,
    ...options,
    onReadable: (code) => {
      codes.push(code);
      if (code !== 0) return;
      const n = ring.receive();
      const rx = new Uint8Array(ring.rx);
      for (let i = 0; i < n; i++) {
        const off = ring.descriptors[i * 4] as number;
        received.push(rx.slice(off, off + (ring.descriptors[i * 4 + 1] as number)));
      }
      ring.release();
    },
  });
  return { ring, received, codes };
}

/** Writes `frames` into the ring's transmit slots and sends them with one call; returns how many went. */
export function sendFrames(ring: NativeRing, frames: Uint8Array[]): number {
  const tx = new Uint8Array(ring.tx);
  frames.forEach((f, k) => {
    tx.set(f, k * ring.frameSize);
    ring.txLengths[k] = f.length;
  });
  return ring.send(frames.length);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond()` holds, polling every 10 ms, at most `ms`; returns whether it held. */
export async function settle(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Open descriptors and memory mappings of this process, after a full garbage collection. */
export async function resources(): Promise<{ fds: number; maps: number; packetMaps: number }> {
  // Finalizers of collected ArrayBuffers run on a later turn of the event loop.
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(20);
  }
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n').filter(Boolean);
  return {
    fds: readdirSync('/proc/self/fd').length,
    maps: maps.length,
    // A packet socket's ring is mapped from the socket: its line names no file.
    packetMaps: maps.filter((l) => /socket:|packet/.test(l)).length,
  };
}
