/**
 * Decode benchmark: every fixture frame, grouped by packet kind, through punt6's FrameDecoder
 * (Ethernet -> IPv6 -> ICMPv6/UDP -> NDP/DHCPv6, checksums verified), and the same frames
 * through the `pcap` package's own `decode` as the baseline, in one process. Prints ns/packet,
 * packets/s and the ratio per kind, then heap growth over 10 million NS decodes.
 *
 *   npm run build && node --expose-gc dist/bench/decode.js [--seconds S] [--heap-decodes N]
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dhcpv6MessageTypeName } from '../codecs/dhcpv6.js';
import { FrameDecoder } from '../codecs/frame.js';
import { icmpv6TypeName } from '../codecs/icmpv6.js';
import { Status } from '../codecs/status.js';
import { loadCaptureFile } from '../src/capture/reader.js';
import { loadPcap } from '../src/system/pcap.js';
import { fixturesDirectory } from '../fixtures/paths.js';
import { tuneV8 } from '../src/daemon/v8-tuning.js';

// The budgets punt6 itself runs with (src/daemon/v8-tuning.ts), before any hot code is optimized.
const v8Flags = tuneV8();

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '0.5' },
    'heap-decodes': { type: 'string', default: '10000000' },
    fixtures: { type: 'string', default: fixturesDirectory },
  },
});
const seconds = Number(values.seconds);
const heapDecodes = Number(values['heap-decodes']);

interface Sample {
  /** The frame sits at ring[offset, offset + length), beside the other frames of its kind. */
  ring: Uint8Array;
  offset: number;
  length: number;
  buffer: Buffer;
  header: Buffer;
}

/**
 * Frames of one kind are decoded out of one receive buffer, as from a capture handle (which
 * hands every frame over in the same buffer): per-array state such as the word view
 * (codecs/word-view.ts) is made once, not per frame.
 */
const RING_SLOT = 2048;

const decoder = new FrameDecoder();
const byKind = new Map<string, Sample[]>();
const files = readdirSync(values.fixtures)
  .filter((f) => f.endsWith('.pcap'))
  .sort();
for (const f of files) {
  const cap = await loadCaptureFile(join(values.fixtures, f));
  for (const fr of cap.frames) {
    const s = decoder.decode(fr.data, 0, fr.data.length, cap.linkType);
    if (s !== Status.Ok) continue;
    const kind =
      decoder.icmpv6Type >= 0
        ? `icmpv6 ${icmpv6TypeName(decoder.icmpv6Type)}`
        : decoder.dhcpv6Type >= 0
          ? `dhcpv6 ${dhcpv6MessageTypeName(decoder.dhcpv6Type)}`
          : 'other';
    const header = Buffer.alloc(16);
    header.writeUInt32LE(fr.seconds, 0);
    header.writeUInt32LE(fr.microseconds, 4);
    header.writeUInt32LE(fr.data.length, 8);
    header.writeUInt32LE(fr.originalLength, 12);
    const list = byKind.get(kind) ?? [];
    list.push({ ring: fr.data, offset: 0, length: fr.data.length, buffer: Buffer.from(fr.data), header });
    byKind.set(kind, list);
  }
}
for (const list of byKind.values()) {
  const ring = new Uint8Array(RING_SLOT * list.length);
  list.forEach((s, i) => {
    ring.set(s.ring, i * RING_SLOT);
    s.offset = i * RING_SLOT;
    s.ring = ring;
  });
}

/**
 * Runs `batch(samples, n)` (n calls over the samples round robin) for about `secs` seconds; returns
 * ns per call. Each side has its own loop, so the loop's call is to one known function.
 */
function measure(samples: Sample[], secs: number, batch: (samples: Sample[], n: number) => number): number {
  let sink = 0;
  // Warm-up: let the optimizing compiler settle.
  sink += batch(samples, 200_000);
  let calls = 0;
  const per = 100_000;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(secs * 1e9));
  const start = process.hrtime.bigint();
  let now = start;
  while (now < deadline) {
    sink += batch(samples, per);
    calls += per;
    now = process.hrtime.bigint();
  }
  if (sink === -1) console.log('unreachable');
  return Number(now - start) / calls;
}

/** n decodes by punt6 over the samples round robin (they share one receive buffer); the number Ok. */
function oursBatch(samples: Sample[], n: number): number {
  const first = samples[0] as Sample;
  const ring = first.ring;
  const offsets = Int32Array.from(samples, (x) => x.offset);
  const lengths = Int32Array.from(samples, (x) => x.length);
  let ok = 0;
  for (let i = 0, k = 0; i < n; i++) {
    if (decoder.decode(ring, offsets[k] as number, lengths[k] as number) === Status.Ok) ok++;
    if (++k === offsets.length) k = 0;
  }
  return ok;
}

/** The same frames through the pcap package's decode (it allocates an object tree per frame). */
function baselineBatch(samples: Sample[], n: number): number {
  let ok = 0;
  for (let i = 0, k = 0; i < n; i++) {
    const s = samples[k] as Sample;
    const p = pcap.decode.packet({ buf: s.buffer, header: s.header, link_type: 'LINKTYPE_ETHERNET' }) as {
      pcap_header?: unknown;
    };
    if (p.pcap_header !== undefined) ok++;
    if (++k === samples.length) k = 0;
  }
  return ok;
}

const pcap = loadPcap();

console.log(`V8 inlining budgets: ${v8Flags.length > 0 ? v8Flags.join(' ') : 'V8 defaults (PUNT6_V8_DEFAULTS=1)'}`);
console.log(`node ${process.version}, V8 ${process.versions.v8}, ${files.length} fixture files`);
console.log(
  'kind'.padEnd(36) +
    'frames'.padStart(7) +
    'punt6 ns'.padStart(10) +
    'punt6 pkt/s'.padStart(14) +
    'pcap ns'.padStart(10) +
    'pcap pkt/s'.padStart(13) +
    'ratio'.padStart(8),
);
const kinds = [...byKind.keys()].sort();
for (const kind of kinds) {
  const samples = byKind.get(kind) as Sample[];
  const nsOurs = measure(samples, seconds, oursBatch);
  const nsBase = measure(samples, seconds, baselineBatch);
  console.log(
    kind.padEnd(36) +
      String(samples.length).padStart(7) +
      nsOurs.toFixed(1).padStart(10) +
      Math.round(1e9 / nsOurs)
        .toLocaleString('en')
        .padStart(14) +
      nsBase.toFixed(0).padStart(10) +
      Math.round(1e9 / nsBase)
        .toLocaleString('en')
        .padStart(13) +
      `${(nsBase / nsOurs).toFixed(1)}x`.padStart(8),
  );
}

// Heap growth over many decodes of the NS kind (target: flat).
const ns = byKind.get(`icmpv6 ${icmpv6TypeName(135)}`);
if (ns && heapDecodes > 0) {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) console.log('heap: run with node --expose-gc for a heap measurement');
  else {
    gc();
    const before = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    const bad = heapDecodes - oursBatch(ns, heapDecodes);
    const elapsed = Number(process.hrtime.bigint() - t0);
    gc();
    const after = process.memoryUsage().heapUsed;
    console.log(
      `heap: ${heapDecodes.toLocaleString('en')} NS decodes (checksum verified), heap before ${(before / 1024).toFixed(0)} KiB, after ${(after / 1024).toFixed(0)} KiB, growth ${((after - before) / 1024).toFixed(1)} KiB; ${(elapsed / heapDecodes).toFixed(1)} ns/packet, ${Math.round((heapDecodes * 1e9) / elapsed).toLocaleString('en')} packets/s${bad ? `, ${bad} failed` : ''}`,
    );
  }
}
