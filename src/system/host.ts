/**
 * What `punt6 doctor` reads of the host: this process's capabilities (/proc/self/status), network
 * interfaces (/sys/class/net, /proc/sys/net/ipv6/conf), their offload features (`ethtool -k`),
 * a file system's free space (statfs), and whether a TCP port can be listened on. Each function
 * only reads; none changes anything.
 */

import { readFile, readdir, statfs } from 'node:fs/promises';
import { createServer } from 'node:net';
import { run } from './exec.js';

/** Linux capability numbers (linux/capability.h). */
export const Capability = {
  NetAdmin: 12,
  NetRaw: 13,
} as const;

/** The effective capability set of this process (`CapEff` of /proc/self/status), as bits. */
export async function effectiveCapabilities(): Promise<bigint> {
  return parseCapEff(await readFile('/proc/self/status', 'utf8'));
}

export function parseCapEff(status: string): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/im.exec(status);
  return m === null ? 0n : BigInt(`0x${m[1]}`);
}

export function hasCapability(set: bigint, cap: number): boolean {
  return ((set >> BigInt(cap)) & 1n) === 1n;
}

const IFF_UP = 0x1;

export interface InterfaceState {
  ifindex: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** `up`, `down`, `lowerlayerdown` (no carrier), `unknown` (tun/tap, loopback)… */
  operstate: string;
  /** The ifindex of the interface it is linked to (a veth's peer), or null when none. */
  peerIfindex: number | null;
}

async function readSys(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

/** The interface's state, or null when no interface of that name exists in this namespace. */
export async function interfaceState(name: string): Promise<InterfaceState | null> {
  const base = `/sys/class/net/${name}`;
  const ifindex = await readSys(`${base}/ifindex`);
  if (ifindex === null || name.includes('/')) return null;
  const flags = Number.parseInt((await readSys(`${base}/flags`)) ?? '0', 16);
  const iflink = Number((await readSys(`${base}/iflink`)) ?? ifindex);
  return {
    ifindex: Number(ifindex),
    up: (flags & IFF_UP) !== 0,
    operstate: (await readSys(`${base}/operstate`)) ?? 'unknown',
    peerIfindex: iflink === Number(ifindex) ? null : iflink,
  };
}

/** The name of the interface with this ifindex in this namespace, or null. */
export async function interfaceNamed(ifindex: number): Promise<string | null> {
  let names: string[];
  try {
    names = await readdir('/sys/class/net');
  } catch {
    return null;
  }
  for (const n of names) if (Number(await readSys(`/sys/class/net/${n}/ifindex`)) === ifindex) return n;
  return null;
}

/** `net.ipv6.conf.NAME.disable_ipv6`: true, false, or null when IPv6 is not there at all. */
export async function ipv6Disabled(name: string): Promise<boolean | null> {
  const v = await readSys(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`);
  return v === null ? null : v === '1';
}

/** `ethtool -k NAME` as feature → on; null when ethtool cannot say (not installed, no such device). */
export async function offloadFeatures(name: string): Promise<Map<string, boolean> | null> {
  const r = await run('ethtool', ['-k', name], { timeout: 10_000 });
  return r.code === 0 ? parseEthtoolFeatures(r.stdout) : null;
}

export function parseEthtoolFeatures(text: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const m of text.matchAll(/^\s*([a-z0-9-]+): (on|off)\b/gm)) out.set(m[1] as string, m[2] === 'on');
  return out;
}

/** The driver of an interface (`ethtool -i`: veth, tun, openvswitch…), or null. */
export async function interfaceDriver(name: string): Promise<string | null> {
  const r = await run('ethtool', ['-i', name], { timeout: 10_000 });
  const m = r.code === 0 ? /^driver: (\S+)$/m.exec(r.stdout) : null;
  return m === null ? null : (m[1] as string);
}

export interface FreeSpace {
  /** Bytes an unprivileged writer may still use. */
  bytes: number;
  /** Inodes left (new files). */
  files: number;
}

export async function freeSpace(path: string): Promise<FreeSpace> {
  const s = await statfs(path);
  return { bytes: Number(s.bavail) * Number(s.bsize), files: Number(s.ffree) };
}

/** Whether a TCP listener can be opened on `host:port` now: null, or the error code (EADDRINUSE…). */
export function listenProblem(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}
