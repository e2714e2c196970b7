// Drives the packet ring addon through everything it does, for a run under AddressSanitizer
// (src/dataplane/ring/asan.e2e.test.ts): node ring-exercise.mjs ADDON.node IFACE_A IFACE_B
// where A and B are the two ends of a veth pair, both up. Prints "ok N" (frames received).
// Plain JavaScript: it runs in a bare node with libasan preloaded, without the TypeScript loader.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';

const [addonPath, A, B] = process.argv.slice(2);
const m = createRequire(import.meta.url)(addonPath);
const frameSize = 1584;
let received = 0;

function open(name, frames) {
  const r = new m.Ring(name, {
    frames,
    frameSize,
    txFrames: 64,
    batch: 256,
    onReadable: (code) => {
      if (code !== 0) return;
      received += r.receive();
      r.release();
    },
  });
  return r;
}

const a = open(A, 200);
const b = open(B, 64);
const tx = new Uint8Array(b.tx);
const header = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5];
// Frames of many lengths, more than the receive ring holds (wrap-around and drops), and send
// counts past the transmit slots.
for (let round = 0; round < 50; round++) {
  for (let k = 0; k < 64; k++) {
    const len = 60 + k * 20;
    tx.fill(k, k * frameSize, k * frameSize + len);
    tx.set(header, k * frameSize);
    b.txLengths[k] = len;
  }
  b.txLengths[5] = frameSize + 1;
  b.send(64);
  b.send(100000);
  await sleep(2);
}
await sleep(100);
// A tagged frame: the tag comes back through the slot's headroom.
tx.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0, 0, 100, 0x88, 0xb5], 0);
b.txLengths[0] = 100;
b.send(1);
await sleep(50);
a.stats();
// Opened and closed (twice), and opened and dropped for the garbage collector.
for (let i = 0; i < 30; i++) open(A, 100).close();
for (let i = 0; i < 30; i++) open(A, 100);
globalThis.gc();
await sleep(50);
// The interface removed under a ring, then every call on it, then close twice.
execFileSync('ip', ['link', 'del', A]);
await sleep(200);
a.receive();
a.release();
a.send(3);
a.stats();
a.close();
a.close();
b.close();
if (a.rx.byteLength !== 0 || b.tx.byteLength !== 0) throw new Error('buffers not detached by close');
globalThis.gc();
await sleep(100);
console.log(`ok ${received}`);
