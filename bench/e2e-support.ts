/**
 * Pieces of the end-to-end benchmark (bench/e2e.ts) that do not touch the system: the request
 * frames (built from the fixtures, rewritten to the bench topology), pairing of requests and
 * replies from a capture, percentiles, the output of tcpreplay / perfdhcp / tcpdump / `ip -s -j
 * link`, and the result tables.
 */

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fillUpperLayer } from '../codecs/checksum.js';
import { loadCaptureFile } from '../src/capture/reader.js';
import { join } from 'node:path';
import { fixturesDirectory } from '../fixtures/paths.js';

// ---- the bench topology ----------------------------------------------------------------------

export const VM_MAC = '02:00:00:00:00:01';
export const ROUTER_MAC = '02:00:00:00:00:fe';
/** The router's address: the NS target, the echo destination. */
export const ROUTER_ADDRESS = '2001:db8:1::1';
/** The VM's global address: the echo source. */
export const VM_ADDRESS = '2001:db8:1::101';
/** Link-local sources of the NS and RS frames: `fe80::1:0` … `fe80::1:(SOURCES-1)`. */
export const SOURCES = 64;

const ETH = 14;
const IP = ETH;
const SRC = IP + 8;
const DST = IP + 24;
const ICMP = IP + 40;
const ICMPV6 = 58;

export function macBytes(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((x) => Number.parseInt(x, 16)));
}

/** Parses a full or `::`-compressed IPv6 address (no embedded IPv4); for setup, not a hot path. */
export function ip6Bytes(text: string): Uint8Array {
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const words = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => Number.parseInt(w, 16)));
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8 || all.some((w) => !(w >= 0 && w <= 0xffff))) throw new Error(`not an IPv6 address: ${text}`);
  const b = new Uint8Array(16);
  all.forEach((w, i) => {
    b[2 * i] = w >>> 8;
    b[2 * i + 1] = w & 0xff;
  });
  return b;
}

function solicitedNodeOf(a: Uint8Array): Uint8Array {
  return Uint8Array.from([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, a[13]!, a[14]!, a[15]!]);
}

function multicastMacOf(a: Uint8Array): Uint8Array {
  return Uint8Array.from([0x33, 0x33, a[12]!, a[13]!, a[14]!, a[15]!]);
}

/** `fe80::1:i`, the link-local source number `i` of the NS and RS frames. */
export function sourceAddress(i: number): Uint8Array {
  const a = ip6Bytes('fe80::1:0');
  a[14] = (i >>> 8) & 0xff;
  a[15] = i & 0xff;
  return a;
}

/** The first frame of a fixture capture whose ICMPv6 type is `type` (no extension headers). */
async function fixtureFrame(file: string, type: number): Promise<Uint8Array> {
  const { frames } = await loadCaptureFile(join(fixturesDirectory, file));
  const f = frames.find(
    (x) =>
      x.data.length > ICMP &&
      x.data[12] === 0x86 &&
      x.data[13] === 0xdd &&
      x.data[IP + 6] === ICMPV6 &&
      x.data[ICMP] === type,
  );
  if (f === undefined) throw new Error(`fixtures/${file} has no ICMPv6 type ${type} frame`);
  return f.data;
}

function finish(f: Uint8Array): Uint8Array {
  const len = f.length - ICMP;
  f[IP + 4] = len >>> 8;
  f[IP + 5] = len & 0xff;
  fillUpperLayer(f, SRC, DST, ICMPV6, ICMP, len, ICMP + 2);
  return f;
}

export interface RequestTemplates {
  /** NS for the router address from source `i` (with a source link-layer address option). */
  ns(i: number): Uint8Array;
  /** RS to ff02::2 from source `i`, with a source link-layer address option added. */
  rs(i: number): Uint8Array;
  /** Echo request VM_ADDRESS → ROUTER_ADDRESS with identifier and sequence number from `i`. */
  echo(i: number): Uint8Array;
}

/**
 * Request frames from the fixtures (ndisc6's NS, rdisc6's RS, ping's echo request), rewritten:
 * MACs, addresses and NS target to the bench topology, checksums recomputed.
 */
export async function requestTemplates(): Promise<RequestTemplates> {
  const ns0 = await fixtureFrame('ndisc6-ns-na.pcap', 135);
  const rs0 = await fixtureFrame('rdisc6-rs-ra.pcap', 133);
  const echo0 = await fixtureFrame('ping6-echo.pcap', 128);
  const vmMac = macBytes(VM_MAC);
  const routerMac = macBytes(ROUTER_MAC);
  const router = ip6Bytes(ROUTER_ADDRESS);
  const vm = ip6Bytes(VM_ADDRESS);
  const allRouters = ip6Bytes('ff02::2');
  const snm = solicitedNodeOf(router);
  return {
    ns(i) {
      const f = Uint8Array.from(ns0);
      f.set(multicastMacOf(snm), 0);
      f.set(vmMac, 6);
      f.set(sourceAddress(i), SRC);
      f.set(snm, DST);
      f.set(router, ICMP + 8);
      // The fixture's only option is the source link-layer address (type 1, length 1).
      if (f[ICMP + 24] !== 1 || f[ICMP + 25] !== 1)
        throw new Error('the ndisc6 fixture NS has no source link-layer address option first');
      f.set(vmMac, ICMP + 26);
      return finish(f);
    },
    rs(i) {
      const f = new Uint8Array(ICMP + 8 + 8);
      f.set(rs0.subarray(0, ICMP + 8), 0);
      f.set(multicastMacOf(allRouters), 0);
      f.set(vmMac, 6);
      f.set(sourceAddress(i), SRC);
      f.set(allRouters, DST);
      f[ICMP + 8] = 1;
      f[ICMP + 9] = 1;
      f.set(vmMac, ICMP + 10);
      return finish(f);
    },
    echo(i) {
      const f = Uint8Array.from(echo0);
      f.set(routerMac, 0);
      f.set(vmMac, 6);
      f.set(vm, SRC);
      f.set(router, DST);
      f[ICMP + 4] = (i >>> 24) & 0xff;
      f[ICMP + 5] = (i >>> 16) & 0xff;
      f[ICMP + 6] = (i >>> 8) & 0xff;
      f[ICMP + 7] = i & 0xff;
      return finish(f);
    },
  };
}

// ---- pairing requests and replies ----------------------------------------------------------

export type IcmpTest = 'ns' | 'rs' | 'echo';
export const REQUEST_TYPE: Record<IcmpTest, number> = { ns: 135, rs: 133, echo: 128 };
export const REPLY_TYPE: Record<IcmpTest, number> = { ns: 136, rs: 134, echo: 129 };

export interface Pairing {
  requests: number;
  replies: number;
  /** Replies paired with a request, and their delays in microseconds, sorted. */
  delaysUs: number[];
  /** Replies that matched no earlier request. */
  unmatched: number;
}

/**
 * Pairs requests and replies seen on the VM side. Echo: by identifier and sequence number
 * (unique per request). NS and RS: by the requester's address (the reply's destination), in
 * order; with no loss that is exact.
 */
export class Pairer {
  readonly test: IcmpTest;
  private readonly pending = new Map<number, number[]>();
  private readonly delays: number[] = [];
  requests = 0;
  replies = 0;
  unmatched = 0;

  constructor(test: IcmpTest) {
    this.test = test;
  }

  private key(f: Uint8Array, request: boolean): number {
    if (this.test === 'echo')
      return ((f[ICMP + 4]! << 24) | (f[ICMP + 5]! << 16) | (f[ICMP + 6]! << 8) | f[ICMP + 7]!) >>> 0;
    const a = request ? SRC : DST;
    return (f[a + 14]! << 8) | f[a + 15]!;
  }

  /** One captured frame at `us` microseconds. */
  add(f: Uint8Array, len: number, us: number): void {
    if (len <= ICMP + 8 || f[12] !== 0x86 || f[13] !== 0xdd || f[IP + 6] !== ICMPV6) return;
    const type = f[ICMP];
    if (type === REQUEST_TYPE[this.test]) {
      this.requests++;
      const k = this.key(f, true);
      const q = this.pending.get(k);
      if (q === undefined) this.pending.set(k, [us]);
      else q.push(us);
    } else if (type === REPLY_TYPE[this.test]) {
      this.replies++;
      const q = this.pending.get(this.key(f, false));
      const t = q?.shift();
      if (t === undefined) this.unmatched++;
      else this.delays.push(us - t);
    }
  }

  result(): Pairing {
    return {
      requests: this.requests,
      replies: this.replies,
      delaysUs: [...this.delays].sort((a, b) => a - b),
      unmatched: this.unmatched,
    };
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

// ---- tool output ------------------------------------------------------------------------------

export interface LinkCounters {
  rxPackets: number;
  rxDropped: number;
  txPackets: number;
  txDropped: number;
}

/** `ip -s -j link show dev IF`. */
export function parseLinkCounters(json: string): LinkCounters {
  const j = JSON.parse(json) as {
    stats64?: { rx: { packets: number; dropped: number }; tx: { packets: number; dropped: number } };
  }[];
  const s = j[0]?.stats64;
  if (s === undefined) throw new Error(`no stats64 in ip -s -j link output: ${json.slice(0, 200)}`);
  return { rxPackets: s.rx.packets, rxDropped: s.rx.dropped, txPackets: s.tx.packets, txDropped: s.tx.dropped };
}

export interface TcpreplayResult {
  sent: number;
  seconds: number;
  pps: number;
  failed: number;
}

export function parseTcpreplay(out: string): TcpreplayResult {
  const actual = /Actual: (\d+) packets \(\d+ bytes\) sent in ([\d.]+) seconds/.exec(out);
  const rated = /Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/.exec(out);
  const failed = /Failed packets:\s+(\d+)/.exec(out);
  if (actual === null || rated === null) throw new Error(`unexpected tcpreplay output: ${out}`);
  return {
    sent: Number(actual[1]),
    seconds: Number(actual[2]),
    pps: Number(rated[1]),
    failed: failed === null ? 0 : Number(failed[1]),
  };
}

/** tcpdump's closing lines: frames captured and dropped by the kernel. */
export function parseTcpdumpStats(err: string): { captured: number; droppedByKernel: number } {
  const c = /(\d+) packets? captured/.exec(err);
  const d = /(\d+) packets? dropped by kernel/.exec(err);
  return { captured: c === null ? NaN : Number(c[1]), droppedByKernel: d === null ? NaN : Number(d[1]) };
}

export interface PerfdhcpExchange {
  sent: number;
  received: number;
  drops: number;
  /** Milliseconds. */
  minDelay: number;
  avgDelay: number;
  maxDelay: number;
}

export interface PerfdhcpResult {
  /** 4-way exchanges per second, as perfdhcp reports it. */
  rate: number;
  solicit: PerfdhcpExchange;
  request: PerfdhcpExchange;
}

function exchange(section: string): PerfdhcpExchange {
  const n = (re: RegExp): number => {
    const m = re.exec(section);
    return m === null ? NaN : Number(m[1]);
  };
  return {
    sent: n(/sent packets: (\d+)/),
    received: n(/received packets: (\d+)/),
    drops: n(/\bdrops: (\d+)/),
    minDelay: n(/min delay: ([\d.]+) ms/),
    avgDelay: n(/avg delay: ([\d.]+) ms/),
    maxDelay: n(/max delay: ([\d.]+) ms/),
  };
}

/** perfdhcp -6's report: the SOLICIT-ADVERTISE and REQUEST-REPLY sections and the rate. */
export function parsePerfdhcp(out: string): PerfdhcpResult {
  const sa = out.indexOf('Statistics for: SOLICIT-ADVERTISE');
  const rr = out.indexOf('Statistics for: REQUEST-REPLY');
  if (sa < 0 || rr < 0) throw new Error(`unexpected perfdhcp output: ${out.slice(0, 2000)}`);
  const rate = /Rate: ([\d.]+) 4-way exchanges\/second/.exec(out) ?? /Rate: ([\d.]+)/.exec(out);
  return {
    rate: rate === null ? NaN : Number(rate[1]),
    solicit: exchange(out.slice(sa, rr > sa ? rr : undefined)),
    request: exchange(out.slice(rr, sa > rr ? sa : undefined)),
  };
}

// ---- tables -------------------------------------------------------------------------------

/** A plain-text table (also valid Markdown). */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...cells.slice(1).map(line),
  ].join('\n');
}

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

export function fmtPct(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(n > 0 && n < 0.1 ? 3 : 1)}%` : '-';
}

// ---- Running commands (the benchmarks' own, as root) ----

export interface CommandResult {
  code: number;
  out: string;
  err: string;
}

/** Runs a command to its end (killed after `timeoutMs`); never rejects. */
export function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      const code =
        e === null ? 0 : typeof (e as { code?: unknown }).code === 'number' ? (e as { code: number }).code : 1;
      resolve({ code, out: stdout, err: stderr });
    });
  });
}

/** Like run(), but a non-zero exit throws with the command's output; returns stdout + stderr. */
export async function must(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await run(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.out}${r.err}`);
  return r.out + r.err;
}

/** The version a command prints (the first group of `re` over its output), or '?'. */
export async function toolVersion(cmd: string, args: string[], re: RegExp): Promise<string> {
  const r = await run(cmd, args);
  return re.exec(r.out + r.err)?.[1] ?? '?';
}

/** The head of a benchmark report: the date, then CPUs, kernel and load average. */
export async function machineLines(): Promise<string[]> {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${cpus().length} CPUs (${cpuModel}), kernel ${(await run('uname', ['-r'])).out.trim()}, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  ];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 100 ms until it gives a value; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * On SIGINT or SIGTERM: say so, run `cleanup` (namespaces, daemons, temporary files), then exit
 * with 130, so an interrupted bench leaves nothing behind.
 */
export function cleanUpOnSignals(cleanup: () => Promise<void>): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: cleaning up\n`);
      void cleanup().then(() => process.exit(130));
    });
  }
}
