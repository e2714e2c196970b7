/**
 * What the end-to-end tests of `punt6 run` share: a "VM" network namespace joined to punt6 by a
 * veth pair (punt6 on the end in the root namespace, IPv6 off there), the built CLI started as a
 * child process with its JSON log collected, its metrics scraped, and small helpers to run
 * commands and wait. Needs root, `ip netns` and the programs each test names; `requirements()` says
 * what is missing.
 *
 * Test code only: nothing in src/ imports it.
 */

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '../fixtures/paths.js';

export const CLI = join(repositoryRoot, 'dist', 'src', 'cli.js');
export const VM_IF = 'eth0';
export const VM_MAC = '02:00:00:00:00:01';
export const ROUTER_MAC = '02:00:00:00:00:fe';
export const ROUTER_LL = 'fe80::ff:fe00:fe';

/** Why these tests cannot run here, or null when they can. */
export function requirements(programs: readonly string[]): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  for (const program of programs) {
    try {
      execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    } catch {
      return `${program} is not installed`;
    }
  }
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return '`ip netns` does not work here';
  }
  if (!existsSync(CLI)) return `${CLI} is missing (build first: npx tsc -p .)`;
  return null;
}

export function sh(cmd: string, args: string[], timeoutMs = 20_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (e, stdout, stderr) => {
      const code = e === null ? 0 : typeof (e as { code?: unknown }).code === 'number' ? ((e as { code: number }).code) : 1;
      resolve({ code, out: stdout + stderr });
    });
  });
}

export async function must(cmd: string, args: string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.out}`);
  return r.out;
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/** The VM namespace, the veth pair and a temporary directory; `prefix` keeps test files apart. */
export class VmLab {
  readonly ns: string;
  /** punt6's end of the veth pair (at most 15 characters). */
  readonly punt: string;
  dir = '';

  constructor(prefix: string) {
    const id = String(process.pid % 100000);
    this.ns = `${prefix}-${id}`;
    this.punt = `${prefix}${id}`;
  }

  async setUp(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'punt6-e2e-'));
    await sh('ip', ['netns', 'del', this.ns]);
    await must('ip', ['netns', 'add', this.ns]);
    await must('ip', ['netns', 'exec', this.ns, 'ip', 'link', 'set', 'lo', 'up']);
    await this.createLink();
  }

  /** The veth pair: punt6's end in the root namespace (IPv6 off), the VM's end in the namespace. */
  async createLink(): Promise<void> {
    await must('ip', ['link', 'add', this.punt, 'type', 'veth', 'peer', 'name', VM_IF, 'netns', this.ns]);
    await must('sysctl', ['-qw', `net.ipv6.conf.${this.punt}.disable_ipv6=1`]);
    await must('ip', ['link', 'set', this.punt, 'up']);
    await must('ip', ['netns', 'exec', this.ns, 'ip', 'link', 'set', VM_IF, 'address', VM_MAC]);
    // Real checksums on the frames punt6 reads (no offload on the sending side).
    await must('ip', ['netns', 'exec', this.ns, 'ethtool', '-K', VM_IF, 'tx', 'off']);
  }

  /** The VM's link comes up: its kernel sends DAD and RS. */
  vmUp(): Promise<string> {
    return must('ip', ['netns', 'exec', this.ns, 'ip', 'link', 'set', VM_IF, 'up']);
  }

  /** Waits until the VM's link-local address has passed DAD (clients can send from it). */
  async linkLocalReady(): Promise<void> {
    await until('the VM\'s link-local address', async () => {
      const r = await this.inVm(['ip', '-6', '-j', 'addr', 'show', 'dev', VM_IF, 'scope', 'link']);
      const info = r.code === 0 ? ((JSON.parse(r.out) as { addr_info?: { tentative?: boolean }[] }[])[0]?.addr_info ?? []) : [];
      return info.some((a) => a.tentative !== true);
    });
  }

  inVm(args: string[], timeoutMs?: number): Promise<{ code: number; out: string }> {
    return sh('ip', ['netns', 'exec', this.ns, ...args], timeoutMs);
  }

  async tearDown(): Promise<void> {
    await sh('ip', ['netns', 'del', this.ns]);
    await sh('ip', ['link', 'del', this.punt]);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

export interface LabConfig {
  punt: string;
  /** The third group of the network's prefix: 2001:db8:NET::/64. */
  net: number;
  stateDirectory: string;
  metricsPort: number;
  /** Of the pool's leases, s (default 60; the preferred lifetime is half). */
  validLifetime?: number;
  /** Extra lines under `server:` (two spaces in), e.g. `  leaseFile: /x`. */
  server?: string;
}

/** One tenant network on the punt interface: SLAAC, DNS, stateful DHCPv6 with a pool, the VM's port. */
export function labConfig(c: LabConfig): string {
  const net = c.net;
  const valid = c.validLifetime ?? 60;
  return `
interfaces:
  - name: ${c.punt}
    network: tenant
networks:
  - name: tenant
    routerMac: ${ROUTER_MAC}
    routerAddresses: [2001:db8:${net}::1]
    mtu: 1400
    prefixes:
      - prefix: 2001:db8:${net}::/64
        slaac: true
    dns:
      servers: [2001:db8:${net}::53]
      search: [lab.example.]
    dhcpv6:
      mode: stateful
      t1: 3
      t2: 5
      preferredLifetime: ${valid / 2}
      validLifetime: ${valid}
      addressPools: [2001:db8:${net}::1000-2001:db8:${net}::1fff]
ports:
  - name: vm1
    mac: ${VM_MAC}
    network: tenant
    addresses: [2001:db8:${net}::101]
server:
  stateDirectory: ${JSON.stringify(c.stateDirectory)}
${c.server ?? ''}
metrics: "127.0.0.1:${c.metricsPort}"
`;
}

/** `punt6 run` as a child process: its log lines (parsed), its standard error, its exit. */
export interface Punt6 {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** The exit status (null when a signal ended it). */
  exit: Promise<number | null>;
}

export function startPunt6(configPath: string, extraArgs: string[] = []): Punt6 {
  const child = spawn(process.execPath, [CLI, 'run', '--config', configPath, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let rest = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    rest += chunk.toString();
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    process.stderr.write(`[punt6 stderr] ${chunk.toString()}`);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, logs, stderr: () => stderr, exit };
}

/** The first log line with this `msg` after the first `after` lines. */
export function logged(p: Punt6, msg: string, after = 0, timeoutMs?: number): Promise<Record<string, unknown>> {
  return until(`the log line "${msg}"`, async () => p.logs.slice(after).find((l) => l.msg === msg), timeoutMs);
}

/** Kills a punt6 still running at the end of a test file. */
export async function killPunt6(p: Punt6 | undefined): Promise<void> {
  if (p && p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill('SIGKILL');
    await p.exit;
  }
}

export async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

/** Sum of punt6_frames_total over the lines matching every given label. */
export function frameCount(text: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('punt6_frames_total{')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

export function gauge(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix + ' '));
  return line === undefined ? NaN : Number(line.split(' ').at(-1));
}
