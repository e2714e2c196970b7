/**
 * Builds the whole responder from a configuration: the runtime model, the lease table (opened
 * from its journal, or carried over from the running responder by a reload), the server DUID,
 * the DHCPv6 server and the dispatcher. Shared by `punt6 replay`, the live dataplane and the
 * tests, so all of them answer the same way.
 *
 * The state files are looked at before anything opens them (`stateFileProblem`): a lease journal
 * or DUID file that is a FIFO, a device, or on /proc or /sys is refused, since opening it may
 * never return.
 */

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { JournalFs } from '../dhcp/journal.js';
import {
  LeaseType,
  LeaseTable,
  leaseTablePlan,
  type LeaseTableConfig,
  type LeaseTablePlan,
  type PoolConfig,
  type StaticBinding,
} from '../dhcp/leases.js';
import { stateFileProblem } from '../system/files.js';
import { runInSlices, runSteps, type SliceOptions, type Steps } from '../system/steps.js';
import { loadOrCreateServerDuid } from '../dhcp/server-duid.js';
import { Dhcpv6Server } from '../dhcp/server.js';
import type { Punt6Config } from '../config/model.js';
import { Dispatcher, dispatcherTables, type FrameSink } from './dispatcher.js';
import { runtimeSteps } from './from-config.js';
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
  /**
   * A lease table to answer from as it is, instead of opening the journal: a reload that keeps
   * the lease file carries the running table over (give it the new pools with
   * `reconfigure(leaseTableConfigOf(config))` when the new responder takes over).
   */
  leases?: LeaseTable;
  /** The server DUID, instead of reading the DUID file (a reload that keeps the DUID file). */
  serverDuid?: Uint8Array;
  /** The lease journal's file operations (default: the real file system). */
  journalFs?: JournalFs;
  /**
   * Build what grows with the ports (the runtime model, the dispatcher's tables, the lease
   * table's reservations) in slices of the event loop (src/system/steps.ts): a reload does, so
   * that the running responder answers meanwhile. Default: at once.
   */
  slices?: SliceOptions;
}

export interface Responder {
  config: Punt6Config;
  dispatcher: Dispatcher;
  dhcpv6: Dhcpv6Server;
  leases: LeaseTable | null;
  /** The lease journal of `leases`, or null. */
  leaseFile: string | null;
  /** The file the server DUID came from, or null when it came from the configuration. */
  duidFile: string | null;
  /** Sends the held DHCPv6 replies, then closes the lease table. */
  close(): Promise<void>;
}

/** The pools of every stateful network, for the lease table (network id = network index). */
export function poolsOf(config: Punt6Config): PoolConfig[] {
  const pools: PoolConfig[] = [];
  config.networks.forEach((net, networkId) => {
    const d = net.dhcpv6;
    if (d.mode !== 'stateful') return;
    for (const r of d.addressPools) {
      pools.push({
        networkId,
        type: LeaseType.Address,
        first: r.first,
        last: r.last,
        validLifetime: d.validLifetime,
        preferredLifetime: d.preferredLifetime,
      });
    }
    for (const p of d.prefixDelegation) {
      pools.push({
        networkId,
        type: LeaseType.Prefix,
        prefix: p.prefix.text,
        delegatedLength: p.delegatedLength,
        validLifetime: d.validLifetime,
        preferredLifetime: d.preferredLifetime,
      });
    }
  });
  return pools;
}

/**
 * The ports' controller-assigned addresses and delegated prefixes, as static bindings of the
 * lease table: the DHCPv6 server answers ports itself, and the table keeps these out of its pools.
 */
export function staticBindingsOf(config: Punt6Config): StaticBinding[] {
  return runSteps(staticBindingSteps(config));
}

/** {@link staticBindingsOf} in steps of a few hundred ports. */
function* staticBindingSteps(config: Punt6Config): Steps<StaticBinding[]> {
  const out: StaticBinding[] = [];
  for (let networkId = 0; networkId < config.networks.length; networkId++) {
    const net = config.networks[networkId] as Punt6Config['networks'][number];
    if (net.dhcpv6.mode !== 'stateful') continue;
    for (let i = 0; i < net.ports.length; i++) {
      if ((i & 255) === 255) yield;
      const p = net.ports[i] as Punt6Config['ports'][number];
      for (const a of p.addresses) out.push({ mac: p.mac.bytes, type: LeaseType.Address, networkId, address: a.bytes });
      if (p.delegatedPrefix)
        out.push({
          mac: p.mac.bytes,
          type: LeaseType.Prefix,
          networkId,
          address: p.delegatedPrefix.address,
          prefixLength: p.delegatedPrefix.length,
        });
    }
  }
  return out;
}

/** The pools and reservations of the configuration, as the lease table takes them. */
export function leaseTableConfigOf(config: Punt6Config): LeaseTableConfig {
  return runSteps(leaseTableConfigSteps(config));
}

function* leaseTableConfigSteps(config: Punt6Config): Steps<LeaseTableConfig> {
  const staticBindings = yield* staticBindingSteps(config);
  return { pools: poolsOf(config), staticBindings, limits: config.server.leaseLimits };
}

/**
 * The lease table's plan for the configuration (checked and indexed, src/dhcp/leases.ts), built
 * in steps: a reload that keeps the lease table builds it beforehand and swaps it in with
 * `usePlan`, in a time that does not grow with the ports.
 */
export function* leaseTablePlanOf(config: Punt6Config): Steps<LeaseTablePlan> {
  return yield* leaseTablePlan(yield* leaseTableConfigSteps(config));
}

/** The lease journal the configuration uses, or null when no network is stateful. */
export function leaseFileOf(config: Punt6Config): string | null {
  return config.networks.some((n) => n.dhcpv6.mode === 'stateful') ? config.server.leaseFile : null;
}

/** The server DUID file the configuration uses, or null when it gives the DUID itself. */
export function duidFileOf(config: Punt6Config): string | null {
  return config.server.duid === null ? config.server.duidFile : null;
}

async function refuseStateFile(what: string, path: string): Promise<void> {
  const problem = await stateFileProblem(path);
  if (problem !== null) throw new Error(`${what} ${path}: ${problem}`);
}

export async function openResponder(config: Punt6Config, options: ResponderOptions = {}): Promise<Responder> {
  const now = options.now ?? Date.now;
  const slices = options.slices;
  const run = <T>(steps: Steps<T>): Promise<T> =>
    slices === undefined ? Promise.resolve(runSteps(steps)) : runInSlices(steps, slices);
  const runtime = await run(runtimeSteps(config));
  const configLeaseFile = leaseFileOf(config);
  const leaseFile =
    configLeaseFile === null ? null : (options.leases?.journal.path ?? options.leaseFile ?? configLeaseFile);
  const configDuidFile = duidFileOf(config);
  const duidFile = configDuidFile === null ? null : (options.duidFile ?? configDuidFile);
  const openLeases = leaseFile !== null && options.leases === undefined;
  const readDuid = duidFile !== null && options.serverDuid === undefined;
  if (openLeases) await refuseStateFile('lease journal', leaseFile);
  if (readDuid) await refuseStateFile('server DUID file', duidFile);
  // The state (lease journal, server DUID) is created on first start.
  if (options.createDirectories !== false) {
    if (openLeases) await mkdir(dirname(leaseFile), { recursive: true, mode: 0o750 });
    if (readDuid) await mkdir(dirname(duidFile), { recursive: true, mode: 0o750 });
  }
  const leaseConfig = openLeases ? await run(leaseTableConfigSteps(config)) : null;
  const leases =
    leaseFile === null
      ? null
      : (options.leases ??
        (await LeaseTable.open(leaseFile, {
          ...(leaseConfig as LeaseTableConfig),
          plan: await run(leaseTablePlan(leaseConfig as LeaseTableConfig)),
          fs: options.journalFs,
          onWarning: options.onWarning,
          onStorageChange: options.onStorageChange,
        })));
  const firstMac = config.networks[0]?.routerMac.bytes ?? new Uint8Array(6);
  let serverDuid: Uint8Array;
  try {
    serverDuid =
      config.server.duid ??
      options.serverDuid ??
      (await loadOrCreateServerDuid(duidFile ?? config.server.duidFile, firstMac, { now: now() }));
  } catch (e) {
    // Nothing opened here stays open.
    if (openLeases) await leases?.close().catch(() => undefined);
    throw e;
  }
  const dhcpv6 = new Dhcpv6Server({
    networks: config.networks,
    serverDuid,
    leases,
    now,
    iasPerMessage: config.server.leaseLimits.iasPerMessage,
  });
  const rateLimit = options.rateLimit === undefined ? config.server.rateLimit : options.rateLimit;
  let tables;
  try {
    tables = await run(dispatcherTables(runtime, { seed: options.seed, rateLimit }));
  } catch (e) {
    // Given up (a reload abandoned): nothing opened here stays open.
    if (openLeases) await leases?.close().catch(() => undefined);
    throw e;
  }
  const dispatcher = new Dispatcher(runtime, {
    tables,
    sink: options.sink,
    now,
    seed: options.seed,
    verifyChecksums: options.verifyChecksums,
    dhcpv6,
    onCommitError: options.onCommitError,
    rateLimit,
  });
  return {
    config,
    dispatcher,
    dhcpv6,
    leases,
    leaseFile,
    duidFile,
    async close() {
      await dispatcher.flush();
      if (leases) await leases.close();
    },
  };
}
