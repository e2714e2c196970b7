/**
 * Scale: what a host with many VM ports costs punt6, for models of one network with N ports of
 * one address each (N = 100, 1,000 and 10,000 by default):
 *
 * - configuration: loading and checking the YAML file (`parseConfig`);
 * - responder: building the runtime model, the tables and the DHCPv6 server (`openResponder`);
 * - flows: generating the OpenFlow rule set, its size and its bundle's size (`generateRules`);
 * - reload: a SIGHUP-style reload of `punt6 run`'s service (an in-memory dataplane) while NS
 *   arrive every millisecond, and the longest gap between two answers while it runs, beside the
 *   longest gap for as long right after it, with no reload (the machine's own share);
 * - start: `punt6 run` itself as a process (the built command line, its punt interface missing,
 *   so it starts, retries the attach every second, and answers nothing): the time from its spawn
 *   to its `punt6 running` log line, its resident memory then (from its metrics) and its peak;
 * - with `--ovs` (root, Open vSwitch installed): installing the rule set into a private OVS with
 *   the userspace datapath (`install`), then the time from a one-port change to its rules being
 *   in OVS (`installChanges`): a second address for one port, the last port going from the
 *   bridge, and coming back. Each with the CPU time it took in this process, in the commands it
 *   ran (ovs-ofctl, ovs-vsctl) and in ovs-vswitchd: on a shared machine, the wall time also
 *   counts the other work there. Then the full check `punt6 run --bridge` makes every 30th
 *   round (the rules dumped, parsed and compared in slices), and the longest a 1 ms timer waits
 *   meanwhile.
 *
 * Heap figures are after a garbage collection: run with --expose-gc. CPU time is the process's
 * (its threads together: the garbage collector's helpers too); on a shared machine it moves less
 * with the neighbours' load than the time on the clock does. Build first (`npm run build`): the
 * start is timed on the built command line.
 */

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config/index.js';
import type { Dataplane, FrameReceiver, PortStatus } from '../src/dataplane/dataplane.js';
import { emptyStatus } from '../src/dataplane/dataplane.js';
import { Punt6Service } from '../src/daemon/service.js';
import { tuneV8 } from '../src/daemon/v8-tuning.js';
import { OvsClient, install, installChanges, reconcile } from '../src/flows/ovs.js';
import { bundleText, generateRules, type PortBindings } from '../src/flows/rules.js';
import { openResponder } from '../src/responder/responder.js';
import { createLogger } from '../src/system/logging.js';
import { DEFAULT_SLICE_MS } from '../src/system/steps.js';
import { ip6Bytes, macBytes } from './e2e-support.js';
import { fillUpperLayer } from '../codecs/checksum.js';

tuneV8();

const USAGE = `usage: node --expose-gc dist/bench/scale.js [--ports 100,1000,10000] [--ovs]

  --ports N,...  model sizes: one network of N ports with one address each
  --ovs          also install into a private Open vSwitch (root; userspace datapath)
`;

const { values } = parseArgs({
  options: {
    ports: { type: 'string', default: '100,1000,10000' },
    ovs: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const sizes = values.ports.split(',').map(Number);

const hex = (n: number): string => n.toString(16).padStart(2, '0');
const ROUTER_MAC = '02:ff:00:00:00:fe';

function modelYaml(ports: number, stateDirectory: string, extraAddress = false, puntInterface = 'punt0'): string {
  let y = `interfaces:\n  - name: ${puntInterface}\n    network: net0\nnetworks:\n  - name: net0\n`;
  y += `    routerMac: ${ROUTER_MAC}\n    routerAddresses: [2001:db8::1]\n    prefixes: [2001:db8::/64]\nports:\n`;
  for (let p = 0; p < ports; p++) {
    const extra = extraAddress && p === 0 ? ', 2001:db8::ffff' : '';
    y += `  - name: p${p}\n    mac: 02:00:${hex(p >> 8)}:${hex(p & 255)}:00:01\n    network: net0\n    addresses: [2001:db8::${(0x1000 + p).toString(16)}${extra}]\n`;
  }
  return y + `server:\n  duid: "00:03:00:01:02:00:00:00:00:fe"\n  stateDirectory: ${JSON.stringify(stateDirectory)}\n`;
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

function ms(t0: number): number {
  return performance.now() - t0;
}

/** CPU time of this process so far (its threads together), ms. */
function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** A TCP port free on the loopback now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `punt6 run` on the model, as a process: spawned, timed to its `punt6 running` line, its memory
 * read from its metrics and /proc, then stopped with SIGTERM.
 */
async function runStartup(ports: number, dir: string): Promise<{ startMs: number; rssMb: number; peakMb: number }> {
  const configPath = join(dir, `run-${ports}.yaml`);
  // An interface that does not exist: the service starts and retries the attach every second.
  writeFileSync(configPath, modelYaml(ports, join(dir, 'run-state'), false, 'p6scale-none'));
  const port = await freePort();
  const cli = fileURLToPath(new URL('../src/commands/cli.js', import.meta.url));
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, 'run', '--config', configPath, '--metrics', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const startMs = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`punt6 run exited ${code} before it ran`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.includes('"msg":"punt6 running"')) resolve(ms(t0));
      });
    });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const rss = Number(/^process_resident_memory_bytes (\d+)/m.exec(metrics)?.[1] ?? NaN);
    const peak = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN);
    return { startMs, rssMb: rss / 1e6, peakMb: (peak * 1024) / 1e6 };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** A dataplane in memory: NS frames in, the time of every answer recorded. */
class ClockedDataplane implements Dataplane {
  ports: readonly string[] = ['punt0'];
  private receiver: FrameReceiver = () => {};
  answers: number[] = [];
  setReceiver(r: FrameReceiver): void {
    this.receiver = r;
  }
  deliver(frame: Uint8Array): void {
    this.receiver(0, frame, 0, frame.length, false);
  }
  send(): boolean {
    this.answers.push(performance.now());
    return true;
  }
  setPorts(names: readonly string[]): void {
    this.ports = names;
  }
  status(): PortStatus[] {
    return this.ports.map((n, i) => emptyStatus(i, n));
  }
  async close(): Promise<void> {}
}

/** An NS from the first port for the router's address. */
function nsFrame(): Uint8Array {
  const f = new Uint8Array(14 + 40 + 32);
  const dst = ip6Bytes('ff02::1:ff00:1');
  f.set([0x33, 0x33, 0xff, 0, 0, 1], 0);
  f.set(macBytes('02:00:00:00:00:01'), 6);
  f.set([0x86, 0xdd, 0x60, 0, 0, 0, 0, 32, 58, 255], 12);
  f.set(ip6Bytes('fe80::ff:fe00:1'), 22);
  f.set(dst, 38);
  f.set([135, 0, 0, 0, 0, 0, 0, 0], 54);
  f.set(ip6Bytes('2001:db8::1'), 62);
  f.set([1, 1, ...macBytes('02:00:00:00:00:01')], 78);
  fillUpperLayer(f, 22, 38, 58, 54, 32, 56, 0);
  return f;
}

/** The longest gap between two of the times, ms. */
function longestGap(times: readonly number[]): number {
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, (times[i] as number) - (times[i - 1] as number));
  return longest;
}

/**
 * A reload of the service while an NS arrives every millisecond: how long it took, the longest
 * gap between two answers while it ran and, as the baseline, in a quiet spell of the same length
 * just before it (what the machine alone does to a timer of one millisecond).
 */
async function reloadPause(
  ports: number,
  dir: string,
): Promise<{ reloadMs: number; longestGapMs: number; quietGapMs: number }> {
  const configPath = join(dir, `scale-${ports}.yaml`);
  writeFileSync(configPath, modelYaml(ports, dir));
  let dp: ClockedDataplane | undefined;
  const service = new Punt6Service({
    configPath,
    logger: createLogger({ level: 'silent' }),
    dataplane: () => (dp = new ClockedDataplane()),
    finalRaPauseMs: 0,
    prepareTimeoutMs: 600_000,
  });
  await service.start();
  const frame = nsFrame();
  const plane = dp as ClockedDataplane;
  const timer = setInterval(() => plane.deliver(frame), 1);
  await new Promise((r) => setTimeout(r, 100));
  writeFileSync(configPath, modelYaml(ports, dir, true));
  plane.answers.length = 0;
  const t0 = performance.now();
  const ok = await service.reload();
  const reloadMs = ms(t0);
  await new Promise((r) => setTimeout(r, 50));
  const duringReload = longestGap(plane.answers);
  plane.answers.length = 0;
  await new Promise((r) => setTimeout(r, Math.max(200, reloadMs)));
  const quiet = longestGap(plane.answers);
  clearInterval(timer);
  await service.stop('bench');
  if (!ok) throw new Error('the reload failed');
  return { reloadMs, longestGapMs: duringReload, quietGapMs: quiet };
}

/** Clock ticks a second, the unit of CPU times in /proc. */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/**
 * CPU milliseconds used so far by this process, its finished children and ovs-vswitchd: the
 * utime and stime fields of /proc/PID/stat, and this process's cutime and cstime.
 */
function cpuMs(vswitchd: number): number {
  const fields = (pid: number | 'self'): number[] => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
  };
  // After the name: state is field 3 of stat(5), so utime (14) .. cstime (17) are at 11 .. 14.
  const self = fields('self');
  const own = process.cpuUsage();
  const children = ((self[13] ?? 0) + (self[14] ?? 0)) / CLK_TCK;
  const v = fields(vswitchd);
  return (own.user + own.system) / 1000 + (children + ((v[11] ?? 0) + (v[12] ?? 0)) / CLK_TCK) * 1000;
}

/**
 * A private ovsdb-server and ovs-vswitchd (userspace datapath) with one bridge. ovs-vswitchd
 * runs in a network namespace of its own (`unshare --net`): the userspace datapath holds a TAP
 * device of a fixed name, `ovs-netdev`, which only one ovs-vswitchd per namespace can open.
 */
function privateOvs(dir: string): { env: NodeJS.ProcessEnv; vswitchdPid: () => number; stop: () => void } {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const sh = (cmd: string, args: string[]): void => {
    execFileSync(cmd, args, { env, stdio: 'ignore' });
  };
  sh('ovsdb-tool', ['create', join(dir, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema']);
  sh('ovsdb-server', [
    join(dir, 'conf.db'),
    `--remote=punix:${join(dir, 'db.sock')}`,
    `--pidfile=${join(dir, 'ovsdb.pid')}`,
    '--detach',
    `--log-file=${join(dir, 'ovsdb.log')}`,
  ]);
  sh('ovs-vsctl', ['--no-wait', 'init']);
  sh('unshare', [
    '--net',
    'ovs-vswitchd',
    `unix:${join(dir, 'db.sock')}`,
    `--pidfile=${join(dir, 'vswitchd.pid')}`,
    '--detach',
    `--log-file=${join(dir, 'vswitchd.log')}`,
  ]);
  sh('ovs-vsctl', ['add-br', 'p6scale', '--', 'set', 'bridge', 'p6scale', 'datapath_type=netdev']);
  return {
    env,
    vswitchdPid: () => Number(readFileSync(join(dir, 'vswitchd.pid'), 'utf8').trim()),
    stop: () => {
      for (const pid of ['vswitchd.pid', 'ovsdb.pid']) {
        try {
          execFileSync('sh', ['-c', `kill $(cat ${join(dir, pid)})`], { stdio: 'ignore' });
        } catch {
          // already gone
        }
      }
    },
  };
}

interface Row {
  ports: number;
  parseMs: number;
  responderMs: number;
  rules: number;
  rulesMs: number;
  /** CPU time of the configuration and the rules together. */
  generateCpuMs: number;
  /** This process's peak resident memory after the rules (sizes run in the order given). */
  peakMb: number;
  bundleMb: number;
  heapMb: number;
  reloadMs: number;
  gapMs: number;
  /** The longest gap between two answers without a reload, for the same time after it. */
  quietGapMs: number;
  startMs: number;
  runRssMb: number;
  runPeakMb: number;
  /** Installing the whole set, a second address for one port, the last port gone, then back. */
  install?: Timed;
  address?: Timed;
  portGone?: Timed;
  portBack?: Timed;
  /** The keeper's full check (dump, parse, compare in slices), and the longest gap of a 1 ms timer meanwhile. */
  fullCheck?: { ms: number; gapMs: number };
  /** Why the install into OVS failed. */
  ovsError?: string;
}

interface Timed {
  ms: number;
  cpuMs: number;
}

async function timed(vswitchd: number, work: () => Promise<unknown>): Promise<Timed> {
  const cpu0 = cpuMs(vswitchd);
  const t0 = performance.now();
  await work();
  return { ms: ms(t0), cpuMs: cpuMs(vswitchd) - cpu0 };
}

/** How long `check` takes, and the longest a one-millisecond timer waits meanwhile. */
async function fullCheck(check: () => Promise<{ reinstalled: boolean }>): Promise<{ ms: number; gapMs: number }> {
  let last = performance.now();
  let gapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gapMs = Math.max(gapMs, now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  const r = await check();
  const took = ms(t0);
  clearInterval(timer);
  if (r.reinstalled) throw new Error('the full check found the installed set different');
  return { ms: took, gapMs };
}

const rows: Row[] = [];
for (const ports of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'punt6-scale-'));
  try {
    const base = heapMb();
    const text = modelYaml(ports, dir);
    const cpu0 = processCpuMs();
    let t0 = performance.now();
    const config = parseConfig(text, 'scale.yaml');
    const parseMs = ms(t0);
    const cpu1 = processCpuMs();
    t0 = performance.now();
    const responder = await openResponder(config, { rateLimit: null });
    const responderMs = ms(t0);
    const bindings: PortBindings = {
      interfaces: new Map([['punt0', 'punt0']]),
      ports: new Map(config.ports.map((p) => [p.name, p.name])),
    };
    const cpu2 = processCpuMs();
    t0 = performance.now();
    const set = generateRules(config, bindings);
    const rulesMs = ms(t0);
    const generateCpuMs = cpu1 - cpu0 + (processCpuMs() - cpu2);
    const peakMb = process.resourceUsage().maxRSS / 1e3;
    const bundleMb = bundleText(set).length / 1e6;
    const heap = heapMb() - base;
    await responder.close();
    const { reloadMs, longestGapMs, quietGapMs } = await reloadPause(ports, dir);
    const run = await runStartup(ports, dir);
    const row: Row = {
      ports,
      parseMs,
      responderMs,
      rules: set.rules.length,
      rulesMs,
      generateCpuMs,
      peakMb,
      bundleMb,
      heapMb: heap,
      reloadMs,
      gapMs: longestGapMs,
      quietGapMs,
      startMs: run.startMs,
      runRssMb: run.rssMb,
      runPeakMb: run.peakMb,
    };
    if (values.ovs) {
      const ovsDir = mkdtempSync(join(tmpdir(), 'punt6-scale-ovs-'));
      const ovs = privateOvs(ovsDir);
      try {
        const client = new OvsClient(ovs.env);
        const numbered: PortBindings = {
          interfaces: new Map([['punt0', 60_000]]),
          ports: new Map(config.ports.map((p, i) => [p.name, i + 1])),
        };
        const full = generateRules(config, numbered);
        const vswitchd = ovs.vswitchdPid();
        row.install = await timed(vswitchd, () => install(client, 'p6scale', full));
        if (client.meterFallback !== null) process.stderr.write(`warning: ${client.meterFallback}\n`);
        const changedConfig = parseConfig(modelYaml(ports, dir, true), 'scale.yaml');
        const changed = generateRules(changedConfig, numbered);
        row.address = await timed(vswitchd, () => installChanges(client, 'p6scale', full, changed));
        const lastGone: PortBindings = {
          interfaces: numbered.interfaces,
          ports: new Map([...numbered.ports].slice(0, -1)),
        };
        const without = generateRules(changedConfig, lastGone);
        row.portGone = await timed(vswitchd, () => installChanges(client, 'p6scale', changed, without));
        row.portBack = await timed(vswitchd, () => installChanges(client, 'p6scale', without, changed));
        row.fullCheck = await fullCheck(() => reconcile('p6scale', changed, client, { sliceMs: DEFAULT_SLICE_MS }));
      } catch (e) {
        row.ovsError = (e instanceof Error ? e.message : String(e)).split('\n')[0]?.slice(0, 160);
      } finally {
        ovs.stop();
        rmSync(ovsDir, { recursive: true, force: true });
      }
    }
    rows.push(row);
    process.stderr.write(`${ports} ports done\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`node ${process.version}, V8 ${process.versions.v8}; one network, N ports of one address each`);
const head = [
  'ports',
  'config ms',
  'responder ms',
  'rules',
  'rules ms',
  'config+rules CPU ms',
  'bundle MB',
  'heap MB',
  'peak RSS MB',
  'reload ms',
  'longest answer gap ms',
  'same, no reload ms',
  'run start ms',
  'run RSS MB',
  'run peak RSS MB',
];
if (values.ovs)
  head.push(
    'OVS install ms (CPU)',
    'address added ms (CPU)',
    'port gone ms (CPU)',
    'port back ms (CPU)',
    'full check ms',
    'longest gap in it ms',
  );
console.log(head.join(' | '));
for (const r of rows) {
  const cells = [
    r.ports,
    r.parseMs.toFixed(0),
    r.responderMs.toFixed(0),
    r.rules,
    r.rulesMs.toFixed(0),
    r.generateCpuMs.toFixed(0),
    r.bundleMb.toFixed(1),
    r.heapMb.toFixed(0),
    r.peakMb.toFixed(0),
    r.reloadMs.toFixed(0),
    r.gapMs.toFixed(1),
    r.quietGapMs.toFixed(1),
    r.startMs.toFixed(0),
    r.runRssMb.toFixed(0),
    r.runPeakMb.toFixed(0),
  ];
  const msCell = (v: Timed | undefined): string =>
    v === undefined ? '-' : `${v.ms.toFixed(0)} (${v.cpuMs.toFixed(0)})`;
  if (values.ovs)
    cells.push(
      msCell(r.install),
      msCell(r.address),
      msCell(r.portGone),
      msCell(r.portBack),
      r.fullCheck?.ms.toFixed(0) ?? '-',
      r.fullCheck?.gapMs.toFixed(1) ?? '-',
    );
  console.log(cells.join(' | '));
  if (r.ovsError !== undefined) console.log(`  ${r.ports} ports: OVS: ${r.ovsError}`);
}
