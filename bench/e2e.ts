/**
 * End-to-end benchmark of `punt6 run` on a veth pair between two network namespaces, side by
 * side with the peers: the Linux kernel (NS, echo), radvd (RS), kea-dhcp6 and dnsmasq (DHCPv6).
 *
 *   p6bench-vm [vm0 02:00:00:00:00:01] <-- veth --> [rt0 02:00:00:00:00:fe] p6bench-rt
 *   load generators (tcpreplay, perfdhcp)            punt6 run, or the kernel / radvd / kea / dnsmasq
 *
 * - NS, RS, echo: request frames built from the fixtures (bench/e2e-support.ts) are replayed by
 *   `tcpreplay --pps=RATE` at increasing rates until replies go missing. Counted with the
 *   interface counters (`ip -s -j link`): sent = vm0 tx, delivered = rt0 rx, answered = vm0 rx
 *   (IPv6 is off on vm0, so nothing else is sent or answered there). Then, at one moderate rate,
 *   tcpdump on vm0 records requests and replies (both directions, kernel timestamps) and they
 *   are paired for the latency percentiles.
 * - DHCPv6: `perfdhcp -6` (Solicit, Advertise, Request, Reply) at increasing rates until it
 *   reports drops.
 *
 * Run as root after `npm run build`:
 *
 *   node dist/bench/e2e.js [--quick] [--seconds S] [--rates 10000,20000,...] [--latency-rate R]
 *     [--latency-seconds S] [--dhcp-rates 100,250,...] [--dhcp-seconds S] [--only ns,rs,echo,dhcp]
 *     [--no-peers]
 *
 * Everything it creates (namespaces, daemons, a temporary directory) is removed at exit, also on
 * errors and on Ctrl-C.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repositoryRoot } from '../fixtures/paths.js';
import { readCaptureFile } from '../src/capture/reader.js';
import { CaptureWriter } from '../src/capture/writer.js';
import {
  cleanUpOnSignals,
  fmtInt,
  machineLines,
  must,
  run,
  sleep,
  until,
  fmtPct,
  Pairer,
  parseLinkCounters,
  parsePerfdhcp,
  parseTcpdumpStats,
  parseTcpreplay,
  percentile,
  REPLY_TYPE,
  REQUEST_TYPE,
  requestTemplates,
  ROUTER_ADDRESS,
  ROUTER_MAC,
  SOURCES,
  sourceAddress,
  table,
  toolVersion,
  VM_ADDRESS,
  VM_MAC,
  type IcmpTest,
  type LinkCounters,
  type PerfdhcpResult,
} from './e2e-support.js';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rates: { type: 'string' },
    'latency-rate': { type: 'string', default: '5000' },
    'latency-seconds': { type: 'string' },
    'dhcp-rates': { type: 'string' },
    'dhcp-seconds': { type: 'string' },
    only: { type: 'string', default: 'ns,rs,echo,dhcp' },
    'no-peers': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (opts.help) {
  process.stdout.write(
    'usage: node dist/bench/e2e.js [--quick] [--seconds S] [--rates R,R,...] [--latency-rate R] [--latency-seconds S]\n' +
      '         [--dhcp-rates R,R,...] [--dhcp-seconds S] [--only ns,rs,echo,dhcp] [--no-peers]\n',
  );
  process.exit(0);
}

const quick = opts.quick === true;
const list = (s: string): number[] =>
  s
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
const STEP_SECONDS = Number(opts.seconds ?? (quick ? 1 : 2));
const RATES = list(
  opts.rates ?? (quick ? '20000,50000,100000,200000' : '10000,20000,50000,75000,100000,150000,200000'),
);
const LATENCY_RATE = Number(opts['latency-rate']);
const LATENCY_SECONDS = Number(opts['latency-seconds'] ?? (quick ? 1 : 2));
const DHCP_RATES = list(
  opts['dhcp-rates'] ?? (quick ? '250,1000,2000,4000' : '100,250,500,1000,2000,3000,4000,6000,8000,12000,16000'),
);
const DHCP_SECONDS = Number(opts['dhcp-seconds'] ?? (quick ? 2 : 3));
const ONLY = new Set(opts.only!.split(','));
const PEERS = opts['no-peers'] !== true;

const NS_VM = 'p6bench-vm';
const NS_RT = 'p6bench-rt';
const VM_IF = 'vm0';
const RT_IF = 'rt0';
const METRICS = '127.0.0.1:9464';
const CLI = join(repositoryRoot, 'dist', 'src', 'commands', 'cli.js');
const TOOLS = [
  'ip',
  'ethtool',
  'sysctl',
  'ss',
  'tcpreplay',
  'tcpdump',
  'perfdhcp',
  'kea-dhcp6',
  'radvd',
  'dnsmasq',
  'curl',
];

// ---- processes and cleanup ---------------------------------------------------------------------

const children = new Set<ChildProcess>();
let dir = '';
let cleaning: Promise<void> | null = null;

const inNs = (ns: string, args: string[], timeoutMs?: number) => must('ip', ['netns', 'exec', ns, ...args], timeoutMs);

interface Daemon {
  child: ChildProcess;
  out: string[];
  exit: Promise<number | null>;
}

/** Starts a command inside a namespace (`ip netns exec` execs it: the pid is the command's). */
function startIn(ns: string, args: string[], env: Record<string, string> = {}): Daemon {
  const child = spawn('ip', ['netns', 'exec', ns, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.add(child);
  const out: string[] = [];
  const keep = (chunk: Buffer): void => {
    out.push(chunk.toString());
    if (out.length > 2000) out.splice(0, 1000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, out, exit };
}

async function stop(d: Daemon, signal: NodeJS.Signals = 'SIGTERM', waitMs = 5000): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill(signal);
  const timer = setTimeout(() => d.child.kill('SIGKILL'), waitMs);
  await d.exit;
  clearTimeout(timer);
}

async function removeNamespaces(): Promise<void> {
  for (const ns of [NS_VM, NS_RT]) {
    const pids = await run('ip', ['netns', 'pids', ns]);
    if (pids.code === 0) {
      for (const p of pids.out.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await run('ip', ['netns', 'del', ns]);
  }
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of children) c.kill('SIGKILL');
    await removeNamespaces();
    if (dir) await rm(dir, { recursive: true, force: true });
  })();
  return cleaning;
}

cleanUpOnSignals(cleanup);

// ---- topology -------------------------------------------------------------------------------

/**
 * Fresh namespaces and veth pair. IPv6 on vm0 only when asked (DHCPv6 clients need it; for the
 * ICMPv6 tests it is off so that vm0 sends and answers nothing itself). rt0 gets IPv6, the
 * router addresses and permanent neighbour entries for the VM's addresses only for the peers.
 */
async function topology(vmIpv6: boolean, router: 'punt6' | 'kernel'): Promise<void> {
  await removeNamespaces();
  for (const ns of [NS_VM, NS_RT]) {
    await must('ip', ['netns', 'add', ns]);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  await must('ip', [
    '-n',
    NS_VM,
    'link',
    'add',
    VM_IF,
    'address',
    VM_MAC,
    'type',
    'veth',
    'peer',
    'name',
    RT_IF,
    'address',
    ROUTER_MAC,
    'netns',
    NS_RT,
  ]);
  // Real checksums on what each side sends (no offload to a NIC that is not there).
  await inNs(NS_VM, ['ethtool', '-K', VM_IF, 'tx', 'off']);
  await inNs(NS_RT, ['ethtool', '-K', RT_IF, 'tx', 'off']);
  const sysctl = (ns: string, kv: string) => inNs(ns, ['sysctl', '-qw', kv]);
  await sysctl(NS_VM, `net.ipv6.conf.${VM_IF}.disable_ipv6=${vmIpv6 ? 0 : 1}`);
  if (vmIpv6) {
    await sysctl(NS_VM, `net.ipv6.conf.${VM_IF}.accept_dad=0`);
    await sysctl(NS_VM, `net.ipv6.conf.${VM_IF}.router_solicitations=0`);
    await sysctl(NS_VM, `net.ipv6.conf.${VM_IF}.accept_ra=0`);
  }
  if (router === 'punt6') {
    await sysctl(NS_RT, `net.ipv6.conf.${RT_IF}.disable_ipv6=1`);
  } else {
    await sysctl(NS_RT, `net.ipv6.conf.${RT_IF}.accept_dad=0`);
    await sysctl(NS_RT, `net.ipv6.conf.${RT_IF}.router_solicitations=0`);
    await sysctl(NS_RT, 'net.ipv6.conf.all.forwarding=1');
    await must('ip', ['-n', NS_RT, '-6', 'addr', 'add', `${ROUTER_ADDRESS}/64`, 'dev', RT_IF, 'nodad']);
  }
  await must('ip', ['-n', NS_VM, 'link', 'set', VM_IF, 'up']);
  await must('ip', ['-n', NS_RT, 'link', 'set', RT_IF, 'up']);
  if (router === 'kernel') {
    // The kernel answers to the requester's address; punt6 answers to its MAC without a
    // neighbour lookup. Permanent entries keep neighbour resolution (and its probes) out.
    const neigh = [VM_ADDRESS, ...Array.from({ length: SOURCES }, (_, i) => ipText(sourceAddress(i)))];
    for (const a of neigh)
      await must('ip', ['-n', NS_RT, '-6', 'neigh', 'replace', a, 'lladdr', VM_MAC, 'dev', RT_IF, 'nud', 'permanent']);
  }
  await settle();
}

function ipText(a: Uint8Array): string {
  const w: string[] = [];
  for (let i = 0; i < 16; i += 2) w.push(((a[i]! << 8) | a[i + 1]!).toString(16));
  return w.join(':');
}

async function counters(ns: string, ifName: string): Promise<LinkCounters> {
  return parseLinkCounters(await must('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', ifName]));
}

/** Waits until neither side sends anything for 1 s (link-up MLD reports and the like), at most 6 s. */
async function settle(): Promise<void> {
  let last = -1;
  const end = Date.now() + 6000;
  while (Date.now() < end) {
    const n = (await counters(NS_VM, VM_IF)).rxPackets + (await counters(NS_RT, RT_IF)).rxPackets;
    if (n === last) return;
    last = n;
    await sleep(1000);
  }
}

/** Waits until vm0 receives nothing for 300 ms (the tail of the replies), at most 5 s. */
async function drain(): Promise<LinkCounters> {
  let prev = await counters(NS_VM, VM_IF);
  const end = Date.now() + 5000;
  for (;;) {
    await sleep(300);
    const c = await counters(NS_VM, VM_IF);
    if (c.rxPackets === prev.rxPackets || Date.now() > end) return c;
    prev = c;
  }
}

// ---- responders ----------------------------------------------------------------------------------

type Responder = 'punt6' | 'kernel' | 'radvd' | 'kea-dhcp6' | 'dnsmasq';

function punt6Config(stateDirectory: string): string {
  return `
interfaces:
  - name: ${RT_IF}
    network: bench
networks:
  - name: bench
    routerMac: ${ROUTER_MAC}
    routerAddresses: [${ROUTER_ADDRESS}]
    prefixes:
      - prefix: 2001:db8:1::/64
        slaac: true
    dns:
      servers: [2001:db8:1::53]
    ra:
      unsolicited: false
    dhcpv6:
      mode: stateful
      addressPools: [2001:db8:1::1:0-2001:db8:1::ff:ffff]
server:
  stateDirectory: ${JSON.stringify(stateDirectory)}
  # The load comes from one sender (one MAC): lift punt6's per-sender token bucket and its
  # per-port lease limit, or the benchmark would measure them (200 frames/s, 64 leases by
  # default) instead of the responder.
  rateLimit: { rate: 1000000, burst: 1000000 }
  leaseLimits: { addressesPerPort: 1000000, maxLeases: 100000000 }
log:
  level: warn
`;
}

/** Whether the first frame after each start of punt6 was answered (src/dataplane/filter.ts). */
const firstFrame: string[] = [];

async function startPunt6(): Promise<Daemon> {
  const config = join(dir, 'punt6.yaml');
  await writeFile(config, punt6Config(join(dir, `punt6-state-${Date.now()}`)));
  const d = startIn(NS_RT, [
    process.execPath,
    CLI,
    'run',
    '--config',
    config,
    '--metrics',
    METRICS,
    '--log-level',
    'info',
  ]);
  await until('punt6 running', async () => {
    if (d.child.exitCode !== null) throw new Error(`punt6 exited: ${d.out.join('')}`);
    return d.out.join('').includes('"punt6 running"');
  });
  // One echo request before the measurements, left out of the counts: the first frame after
  // the capture opens is the one a capture filter can lose (src/dataplane/filter.ts), and the
  // report says whether punt6 answered it.
  const before = (await counters(NS_VM, VM_IF)).rxPackets;
  await tcpreplay(pcaps.get('echo-loop')!, 1000, 1, 1);
  const after = await drain();
  const m = await punt6Metrics();
  firstFrame.push(
    `first frame after start: ${after.rxPackets - before === 1 ? 'answered' : 'not answered'} ` +
      `(libpcap received ${metricSum(m, 'punt6_pcap_received_total')}, punt6 read ${metricSum(m, 'punt6_interface_received_frames_total')})`,
  );
  return d;
}

async function startRadvd(): Promise<Daemon> {
  const conf = join(dir, 'radvd.conf');
  // UnicastOnly: no unsolicited RAs, every RS answered by a unicast RA (as punt6 does).
  await writeFile(
    conf,
    `interface ${RT_IF} {
  AdvSendAdvert on;
  UnicastOnly on;
  AdvManagedFlag on;
  AdvOtherConfigFlag on;
  prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
  RDNSS 2001:db8:1::53 { };
};
`,
  );
  chmodSync(conf, 0o644);
  const d = startIn(NS_RT, ['radvd', '-n', '-m', 'stderr', '-C', conf, '-p', join(dir, 'radvd.pid')]);
  await sleep(1500);
  if (d.child.exitCode !== null) throw new Error(`radvd exited: ${d.out.join('')}`);
  await settle();
  return d;
}

async function waitUdp547(d: Daemon, name: string): Promise<void> {
  await until(`${name} to listen on UDP 547`, async () => {
    if (d.child.exitCode !== null) throw new Error(`${name} exited: ${d.out.join('')}`);
    return (await inNs(NS_RT, ['ss', '-Hlun', 'sport = :547'])).trim() !== '';
  });
}

async function startKea(): Promise<Daemon> {
  const kdir = join(dir, 'kea');
  await must('mkdir', ['-p', kdir]);
  const conf = join(kdir, 'kea-dhcp6.json');
  await writeFile(
    conf,
    JSON.stringify(
      {
        Dhcp6: {
          'interfaces-config': { interfaces: [RT_IF] },
          'data-directory': kdir,
          'lease-database': { type: 'memfile', persist: true, name: join(kdir, 'kea-leases6.csv'), 'lfc-interval': 0 },
          'renew-timer': 1000,
          'rebind-timer': 2000,
          'preferred-lifetime': 3000,
          'valid-lifetime': 4000,
          'option-data': [{ name: 'dns-servers', data: '2001:db8:1::53' }],
          subnet6: [
            {
              id: 1,
              subnet: '2001:db8:1::/64',
              interface: RT_IF,
              pools: [{ pool: '2001:db8:1::1:0 - 2001:db8:1::ff:ffff' }],
            },
          ],
          loggers: [{ name: 'kea-dhcp6', output_options: [{ output: join(kdir, 'kea-dhcp6.log') }], severity: 'WARN' }],
        },
      },
      null,
      2,
    ),
  );
  const d = startIn(NS_RT, ['kea-dhcp6', '-c', conf], {
    KEA_PIDFILE_DIR: kdir,
    KEA_LOCKFILE_DIR: kdir,
    KEA_LOGGER_DESTINATION: join(kdir, 'kea-dhcp6.log'),
  });
  await waitUdp547(d, 'kea-dhcp6');
  return d;
}

async function startDnsmasq(): Promise<Daemon> {
  const ddir = join(dir, 'dnsmasq');
  await must('mkdir', ['-p', ddir]);
  const d = startIn(NS_RT, [
    'dnsmasq',
    '--no-daemon',
    '--conf-file=/dev/null',
    '--port=0',
    `--interface=${RT_IF}`,
    '--bind-interfaces',
    '--dhcp-range=2001:db8:1::1:0,2001:db8:1::ff:ffff,64,1h',
    '--dhcp-option=option6:dns-server,[2001:db8:1::53]',
    `--dhcp-leasefile=${join(ddir, 'dnsmasq.leases')}`,
    '--dhcp-lease-max=10000000',
    `--pid-file=${join(ddir, 'dnsmasq.pid')}`,
    '--user=root',
    '--quiet-dhcp6',
    '--log-facility=-',
  ]);
  await waitUdp547(d, 'dnsmasq');
  return d;
}

async function punt6Metrics(): Promise<string> {
  const r = await run('ip', ['netns', 'exec', NS_RT, 'curl', '-s', `http://${METRICS}/metrics`]);
  return r.out;
}

function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

// ---- ICMPv6 tests --------------------------------------------------------------------------------

interface IcmpStep {
  offered: number;
  achieved: number;
  sent: number;
  delivered: number;
  answered: number;
  loss: number;
  note: string;
}

interface Latency {
  rate: number;
  requests: number;
  replies: number;
  paired: number;
  unmatched: number;
  tcpdumpDrops: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

interface IcmpResult {
  test: IcmpTest;
  responder: Responder;
  steps: IcmpStep[];
  best: IcmpStep | undefined;
  latency: Latency | undefined;
}

const pcaps = new Map<string, string>();

/** The replay files: a loop of 16 × SOURCES frames per test, and one latency run of unique frames. */
async function writePcaps(): Promise<void> {
  const t = await requestTemplates();
  const latencyFrames = Math.round(LATENCY_RATE * LATENCY_SECONDS);
  for (const test of ['ns', 'rs', 'echo'] as const) {
    for (const [name, n] of [
      ['loop', 16 * SOURCES],
      ['latency', latencyFrames],
    ] as const) {
      const path = join(dir, `${test}-${name}.pcap`);
      const w = new CaptureWriter(path);
      for (let i = 0; i < n; i++) {
        const f = test === 'echo' ? t.echo(i) : t[test](i % SOURCES);
        w.write(f, 0, f.length, i / 1000);
      }
      w.close();
      pcaps.set(`${test}-${name}`, path);
    }
  }
}

async function tcpreplay(file: string, rate: number, total: number, loopFrames: number) {
  const loops = Math.max(1, Math.ceil(total / loopFrames));
  const out = await inNs(
    NS_VM,
    ['tcpreplay', '-i', VM_IF, `--pps=${rate}`, `--loop=${loops}`, `--limit=${total}`, file],
    120_000,
  );
  return parseTcpreplay(out);
}

async function icmpStep(test: IcmpTest, responder: Responder, rate: number): Promise<IcmpStep> {
  const total = Math.round(rate * STEP_SECONDS);
  const vm0 = await counters(NS_VM, VM_IF);
  const rt0 = await counters(NS_RT, RT_IF);
  const m0 = responder === 'punt6' ? await punt6Metrics() : '';
  const r = await tcpreplay(pcaps.get(`${test}-loop`)!, rate, total, 16 * SOURCES);
  const vm1 = await drain();
  const rt1 = await counters(NS_RT, RT_IF);
  const sent = vm1.txPackets - vm0.txPackets;
  const delivered = rt1.rxPackets - rt0.rxPackets;
  const answered = vm1.rxPackets - vm0.rxPackets;
  const notes: string[] = [];
  if (r.failed > 0) notes.push(`tcpreplay failed ${r.failed}`);
  if (sent > delivered) notes.push(`veth dropped ${sent - delivered}`);
  if (responder === 'punt6') {
    const m1 = await punt6Metrics();
    const pcapDrop = metricSum(m1, 'punt6_pcap_dropped_total') - metricSum(m0, 'punt6_pcap_dropped_total');
    const seen =
      metricSum(m1, 'punt6_interface_received_frames_total') - metricSum(m0, 'punt6_interface_received_frames_total');
    if (pcapDrop > 0) notes.push(`capture buffer dropped ${pcapDrop}`);
    if (seen < delivered - pcapDrop) notes.push(`punt6 read ${seen}`);
  }
  const lost = Math.max(0, sent - answered);
  return {
    offered: rate,
    achieved: r.pps,
    sent,
    delivered,
    answered,
    loss: sent > 0 ? (100 * lost) / sent : NaN,
    note: notes.join('; '),
  };
}

async function latencyRun(test: IcmpTest): Promise<Latency> {
  const file = join(dir, `${test}-latency-capture.pcap`);
  const filter = `icmp6 and (icmp6[0] == ${REQUEST_TYPE[test]} or icmp6[0] == ${REPLY_TYPE[test]})`;
  const dump = startIn(NS_VM, [
    'tcpdump',
    '-i',
    VM_IF,
    '-n',
    '-s',
    '128',
    '-B',
    '32768',
    '-U',
    '-Z',
    'root',
    '-w',
    file,
    filter,
  ]);
  await until('tcpdump to listen', async () => {
    if (dump.child.exitCode !== null) throw new Error(`tcpdump exited: ${dump.out.join('')}`);
    return dump.out.join('').includes('listening on');
  });
  const frames = Math.round(LATENCY_RATE * LATENCY_SECONDS);
  await tcpreplay(pcaps.get(`${test}-latency`)!, LATENCY_RATE, frames, frames);
  await drain();
  // tcpdump reads in blocks handed over after its 1 s buffer timeout: wait for the last one.
  await sleep(1200);
  await stop(dump, 'SIGINT');
  const stats = parseTcpdumpStats(dump.out.join(''));
  const pairer = new Pairer(test);
  await readCaptureFile(file, (f) => pairer.add(f.data, f.captureLength, f.seconds * 1e6 + f.microseconds));
  const p = pairer.result();
  const d = p.delaysUs;
  return {
    rate: LATENCY_RATE,
    requests: p.requests,
    replies: p.replies,
    paired: d.length,
    unmatched: p.unmatched,
    tcpdumpDrops: stats.droppedByKernel,
    p50: percentile(d, 50),
    p90: percentile(d, 90),
    p99: percentile(d, 99),
    max: d.at(-1) ?? NaN,
  };
}

async function icmpTest(test: IcmpTest, responder: Responder): Promise<IcmpResult> {
  process.stderr.write(`${test} → ${responder}:`);
  const steps: IcmpStep[] = [];
  for (const rate of RATES) {
    const s = await icmpStep(test, responder, rate);
    steps.push(s);
    process.stderr.write(` ${rate}:${fmtPct(s.loss)}`);
    if (s.loss > 0) break;
  }
  let best: IcmpStep | undefined;
  for (const s of steps) if (s.loss === 0) best = s;
  const latency = await latencyRun(test);
  process.stderr.write(` latency p50 ${latency.p50} µs\n`);
  return { test, responder, steps, best, latency };
}

// ---- DHCPv6 -----------------------------------------------------------------------------------

interface DhcpStep {
  rate: number;
  result: PerfdhcpResult;
  drops: number;
  /** Completed 4-way exchanges (Replies received) per second of the test period. */
  exchanges: number;
  /** perfdhcp sent at least 90% of the Solicits the rate asks for, and none went unanswered. */
  clean: boolean;
}

interface DhcpResult {
  responder: Responder;
  steps: DhcpStep[];
  best: DhcpStep | undefined;
}

async function perfdhcp(rate: number): Promise<PerfdhcpResult> {
  const r = await run(
    'ip',
    [
      'netns',
      'exec',
      NS_VM,
      'perfdhcp',
      '-6',
      '-l',
      VM_IF,
      '-r',
      String(rate),
      '-R',
      '10000000',
      '-p',
      String(DHCP_SECONDS),
      '-W',
      '1000000',
    ],
    120_000,
  );
  return parsePerfdhcp(r.out + r.err);
}

async function dhcpTest(responder: Responder): Promise<DhcpResult> {
  process.stderr.write(`dhcpv6 → ${responder}:`);
  const steps: DhcpStep[] = [];
  for (const rate of DHCP_RATES) {
    const result = await perfdhcp(rate);
    const drops = (result.solicit.drops || 0) + (result.request.drops || 0);
    const exchanges = result.request.received / DHCP_SECONDS;
    const clean = drops === 0 && result.solicit.sent >= 0.9 * rate * DHCP_SECONDS;
    steps.push({ rate, result, drops, exchanges, clean });
    process.stderr.write(` ${rate}:${Math.round(exchanges)}/s drops ${drops}`);
    if (!clean) break;
  }
  process.stderr.write('\n');
  let best: DhcpStep | undefined;
  for (const s of steps) if (s.clean) best = s;
  return { responder, steps, best };
}

// ---- report ------------------------------------------------------------------------------------

function icmpReport(results: IcmpResult[]): string {
  const out: string[] = [];
  for (const test of ['ns', 'rs', 'echo'] as const) {
    const rs = results.filter((r) => r.test === test);
    if (rs.length === 0) continue;
    const title = { ns: 'NS → NA', rs: 'RS → RA (unicast)', echo: 'Echo request → echo reply' }[test];
    out.push(`### ${title}`, '');
    out.push(
      table(
        ['responder', 'offered pps', 'tcpreplay pps', 'sent', 'delivered', 'answered', 'loss', 'note'],
        rs.flatMap((r) =>
          r.steps.map((s) => [
            r.responder,
            fmtInt(s.offered),
            fmtInt(s.achieved),
            fmtInt(s.sent),
            fmtInt(s.delivered),
            fmtInt(s.answered),
            fmtPct(s.loss),
            s.note,
          ]),
        ),
      ),
      '',
    );
    out.push(
      table(
        [
          'responder',
          'highest rate, no loss (pps)',
          `latency at ${fmtInt(LATENCY_RATE)} pps: paired/sent`,
          'p50 µs',
          'p90 µs',
          'p99 µs',
          'max µs',
        ],
        rs.map((r) => {
          const l = r.latency;
          const best =
            r.best === undefined
              ? 'none'
              : `${fmtInt(r.best.achieved)}${r.best === r.steps.at(-1) && r.best.offered === RATES.at(-1) ? ' (the highest tried)' : ''}`;
          return [
            r.responder,
            best,
            l === undefined
              ? '-'
              : `${fmtInt(l.paired)}/${fmtInt(l.requests)}${l.tcpdumpDrops > 0 ? ` (tcpdump dropped ${l.tcpdumpDrops})` : ''}`,
            fmtInt(l?.p50 ?? NaN),
            fmtInt(l?.p90 ?? NaN),
            fmtInt(l?.p99 ?? NaN),
            fmtInt(l?.max ?? NaN),
          ];
        }),
      ),
      '',
    );
  }
  return out.join('\n');
}

function dhcpReport(results: DhcpResult[]): string {
  if (results.length === 0) return '';
  const out: string[] = ['### DHCPv6 Solicit/Advertise/Request/Reply (perfdhcp -6)', ''];
  out.push(
    table(
      [
        'server',
        'rate asked /s',
        'exchanges /s',
        'Solicit sent',
        'Advertise',
        'Request sent',
        'Reply',
        'drops',
        'Solicit→Advertise avg/max ms',
        'Request→Reply avg/max ms',
      ],
      results.flatMap((r) =>
        r.steps.map((s) => {
          const { solicit: sa, request: rr } = s.result;
          return [
            r.responder,
            fmtInt(s.rate),
            fmtInt(s.exchanges),
            fmtInt(sa.sent),
            fmtInt(sa.received),
            fmtInt(rr.sent),
            fmtInt(rr.received),
            fmtInt(s.drops),
            `${sa.avgDelay.toFixed(2)}/${sa.maxDelay.toFixed(1)}`,
            `${rr.avgDelay.toFixed(2)}/${rr.maxDelay.toFixed(1)}`,
          ];
        }),
      ),
    ),
    '',
  );
  out.push(
    table(
      ['server', 'highest rate asked with no drops /s', 'exchanges /s there'],
      results.map((r) => [
        r.responder,
        r.best === undefined
          ? 'none'
          : fmtInt(r.best.rate) +
            (r.best === r.steps.at(-1) && r.best.rate === DHCP_RATES.at(-1) ? ' (the highest tried)' : ''),
        r.best === undefined ? '-' : fmtInt(r.best.exchanges),
      ]),
    ),
    '',
  );
  return out.join('\n');
}

async function environment(): Promise<string> {
  const lines = [
    ...(await machineLines()),
    `node ${process.version}, V8 ${process.versions.v8}`,
    `tcpreplay ${await toolVersion('tcpreplay', ['--version'], /version: (\S+)/)}, tcpdump ${await toolVersion('tcpdump', ['--version'], /tcpdump version (\S+)/)}, ` +
      `perfdhcp ${await toolVersion('perfdhcp', ['-v'], /(\d+\.\d+\.\d+)/)}, kea-dhcp6 ${await toolVersion('kea-dhcp6', ['-v'], /(\d+\.\d+\.\d+)/)}, ` +
      `radvd ${await toolVersion('radvd', ['-v'], /Version: (\S+)/)}, dnsmasq ${await toolVersion('dnsmasq', ['-v'], /version (\S+)/)}`,
    `steps: ${STEP_SECONDS} s at ${RATES.join(', ')} pps; latency: ${LATENCY_SECONDS} s at ${LATENCY_RATE} pps; DHCPv6: ${DHCP_SECONDS} s at ${DHCP_RATES.join(', ')} /s`,
  ];
  return lines.join('\n');
}

// ---- main ----------------------------------------------------------------------------------------

async function check(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces, raw sockets)');
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  const missing: string[] = [];
  for (const tool of TOOLS) if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) missing.push(tool);
  if (missing.length > 0) {
    throw new Error(
      `missing: ${missing.join(' ')} (Debian packages: iproute2 procps ethtool tcpreplay tcpdump kea-admin kea-dhcp6-server radvd dnsmasq-base curl)`,
    );
  }
}

async function main(): Promise<void> {
  await check();
  const started = Date.now();
  dir = await mkdtemp(join(tmpdir(), 'punt6-bench-e2e-'));
  chmodSync(dir, 0o755);
  const header = await environment();
  process.stdout.write(`# punt6 end-to-end benchmark\n\n\`\`\`\n${header}\n\`\`\`\n\n`);
  await writePcaps();

  const icmp: IcmpResult[] = [];
  const icmpTests = (['ns', 'rs', 'echo'] as const).filter((t) => ONLY.has(t));
  if (icmpTests.length > 0) {
    await topology(false, 'punt6');
    const p = await startPunt6();
    try {
      for (const test of icmpTests) icmp.push(await icmpTest(test, 'punt6'));
    } finally {
      await stop(p);
    }
    if (PEERS) {
      const kernelTests = icmpTests.filter((t) => t !== 'rs');
      if (kernelTests.length > 0) {
        await topology(false, 'kernel');
        for (const test of kernelTests) icmp.push(await icmpTest(test, 'kernel'));
      }
      if (icmpTests.includes('rs')) {
        await topology(false, 'kernel');
        const r = await startRadvd();
        try {
          icmp.push(await icmpTest('rs', 'radvd'));
        } finally {
          await stop(r);
        }
      }
    }
  }

  const dhcp: DhcpResult[] = [];
  if (ONLY.has('dhcp')) {
    const servers: [Responder, () => Promise<Daemon>][] = [['punt6', startPunt6]];
    if (PEERS) servers.push(['kea-dhcp6', startKea], ['dnsmasq', startDnsmasq]);
    for (const [name, start] of servers) {
      await topology(true, name === 'punt6' ? 'punt6' : 'kernel');
      const d = await start();
      try {
        dhcp.push(await dhcpTest(name));
      } finally {
        await stop(d);
      }
    }
  }

  process.stdout.write(icmpReport(icmp) + '\n');
  process.stdout.write(dhcpReport(dhcp) + '\n');
  if (firstFrame.length > 0) process.stdout.write(`punt6 warm-up frames: ${firstFrame.join('; ')}\n`);
  process.stdout.write(`total time ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

main()
  .catch(async (e: unknown) => {
    process.stderr.write(`\nerror: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
  });
