/**
 * OVS offload versus the punt path, on one bridge, in one run.
 *
 * `punt6 lab up` builds the lab (private userspace Open vSwitch, bridge p6lab-br0, punt port
 * punt0, VMs p6lab-vm1 / p6lab-vm2). Then, with both rate limits of the punt path lifted (punt6's
 * per-sender token bucket through the configuration, the per-VM OpenFlow meter by running
 * `punt6 run --bridge` with `--meter-rate`), tcpreplay sends from vm1's eth0, at increasing rates:
 *
 *   ns-offload    NS for the router address with a source link-layer option: NA built in OVS
 *   echo-offload  echo request to the router address: reply built in OVS
 *   ns-punt       the same NS without the option: punted over punt0, NA built by punt6
 *
 * Replies are counted on vm1's eth0 (`ip -s -j link`); OVS's flow and meter counters and
 * punt6's metrics tell where a missing reply was lost. docs/bench.md has the figures.
 *
 * Run as root after `npm run build`: `node dist/bench/ovs.js [--quick]`.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, openSync, readFileSync, closeSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fillUpperLayer } from '../codecs/checksum.js';
import { repositoryRoot } from '../fixtures/paths.js';
import { CaptureWriter } from '../src/capture/writer.js';
import { loadConfig } from '../src/config/index.js';
import { desiredRuleSet, OvsClient } from '../src/flows/ovs.js';
import { DefaultFlowOptions, type Category, type FlowOptions } from '../src/flows/rules.js';
import { flowStats } from '../src/flows/stats.js';
import {
  cleanUpOnSignals,
  fmtInt,
  fmtPct,
  ip6Bytes,
  machineLines,
  must,
  run,
  sleep,
  toolVersion,
  until,
  parseLinkCounters,
  parseTcpreplay,
  requestTemplates,
  table,
  VM_ADDRESS,
  type LinkCounters,
} from './e2e-support.js';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const QUICK = args.quick === true;

const CLI = join(repositoryRoot, 'dist', 'src', 'commands', 'cli.js');
const LAB_CONFIG = join(repositoryRoot, 'fixtures', 'config', 'lab.yaml');
const BRIDGE = 'p6lab-br0';
const NS_VM = 'p6lab-vm1';
const VM_IF = 'eth0';
const METRICS_PORT = 9671;
const HIGH = 1_000_000;
const STEP_SECONDS = QUICK ? 1 : 3;
const RATES = QUICK
  ? [1_000, 10_000, 50_000]
  : [1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 50_000, 75_000, 100_000, 150_000];
/** Frames in each replay file (looped). */
const LOOP_FRAMES = 1024;

type Kind = 'ns-offload' | 'echo-offload' | 'ns-punt';
const KINDS: readonly Kind[] = ['ns-offload', 'echo-offload', 'ns-punt'];
const KIND_TEXT: Record<Kind, string> = {
  'ns-offload': 'NS for 2001:db8:1::1 with SLL option, NA built in OVS (answer-na-router)',
  'echo-offload': 'echo request to 2001:db8:1::1, reply built in OVS (answer-echo)',
  'ns-punt': 'NS for 2001:db8:1::1 without SLL option, punted, NA built by punt6 (punt-ns-no-sll)',
};
const KIND_CATEGORY: Record<Kind, Category> = {
  'ns-offload': 'answer-na-router',
  'echo-offload': 'answer-echo',
  'ns-punt': 'punt-ns-no-sll',
};

// ---- processes ---------------------------------------------------------------------------------

let dir = '';
let state = '';
let punt6: ChildProcess | null = null;
let labStarted = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pidIn(file: string): number {
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid in ${file}`);
  return pid;
}

let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (punt6 !== null && punt6.exitCode === null && punt6.signalCode === null) {
      const p = punt6;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    if (labStarted) {
      const r = await run(process.execPath, [CLI, 'lab', 'down', '--state', state]);
      if (r.code !== 0) process.stderr.write(`lab down failed (${r.code}): ${r.out}${r.err}\n`);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  })();
  return cleaning;
}

cleanUpOnSignals(cleanup);

// ---- the lab, punt6, the rules -------------------------------------------------------------

/** fixtures/config/lab.yaml with punt6's per-sender token bucket lifted. */
function benchConfig(): string {
  const text = readFileSync(LAB_CONFIG, 'utf8');
  if (!/^server:\n/m.test(text) || /rateLimit/.test(text))
    throw new Error('fixtures/config/lab.yaml changed shape: expected a server: section without rateLimit');
  return text.replace(/^server:\n/m, `server:\n  rateLimit: { rate: ${HIGH}, burst: ${HIGH} }\n`);
}

const ovsEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  OVS_RUNDIR: join(state, 'ovs'),
  OVS_DBDIR: join(state, 'ovs'),
  OVS_LOGDIR: join(state, 'ovs'),
});

async function labUp(configFile: string): Promise<void> {
  labStarted = true;
  const r = await run(
    process.execPath,
    [CLI, 'lab', 'up', '--state', state, '--config', configFile, '--metrics-port', String(METRICS_PORT)],
    180_000,
  );
  if (r.code !== 0) throw new Error(`punt6 lab up failed (${r.code}):\n${r.out}${r.err}`);
}

/**
 * Replaces the lab's `punt6 run --bridge` (default meter, 100 pps per VM port) by one with the
 * meters raised: `punt6 run --bridge p6lab-br0 --meter-rate HIGH --meter-burst HIGH`, same
 * configuration and metrics port. Its rules keeper installs the raised meters; wait for them.
 */
async function restartPunt6WithHighMeters(): Promise<void> {
  const labPid = pidIn(join(state, 'punt6.pid'));
  process.kill(labPid, 'SIGTERM');
  await until('the lab punt6 to stop', async () => !alive(labPid), 15_000);
  const log = openSync(join(dir, 'punt6.log'), 'a');
  punt6 = spawn(
    process.execPath,
    [
      CLI,
      'run',
      '--config',
      join(state, 'punt6.yaml'),
      '--metrics',
      `[::1]:${METRICS_PORT}`,
      '--bridge',
      BRIDGE,
      '--meter-rate',
      String(HIGH),
      '--meter-burst',
      String(HIGH),
    ],
    { stdio: ['ignore', log, log], env: ovsEnv() },
  );
  closeSync(log);
  await until('punt6 to answer on its metrics endpoint', async () => (await metrics()) !== '', 30_000);
  const ovs = new OvsClient(ovsEnv());
  await until(
    'the meters raised to the benchmark rate',
    async () => {
      const meters = await ovs.meters(BRIDGE);
      return meters.length > 0 && meters.every((m) => m.rate === HIGH);
    },
    15_000,
  );
}

const flowOptions: FlowOptions = { ...DefaultFlowOptions, meterRate: HIGH, meterBurst: HIGH };

interface OvsCounts {
  category: Record<Category, number>;
  meterIn: number;
  meterDropped: number;
}

async function ovsCounts(): Promise<OvsCounts> {
  const ovs = new OvsClient(ovsEnv());
  const config = await loadConfig(join(state, 'punt6.yaml'));
  const set = await desiredRuleSet(ovs, BRIDGE, config, flowOptions);
  const s = flowStats(set, await ovs.ownFlows(BRIDGE), await ovs.meterStats(BRIDGE));
  const category = {} as Record<Category, number>;
  for (const c of s.categories) category[c.category] = c.byPort.get('vm1') ?? c.packets;
  const m = s.meters.find((x) => x.port === 'vm1');
  return { category, meterIn: m?.packetsIn ?? NaN, meterDropped: m?.dropped ?? NaN };
}

/**
 * The userspace datapath hands its flow counters to the OpenFlow rules only when its
 * revalidators run (about every 500 ms): read until a category's count stops moving, at most 5 s.
 */
async function settledCounts(category: Category): Promise<OvsCounts> {
  let prev = await ovsCounts();
  const end = Date.now() + 5000;
  for (;;) {
    await sleep(700);
    const c = await ovsCounts();
    if (c.category[category] === prev.category[category] || Date.now() > end) return c;
    prev = c;
  }
}

/** The bridge side of vm1's veth: its kernel counters and what OVS reports for the port. */
async function bridgeSide(): Promise<{ vethRxDropped: number; ovsRxDropped: number }> {
  const veth = parseLinkCounters(await must('ip', ['-s', '-j', 'link', 'show', 'dev', NS_VM]));
  const r = await run('ovs-vsctl', [
    `--db=unix:${join(state, 'ovs', 'db.sock')}`,
    'get',
    'Interface',
    NS_VM,
    'statistics:rx_dropped',
  ]);
  return { vethRxDropped: veth.rxDropped, ovsRxDropped: r.code === 0 ? Number(r.out.trim().replace(/"/g, '')) : NaN };
}

async function metrics(): Promise<string> {
  try {
    const res = await fetch(`http://[::1]:${METRICS_PORT}/metrics`, { signal: AbortSignal.timeout(3_000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name + '{') || line.startsWith(name + ' ')) sum += Number(line.split(' ').at(-1));
  return sum;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return NaN;
  }
}

// ---- frames --------------------------------------------------------------------------------------

const ETH = 14;
const SRC = ETH + 8;
const DST = ETH + 24;
const ICMP = ETH + 40;

/** Sets the IPv6 source to the VM's own address (punt6's source guard drops anything else). */
function fromVm(frame: Uint8Array, withSll: boolean): Uint8Array {
  const f = Uint8Array.from(withSll ? frame : frame.subarray(0, ICMP + 24));
  f.set(ip6Bytes(VM_ADDRESS), SRC);
  const len = f.length - ICMP;
  f[ETH + 4] = len >>> 8;
  f[ETH + 5] = len & 0xff;
  fillUpperLayer(f, SRC, DST, 58, ICMP, len, ICMP + 2);
  return f;
}

const pcaps = new Map<Kind, string>();

async function writePcaps(): Promise<void> {
  const t = await requestTemplates();
  for (const kind of KINDS) {
    const path = join(dir, `${kind}.pcap`);
    const w = new CaptureWriter(path);
    for (let i = 0; i < LOOP_FRAMES; i++) {
      const f = kind === 'echo-offload' ? t.echo(i) : fromVm(t.ns(0), kind === 'ns-offload');
      w.write(f, 0, f.length, i / 1000);
    }
    w.close();
    pcaps.set(kind, path);
  }
}

// ---- steps -------------------------------------------------------------------------------------

async function counters(): Promise<LinkCounters> {
  return parseLinkCounters(await must('ip', ['-n', NS_VM, '-s', '-j', 'link', 'show', 'dev', VM_IF]));
}

/** Waits until vm1 receives nothing for 300 ms (the tail of the replies), at most 5 s. */
async function drain(): Promise<LinkCounters> {
  let prev = await counters();
  const end = Date.now() + 5000;
  for (;;) {
    await sleep(300);
    const c = await counters();
    if (c.rxPackets === prev.rxPackets || Date.now() > end) return c;
    prev = c;
  }
}

interface Step {
  offered: number;
  achieved: number;
  sent: number;
  ruleHits: number;
  answered: number;
  loss: number;
  ovsCpu: number;
  punt6Cpu: number;
  note: string;
}

async function step(kind: Kind, rate: number): Promise<Step> {
  const total = Math.round(rate * STEP_SECONDS);
  const loops = Math.max(1, Math.ceil(total / LOOP_FRAMES));
  const vswitchd = pidIn(join(state, 'ovs', 'ovs-vswitchd.pid'));
  const c0 = await counters();
  const b0 = await bridgeSide();
  const o0 = await ovsCounts();
  const m0 = await metrics();
  const cpu0 = [cpuSeconds(vswitchd), cpuSeconds(punt6?.pid ?? 0)] as const;
  const t0 = Date.now();
  const out = await must(
    'ip',
    [
      'netns',
      'exec',
      NS_VM,
      'tcpreplay',
      '-q',
      '-i',
      VM_IF,
      `--pps=${rate}`,
      `--loop=${loops}`,
      `--limit=${total}`,
      pcaps.get(kind)!,
    ],
    300_000,
  );
  const r = parseTcpreplay(out);
  const c1 = await drain();
  const wall = (Date.now() - t0) / 1000;
  const cpu1 = [cpuSeconds(vswitchd), cpuSeconds(punt6?.pid ?? 0)] as const;
  const o1 = await settledCounts(KIND_CATEGORY[kind]);
  const m1 = await metrics();
  const b1 = await bridgeSide();
  const answered = c1.rxPackets - c0.rxPackets;
  const ruleHits = o1.category[KIND_CATEGORY[kind]] - o0.category[KIND_CATEGORY[kind]];
  const notes: string[] = [];
  if (r.failed > 0) notes.push(`tcpreplay failed ${r.failed}`);
  if (ruleHits < r.sent) notes.push(`OVS matched ${fmtInt(ruleHits)}`);
  if (answered > r.sent) notes.push(`${answered - r.sent} extra frames on vm1`);
  if (kind === 'ns-punt') {
    const meterDrop = o1.meterDropped - o0.meterDropped;
    if (meterDrop > 0) notes.push(`meter dropped ${fmtInt(meterDrop)}`);
    const d = (name: string): number => metricSum(m1, name) - metricSum(m0, name);
    const pcapDrop = d('punt6_pcap_dropped_total');
    const seen = d('punt6_interface_received_frames_total');
    const replied = d('punt6_interface_sent_frames_total');
    if (pcapDrop > 0) notes.push(`capture dropped ${fmtInt(pcapDrop)}`);
    if (seen < ruleHits) notes.push(`punt6 read ${fmtInt(seen)}`);
    if (replied < seen) notes.push(`punt6 sent ${fmtInt(replied)}`);
  }
  if (b1.vethRxDropped > b0.vethRxDropped)
    notes.push(`bridge-side veth rx dropped ${fmtInt(b1.vethRxDropped - b0.vethRxDropped)}`);
  if (b1.ovsRxDropped > b0.ovsRxDropped) notes.push(`OVS port rx_dropped ${fmtInt(b1.ovsRxDropped - b0.ovsRxDropped)}`);
  if (c1.rxDropped > c0.rxDropped) notes.push(`vm1 rx dropped ${fmtInt(c1.rxDropped - c0.rxDropped)}`);
  const lost = Math.max(0, r.sent - answered);
  return {
    offered: rate,
    achieved: r.pps,
    sent: r.sent,
    ruleHits,
    answered,
    loss: r.sent > 0 ? (100 * lost) / r.sent : NaN,
    ovsCpu: (100 * (cpu1[0] - cpu0[0])) / wall,
    punt6Cpu: kind === 'ns-punt' ? (100 * (cpu1[1] - cpu0[1])) / wall : NaN,
    note: notes.join('; '),
  };
}

interface KindResult {
  kind: Kind;
  steps: Step[];
}

async function measure(kind: Kind): Promise<KindResult> {
  const steps: Step[] = [];
  let lossy = 0;
  for (const rate of RATES) {
    const s = await step(kind, rate);
    steps.push(s);
    process.stderr.write(
      `${kind} ${fmtInt(rate)} pps: sent ${s.sent}, answered ${s.answered}, loss ${fmtPct(s.loss)}${s.note ? ` (${s.note})` : ''}\n`,
    );
    if (s.loss > 0) lossy++;
    // Three lossy steps, or one losing more than a quarter, show where it saturates.
    if (lossy >= 3 || s.loss > 25) break;
  }
  return { kind, steps };
}

// ---- report ---------------------------------------------------------------------------------

function report(results: KindResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(`### ${r.kind}: ${KIND_TEXT[r.kind]}`, '');
    out.push(
      table(
        [
          'offered pps',
          'tcpreplay pps',
          'sent',
          'rule hits',
          'answered',
          'loss',
          'vswitchd CPU',
          ...(r.kind === 'ns-punt' ? ['punt6 CPU'] : []),
          'note',
        ],
        r.steps.map((s) => [
          fmtInt(s.offered),
          fmtInt(s.achieved),
          fmtInt(s.sent),
          fmtInt(s.ruleHits),
          fmtInt(s.answered),
          fmtPct(s.loss),
          `${s.ovsCpu.toFixed(0)}%`,
          ...(r.kind === 'ns-punt' ? [`${s.punt6Cpu.toFixed(0)}%`] : []),
          s.note,
        ]),
      ),
      '',
    );
  }
  out.push('### Summary', '');
  out.push(
    table(
      [
        'kind',
        'highest rate without loss (below the first lossy step)',
        'replies/s there',
        'first step with loss',
        'most replies/s seen',
      ],
      results.map((r) => {
        const firstIndex = r.steps.findIndex((s) => s.loss > 0);
        const first = firstIndex < 0 ? undefined : r.steps[firstIndex];
        const best = firstIndex < 0 ? r.steps.at(-1) : firstIndex > 0 ? r.steps[firstIndex - 1] : undefined;
        return [
          r.kind,
          best === undefined
            ? 'none'
            : `${fmtInt(best.offered)} pps${best === r.steps.at(-1) ? ' (highest tried)' : ''}`,
          best === undefined ? '-' : fmtInt(best.achieved),
          first === undefined
            ? 'none'
            : `${fmtInt(first.offered)} pps: ${fmtPct(first.loss)} lost, ${fmtInt(first.answered / STEP_SECONDS)} replies/s`,
          fmtInt(Math.max(...r.steps.map((s) => s.answered / STEP_SECONDS))),
        ];
      }),
    ),
    '',
  );
  return out.join('\n');
}

async function environment(): Promise<string> {
  return [
    ...(await machineLines()),
    `node ${process.version}, Open vSwitch ${await toolVersion('ovs-vswitchd', ['--version'], /(\d+\.\d+\.\d+)/)} (userspace datapath), tcpreplay ${await toolVersion('tcpreplay', ['--version'], /version: (\S+)/)}`,
    `steps: ${STEP_SECONDS} s at ${RATES.join(', ')} pps; punt6 rate limit ${HIGH}/s, OVS meter ${HIGH} pps`,
  ].join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (namespaces, Open vSwitch)');
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  for (const tool of ['ip', 'tcpreplay', 'ovs-vswitchd', 'ovs-vsctl', 'ovs-ofctl']) {
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0)
      throw new Error(`missing: ${tool} (Debian packages: iproute2 tcpreplay openvswitch-switch)`);
  }
  const started = Date.now();
  dir = await mkdtemp(join(tmpdir(), 'punt6-bench-ovs-'));
  chmodSync(dir, 0o755);
  state = join(dir, 'lab');
  const configFile = join(dir, 'lab.yaml');
  await writeFile(configFile, benchConfig());
  process.stdout.write(`# OVS offload versus the punt path\n\n\`\`\`\n${await environment()}\n\`\`\`\n\n`);
  await writePcaps();
  process.stderr.write('punt6 lab up ...\n');
  await labUp(configFile);
  await restartPunt6WithHighMeters();
  const results: KindResult[] = [];
  for (const kind of KINDS) results.push(await measure(kind));
  process.stdout.write(report(results));
  process.stdout.write(`\ntotal time ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`\nerror: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
  });
