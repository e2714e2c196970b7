/**
 * `punt6 lab up | status | down`: a private Open vSwitch with a userspace (netdev) bridge, an
 * internal punt port per configured interface, one network namespace per configured port, punt6
 * itself, and the real IPv6 clients of those namespaces (the kernel, rdisc6, ndisc6, ping,
 * dhclient) checked against what the configuration says they should get. docs/lab.md describes it.
 */

import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../config/index.js';
import { inPrefix as addressInPrefix } from '../../codecs/bytes.js';
import { parseIpv6Address, parseIpv6Prefix } from '../config/addr.js';
import {
  LabError,
  haveCommand,
  livePid,
  processCommandLine,
  run,
  runIn,
  runInOk,
  runOk,
  sleep,
  startDaemon,
  stopByPidFile,
  stopProcess,
  waitFor,
} from '../system/exec.js';
import { PUNT6_COOKIE } from '../flows/rules.js';
import { PrivateOvs } from './ovs.js';
import {
  BRIDGE,
  DEFAULT_METRICS_PORT,
  DEFAULT_STATE_DIRECTORY,
  LAB_PREFIX,
  VM_INTERFACE,
  buildFlows,
  buildPlan,
  withControlSocket,
  withVms,
  type LabPlan,
  type LabVm,
} from './plan.js';
import {
  formatSample,
  lastEvent,
  parseFlowDump,
  parseDefaultRoutes,
  parseDhclientRecord,
  parseIpAddr,
  parseNdisc6,
  parsePing,
  parsePrometheus,
  parseRdisc6,
  sameAddresses,
  sameDomains,
  type MetricSample,
} from './parse.js';
import { formatTable } from './report.js';

export interface LabOptions {
  stateDirectory: string;
  /** The punt6 configuration the lab is built from (default: fixtures/config/lab.yaml). */
  configPath: string;
  /** When set, the configuration's ports are replaced by this many VMs (`withVms`). */
  vms?: number;
  metricsPort: number;
  /** Progress lines (stderr). */
  progress: (line: string) => void;
  /** Results (stdout). */
  write: (line: string) => void;
}

export const REQUIRED_COMMANDS = [
  'ip',
  'sysctl',
  'ethtool',
  'ovsdb-tool',
  'ovsdb-server',
  'ovs-vswitchd',
  'ovs-vsctl',
  'ovs-ofctl',
  'rdisc6',
  'ndisc6',
  'ping',
  'dhclient',
] as const;

/** The repository this file belongs to (from src/lab or dist/src/lab). */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'punt6') return dir;
    dir = resolve(dir, '..');
  }
  throw new LabError('cannot find the punt6 repository root');
}

export function defaultLabOptions(): LabOptions {
  return {
    stateDirectory: DEFAULT_STATE_DIRECTORY,
    configPath: join(repositoryRoot(), 'fixtures', 'config', 'lab.yaml'),
    metricsPort: DEFAULT_METRICS_PORT,
    progress: (l) => process.stderr.write(`lab: ${l}\n`),
    write: (l) => process.stdout.write(`${l}\n`),
  };
}

/** What `lab up` records for `status` and `down`. */
interface LabState {
  bridge: string;
  metricsPort: number;
  config: string;
  namespaces: string[];
  puntInterfaces: string[];
}

class Files {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }
  get state(): string {
    return join(this.root, 'lab.json');
  }
  get ovs(): string {
    return join(this.root, 'ovs');
  }
  get config(): string {
    return join(this.root, 'punt6.yaml');
  }
  /** The control socket of the lab's punt6 (`punt6 ctl --config STATE/punt6.yaml`). */
  get control(): string {
    return join(this.root, 'control.sock');
  }
  get punt6Pid(): string {
    return join(this.root, 'punt6.pid');
  }
  get punt6Log(): string {
    return join(this.root, 'punt6.log');
  }
  get flows(): string {
    return join(this.root, 'flows.txt');
  }
  get report(): string {
    return join(this.root, 'report.txt');
  }
  vm(name: string): string {
    return join(this.root, 'vms', name);
  }
}

// ---------------------------------------------------------------------------------------------
// Cleaning up (lab down, and the start of lab up)

async function listLabNamespaces(): Promise<string[]> {
  const r = await run('ip', ['-j', 'netns', 'list']);
  if (r.code !== 0 || r.stdout.trim() === '') return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name).filter((n) => n.startsWith(`${LAB_PREFIX}-`));
}

async function listLabLinks(): Promise<string[]> {
  const r = await run('ip', ['-j', 'link', 'show']);
  if (r.code !== 0 || r.stdout.trim() === '') return [];
  return (JSON.parse(r.stdout) as { ifname: string }[])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith(`${LAB_PREFIX}-`));
}

async function isTap(name: string): Promise<boolean> {
  const r = await run('ip', ['-d', '-j', 'link', 'show', 'dev', name]);
  if (r.code !== 0) return false;
  const links = JSON.parse(r.stdout) as { linkinfo?: { info_kind?: string } }[];
  return links[0]?.linkinfo?.info_kind === 'tun';
}

/**
 * State directories of other labs that still run (started with another --state): found through
 * the command lines of their daemons, which name files in them, and confirmed by their lab.json.
 * The namespaces and links have fixed names, so two labs cannot run at once.
 */
/** What `lab up` writes at the top of its state directory (punt6's own state goes below it too). */
const LAB_ENTRIES = new Set([
  'lab.json',
  'ovs',
  'punt6.yaml',
  'punt6.pid',
  'punt6.log',
  'flows.txt',
  'report.txt',
  'vms',
]);

/**
 * Why `dir` is not a state directory the lab may delete (`lab up` and `lab down` remove it
 * whole, recursively); null when it is: absent, empty, holding the `lab.json` of a lab, or only
 * what `lab up` writes before that file. `--state` names any path: a mistyped one must not take
 * someone's files with it.
 */
export function stateDirectoryProblem(dir: string): string | null {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    return code === 'ENOTDIR' ? 'not a directory; left alone' : `cannot read it (${(e as Error).message}); left alone`;
  }
  if (entries.includes('lab.json')) return null;
  const others = entries.filter((e) => !LAB_ENTRIES.has(e)).sort();
  if (others.length === 0) return null;
  const shown = others.slice(0, 3).join(', ') + (others.length > 3 ? `, … (${others.length} in all)` : '');
  return `not a lab's state directory (no lab.json, and it holds ${shown}); left alone`;
}

function otherLabDirectories(own: string): string[] {
  const dirs = new Set<string>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  for (const e of entries) {
    const cmd = processCommandLine(Number(e));
    if (cmd === null) continue;
    const m =
      /--pidfile=(\S+)\/ovs\/(?:ovs-vswitchd|ovsdb-server)\.pid/.exec(cmd) ??
      /\srun --config (\S+)\/punt6\.yaml/.exec(cmd);
    if (m && existsSync(join(m[1] as string, 'lab.json'))) dirs.add(resolve(m[1] as string));
  }
  dirs.delete(resolve(own));
  return [...dirs];
}

async function stopLabDaemons(files: Files): Promise<string[]> {
  const stopped: string[] = [];
  if (await stopByPidFile(files.punt6Pid, files.config, 10_000)) stopped.push('punt6');
  return stopped;
}

/** Stops every lab process, removes the namespaces and links, deletes the state directory. */
export async function tearDown(options: LabOptions): Promise<string[]> {
  const problem = stateDirectoryProblem(options.stateDirectory);
  if (problem !== null) throw new LabError(`${options.stateDirectory}: ${problem}`);
  const files = new Files(options.stateDirectory);
  const previous = readState(files);
  const removed: string[] = [];
  for (const dir of otherLabDirectories(options.stateDirectory)) {
    const other = new Files(dir);
    const punts = readState(other)?.puntInterfaces ?? [];
    for (const d of await stopLabDaemons(other)) removed.push(`${d} of the lab in ${dir}`);
    for (const d of await new PrivateOvs(other.ovs).stop()) removed.push(`${d} of the lab in ${dir}`);
    for (const name of punts) if (await isTap(name)) await runOk('ip', ['link', 'del', name]);
    rmSync(dir, { recursive: true, force: true });
    removed.push(`state directory ${dir}`);
  }
  removed.push(...(await stopLabDaemons(files)));
  for (const ns of await listLabNamespaces()) {
    // Processes the lab started in the namespace (dhclient): they keep a namespace alive.
    const pids = await run('ip', ['netns', 'pids', ns]);
    for (const p of pids.stdout.split(/\s+/).filter((s) => s !== '')) {
      const pid = Number(p);
      if (Number.isInteger(pid) && pid > 1) {
        await stopProcess(pid, 2_000);
        removed.push(`process ${pid} in ${ns}`);
      }
    }
  }
  const ovs = new PrivateOvs(files.ovs);
  removed.push(...(await ovs.stop()));
  for (const ns of await listLabNamespaces()) {
    await runOk('ip', ['netns', 'del', ns]);
    removed.push(`namespace ${ns}`);
  }
  // OVS makes its internal ports persistent TAP devices: they outlive ovs-vswitchd.
  for (const name of previous?.puntInterfaces ?? []) {
    if (await isTap(name)) {
      await runOk('ip', ['link', 'del', name]);
      removed.push(`link ${name}`);
    }
  }
  for (const link of await listLabLinks()) {
    const r = await run('ip', ['link', 'del', link]);
    if (r.code === 0) removed.push(`link ${link}`);
  }
  if (existsSync(options.stateDirectory)) {
    rmSync(options.stateDirectory, { recursive: true, force: true });
    removed.push(`state directory ${options.stateDirectory}`);
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// Building the lab

function writeSysctl(path: string, value: string): void {
  writeFileSync(path, value);
}

async function createVm(ovs: PrivateOvs, plan: LabPlan, vm: LabVm): Promise<void> {
  const ns = vm.namespace;
  await runOk('ip', ['netns', 'add', ns]);
  await runOk('ip', ['link', 'add', vm.hostInterface, 'type', 'veth', 'peer', 'name', VM_INTERFACE, 'netns', ns]);
  await runOk('ip', ['-n', ns, 'link', 'set', VM_INTERFACE, 'address', vm.mac]);
  await runOk('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  // The VM's kernel: a host taking RAs (SLAAC, default route), not a router.
  await runInOk(ns, 'sysctl', [
    '-qw',
    `net.ipv6.conf.${VM_INTERFACE}.forwarding=0`,
    `net.ipv6.conf.${VM_INTERFACE}.accept_ra=1`,
    `net.ipv6.conf.${VM_INTERFACE}.autoconf=1`,
  ]);
  // Checksums filled in by the sender's kernel, not left to an offload that a veth never does:
  // punt6 reads the frames through OVS and verifies their checksums.
  await runInOk(ns, 'ethtool', ['-K', VM_INTERFACE, 'tx', 'off']);
  await runOk('ethtool', ['-K', vm.hostInterface, 'tx', 'off']);
  // The bridge side takes no part in IPv6 (no DAD, RS or MLD of the host's own).
  writeSysctl(`/proc/sys/net/ipv6/conf/${vm.hostInterface}/disable_ipv6`, '1');
  await runOk('ip', ['link', 'set', vm.hostInterface, 'up']);
  // external_ids:iface-id names the configuration's port, as OVN does: punt6 finds the port by it.
  await ovs.vsctl([
    'add-port',
    plan.bridge,
    vm.hostInterface,
    '--',
    'set',
    'interface',
    vm.hostInterface,
    `ofport_request=${vm.ofport}`,
    `external_ids:iface-id=${vm.name}`,
  ]);
}

async function startPunt6(files: Files, options: LabOptions, ovs: PrivateOvs, bridge: string): Promise<number> {
  const cli = join(repositoryRoot(), 'dist', 'src', 'commands', 'cli.js');
  if (!existsSync(cli)) throw new LabError(`${cli} is missing: build punt6 first (npm run build)`);
  const pid = startDaemon(
    process.execPath,
    [cli, 'run', '--config', files.config, '--metrics', `[::1]:${options.metricsPort}`, '--bridge', bridge],
    files.punt6Log,
    files.punt6Pid,
    ovs.env,
  );
  await waitFor('punt6 to answer on its metrics endpoint', 30_000, async () => {
    if (processCommandLine(pid) === null) {
      throw new LabError(`punt6 exited during start-up; the end of ${files.punt6Log}:\n${tail(files.punt6Log, 20)}`);
    }
    return (await scrapeMetrics(options.metricsPort)) === null ? undefined : true;
  });
  return pid;
}

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return '(no log)';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export async function scrapeMetrics(port: number): Promise<MetricSample[] | null> {
  try {
    const res = await fetch(`http://[::1]:${port}/metrics`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return null;
    return parsePrometheus(await res.text());
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The clients in a VM and what they got

export interface CheckRow {
  /** What was asked. */
  check: string;
  /** What the client got. */
  got: string;
  /** null: information only. */
  ok: boolean | null;
}

export interface VmReport {
  vm: LabVm;
  rows: CheckRow[];
}

function canonical(address: string): string {
  return parseIpv6Address(address.split('%')[0] as string)?.model.text ?? address;
}

function prefixLength(prefix: string): number {
  return Number(prefix.split('/')[1]);
}

function inPrefix(prefix: string, address: string): boolean {
  const p = parseIpv6Prefix(prefix);
  const a = parseIpv6Address(address);
  return p !== null && a !== null && addressInPrefix(a.model.bytes, 0, p.model.address, p.model.length);
}

async function addresses(ns: string): Promise<ReturnType<typeof parseIpAddr>> {
  const r = await runIn(ns, 'ip', ['-j', '-6', 'addr', 'show', 'dev', VM_INTERFACE]);
  return r.code === 0 ? parseIpAddr(r.stdout) : [];
}

const DHCLIENT_SCRIPT = `#!/bin/sh
# Written by punt6 lab up: records the variables dhclient passes, configures the leased address.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
{
  echo "--- $reason"
  env | grep -E '^(interface|new_|old_|cur_|requested_)[A-Za-z0-9_]*=' | sort
  echo "--- end"
} >>"$1"
case "$reason" in
  BOUND6|RENEW6|REBIND6|REBOOT6)
    if [ -n "$new_ip6_address" ]; then
      ip -6 addr replace "$new_ip6_address/\${new_ip6_prefixlen:-128}" dev "$interface" \\
        valid_lft "\${new_max_life:-forever}" preferred_lft "\${new_preferred_life:-forever}"
    fi
    ;;
esac
exit 0
`;

/**
 * Runs dhclient in the foreground in a VM until its script records one of `reasons` (or the
 * time runs out), then stops it. Returns that event's variables.
 */
async function runDhclient(
  vm: LabVm,
  dir: string,
  mode: 'stateful' | 'stateless',
): Promise<Record<string, string> | undefined> {
  const record = join(dir, `${mode}.record`);
  // dhclient runs its script with its own environment: the record path is baked into a wrapper.
  const script = join(dir, `${mode}.sh`);
  writeFileSync(script, `#!/bin/sh\nexec ${join(dir, 'dhclient-script.sh')} ${record}\n`);
  chmodSync(script, 0o755);
  const args = [
    'netns',
    'exec',
    vm.namespace,
    'dhclient',
    '-6',
    '-d',
    '-v',
    '-D',
    'LL',
    '-cf',
    join(dir, 'dhclient6.conf'),
    '-lf',
    join(dir, `${mode}.leases`),
    '-pf',
    join(dir, `${mode}.pid`),
    '-sf',
    script,
    ...(mode === 'stateless' ? ['-S'] : ['-N']),
    VM_INTERFACE,
  ];
  const fd = openSync(join(dir, `${mode}.log`), 'a');
  const child = spawn('ip', args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = false;
  child.on('exit', () => (exited = true));
  // ISC dhclient 4.4 reports the Reply to an Information-request as RENEW6 (INFORM6 elsewhere).
  const reasons = mode === 'stateless' ? ['INFORM6', 'RENEW6'] : ['BOUND6', 'REPLY6'];
  const deadline = Date.now() + 30_000;
  const recorded = (): Record<string, string> | undefined =>
    existsSync(record) ? lastEvent(parseDhclientRecord(readFileSync(record, 'utf8')), reasons) : undefined;
  // dhclient -S exits by itself once it has its answer; -N stays to renew and is stopped here.
  while (Date.now() < deadline && !exited && recorded() === undefined) await sleep(200);
  if (!exited && child.pid !== undefined) await stopProcess(child.pid, 3_000);
  return recorded();
}

function row(check: string, got: string, ok: boolean | null): CheckRow {
  return { check, got, ok };
}

async function probeVm(vm: LabVm, files: Files): Promise<VmReport> {
  const rows: CheckRow[] = [];
  const net = vm.network;
  const ns = vm.namespace;
  const dir = files.vm(vm.name);

  // The kernel: SLAAC address and default route from punt6's RA.
  for (const prefix of net.slaacPrefixes) {
    const addr = await waitFor(`a SLAAC address in ${prefix} on ${vm.name}`, 25_000, async () =>
      (await addresses(ns)).find(
        (a) => a.dynamic && !a.tentative && a.prefixLength === prefixLength(prefix) && inPrefix(prefix, a.address),
      ),
    ).catch(() => undefined);
    rows.push(
      row(
        `kernel SLAAC address in ${prefix}`,
        addr ? `${addr.address}/${addr.prefixLength}` : 'none',
        addr !== undefined,
      ),
    );
  }
  const route = await waitFor(`a default route on ${vm.name}`, 10_000, async () => {
    const r = await runIn(ns, 'ip', ['-j', '-6', 'route', 'show', 'default']);
    return r.code === 0 ? parseDefaultRoutes(r.stdout)[0] : undefined;
  }).catch(() => undefined);
  rows.push(
    row(
      'kernel default route',
      route ? `via ${route.gateway} dev ${route.dev}` : 'none',
      route !== undefined && canonical(route.gateway) === net.routerLinkLocal,
    ),
  );

  // rdisc6: one RS, the RA it gets.
  const rd = await runIn(ns, 'rdisc6', ['-1', '-n', '-r', '3', '-w', '1500', VM_INTERFACE]);
  writeFileSync(join(dir, 'rdisc6.out'), rd.stdout + rd.stderr);
  const ra = parseRdisc6(rd.stdout);
  rows.push(
    row(
      'rdisc6 RA from',
      ra.from ?? `none (${rd.stderr.trim() || `exit ${rd.code}`})`,
      ra.from !== null && canonical(ra.from) === net.routerLinkLocal,
    ),
  );
  if (ra.from !== null) {
    rows.push(
      row(
        'rdisc6 flags',
        `M=${ra.managed ? 1 : 0} O=${ra.otherConfig ? 1 : 0}`,
        ra.managed === net.managed && ra.otherConfig === net.otherConfig,
      ),
    );
    rows.push(
      row(
        'rdisc6 prefixes',
        ra.prefixes.join(' ') || 'none',
        net.prefixes.every((p) =>
          ra.prefixes.some((q) => q === p || canonical(q.split('/')[0] as string) + '/' + q.split('/')[1] === p),
        ),
      ),
    );
    rows.push(row('rdisc6 MTU', ra.mtu === null ? 'none' : String(ra.mtu), ra.mtu === net.mtu));
    rows.push(row('rdisc6 RDNSS', ra.rdnss.join(' ') || 'none', sameAddresses(ra.rdnss.map(canonical), net.rdnss)));
    rows.push(row('rdisc6 DNSSL', ra.dnssl.join(' ') || 'none', sameDomains(ra.dnssl, net.dnssl)));
  }

  // ndisc6: NS for the router's addresses.
  for (const target of [net.routerLinkLocal, ...net.routerAddresses]) {
    const nd = await runIn(ns, 'ndisc6', ['-1', '-n', '-r', '3', '-w', '1000', target, VM_INTERFACE]);
    const mac = parseNdisc6(nd.stdout);
    rows.push(row(`ndisc6 ${target}`, mac ?? `none (${nd.stderr.trim() || `exit ${nd.code}`})`, mac === net.routerMac));
  }

  // ping: echo to the router's addresses.
  for (const target of [...net.routerAddresses, net.routerLinkLocal]) {
    const dest = target.startsWith('fe80:') ? `${target}%${VM_INTERFACE}` : target;
    const p = parsePing(
      (await runIn(ns, 'ping', ['-6', '-n', '-c', '3', '-i', '0.2', '-W', '2', dest], { timeout: 20_000 })).stdout,
    );
    rows.push(
      row(
        `ping ${target}`,
        `${p.received}/${p.transmitted}${p.avgMs === null ? '' : `, avg ${p.avgMs} ms`}`,
        p.transmitted > 0 && p.received === p.transmitted,
      ),
    );
  }

  // dhclient: stateful (IA_NA) then stateless (Information-request).
  if (net.dhcpMode === 'stateful') {
    const e = await runDhclient(vm, dir, 'stateful');
    const got = e?.new_ip6_address;
    const expected = vm.addresses;
    rows.push(
      row(
        'dhclient -6 address',
        got === undefined ? 'none' : `${got}/${e?.new_ip6_prefixlen ?? '?'}`,
        got !== undefined && (expected.length === 0 || expected.includes(canonical(got))),
      ),
    );
    rows.push(
      row(
        'dhclient -6 DNS',
        e?.new_dhcp6_name_servers ?? 'none',
        sameAddresses(
          (e?.new_dhcp6_name_servers ?? '')
            .split(/\s+/)
            .filter((s) => s !== '')
            .map(canonical),
          net.dhcpDns,
        ),
      ),
    );
    rows.push(
      row(
        'dhclient -6 search list',
        e?.new_dhcp6_domain_search ?? 'none',
        sameDomains(
          (e?.new_dhcp6_domain_search ?? '').split(/\s+/).filter((s) => s !== ''),
          net.dhcpSearch,
        ),
      ),
    );
    if (got !== undefined) {
      const onLink = await waitFor(`${got} on ${vm.name} past DAD`, 10_000, async () =>
        (await addresses(ns)).find((a) => a.address === canonical(got) && !a.tentative),
      ).catch(() => undefined);
      rows.push(
        row(
          'leased address on eth0 (DAD passed)',
          onLink ? `${onLink.address}/${onLink.prefixLength}` : 'missing or tentative',
          onLink !== undefined,
        ),
      );
    }
  }
  if (net.dhcpMode !== 'off') {
    const e = await runDhclient(vm, dir, 'stateless');
    rows.push(
      row(
        'dhclient -6 -S DNS',
        e?.new_dhcp6_name_servers ?? 'none',
        sameAddresses(
          (e?.new_dhcp6_name_servers ?? '')
            .split(/\s+/)
            .filter((s) => s !== '')
            .map(canonical),
          net.dhcpDns,
        ),
      ),
    );
    rows.push(
      row(
        'dhclient -6 -S search list',
        e?.new_dhcp6_domain_search ?? 'none',
        sameDomains(
          (e?.new_dhcp6_domain_search ?? '').split(/\s+/).filter((s) => s !== ''),
          net.dhcpSearch,
        ),
      ),
    );
  }

  // What the kernel learned about the router meanwhile.
  const neigh = await runIn(ns, 'ip', ['-6', 'neigh', 'show', 'dev', VM_INTERFACE]);
  const routerNeighbours = neigh.stdout
    .split('\n')
    .filter((l) => l.includes(net.routerMac))
    .map((l) => l.trim());
  rows.push(row('neighbour entries of the router', routerNeighbours.join('; ') || 'none', null));
  return { vm, rows };
}

/**
 * What punt6's OpenFlow rules did with the VM's frames (punt6_flow_packets_total, per category):
 * the VM's own counters, or every port's together when the lab has more VMs than the metrics
 * label one by one (their `port` is then "*").
 */
function flowRows(vm: LabVm, samples: MetricSample[] | null): CheckRow[] {
  const flows = (samples ?? []).filter((s) => s.name === 'punt6_flow_packets_total');
  const own = flows.some((s) => s.labels['port'] === vm.name) ? vm.name : '*';
  const packets = (category: string, port = own): number =>
    flows
      .filter((s) => s.labels['category'] === category && s.labels['port'] === port)
      .reduce((a, s) => a + s.value, 0);
  // NS are answered by rules shared by the network (docs/flows.md): their counters are not per port.
  const answered: [string, number][] = [
    ['NS (all ports)', packets('answer-na-router', '*')],
    ['echo', packets('answer-echo')],
  ];
  const punted: [string, number, boolean][] = [
    ['RS', packets('punt-rs'), true],
    ['DHCPv6', packets('punt-dhcpv6'), vm.network.dhcpMode !== 'off'],
  ];
  const needed = punted.filter(([, , need]) => need);
  return [
    row(
      'answered in OVS (packets)',
      answered.map(([name, n]) => `${name} ${n}`).join(', '),
      answered.every(([, n]) => n > 0),
    ),
    row(
      'punted to punt6 (packets)',
      needed.map(([name, n]) => `${name} ${n}`).join(', '),
      needed.every(([, n]) => n > 0),
    ),
  ];
}

function counterLines(samples: MetricSample[] | null): string[] {
  if (samples === null) return ['(the metrics endpoint does not answer)'];
  const nonZero = samples.filter((s) => s.name.startsWith('punt6_') && s.value !== 0);
  if (nonZero.length === 0) return ['(no non-zero punt6_* samples)'];
  return formatTable(
    ['metric', 'value'],
    nonZero.map((s) => [formatSample(s), String(s.value)]),
  );
}

function reportLines(reports: VmReport[]): string[] {
  const out: string[] = [];
  for (const r of reports) {
    out.push(
      '',
      `${r.vm.name}  (namespace ${r.vm.namespace}, ${VM_INTERFACE} ${r.vm.mac}, OpenFlow port ${r.vm.ofport})`,
    );
    out.push(
      ...formatTable(
        ['', 'client / check', 'got'],
        r.rows.map((c) => [c.ok === null ? '' : c.ok ? 'ok' : 'FAIL', c.check, c.got]),
      ).map((l) => `  ${l}`),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The commands

function requireEnvironment(): void {
  if (process.getuid?.() !== 0) throw new LabError('the lab needs root (network namespaces, OVS, raw sockets)');
  const missing = REQUIRED_COMMANDS.filter((c) => !haveCommand(c));
  if (missing.length > 0) {
    throw new LabError(
      `missing commands: ${missing.join(' ')} (Debian packages: openvswitch-switch iproute2 procps ethtool ndisc6 iputils-ping isc-dhcp-client)`,
    );
  }
}

/** Builds the lab and checks every client; returns true when every check passed. */
export async function labUp(options: LabOptions): Promise<boolean> {
  requireEnvironment();
  const files = new Files(options.stateDirectory);
  // With --vms, the configuration made from the given one is checked before anything is removed.
  const given = readFileSync(options.configPath, 'utf8');
  const text = withControlSocket(options.vms === undefined ? given : withVms(given, options.vms), files.control);
  const config = parseConfig(text, options.configPath, dirname(options.configPath));
  const plan = buildPlan(config);

  options.progress(
    `removing what a previous lab left (${options.stateDirectory}, ${LAB_PREFIX}-* namespaces and links)`,
  );
  for (const item of await tearDown(options)) options.progress(`  removed ${item}`);

  mkdirSync(files.ovs, { recursive: true });
  writeFileSync(files.config, text);
  const state: LabState = {
    bridge: plan.bridge,
    metricsPort: options.metricsPort,
    config: options.configPath,
    namespaces: plan.vms.map((v) => v.namespace),
    puntInterfaces: plan.puntInterfaces.map((p) => p.name),
  };
  writeFileSync(files.state, JSON.stringify(state, null, 2) + '\n');

  options.progress('starting a private ovsdb-server and ovs-vswitchd');
  const ovs = new PrivateOvs(files.ovs);
  await ovs.start();
  await ovs.vsctl([
    'add-br',
    plan.bridge,
    '--',
    'set',
    'bridge',
    plan.bridge,
    'datapath_type=netdev',
    'fail_mode=secure',
  ]);
  for (const p of plan.puntInterfaces) {
    await ovs.vsctl([
      'add-port',
      plan.bridge,
      p.name,
      '--',
      'set',
      'interface',
      p.name,
      'type=internal',
      `ofport_request=${p.ofport}`,
    ]);
    // No IPv6 of the host's own on the punt port: the host kernel would answer NS/RS there and
    // send its own DAD and RS into the bridge. ovs-vswitchd creates the port's device after
    // add-port returns: wait for it.
    const sysctl = `/proc/sys/net/ipv6/conf/${p.name}/disable_ipv6`;
    await waitFor(`the device of ${p.name}`, 10_000, () => (existsSync(sysctl) ? true : undefined), 50);
    writeSysctl(sysctl, '1');
    await runOk('ip', ['link', 'set', p.name, 'up']);
  }
  options.progress(`creating ${plan.vms.map((v) => v.namespace).join(', ')}`);
  for (const vm of plan.vms) {
    mkdirSync(files.vm(vm.name), { recursive: true });
    writeFileSync(join(files.vm(vm.name), 'dhclient6.conf'), 'request dhcp6.name-servers, dhcp6.domain-search;\n');
    writeFileSync(join(files.vm(vm.name), 'dhclient-script.sh'), DHCLIENT_SCRIPT);
    chmodSync(join(files.vm(vm.name), 'dhclient-script.sh'), 0o755);
    await createVm(ovs, plan, vm);
  }
  options.progress('installing the flows');
  writeFileSync(files.flows, buildFlows(plan));
  await ovs.ofctl(['del-flows', plan.bridge]);
  await ovs.ofctl(['add-flows', plan.bridge, files.flows]);

  options.progress(`starting punt6 (log ${files.punt6Log})`);
  const punt6Pid = await startPunt6(files, options, ovs, plan.bridge);
  await waitFor("punt6's rules on the bridge", 30_000, async () => {
    const own = parseFlowDump(await ovs.ofctl(['dump-flows', plan.bridge, `cookie=${PUNT6_COOKIE}/-1`]));
    return own.length > 0 ? true : undefined;
  });

  options.progress('bringing the VMs up and running their clients');
  for (const vm of plan.vms) await runOk('ip', ['-n', vm.namespace, 'link', 'set', VM_INTERFACE, 'up']);
  const reports = await Promise.all(plan.vms.map((vm) => probeVm(vm, files)));

  const alive = processCommandLine(punt6Pid) !== null;
  const samples = await scrapeMetrics(options.metricsPort);
  for (const r of reports) r.rows.push(...flowRows(r.vm, samples));
  const lines = [
    ...reportLines(reports),
    '',
    `punt6  pid ${punt6Pid} ${alive ? 'running' : 'NOT RUNNING'}, metrics http://[::1]:${options.metricsPort}/metrics`,
    ...counterLines(samples).map((l) => `  ${l}`),
  ];
  const failed = reports.flatMap((r) => r.rows.filter((c) => c.ok === false).map((c) => `${r.vm.name}: ${c.check}`));
  if (!alive) failed.push('punt6 is not running');
  lines.push(
    '',
    failed.length === 0
      ? `every check passed; the lab is running (punt6 lab status / punt6 lab down)`
      : `${failed.length} check(s) failed: ${failed.join(', ')}`,
  );
  writeFileSync(files.report, lines.join('\n') + '\n');
  for (const l of lines) options.write(l);
  return failed.length === 0;
}

function readState(files: Files): LabState | null {
  if (!existsSync(files.state)) return null;
  return JSON.parse(readFileSync(files.state, 'utf8')) as LabState;
}

/** Prints what runs; returns true when the lab is complete (daemons and namespaces present). */
export async function labStatus(options: LabOptions): Promise<boolean> {
  const files = new Files(options.stateDirectory);
  const state = readState(files);
  const ovs = new PrivateOvs(files.ovs);
  const namespaces = await listLabNamespaces();
  const daemons: [string, number | null][] = [
    ['ovsdb-server', ovs.ovsdbPid()],
    ['ovs-vswitchd', ovs.vswitchdPid()],
    ['punt6', livePid(files.punt6Pid, files.config)],
  ];
  const w = options.write;
  w(`state directory ${options.stateDirectory}${state === null ? ' (no lab recorded there)' : ''}`);
  w('');
  for (const l of formatTable(
    ['daemon', 'pid'],
    daemons.map(([n, p]) => [n, p === null ? 'not running' : String(p)]),
  ))
    w(`  ${l}`);
  w('');
  w(`namespaces: ${namespaces.join(' ') || 'none'}`);
  for (const ns of namespaces) {
    const r = await runIn(ns, 'ip', ['-br', '-6', 'addr', 'show', 'dev', VM_INTERFACE]);
    w(`  ${ns}: ${r.stdout.trim() || r.stderr.trim()}`);
  }
  if (state !== null && ovs.vswitchdPid() !== null) {
    w('');
    w(`flows of ${state.bridge}:`);
    const flows = await ovs.ofctlRaw(['dump-flows', state.bridge]);
    const rows = flows.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('cookie='))
      .map((l) => {
        const packets = /n_packets=(\d+)/.exec(l)?.[1] ?? '?';
        const rest = l
          .replace(/^.*?n_bytes=\d+,\s*/, '')
          .replace(/idle_age=\d+,\s*/, '')
          .replace(/hard_age=\d+,\s*/, '');
        return [packets, rest];
      });
    for (const l of formatTable(['packets', 'flow'], rows)) w(`  ${l}`);
  }
  if (state !== null) {
    w('');
    w(`punt6 counters (http://[::1]:${state.metricsPort}/metrics):`);
    for (const l of counterLines(await scrapeMetrics(state.metricsPort))) w(`  ${l}`);
  }
  const expected = state?.namespaces ?? [];
  return state !== null && daemons.every(([, p]) => p !== null) && expected.every((ns) => namespaces.includes(ns));
}

export async function labDown(options: LabOptions): Promise<boolean> {
  requireEnvironment();
  const removed = await tearDown(options);
  for (const item of removed) options.write(`removed ${item}`);
  if (removed.length === 0) options.write('nothing to remove');
  const leftNamespaces = await listLabNamespaces();
  const leftLinks = await listLabLinks();
  if (leftNamespaces.length + leftLinks.length > 0) {
    options.write(`still present: ${[...leftNamespaces, ...leftLinks].join(' ')}`);
    return false;
  }
  return true;
}

export { BRIDGE };
