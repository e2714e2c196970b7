/**
 * Builds the whole responder from a configuration: the runtime model, the lease table (opened
 * from its journal), the server DUID, the DHCPv6 server and the dispatcher. Shared by
 * `punt6 replay`, the live dataplane and the tests, so all of them answer the same way.
 *
 * The state files are looked at before anything opens them (`stateFileProblem`): a lease journal
 * or DUID file that is a FIFO, a device, or on /proc or /sys is refused, since opening it may
 * never return.
 */

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LeaseType, LeaseTable, type PoolConfig, type StaticBinding } from '../dhcp/leases.js';
import { stateFileProblem } from '../file-problems.js';
import { loadOrCreateServerDuid } from '../dhcp/server-duid.js';
import { Dhcpv6Server } from '../dhcp/server.js';
import type { Punt6Config } from '../config/model.js';
import { Dispatcher, type FrameSink } from './dispatcher.js';
import { buildRuntime } from './from-config.js';
import type { RateLimit } from './rate-limiter.js';

export interface ResponderOptions {
  sink?: FrameSink;
  /** Milliseconds since the epoch (replays pass the capture's clock). */
  now?: () => number;
  seed?: number;
  verifyChecksums?: boolean;
  /** The lease journal; default: the configuration's `server.leaseFile`. */
  leaseFile?: string;
  /** The server DUID file; default: the configuration's `server.duidFile`. */
  duidFile?: string;
  /**
   * Create the directories of the lease journal and the DUID file when missing (default true:
   * `punt6 run` makes its state directory on first start). False: a missing one is an error.
   */
  createDirectories?: boolean;
  onCommitError?: (error: unknown, replies: number) => void;
  onWarning?: (message: string) => void;
  /** Told once per transition when the lease journal's storage fails (the error) and recovers (null). */
  onStorageChange?: (failure: Error | null) => void;
  /** Overrides the configuration's `server.rateLimit`; null: no per-sender limit (benchmarks, replays of floods). */
  rateLimit?: RateLimit | null;
}

export interface Responder {
  config: Punt6Config;
  dispatcher: Dispatcher;
  dhcpv6: Dhcpv6Server;
  leases: LeaseTable | null;
  close(): Promise<void>;
}

/** The pools of every stateful network, for the lease table (network id = network index). */
export function poolsOf(config: Punt6Config): PoolConfig[] {
  const pools: PoolConfig[] = [];
  config.networks.forEach((net, networkId) => {
    const d = net.dhcpv6;
    if (d.mode !== 'stateful') return;
    for (const r of d.addressPools) {
      pools.push({ networkId, type: LeaseType.Address, first: r.first, last: r.last, validLifetime: d.validLifetime, preferredLifetime: d.preferredLifetime });
    }
    for (const p of d.prefixDelegation) {
      pools.push({ networkId, type: LeaseType.Prefix, prefix: p.prefix.text, delegatedLength: p.delegatedLength, validLifetime: d.validLifetime, preferredLifetime: d.preferredLifetime });
    }
  });
  return pools;
}

/**
 * The ports' controller-assigned addresses and delegated prefixes, as static bindings of the
 * lease table: the DHCPv6 server answers ports itself, and the table keeps these out of its pools.
 */
export function staticBindingsOf(config: Punt6Config): StaticBinding[] {
  const out: StaticBinding[] = [];
  config.networks.forEach((net, networkId) => {
    if (net.dhcpv6.mode !== 'stateful') return;
    for (const p of net.ports) {
      for (const a of p.addresses) out.push({ mac: p.mac.bytes, type: LeaseType.Address, networkId, address: a.bytes });
      if (p.delegatedPrefix) out.push({ mac: p.mac.bytes, type: LeaseType.Prefix, networkId, address: p.delegatedPrefix.address, prefixLength: p.delegatedPrefix.length });
    }
  });
  return out;
}

async function refuseStateFile(what: string, path: string): Promise<void> {
  const problem = await stateFileProblem(path);
  if (problem !== null) throw new Error(`${what} ${path}: ${problem}`);
}

export async function openResponder(config: Punt6Config, options: ResponderOptions = {}): Promise<Responder> {
  const now = options.now ?? Date.now;
  const runtime = buildRuntime(config);
  const stateful = config.networks.some((n) => n.dhcpv6.mode === 'stateful');
  const leaseFile = options.leaseFile ?? config.server.leaseFile;
  const duidFile = options.duidFile ?? config.server.duidFile;
  if (stateful) await refuseStateFile('lease journal', leaseFile);
  if (config.server.duid === null) await refuseStateFile('server DUID file', duidFile);
  // The state (lease journal, server DUID) is created on first start.
  if (options.createDirectories !== false) {
    if (stateful) await mkdir(dirname(leaseFile), { recursive: true, mode: 0o750 });
    if (config.server.duid === null) await mkdir(dirname(duidFile), { recursive: true, mode: 0o750 });
  }
  const leases = stateful
    ? await LeaseTable.open(leaseFile, { pools: poolsOf(config), staticBindings: staticBindingsOf(config), onWarning: options.onWarning, onStorageChange: options.onStorageChange })
    : null;
  const firstMac = config.networks[0]?.routerMac.bytes ?? new Uint8Array(6);
  let serverDuid: Uint8Array;
  try {
    serverDuid = config.server.duid ?? (await loadOrCreateServerDuid(duidFile, firstMac, { now: now() }));
  } catch (e) {
    // Nothing opened here stays open.
    await leases?.close().catch(() => undefined);
    throw e;
  }
  const dhcpv6 = new Dhcpv6Server({ networks: config.networks, serverDuid, leases, now });
  const dispatcher = new Dispatcher(runtime, {
    sink: options.sink,
    now,
    seed: options.seed,
    verifyChecksums: options.verifyChecksums,
    dhcpv6,
    onCommitError: options.onCommitError,
    rateLimit: options.rateLimit === undefined ? config.server.rateLimit : options.rateLimit,
  });
  return {
    config,
    dispatcher,
    dhcpv6,
    leases,
    async close() {
      await dispatcher.flush();
      if (leases) await leases.close();
    },
  };
}
