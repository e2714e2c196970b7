/**
 * Shared by the end-to-end tests of `punt6 run` (src/*.e2e.test.ts): whether they can run here,
 * commands and polling, a "VM" network namespace on one end of a veth pair with punt6's punt
 * interface on the other, the built CLI as a child process with its JSON log, long-running
 * commands inside the namespace (tcpdump, perfdhcp), a free TCP port, punt6's metrics, and the
 * configuration of one tenant network on the punt interface.
 *
 * Test code only: nothing in src/ or codecs/ imports it.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repositoryRoot } from '../../fixtures/paths.js';
import { haveCommand, run, waitFor } from '../system/exec.js';

/** The built CLI (`npm run build` writes it). */
export const CLI = join(repositoryRoot, 'dist', 'src', 'commands', 'cli.js');

export const inCi = process.env['CI'] === 'true';

/** Why end-to-end tests needing `tools` cannot run here, or null when they can. */
export function e2eUnavailable(tools: readonly string[]): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  const absent = tools.filter((t) => !haveCommand(t));
  if (absent.length > 0) return `not installed: ${absent.join(' ')}`;
  if (spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status !== 0) return '`ip netns` does not work here';
  if (!existsSync(CLI)) return `${CLI} is missing (build first: npm run build)`;
  return null;
}

/**
 * Whether a file of end-to-end tests runs: outside CI a missing requirement skips it and says so
 * on standard error; under CI=true the tests run anyway and `check()` (called first thing in the
 * `before` hook) fails them with the reason. `check()` returns false when the tests are skipped.
 */
export function e2eGate(
  title: string,
  tools: readonly string[],
): { reason: string | null; enabled: boolean; check(): boolean } {
  const reason = e2eUnavailable(tools);
  if (reason !== null && !inCi) process.stderr.write(`\n*** ${title} SKIPPED: ${reason} ***\n\n`);
  return {
    reason,
    enabled: reason === null || inCi,
    check() {
      if (reason === null) return true;
      if (inCi) throw new Error(`${title} cannot run under CI: ${reason}`);
      return false;
    },
  };
}

/** Runs a command to its end: exit code and stdout followed by stderr. */
export async function sh(cmd: string, args: string[], timeoutMs = 20_000): Promise<{ code: number; out: string }> {
  const r = await run(cmd, args, { timeout: timeoutMs });
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Runs a command and throws, with its output, when it fails. */
export async function must(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await sh(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.out}`);
  return r.out;
}

/** Polls `fn` every 200 ms until it returns something other than undefined, null or false. */
export function until<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  return waitFor(what, timeoutMs, async () => {
    const v = await fn();
    return v === null || v === false ? undefined : v;
  });
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

/**
 * A VM: network namespace `ns` holding `vmIf` (with `vmMac`), the other end of a veth pair whose
 * end `hostIf` stays in the root namespace for punt6, with IPv6 off so the host kernel neither
 * answers nor sends anything on it. Transmit checksum offload is off on the VM side, so the
 * frames punt6 reads carry real checksums.
 */
export class VethVm {
  readonly ns: string;
  readonly hostIf: string;
  readonly vmIf: string;
  readonly vmMac: string;

  constructor(ns: string, hostIf: string, vmMac: string, vmIf = 'eth0') {
    if (hostIf.length > 15) throw new Error(`interface name ${hostIf} is longer than 15 characters`);
    this.ns = ns;
    this.hostIf = hostIf;
    this.vmIf = vmIf;
    this.vmMac = vmMac;
  }

  /** A fresh namespace (a leftover of the same name is deleted first) with its loopback up. */
  async create(): Promise<void> {
    await sh('ip', ['netns', 'del', this.ns]);
    await must('ip', ['netns', 'add', this.ns]);
    await this.must(['ip', 'link', 'set', 'lo', 'up']);
  }

  /** The veth pair; the VM end stays down until `up()`. */
  async createLink(): Promise<void> {
    await must('ip', ['link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.vmIf, 'netns', this.ns]);
    await must('sysctl', ['-qw', `net.ipv6.conf.${this.hostIf}.disable_ipv6=1`]);
    await must('ip', ['link', 'set', this.hostIf, 'up']);
    await this.must(['ip', 'link', 'set', this.vmIf, 'address', this.vmMac]);
    await this.must(['ethtool', '-K', this.vmIf, 'tx', 'off']);
  }

  /** Brings the VM end up (its kernel then sends DAD and RS). */
  async up(): Promise<void> {
    await this.must(['ip', 'link', 'set', this.vmIf, 'up']);
  }

  /** Waits until the VM's link-local address has passed DAD (clients can send from it). */
  async linkLocalReady(): Promise<void> {
    await until("the VM's link-local address", async () => {
      const r = await this.exec(['ip', '-6', '-j', 'addr', 'show', 'dev', this.vmIf, 'scope', 'link']);
      const info =
        r.code === 0 ? ((JSON.parse(r.out) as { addr_info?: { tentative?: boolean }[] }[])[0]?.addr_info ?? []) : [];
      return info.some((a) => a.tentative !== true);
    });
  }

  /** Runs a command inside the namespace. */
  exec(args: string[], timeoutMs?: number): Promise<{ code: number; out: string }> {
    return sh('ip', ['netns', 'exec', this.ns, ...args], timeoutMs);
  }

  must(args: string[], timeoutMs?: number): Promise<string> {
    return must('ip', ['netns', 'exec', this.ns, ...args], timeoutMs);
  }

  /** Starts a long-running command inside the namespace. */
  spawn(args: string[]): Background {
    return new Background('ip', ['netns', 'exec', this.ns, ...args]);
  }

  async destroy(): Promise<void> {
    await sh('ip', ['netns', 'del', this.ns]);
    await sh('ip', ['link', 'del', this.hostIf]);
  }
}

/**
 * A command in the background, its output kept. Started through `ip netns exec`, the pid is the
 * command's own (ip execs it), so signals reach the command.
 */
export class Background {
  readonly child: ChildProcess;
  /** Standard output and standard error, as they came. */
  out = '';
  readonly exit: Promise<number | null>;

  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.exit = new Promise((resolve) =>
      this.child.on('close', (code, signal) => resolve(code ?? (signal === null ? null : 128))),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` (when still running) and waits for the end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exit;
  }
}

/** `punt6 run --config FILE` from the built CLI, its JSON log lines parsed as they come. */
export class Punt6Process {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[] = [];
  /** Its standard error so far (also copied to the test's). */
  stderr = '';
  /** The exit status (null when a signal ended it). */
  readonly exit: Promise<number | null>;

  constructor(configPath: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, [CLI, 'run', '--config', configPath, ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let rest = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      rest += chunk.toString();
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) this.logs.push(JSON.parse(line) as Record<string, unknown>);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      process.stderr.write(`[punt6 stderr] ${chunk.toString()}`);
    });
    this.exit = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first log line with this message among those from index `after` on, once it is there. */
  logged(msg: string, after = 0, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    return until(`the log line "${msg}"`, async () => this.logs.slice(after).find((l) => l.msg === msg), timeoutMs);
  }

  /** How many log lines carry this message. */
  count(msg: string): number {
    return this.logs.filter((l) => l.msg === msg).length;
  }

  /** SIGKILL when still running, then the end. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exit;
  }
}

/** The text of punt6's metrics on 127.0.0.1:port. */
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

/** The value of the metric line that starts with `prefix` (a name, with its labels when it has any). */
export function gauge(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix + ' '));
  return line === undefined ? NaN : Number(line.split(' ').at(-1));
}

export const ROUTER_MAC = '02:00:00:00:00:fe';
export const ROUTER_LL = 'fe80::ff:fe00:fe';

export interface TenantConfig {
  punt: string;
  vmMac: string;
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
export function tenantConfig(c: TenantConfig): string {
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
    mac: ${c.vmMac}
    network: tenant
    addresses: [2001:db8:${net}::101]
server:
  stateDirectory: ${JSON.stringify(c.stateDirectory)}
${c.server ?? ''}
metrics: "127.0.0.1:${c.metricsPort}"
`;
}
