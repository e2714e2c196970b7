/**
 * Keeps punt6's rules on a bridge while `punt6 run --bridge BR` runs: installs them at start,
 * re-installs them when the configuration is reloaded, and every few seconds compares the rules
 * carrying punt6's cookie with the desired set, re-installing on any difference (ovs-vswitchd
 * restarted, someone deleted or changed a rule). A failure (OVS not running, bridge missing) is
 * logged once and retried on the next round; the punt path keeps answering meanwhile.
 *
 * It also keeps the latest flow and meter counters, per category, for the metrics endpoint.
 */

import type { Punt6Config } from '../config/model.js';
import type { Logger } from '../system/logging.js';
import { desiredRuleSet, OvsClient, reconcile } from './ovs.js';
import { DefaultFlowOptions, type FlowOptions, type OfPortRef, type RuleSet } from './rules.js';
import { flowStats, type FlowStats } from './stats.js';

export interface FlowKeeperOptions {
  bridge: string;
  log: Logger;
  ovs?: OvsClient;
  flowOptions?: FlowOptions;
  /** Manual port bindings (`--port NAME=IFACE|OFPORT`). */
  manual?: ReadonlyMap<string, OfPortRef>;
  /** How often the rules are checked, ms (default 2000). */
  everyMs?: number;
}

export class FlowKeeper {
  readonly bridge: string;
  private readonly log: Logger;
  private readonly ovs: OvsClient;
  private readonly flowOptions: FlowOptions;
  private readonly manual: ReadonlyMap<string, OfPortRef>;
  private readonly everyMs: number;
  private config: Punt6Config | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastError = '';
  /** Rounds that found the rules different and installed them. */
  installs = 0;
  /** Rounds that failed (OVS down, bridge missing, a rejected bundle). */
  failures = 0;
  /** Counters of the last successful round, or null. */
  stats: FlowStats | null = null;
  desired: RuleSet | null = null;

  constructor(options: FlowKeeperOptions) {
    this.bridge = options.bridge;
    this.log = options.log;
    this.ovs = options.ovs ?? new OvsClient();
    this.flowOptions = options.flowOptions ?? DefaultFlowOptions;
    this.manual = options.manual ?? new Map();
    this.everyMs = options.everyMs ?? 2000;
  }

  /** Sets (or replaces, on reload) the configuration and checks the rules now. */
  async use(config: Punt6Config): Promise<void> {
    this.config = config;
    await this.round();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.round(), this.everyMs);
    this.timer.unref();
  }

  /** The counters as they are now (one round first; rounds never overlap). */
  async freshStats(): Promise<FlowStats | null> {
    await this.round();
    return this.stats;
  }

  /** Stops checking. punt6's rules stay on the bridge: OVS keeps answering what it can. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }

  /** One comparison (and install when needed); rounds never overlap. */
  round(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.check().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async check(): Promise<void> {
    const config = this.config;
    if (config === null) return;
    try {
      const desired = await desiredRuleSet(this.ovs, this.bridge, config, this.flowOptions, this.manual);
      for (const note of desired.notes) if (this.desired === null) this.log.warn({ bridge: this.bridge }, note);
      const r = await reconcile(this.bridge, desired, this.ovs);
      this.desired = desired;
      if (r.reinstalled) {
        this.installs++;
        this.log.info(
          {
            bridge: this.bridge,
            rules: desired.rules.length,
            meters: desired.meters.length,
            missing: r.missing,
            extra: r.extra,
            meterChanges: r.meters,
          },
          'flows installed',
        );
      }
      if (this.lastError !== '') {
        this.log.info({ bridge: this.bridge }, 'flows back in place');
        this.lastError = '';
      }
      this.stats = flowStats(desired, await this.ovs.ownFlows(this.bridge), await this.ovs.meterStats(this.bridge));
    } catch (e) {
      this.failures++;
      const message = e instanceof Error ? e.message : String(e);
      if (message !== this.lastError)
        this.log.error({ bridge: this.bridge, err: message }, 'cannot install flows; retrying');
      this.lastError = message;
    }
  }
}
