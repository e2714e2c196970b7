/**
 * End to end under DHCPv6 load: `punt6 run` (the built CLI) on one end of a veth pair, perfdhcp
 * in a "VM" network namespace on the other doing Solicit, Advertise, Request, Reply for hundreds
 * of new clients a second, tcpdump in the VM recording every Reply. While the load runs, punt6 is
 * reloaded (SIGHUP, the same valid file) and killed (SIGKILL) at seeded random moments, and
 * started again on the same state directory at once. Then, punt6 stopped with SIGTERM:
 *
 * 1. every binding acknowledged on the wire (a Reply with an IA Address of nonzero valid
 *    lifetime, decoded with punt6's own codecs) is in the lease journal for the same DUID and
 *    IAID, with the same address;
 * 2. no address was acknowledged to two clients (the same client again is fine);
 * 3. after a restart, a second wave of new clients (other DUIDs) gets none of those addresses,
 *    and the journal then holds both waves.
 *
 * Three scenarios with different rates, orders and moments of the signals; the seed of each is
 * printed (rerun with PUNT6_LOAD_SEED=N to get the same schedules). Needs root, `ip netns`,
 * perfdhcp (Debian kea-admin), tcpdump and `dist/`; outside CI it skips, loudly, when any of that
 * is missing; under CI=true it fails. Its names (p6ld-*) are its own.
 */

import test, { type ExecutionContext } from 'ava';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIpv6, fromHex, toHex } from '../../codecs/bytes.js';
import { Dhcpv6MessageType } from '../../codecs/dhcpv6.js';
import { FrameDecoder } from '../../codecs/frame.js';
import { Status } from '../../codecs/status.js';
import { loadCaptureFile } from '../capture/reader.js';
import { loadConfig, type Punt6Config } from '../config/index.js';
import { decodeDhcpv6Reply, duidOf, innerMessage, optionsOf } from '../test-support/dhcp.js';
import { LeaseTable, LeaseType } from '../dhcp/leases.js';
import { Background, e2eGate, Punt6Process, until, VethVm } from '../test-support/e2e.js';
import { sleep } from '../system/exec.js';
import { Random } from '../responder/router-advertiser.js';
import { poolsOf, staticBindingsOf } from '../responder/responder.js';

const gate = e2eGate('DHCPv6 load end-to-end tests', ['ip', 'ethtool', 'sysctl', 'perfdhcp', 'tcpdump']);
const e2e = gate.enabled ? test.serial : test.serial.skip;

const id = String(process.pid % 100000);
const vm = new VethVm(`p6ld-${id}`, `p6ld${id}`, '02:00:00:00:00:01');
/** Seconds of load in the first wave (with the signals) and in the second. */
const WAVE1_SECONDS = 5;
const WAVE2_SECONDS = 2;

const baseSeed = Number(process.env['PUNT6_LOAD_SEED'] ?? Date.now() % 1_000_000_000);

function configText(hostIf: string, stateDirectory: string): string {
  // All load comes from one MAC: punt6's per-sender token bucket and its per-port lease limit
  // are lifted. Lifetimes of a day,
  // so nothing expires during the test; no RAs, so SIGTERM stops at once.
  return `
interfaces:
  - name: ${hostIf}
    network: tenant
networks:
  - name: tenant
    routerMac: 02:00:00:00:00:fe
    prefixes: [2001:db8:7::/64]
    ra:
      enabled: false
    dhcpv6:
      mode: stateful
      preferredLifetime: 43200
      validLifetime: 86400
      addressPools: [2001:db8:7::1:0/112]
server:
  stateDirectory: ${JSON.stringify(stateDirectory)}
  rateLimit:
    rate: 1000000
    burst: 1000000
  leaseLimits:
    addressesPerPort: 1000000
`;
}

// ---- what the wire says ------------------------------------------------------------------------

interface Ack {
  duid: Uint8Array;
  iaid: number;
  address: Uint8Array;
  /** Where it was acknowledged: wave and frame number. */
  where: string;
}

/**
 * The bindings acknowledged on the wire, read from the client side's captures in order. A Reply
 * acknowledges each IA Address with a nonzero valid lifetime to the (DUID, IAID) of its IA and
 * withdraws each one with lifetime 0. An address acknowledged while another client holds it, or
 * a second address for an IA whose first was never withdrawn, is a problem.
 */
class WireLedger {
  /** Address (hex) → the client IA (`DUID/IAID`) holding it. */
  private readonly holders = new Map<string, string>();
  /** Client IA → its binding. */
  readonly held = new Map<string, Ack>();
  readonly problems: string[] = [];

  /** Reads one capture into the ledger; returns what it counted there. */
  async read(
    file: string,
    wave: string,
  ): Promise<{ replies: number; grants: number; requestReplies: number; clients: number; badFrames: number }> {
    const { frames } = await loadCaptureFile(file);
    const decoder = new FrameDecoder();
    const requests = new Set<number>();
    const clients = new Set<string>();
    let replies = 0;
    let grants = 0;
    let requestReplies = 0;
    let badFrames = 0;
    frames.forEach((frame, i) => {
      if (decoder.decode(frame.data, 0, frame.data.length) !== Status.Ok || decoder.dhcpv6Type < 0) {
        badFrames++;
        return;
      }
      const message = innerMessage(decodeDhcpv6Reply(frame.data).message);
      if (message.msgType === Dhcpv6MessageType.Request) requests.add(message.transactionId);
      if (message.msgType !== Dhcpv6MessageType.Reply) return;
      replies++;
      if (requests.has(message.transactionId)) requestReplies++;
      const duid = duidOf(optionsOf(message.options, 'client-id')[0]);
      let granted = false;
      for (const ia of optionsOf(message.options, 'ia-na')) {
        const client = `${duid}/${ia.iaid}`;
        const addresses = optionsOf(ia.options, 'ia-address');
        for (const a of addresses.filter((x) => x.validLifetime === 0)) this.withdraw(client, toHex(a.address));
        for (const a of addresses.filter((x) => x.validLifetime > 0)) {
          this.acknowledge(
            { duid: fromHex(duid), iaid: ia.iaid, address: a.address, where: `${wave} frame ${i + 1}` },
            client,
          );
          clients.add(client);
          granted = true;
        }
      }
      if (granted) grants++;
    });
    return { replies, grants, requestReplies, clients: clients.size, badFrames };
  }

  private withdraw(client: string, address: string): void {
    if (this.holders.get(address) === client) this.holders.delete(address);
    const ack = this.held.get(client);
    if (ack !== undefined && toHex(ack.address) === address) this.held.delete(client);
  }

  private acknowledge(ack: Ack, client: string): void {
    const address = toHex(ack.address);
    const holder = this.holders.get(address);
    if (holder !== undefined && holder !== client) {
      this.problems.push(
        `${formatIpv6(ack.address)} acknowledged to ${client} (${ack.where}) while ${holder} holds it (${this.held.get(holder)?.where})`,
      );
    }
    const before = this.held.get(client);
    if (before !== undefined && toHex(before.address) !== address) {
      this.problems.push(
        `${client} acknowledged ${formatIpv6(ack.address)} (${ack.where}) while holding ${formatIpv6(before.address)} (${before.where}), never withdrawn`,
      );
      this.holders.delete(toHex(before.address));
    }
    this.holders.set(address, client);
    this.held.set(client, ack);
  }
}

/** Every binding the ledger says is held, looked up in the lease journal; what differs. */
async function journalDifferences(
  config: Punt6Config,
  ledger: WireLedger,
): Promise<{ differences: string[]; leases: number }> {
  const table = await LeaseTable.open(config.server.leaseFile, {
    pools: poolsOf(config),
    staticBindings: staticBindingsOf(config),
  });
  try {
    const now = Date.now();
    const differences: string[] = [];
    for (const [client, ack] of ledger.held) {
      const lease = table.lookup(ack.duid, ack.iaid, LeaseType.Address);
      const wanted = formatIpv6(ack.address);
      if (lease === undefined) {
        const other = table.lookupAddress(ack.address);
        differences.push(
          `${client} acknowledged ${wanted} (${ack.where}): no lease; the address is ${other === undefined ? 'free' : `held by ${toHex(other.duid)}/${other.iaid}`}`,
        );
      } else if (formatIpv6(lease.address) !== wanted) {
        differences.push(
          `${client} acknowledged ${wanted} (${ack.where}): the journal gives it ${formatIpv6(lease.address)}`,
        );
      } else if (lease.expiresAt <= now) {
        differences.push(`${client} acknowledged ${wanted} (${ack.where}): expired in the journal`);
      }
    }
    return { differences, leases: table.counts().addresses };
  } finally {
    await table.close();
  }
}

// ---- load, capture, signals ----------------------------------------------------------------------

interface Capture {
  tcpdump: Background;
  file: string;
}

async function startCapture(file: string): Promise<Capture> {
  // Both directions of port 546: the Requests too, to tell which Replies answer them.
  const tcpdump = vm.spawn([
    'tcpdump',
    '-i',
    vm.vmIf,
    '-n',
    '-U',
    '-B',
    '16384',
    '-s',
    '1500',
    '-w',
    file,
    'udp port 546',
  ]);
  await until('tcpdump to listen', async () => tcpdump.out.includes('listening on') || !tcpdump.running);
  if (!tcpdump.running) throw new Error(`tcpdump did not start: ${tcpdump.out}`);
  return { tcpdump, file };
}

/** Stops tcpdump (SIGINT flushes the file) and returns the frames the kernel dropped. */
async function stopCapture(c: Capture): Promise<number> {
  await c.tcpdump.stop('SIGINT');
  const m = /(\d+) packets? dropped by kernel/.exec(c.tcpdump.out);
  if (m === null) throw new Error(`tcpdump said nothing of drops: ${c.tcpdump.out}`);
  return Number(m[1]);
}

/** perfdhcp -6: `rate` new exchanges a second from clients whose DUIDs start from `mac`. */
function perfdhcp(rate: number, seconds: number, mac: string): Background {
  return vm.spawn([
    'perfdhcp',
    '-6',
    '-l',
    vm.vmIf,
    '-r',
    String(rate),
    '-R',
    '1000000',
    '-p',
    String(seconds),
    '-W',
    '500000',
    '-b',
    `mac=${mac}`,
  ]);
}

/** perfdhcp's exit code and REQUEST-REPLY figures, for the log. */
async function perfdhcpSummary(load: Background): Promise<string> {
  const code = await load.exit;
  const rr = load.out.slice(load.out.indexOf('REQUEST-REPLY'));
  const num = (what: string): string => new RegExp(`${what}: (\\d+)`).exec(rr)?.[1] ?? '?';
  return `perfdhcp (exit ${code}): ${num('sent packets')} Requests sent, ${num('received packets')} Replies received`;
}

interface Signal {
  /** Seconds after the load started. */
  at: number;
  signal: 'SIGHUP' | 'SIGKILL';
}

interface Plan {
  seed: number;
  rate: number;
  signals: Signal[];
}

/**
 * The schedule of scenario `n`: a rate of 300-500 exchanges a second and signals at random moments
 * between 0.5 s and 1 s before the end of the first wave. Scenario 0 reloads, then kills; 1 kills,
 * then reloads the restarted punt6; 2 kills within 100 ms of a reload (during it or just after),
 * and reloads again at least 1.5 s later.
 */
function plan(n: number, seed: number): Plan {
  const r = new Random(seed);
  const rate = 300 + 50 * Math.floor(r.next() * 5);
  const last = WAVE1_SECONDS - 1;
  const between = (from: number, to: number): number => Math.round((from + r.next() * (to - from)) * 1000) / 1000;
  let signals: Signal[];
  if (n % 3 === 2) {
    const hup = between(0.5, last - 1.5);
    signals = [
      { at: hup, signal: 'SIGHUP' },
      { at: between(hup, hup + 0.1), signal: 'SIGKILL' },
      { at: between(hup + 1.5, last), signal: 'SIGHUP' },
    ];
  } else {
    const [a, b] = [between(0.5, last), between(0.5, last)].sort((x, y) => x - y) as [number, number];
    signals =
      n % 3 === 0
        ? [
            { at: a, signal: 'SIGHUP' },
            { at: b, signal: 'SIGKILL' },
          ]
        : [
            { at: a, signal: 'SIGKILL' },
            { at: b, signal: 'SIGHUP' },
          ];
  }
  return { seed, rate, signals };
}

/** The punt6 processes of a scenario: the running one, restarted after a SIGKILL. */
class Punt6Runs {
  current: Punt6Process;
  /** SIGHUPs sent to the current process. */
  private hups = 0;
  readonly all: Punt6Process[] = [];
  private readonly configPath: string;

  constructor(configPath: string) {
    this.configPath = configPath;
    this.current = this.start();
  }

  private start(): Punt6Process {
    const p = new Punt6Process(this.configPath);
    this.all.push(p);
    this.hups = 0;
    return p;
  }

  /** A valid reload: the same file, touched. Sent only once the process handles SIGHUP. */
  async reload(): Promise<void> {
    await this.current.logged('punt6 running');
    const now = new Date();
    await utimes(this.configPath, now, now);
    this.hups++;
    this.current.child.kill('SIGHUP');
  }

  /** SIGKILL, then the same command on the same state directory at once. */
  async killAndRestart(): Promise<void> {
    await this.current.kill();
    this.current = this.start();
  }

  /** Waits for the current process to run with every reload done, then SIGTERM; its exit code. */
  async stop(): Promise<number | null> {
    const p = this.current;
    await p.logged('punt6 running');
    await until('the reloads to finish', async () => p.count('configuration reloaded') >= this.hups);
    p.child.kill('SIGTERM');
    return p.exit;
  }

  /** Log lines that must not appear in a healthy run. */
  trouble(): string[] {
    const bad = new Set([
      'configuration refused; the running one stays',
      'lease journal commit failed; DHCPv6 replies not sent',
      'cannot start the new configuration; going back to the running one',
    ]);
    return this.all.flatMap((p) =>
      p.logs
        .filter((l) => bad.has(String(l.msg)) || (typeof l.level === 'number' && l.level >= 50))
        .map((l) => JSON.stringify(l)),
    );
  }

  async killAll(): Promise<void> {
    for (const p of this.all) await p.kill();
  }
}

async function runSignals(runs: Punt6Runs, signals: Signal[], start: number): Promise<void> {
  for (const s of signals) {
    await sleep(start + s.at * 1000 - Date.now());
    if (s.signal === 'SIGHUP') await runs.reload();
    else await runs.killAndRestart();
  }
}

let dir = '';
const leftovers: { runs: Punt6Runs[]; background: Background[] } = { runs: [], background: [] };

test.before(async () => {
  if (!gate.check()) return;
  dir = await mkdtemp(join(tmpdir(), 'punt6-load-e2e-'));
  await vm.create();
  // Offload off: the capture checks every frame's checksum, the VM's requests included, and
  // tcpdump in the VM reads them before the device would have filled them in.
  await vm.createLink(false);
  // No DAD on the VM's link-local address: perfdhcp can send from it at once.
  await vm.must(['sysctl', '-qw', `net.ipv6.conf.${vm.vmIf}.accept_dad=0`]);
  await vm.up();
});

test.after.always(async () => {
  for (const b of leftovers.background) await b.stop('SIGKILL');
  for (const r of leftovers.runs) await r.killAll();
  if (gate.reason === null) await vm.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function scenario(t: ExecutionContext, n: number): Promise<void> {
  t.timeout(60_000);
  const p = plan(n, baseSeed + n);
  t.log(
    `seed ${p.seed} (PUNT6_LOAD_SEED=${baseSeed} repeats these schedules): ${p.rate} exchanges/s for ${WAVE1_SECONDS} s, ${p.signals.map((s) => `${s.signal} at ${s.at.toFixed(3)} s`).join(', ')}`,
  );
  const here = join(dir, `scenario-${n}`);
  const configPath = join(here, 'punt6.yaml');
  await mkdir(here);
  await writeFile(configPath, configText(vm.hostIf, join(here, 'state')));
  const config = await loadConfig(configPath);
  const ledger = new WireLedger();
  const violations: Record<string, string[]> = {};

  // Wave 1: load with the signals.
  const runs = new Punt6Runs(configPath);
  const wave1 = await wave(
    t,
    runs,
    ledger,
    'wave 1',
    join(here, 'wave1.pcap'),
    () => perfdhcp(p.rate, WAVE1_SECONDS, '02:10:00:00:00:00'),
    (start) => runSignals(runs, p.signals, start),
  );
  t.true(
    wave1.clients >= p.rate * WAVE1_SECONDS * 0.25,
    `wave 1 acknowledged only ${wave1.clients} clients at ${p.rate}/s`,
  );
  violations['wave 1: an address acknowledged to a second client'] = ledger.problems.slice();
  const journal1 = await journalDifferences(config, ledger);
  violations['wave 1: acknowledged, but not so in the journal after the restarts'] = journal1.differences;
  t.log(
    `wave 1: journal after SIGTERM: ${journal1.leases} leases; ${ledger.held.size - journal1.differences.length} of the ${ledger.held.size} acknowledged bindings held as acknowledged`,
  );

  // Wave 2: a restart, new clients; none may get an address acknowledged in wave 1.
  const runs2 = new Punt6Runs(configPath);
  const wave2 = await wave(t, runs2, ledger, 'wave 2', join(here, 'wave2.pcap'), () =>
    perfdhcp(p.rate, WAVE2_SECONDS, '02:20:00:00:00:00'),
  );
  t.true(
    wave2.clients >= p.rate * WAVE2_SECONDS * 0.25,
    `wave 2 acknowledged only ${wave2.clients} clients at ${p.rate}/s`,
  );
  violations['wave 2: a new client acknowledged an address a client of wave 1 holds'] = ledger.problems.slice(
    violations['wave 1: an address acknowledged to a second client']!.length,
  );
  const journal2 = await journalDifferences(config, ledger);
  violations['both waves: acknowledged, but not so in the journal'] = journal2.differences;
  t.log(
    `wave 2: journal after SIGTERM: ${journal2.leases} leases; ${ledger.held.size - journal2.differences.length} of the ${ledger.held.size} acknowledged bindings held as acknowledged`,
  );

  const counts = Object.fromEntries(Object.entries(violations).map(([what, list]) => [what, list.length]));
  for (const [what, list] of Object.entries(violations)) {
    if (list.length > 0)
      t.log(`${what}: ${list.length}\n  ${list.slice(0, 10).join('\n  ')}${list.length > 10 ? '\n  ...' : ''}`);
  }
  t.deepEqual(counts, Object.fromEntries(Object.keys(violations).map((what) => [what, 0])));
}

/**
 * One wave: punt6 running, tcpdump recording, the load and (optionally) the signals at once, then
 * punt6 stopped with SIGTERM and the capture read into the ledger.
 */
async function wave(
  t: ExecutionContext,
  runs: Punt6Runs,
  ledger: WireLedger,
  name: string,
  file: string,
  startLoad: () => Background,
  during: (start: number) => Promise<void> = async () => {},
): Promise<{ clients: number }> {
  leftovers.runs.push(runs);
  await runs.current.logged('punt6 running');
  const capture = await startCapture(file);
  leftovers.background.push(capture.tcpdump);
  const load = startLoad();
  leftovers.background.push(load);
  await Promise.all([load.exit, during(Date.now())]);
  t.is(await runs.stop(), 0, `punt6 stops cleanly after ${name}`);
  await sleep(200);
  t.is(await stopCapture(capture), 0, `tcpdump saw every frame of ${name}`);
  const r = await ledger.read(file, name);
  t.log(
    `${name}: ${r.grants} Replies acknowledged ${r.clients} clients (${r.requestReplies} of ${r.replies} Replies answer a Request seen); ${punt6Starts(runs)}; ${await perfdhcpSummary(load)}`,
  );
  t.is(r.badFrames, 0, `every frame captured in ${name} decodes, checksums good`);
  t.deepEqual(runs.trouble(), [], `punt6 logged no errors in ${name}`);
  return r;
}

function punt6Starts(runs: Punt6Runs): string {
  const reloads = runs.all.reduce((s, p) => s + p.count('configuration reloaded'), 0);
  return `punt6 processes: ${runs.all.length}, reloads: ${reloads}`;
}

for (let n = 0; n < 3; n++) {
  e2e(
    `DHCPv6 under load, SIGHUP and SIGKILL: every acknowledged lease kept, none given twice (scenario ${n + 1})`,
    (t) => scenario(t, n),
  );
}
