/**
 * `punt6 run --config FILE [--metrics HOST:PORT] [--log-level LEVEL]`: the live punt path.
 *
 * Attaches to every punt interface of the configuration (src/dataplane/pcap.ts), answers what
 * arrives through the responder (src/responder/service.ts), sends periodic RAs, and serves
 * Prometheus metrics. Signals:
 *
 * - SIGHUP: reload the configuration. A valid file replaces the running one atomically (the old
 *   responder is flushed and its lease journal closed, a new one is opened from the same journal,
 *   then it takes over); an invalid one is refused, its problems logged, the old one keeps running.
 * - SIGTERM, SIGINT: final RAs (router lifetime 0, RFC 4861 §6.2.5) three times, the held DHCPv6
 *   replies and the lease journal flushed, then exit 0.
 *
 * docs/operations.md describes running it beside an OVS bridge.
 */

import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, LogLevels, type LogLevel, type Punt6Config } from './config/index.js';
import { parseHostPort } from './config/addr.js';
import type { Dataplane, PortEvent } from './dataplane/dataplane.js';
import { PuntLoop } from './dataplane/loop.js';
import { PcapDataplane } from './dataplane/pcap.js';
import { flowOptionsOf, UsageProblem } from './flows/command.js';
import { FlowKeeper } from './flows/keeper.js';
import type { FlowOptions } from './flows/rules.js';
import { JournalStorageError } from './dhcp/journal.js';
import { createLogger, type Logger } from './logging.js';
import { closeServer, Punt6Metrics } from './metrics.js';
import { openResponder, type Responder } from './responder/service.js';

export const runUsage = `usage: punt6 run --config FILE [--metrics HOST:PORT] [--log-level LEVEL] [--bridge BR [--meter-rate PPS] [--meter-burst N] [--meter-base N]]`;

/** RFC 4861 §10: MAX_FINAL_RTR_ADVERTISEMENTS. */
const FINAL_RAS = 3;

export interface ServiceOptions {
  configPath: string;
  logger: Logger;
  /** Metrics listener from the command line; it wins over the configuration's `metrics`. */
  metrics?: { host: string; port: number };
  /** Log level from the command line; it wins over the configuration's `log.level`. */
  logLevel?: LogLevel;
  /** Builds the dataplane for the interface names (default: live pcap captures). */
  dataplane?: (names: readonly string[], onEvent: (e: PortEvent) => void) => Dataplane;
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
  now?: () => number;
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
  /** The OVS rules keeper (`--bridge`), or null. */
  flows: FlowKeeper | null = null;
  /** Reloads and the stop run one at a time, in order. */
  private chain: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private readonly now: () => number;

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

  /** Loads the configuration and starts everything; throws ConfigError or a listener error. */
  async start(): Promise<void> {
    const config = await loadConfig(this.options.configPath);
    this.applyLogLevel(config);
    this.config = config;
    const names = config.interfaces.map((i) => i.name);
    const onEvent = (e: PortEvent): void => this.portEvent(e);
    this.dataplane = this.options.dataplane ? this.options.dataplane(names, onEvent) : new PcapDataplane(names, { onEvent });
    this.loop = new PuntLoop(this.dataplane, { now: this.now });
    try {
      const responder = await this.open(config);
      this.loop.start(responder);
      await this.listenMetrics(config);
    } catch (e) {
      await this.dataplane.close();
      const r = this.loop.stop();
      if (r) await r.close();
      throw e;
    }
    this.expireTimer = setInterval(() => this.expireLeases(), this.options.expireEveryMs ?? 60_000);
    if (this.options.bridge !== undefined) {
      // A failure to install (OVS down, no bridge) is logged and retried; the punt path runs anyway.
      this.flows = new FlowKeeper({ bridge: this.options.bridge, log: this.log, everyMs: this.options.flowsEveryMs, flowOptions: this.options.flowOptions });
      await this.flows.use(config);
      this.flows.start();
    }
    this.log.info(
      { config: config.source, interfaces: names, networks: config.networks.map((n) => n.name), ports: config.ports.length, metrics: this.serverAddress || null },
      'punt6 running',
    );
  }

  private applyLogLevel(config: Punt6Config): void {
    this.log.level = this.options.logLevel ?? config.log.level;
  }

  private async open(config: Punt6Config): Promise<Responder> {
    return openResponder(config, {
      sink: this.loop.sink,
      now: this.now,
      onCommitError: (error, replies) => {
        // A storage failure is logged once, when it begins (onStorageChange); its replies are counted.
        if (error instanceof JournalStorageError) this.log.debug({ replies }, 'DHCPv6 replies withheld: lease storage failing');
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
          this.log.info({ leases: config.server.leaseFile }, 'lease storage recovered: DHCPv6 replies that change leases are sent again');
        }
      },
    });
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
        this.log.warn({ interface: e.name, port: e.port, reason: e.reason }, 'cannot attach to interface; retrying every second');
        break;
      case 'detached':
        this.log.info({ interface: e.name, port: e.port }, 'interface detached');
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

  /** Reloads the configuration file; resolves true when the new one runs. */
  reload(): Promise<boolean> {
    const p = this.chain.then(() => this.doReload());
    this.chain = p.catch(() => {});
    return p;
  }

  private async doReload(): Promise<boolean> {
    if (this.stopping) return false;
    const path = this.options.configPath;
    let config: Punt6Config;
    try {
      config = await loadConfig(path);
    } catch (e) {
      this.metrics.reloads.inc({ result: 'error' });
      if (e instanceof ConfigError) {
        this.log.error({ config: path, problems: e.problems.map((p) => `${p.path}: ${p.reason}`) }, 'configuration refused; the running one stays');
      } else {
        this.log.error({ config: path, err: e }, 'configuration refused; the running one stays');
      }
      return false;
    }
    const started = this.now();
    const old = this.loop.pause();
    if (old) {
      this.metrics.retire(old);
      await old.close();
    }
    let responder: Responder;
    let ok = true;
    try {
      responder = await this.open(config);
    } catch (e) {
      // The new configuration passed validation but its state could not be opened (journal,
      // DUID file): go back to the old one, from the same journal.
      this.log.error({ config: path, err: e }, 'cannot start the new configuration; going back to the running one');
      this.metrics.reloads.inc({ result: 'error' });
      ok = false;
      config = this.config;
      responder = await this.open(config);
    }
    this.config = config;
    this.applyLogLevel(config);
    this.dataplane.setPorts(config.interfaces.map((i) => i.name));
    this.loop.start(responder);
    if (!ok) return false;
    this.metrics.reloads.inc({ result: 'ok' });
    if (this.flows) await this.flows.use(config);
    try {
      await this.listenMetrics(config);
    } catch (e) {
      this.log.error({ err: e }, 'cannot open the new metrics listener');
    }
    this.log.info(
      { config: path, interfaces: config.interfaces.map((i) => i.name), networks: config.networks.map((n) => n.name), ports: config.ports.length, pausedMs: this.now() - started },
      'configuration reloaded',
    );
    return true;
  }

  /** Final RAs, flush, close; resolves once everything is released. */
  stop(reason: string): Promise<void> {
    const p = this.chain.then(() => this.doStop(reason));
    this.chain = p.catch(() => {});
    return p;
  }

  private async doStop(reason: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info({ reason }, 'stopping');
    if (this.expireTimer) clearInterval(this.expireTimer);
    if (this.flows) await this.flows.stop();
    const frames = await this.loop.sendFinalAdvertisements(FINAL_RAS, this.options.finalRaPauseMs ?? 500);
    this.log.info({ frames, rounds: FINAL_RAS }, 'final router advertisements sent');
    const responder = this.loop.stop();
    if (responder) {
      try {
        await responder.close();
      } catch (e) {
        this.log.error({ err: e }, 'closing the lease journal failed');
      }
    }
    await this.dataplane.close();
    if (this.server) await closeServer(this.server);
    this.server = null;
    this.log.info({ reason }, 'stopped');
  }
}

/** The `punt6 run` command; resolves with the exit status once stopped. */
export async function runMain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      metrics: { type: 'string' },
      'log-level': { type: 'string' },
      bridge: { type: 'string' },
      'meter-rate': { type: 'string' },
      'meter-burst': { type: 'string' },
      'meter-base': { type: 'string' },
    },
  });
  const usageError = (message: string): number => {
    process.stderr.write(`punt6 run: ${message}\n${runUsage}\n`);
    return 2;
  };
  if (positionals.length > 0) return usageError(`unexpected argument ${positionals[0]}`);
  if (values.config === undefined) return usageError('--config FILE is required');
  let metrics: { host: string; port: number } | undefined;
  if (values.metrics !== undefined) {
    const hp = parseHostPort(values.metrics);
    if (hp === null) return usageError(`--metrics ${values.metrics}: not HOST:PORT (like [::1]:9464, 127.0.0.1:9464 or :9464)`);
    metrics = { host: hp.host, port: hp.port };
  }
  const level = values['log-level'];
  if (level !== undefined && !(LogLevels as readonly string[]).includes(level)) {
    return usageError(`--log-level is one of ${LogLevels.join(', ')}`);
  }
  let flowOptions: FlowOptions;
  try {
    flowOptions = flowOptionsOf(values);
  } catch (e) {
    if (e instanceof UsageProblem) return usageError(e.message);
    throw e;
  }
  if (values.bridge === undefined && (values['meter-rate'] !== undefined || values['meter-burst'] !== undefined || values['meter-base'] !== undefined)) {
    return usageError('--meter-rate, --meter-burst and --meter-base go with --bridge');
  }
  const logger = createLogger({ level: (level as LogLevel | undefined) ?? 'info' });
  const service = new Punt6Service({ configPath: values.config, logger, metrics, logLevel: level as LogLevel | undefined, bridge: values.bridge, flowOptions });
  try {
    await service.start();
  } catch (e) {
    if (e instanceof ConfigError) {
      logger.fatal({ config: values.config, problems: e.problems.map((p) => `${p.path}: ${p.reason}`) }, 'invalid configuration');
      process.stderr.write(`punt6 run: ${e.message}\n`);
    } else {
      logger.fatal({ err: e }, 'cannot start');
      process.stderr.write(`punt6 run: ${(e as Error).message}\n`);
    }
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'already stopping');
        return;
      }
      stopping = true;
      service.stop(signal).then(
        () => finish(0),
        (e: unknown) => {
          logger.error({ err: e }, 'stop failed');
          finish(1);
        },
      );
    };
    const onHup = (): void => {
      logger.info({ config: values.config }, 'SIGHUP: reloading the configuration');
      service.reload().catch((e: unknown) => {
        // Neither the new nor the old configuration could be opened again: nothing can answer.
        logger.fatal({ err: e }, 'reload failed and the running configuration could not be restored');
        onStop('SIGTERM');
      });
    };
    const finish = (code: number): void => {
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      process.off('SIGHUP', onHup);
      // Everything is closed and the log written. The pcap package frees a closed live capture
      // only when one more frame arrives on it (pcap_breakloop has no effect in non-blocking
      // mode), so its poll handle would keep the process alive: end it.
      setTimeout(() => process.exit(code), 200).unref();
      resolve(code);
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', onHup);
  });
}
