/**
 * The long-running punt6 service behind `punt6 run` (src/commands/run.ts): it attaches to every
 * punt interface of the configuration (the packet ring, src/dataplane/ring.ts, or libpcap,
 * src/dataplane/pcap.ts, when the ring's addon cannot be loaded or is not wanted), answers what arrives through the
 * responder (src/responder/responder.ts), sends periodic RAs, keeps the OpenFlow rules with
 * `--bridge`, and serves Prometheus metrics.
 *
 * - reload(): in two steps. The preparation, while the running configuration answers on: read
 *   and check the file, build the new responder (runtime, DHCPv6 server, dispatcher) and its
 *   state, and with `--bridge` the new rule set and its difference from the installed one. What
 *   grows with the ports is built in slices of a few milliseconds (src/system/steps.ts), the
 *   event loop answering frames between two slices, so a large configuration delays nothing by
 *   more than a slice. A lease file (or DUID file) that stays the same is not opened again: the
 *   running lease table is carried over, and its new pools and reservations are built now and
 *   handed to it at the swap. A new one is opened now, after a look at the path that refuses what
 *   could block an open for good (a FIFO, a device, /proc, /sys). The whole preparation has a
 *   time limit; when it fails, runs out or a stop comes, the reload is abandoned, logged and
 *   counted, the old configuration answers on, the preparation stops at its next slice, and what
 *   it opened is closed. Then the swap, synchronous and the same length whatever the number of
 *   ports: the loop pauses, the lease table takes its new plan, the new responder starts, the
 *   interfaces are reconciled, all in one turn of the event loop. The old dispatcher's held
 *   DHCPv6 replies go out after their commit; a lease table not carried over is closed after them.
 * - stop(): a reload still preparing is given up at once; final RAs (router lifetime 0, RFC 4861
 *   §6.2.5) three times, the held DHCPv6 replies and the lease journal flushed (each wait on
 *   storage within a time limit).
 *
 * docs/operations.md describes running it beside an OVS bridge.
 */

import { stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import { ConfigError, type LogLevel, type Punt6Config } from '../config/index.js';
import type { Dataplane, PortEvent } from '../dataplane/dataplane.js';
import { PuntLoop } from '../dataplane/loop.js';
import { PcapDataplane } from '../dataplane/pcap.js';
import { RingDataplane } from '../dataplane/ring.js';
import { FlowKeeper } from '../flows/keeper.js';
import type { FlowOptions } from '../flows/rules.js';
import { JournalStorageError, type JournalFs } from '../dhcp/journal.js';
import type { LeaseTable, LeaseTablePlan } from '../dhcp/leases.js';
import type { Logger } from '../system/logging.js';
import { loadRunnableConfig } from './config-check.js';
import { closeServer, Punt6Metrics } from './metrics.js';
import type { FrameSink } from '../responder/dispatcher.js';
import { duidFileOf, leaseFileOf, leaseTablePlanOf, openResponder, type Responder } from '../responder/responder.js';
import { runInSlices, type SliceOptions } from '../system/steps.js';
import { withinTimeLimit } from '../system/time-limit.js';

export const DataplaneKinds = ['ring', 'pcap'] as const;
export type DataplaneKind = (typeof DataplaneKinds)[number];

/** RFC 4861 §10: MAX_FINAL_RTR_ADVERTISEMENTS. */
const FINAL_RAS = 3;

export interface ServiceOptions {
  configPath: string;
  logger: Logger;
  /** Metrics listener from the command line; it wins over the configuration's `metrics`. */
  metrics?: { host: string; port: number };
  /** Log level from the command line; it wins over the configuration's `log.level`. */
  logLevel?: LogLevel;
  /** Builds the dataplane for the interface names (default: `dataplaneKind`'s). */
  dataplane?: (names: readonly string[], onEvent: (e: PortEvent) => void) => Dataplane;
  /**
   * The live dataplane: `ring` (punt6's packet ring) or `pcap` (libpcap). Default: the ring
   * when its addon loads, libpcap otherwise.
   */
  dataplaneKind?: DataplaneKind;
  /** Frames each interface's receive ring (or libpcap's buffer) holds (default 32768). */
  ringFrames?: number;
  /** Pause between the final RAs, ms (default 500). */
  finalRaPauseMs?: number;
  /** How often expired leases are reclaimed, ms (default 60 s). */
  expireEveryMs?: number;
  /** Keep punt6's OpenFlow rules on this OVS bridge (docs/flows.md). */
  bridge?: string;
  /** How often the bridge's rules are checked, ms (default 2000). */
  flowsEveryMs?: number;
  /** Meter rate and the other rule options (default DefaultFlowOptions). */
  flowOptions?: FlowOptions;
  /**
   * Longest the start may take to read the configuration and open its state, and a reload to
   * prepare the new configuration, ms (default 10 s).
   */
  prepareTimeoutMs?: number;
  /** Longest the stop waits for a lease journal to close, ms (default 5 s). */
  closeTimeoutMs?: number;
  /** Longest slice of a reload's preparation between two turns of the event loop, ms (default 3). */
  prepareSliceMs?: number;
  /** The lease journal's file operations (default: the real file system). */
  journalFs?: JournalFs;
  now?: () => number;
}

/** A configuration made ready to answer, while the running one (if any) still answers. */
interface Prepared {
  config: Punt6Config;
  responder: Responder;
  /** The running lease table goes on under the new responder (the lease file is the same). */
  carried: boolean;
  /** The carried table's new pools and reservations, handed to it at the swap; null when not carried. */
  plan: LeaseTablePlan | null;
}

/** Whether two paths name the same file (the same name, or the same inode through a link). */
async function sameFile(a: string, b: string): Promise<boolean> {
  if (a === b) return true;
  try {
    const [x, y] = await Promise.all([stat(a), stat(b)]);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** The running punt path: dataplane, loop, responder, metrics; `reload()` and `stop()`. */
export class Punt6Service {
  readonly options: ServiceOptions;
  readonly log: Logger;
  config!: Punt6Config;
  dataplane!: Dataplane;
  loop!: PuntLoop;
  readonly metrics: Punt6Metrics;
  private server: Server | null = null;
  private serverAddress = '';
  private expireTimer: NodeJS.Timeout | null = null;
  /**
   * Why the last reload left the running configuration: the file's problems, or why it was
   * abandoned; null when it took (for `punt6 ctl reload`, which answers with it).
   */
  lastReloadFailure: { problems: readonly string[] } | { reason: string } | null = null;
  /** The OVS rules keeper (`--bridge`), or null. */
  flows: FlowKeeper | null = null;
  /** Reloads and the stop run one at a time, in order. */
  private chain: Promise<unknown> = Promise.resolve();
  /** stop() was called: reloads not begun yet do nothing, one preparing is given up. */
  private stopRequested = false;
  private stopped = false;
  /** The preparation of the reload under way, to give up when the stop comes. */
  private preparing: AbortController | null = null;
  /**
   * What replaced configurations still do: send their held replies, then close their lease
   * table unless it was carried over.
   */
  private readonly closing = new Set<Promise<void>>();
  private readonly now: () => number;
  /** Where responders send the frames they produce outside `handle()`: the loop's sink. */
  private readonly sink: FrameSink = (port, frame, off, len) => this.loop.sink(port, frame, off, len);

  constructor(options: ServiceOptions) {
    this.options = options;
    this.log = options.logger;
    this.now = options.now ?? Date.now;
    this.metrics = new Punt6Metrics({
      responder: () => this.loop?.current ?? null,
      ports: () => this.dataplane?.status() ?? [],
      nextRaDue: () => this.loop?.nextDue ?? Infinity,
      droppedWhileReloading: () => this.loop?.droppedWhilePaused ?? 0,
      flows: async () => (this.flows ? this.flows.freshStats() : null),
      sendFailures: () => this.loop?.sendFailures ?? 0,
      now: this.now,
    });
  }

  /**
   * Loads the configuration, opens its state, then attaches the interfaces and starts answering;
   * throws ConfigError, the state's error (a corrupt journal...) or a listener error. The state
   * opens before any interface is captured, so a start that fails there has opened nothing else.
   */
  async start(): Promise<void> {
    const { config, responder } = await this.prepareWithinLimit(null);
    this.applyLogLevel(config);
    this.config = config;
    const names = config.interfaces.map((i) => i.name);
    const onEvent = (e: PortEvent): void => this.portEvent(e);
    this.dataplane = this.openDataplane(names, onEvent);
    this.loop = new PuntLoop(this.dataplane, { now: this.now });
    try {
      this.loop.start(responder);
      await this.listenMetrics(config);
    } catch (e) {
      await this.dataplane.close();
      this.loop.stop();
      await this.closeWithinLimit(responder);
      throw e;
    }
    this.expireTimer = setInterval(() => this.expireLeases(), this.options.expireEveryMs ?? 60_000);
    if (this.options.bridge !== undefined) {
      // A failure to install (OVS down, no bridge) is logged and retried; the punt path runs anyway.
      this.flows = new FlowKeeper({
        bridge: this.options.bridge,
        log: this.log,
        everyMs: this.options.flowsEveryMs,
        flowOptions: this.options.flowOptions,
      });
      await this.flows.use(config);
      this.flows.start();
    }
    this.log.info(
      {
        config: config.source,
        interfaces: names,
        networks: config.networks.map((n) => n.name),
        ports: config.ports.length,
        metrics: this.serverAddress || null,
        dataplane: this.dataplaneKind,
      },
      'punt6 running',
    );
  }

  /** Which live dataplane runs ('custom': one given by `options.dataplane`). */
  dataplaneKind: DataplaneKind | 'custom' = 'custom';

  private openDataplane(names: readonly string[], onEvent: (e: PortEvent) => void): Dataplane {
    const o = this.options;
    if (o.dataplane) return o.dataplane(names, onEvent);
    const options = { onEvent, frames: o.ringFrames };
    if (o.dataplaneKind !== 'pcap') {
      try {
        const ring = new RingDataplane(names, options);
        this.dataplaneKind = 'ring';
        return ring;
      } catch (e) {
        if (o.dataplaneKind === 'ring') throw e;
        this.log.warn({ reason: (e as Error).message }, 'packet ring unavailable; using libpcap');
      }
    }
    this.dataplaneKind = 'pcap';
    return new PcapDataplane(names, options);
  }

  private applyLogLevel(config: Punt6Config): void {
    this.log.level = this.options.logLevel ?? config.log.level;
  }

  /**
   * Reads and checks the configuration file and its state as `punt6 check` does
   * (config-check.ts), and builds a responder for it, beside the running one (`current`, null at
   * start). A lease file or DUID file that the running responder uses already is not opened
   * again: its table and DUID are carried over. A reload (`slices` given) builds in slices, and
   * stops at the next one once `slices.signal` aborts; a start builds at once.
   */
  private async prepare(current: Responder | null, slices: SliceOptions | undefined): Promise<Prepared> {
    const config = await loadRunnableConfig(this.options.configPath, {}, slices ?? { sliceMs: Infinity });
    const leaseFile = leaseFileOf(config);
    const duidFile = duidFileOf(config);
    const carry =
      current?.leases != null &&
      current.leaseFile !== null &&
      leaseFile !== null &&
      (await sameFile(current.leaseFile, leaseFile))
        ? current.leases
        : undefined;
    const keepDuid =
      current !== null && current.duidFile !== null && duidFile !== null && (await sameFile(current.duidFile, duidFile))
        ? current.dhcpv6.serverDuid
        : undefined;
    const responder = await this.open(config, carry, keepDuid, slices);
    try {
      // Checked and built aside: a refusal (overlapping reservations...) changes nothing.
      const plan = carry === undefined ? null : await runInSlices(leaseTablePlanOf(config), slices);
      if (this.flows && slices !== undefined) await this.flows.prepare(config, slices);
      return { config, responder, carried: carry !== undefined, plan };
    } catch (e) {
      // A carried table is the running one's: only a table opened here is closed.
      if (carry === undefined) void this.closeWithinLimit(responder);
      throw e;
    }
  }

  /**
   * {@link prepare} within the time limit; given up at the limit or when `signal` aborts (the
   * work stops at its next slice), and what it opens after that is closed then.
   */
  private prepareWithinLimit(current: Responder | null, signal?: AbortSignal): Promise<Prepared> {
    const giveUp = new AbortController();
    const slices = current === null ? undefined : { signal: giveUp.signal, sliceMs: this.options.prepareSliceMs };
    const work = withinTimeLimit(this.prepare(current, slices), {
      what: current === null ? 'opening the configuration and its state' : 'preparing the new configuration',
      ms: this.options.prepareTimeoutMs ?? 10_000,
      signal,
      late: (p) => {
        if (p.carried) return;
        this.log.info({ leases: p.responder.leaseFile }, 'state of an abandoned reload opened late; closing it');
        void this.closeWithinLimit(p.responder);
      },
    });
    work.catch((e: unknown) => giveUp.abort(e));
    return work;
  }

  private async open(
    config: Punt6Config,
    leases: LeaseTable | undefined,
    serverDuid: Uint8Array | undefined,
    slices: SliceOptions | undefined,
  ): Promise<Responder> {
    return openResponder(config, {
      slices,
      sink: this.sink,
      now: this.now,
      leases,
      serverDuid,
      journalFs: this.options.journalFs,
      onCommitError: (error, replies) => {
        // A storage failure is logged once, when it begins (onStorageChange); its replies are counted.
        if (error instanceof JournalStorageError)
          this.log.debug({ replies }, 'DHCPv6 replies withheld: lease storage failing');
        else this.log.error({ err: error, replies }, 'lease journal commit failed; DHCPv6 replies not sent');
      },
      onWarning: (message) => this.log.warn({ leases: config.server.leaseFile }, message),
      onStorageChange: (failure) => {
        if (failure !== null) {
          this.log.error(
            { leases: config.server.leaseFile, err: failure.cause ?? failure },
            'lease storage failing: DHCPv6 replies that change leases are withheld until a retry succeeds; everything else is answered',
          );
        } else {
          this.log.info(
            { leases: config.server.leaseFile },
            'lease storage recovered: DHCPv6 replies that change leases are sent again',
          );
        }
      },
    });
  }

  /** Sends a responder's held replies and closes its lease table, within the close time limit. */
  private closeWithinLimit(responder: Responder): Promise<void> {
    return this.settleWithinLimit(responder.close(), 'closing the lease journal', responder.leaseFile);
  }

  /**
   * Waits for work on the lease journal no longer than the close time limit (storage that hangs
   * must not hold the stop); a failure or the time limit is logged as "WHAT failed".
   */
  private async settleWithinLimit(work: Promise<void>, what: string, leases: string | null): Promise<void> {
    try {
      await withinTimeLimit(work, { what, ms: this.options.closeTimeoutMs ?? 5000 });
    } catch (e) {
      this.log.error({ leases, err: e }, `${what} failed`);
    }
  }

  private async listenMetrics(config: Punt6Config): Promise<void> {
    const want = this.options.metrics ?? config.metrics;
    const address = want ? (want.host.includes(':') ? `[${want.host}]:${want.port}` : `${want.host}:${want.port}`) : '';
    if (address === this.serverAddress) return;
    if (this.server) {
      await closeServer(this.server);
      this.log.info({ address: this.serverAddress }, 'metrics listener closed');
      this.server = null;
      this.serverAddress = '';
    }
    if (want) {
      this.server = await this.metrics.listen(want.host, want.port);
      this.serverAddress = address;
      this.log.info({ address, path: '/metrics' }, 'metrics listening');
    }
  }

  private portEvent(e: PortEvent): void {
    switch (e.type) {
      case 'attached':
        this.log.info({ interface: e.name, port: e.port, ifindex: e.ifindex }, 'interface attached');
        break;
      case 'lost':
        this.log.warn({ interface: e.name, port: e.port, reason: e.reason }, 'interface lost; retrying every second');
        break;
      case 'attach-failed':
        this.log.warn(
          { interface: e.name, port: e.port, reason: e.reason },
          'cannot attach to interface; retrying every second',
        );
        break;
      case 'detached':
        this.log.info({ interface: e.name, port: e.port }, 'interface detached');
        break;
      case 'link-down':
        this.log.warn({ interface: e.name, port: e.port }, 'interface link down; answering again once it is up');
        break;
      case 'send-failed':
        this.log.warn({ interface: e.name, port: e.port, reason: e.reason }, 'cannot send on interface');
        break;
    }
  }

  private expireLeases(): void {
    const leases = this.loop.current?.leases;
    // While storage fails, expiry waits: the table changes only with what can be made durable.
    if (!leases || !leases.writable) return;
    const r = leases.expire(this.now());
    if (r.leases.length === 0 && r.quarantinesEnded === 0) return;
    this.log.info({ leases: r.leases.length, quarantinesEnded: r.quarantinesEnded }, 'expired leases reclaimed');
    leases.commit().catch((e: unknown) => this.log.error({ err: e }, 'lease journal commit failed'));
  }

  /** Reloads the configuration file; resolves true when the new one runs, false when the old one stays. */
  reload(): Promise<boolean> {
    const p = this.chain.then(() => this.doReload());
    this.chain = p.catch(() => {});
    return p;
  }

  private async doReload(): Promise<boolean> {
    if (this.stopRequested) return false;
    const path = this.options.configPath;
    const preparing = new AbortController();
    this.preparing = preparing;
    let next: Prepared;
    try {
      next = await this.prepareWithinLimit(this.loop.current, preparing.signal);
    } catch (e) {
      this.metrics.reloads.inc({ result: 'error' });
      this.flows?.discardPrepared();
      if (e instanceof ConfigError) {
        const problems = e.problems.map((p) => `${p.path}: ${p.reason}`);
        this.lastReloadFailure = { problems };
        this.log.error({ config: path, problems }, 'configuration refused; the running one stays');
      } else {
        this.abandoned(e);
      }
      return false;
    } finally {
      this.preparing = null;
    }
    const config = next.config;
    const pausedMs = this.swap(next);
    this.lastReloadFailure = null;
    this.metrics.reloads.inc({ result: 'ok' });
    if (this.flows) await this.flows.use(config);
    try {
      await this.listenMetrics(config);
    } catch (e) {
      this.log.error({ err: e }, 'cannot open the new metrics listener');
    }
    this.log.info(
      {
        config: path,
        interfaces: config.interfaces.map((i) => i.name),
        networks: config.networks.map((n) => n.name),
        ports: config.ports.length,
        pausedMs,
      },
      'configuration reloaded',
    );
    return true;
  }

  private abandoned(e: unknown): void {
    const reason = e instanceof Error ? e.message : String(e);
    this.lastReloadFailure = { reason };
    this.log.error({ config: this.options.configPath, reason }, 'reload abandoned; the running configuration stays');
  }

  /**
   * Hands the punt path to the prepared configuration (a carried lease table takes its new plan).
   * Synchronous, and the same length whatever the size of the configuration: between the pause
   * and the start nothing else runs, so no frame waits or is lost. Returns how long answering
   * paused, ms. The old dispatcher's held DHCPv6 replies still go out after their commit (through
   * the loop's sink); a lease table not carried over is closed once they have.
   */
  private swap(next: Prepared): number {
    const { config, responder } = next;
    const started = this.now();
    const old = this.loop.pause();
    if (next.plan !== null) responder.leases?.usePlan(next.plan);
    this.config = config;
    this.applyLogLevel(config);
    this.dataplane.setPorts(config.interfaces.map((i) => i.name));
    this.loop.start(responder);
    const pausedMs = this.now() - started;
    if (old !== null) {
      this.metrics.retire(old, responder);
      const done = next.carried
        ? this.settleWithinLimit(old.dispatcher.flush(), 'sending the held DHCPv6 replies', old.leaseFile)
        : this.closeWithinLimit(old);
      this.closing.add(done);
      void done.finally(() => this.closing.delete(done));
    }
    return pausedMs;
  }

  /**
   * Final RAs, flush, close; resolves once everything is released. A reload still preparing is
   * given up, and no wait on storage lasts longer than the close time limit.
   */
  stop(reason: string): Promise<void> {
    this.stopRequested = true;
    this.preparing?.abort(new Error(`stopping (${reason})`));
    const p = this.chain.then(() => this.doStop(reason));
    this.chain = p.catch(() => {});
    return p;
  }

  private async doStop(reason: string): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.log.info({ reason }, 'stopping');
    if (this.expireTimer) clearInterval(this.expireTimer);
    if (this.flows) await this.flows.stop();
    const frames = await this.loop.sendFinalAdvertisements(FINAL_RAS, this.options.finalRaPauseMs ?? 500);
    this.log.info({ frames, rounds: FINAL_RAS }, 'final router advertisements sent');
    const responder = this.loop.stop();
    if (responder) await this.closeWithinLimit(responder);
    // What earlier configurations still send or close (each within the close time limit).
    await Promise.all(this.closing);
    await this.dataplane.close();
    if (this.server) await closeServer(this.server);
    this.server = null;
    this.log.info({ reason }, 'stopped');
  }
}
