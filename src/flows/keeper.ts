/**
 * Keeps punt6's rules on a bridge while `punt6 run --bridge BR` runs.
 *
 * - At start, and every `fullEvery` rounds, a full check: punt6's rules and meters on the bridge
 *   are dumped and compared with the desired set, which is installed whole on any difference.
 *   The dump is parsed and compared in slices of the event loop (src/system/steps.ts).
 * - Every other round (every `everyMs`), a cheap one: the number of rules carrying punt6's cookie
 *   (`dump-aggregate`). A number other than the installed set's (ovs-vswitchd restarted, someone
 *   deleted rules) makes it a full check.
 * - When the desired set changes (a reload, a port that appeared or went), only the difference is
 *   installed (`installChanges`): the meters that differ in one batch, the rules in one atomic
 *   bundle, the meters no longer wanted in one batch after it.
 *   The set is generated again only when the configuration or the ports on the bridge changed.
 *
 * A reload calls `prepare` before the swap: the new set is generated for the bindings of the last
 * round, and its difference from the installed one worked out, in slices of the event loop, so
 * that the round after the swap (`use`) finds both made and answering never waits for them.
 *
 * A failure (OVS not running, bridge missing) is logged once and retried on the next round; the
 * punt path keeps answering meanwhile. Meters changed through `ovs-ofctl`, one process each
 * (no management socket where OVS_RUNDIR says), are a warning, logged once. Flow and meter
 * counters are read when asked for (`freshStats`, the metrics endpoint), not every round.
 */

import type { Punt6Config } from '../config/model.js';
import type { Logger } from '../system/logging.js';
import { DEFAULT_SLICE_MS, runInSlices, type SliceOptions } from '../system/steps.js';
import { desiredRuleSet, installChanges, OvsClient, reconcile } from './ovs.js';
import {
  DefaultFlowOptions,
  generateRuleSteps,
  ruleChangeSteps,
  type FlowOptions,
  type OfPortRef,
  type PortBindings,
  type RuleSet,
} from './rules.js';
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
  /** Every how many rounds the check is a full one (default 30). */
  fullEvery?: number;
}

export class FlowKeeper {
  readonly bridge: string;
  private readonly log: Logger;
  private readonly ovs: OvsClient;
  private readonly flowOptions: FlowOptions;
  private readonly manual: ReadonlyMap<string, OfPortRef>;
  private readonly everyMs: number;
  private readonly fullEvery: number;
  private config: Punt6Config | null = null;
  /** What is on the bridge as far as punt6 knows: the set it last installed or found in place. */
  private installed: RuleSet | null = null;
  /** What the desired set was generated from: the configuration and the ports' bindings. */
  private generatedFrom: { config: Punt6Config; bindings: string } | null = null;
  private roundsSinceFull = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastError = '';
  /** The ovs-ofctl fallback of the meter batches last logged (OvsClient.meterFallback). */
  private loggedFallback: string | null = null;
  /** Rounds that found the rules different and installed them whole. */
  installs = 0;
  /** Rounds that installed a difference only. */
  changes = 0;
  /** Rounds that failed (OVS down, bridge missing, a rejected bundle). */
  failures = 0;
  /** Counters of the last successful round, or null. */
  stats: FlowStats | null = null;
  desired: (RuleSet & { notes: string[]; bindings: PortBindings }) | null = null;
  /** A set generated ahead of `use` by `prepare`, and what it was generated from. */
  private prepared: {
    config: Punt6Config;
    bindings: string;
    set: RuleSet & { notes: string[]; bindings: PortBindings };
  } | null = null;

  constructor(options: FlowKeeperOptions) {
    this.bridge = options.bridge;
    this.log = options.log;
    this.ovs = options.ovs ?? new OvsClient();
    this.flowOptions = options.flowOptions ?? DefaultFlowOptions;
    this.manual = options.manual ?? new Map();
    this.everyMs = options.everyMs ?? 2000;
    this.fullEvery = options.fullEvery ?? 30;
  }

  /** Sets (or replaces, on reload) the configuration and checks the rules now. */
  async use(config: Punt6Config): Promise<void> {
    this.config = config;
    await this.round();
  }

  /**
   * Generates the rule set of `config` for the ports' bindings of the last round, and its
   * difference from the installed set, in slices of the event loop, ahead of `use(config)`. Does
   * nothing before a round has found the bindings; `use` generates what bindings changed since.
   */
  async prepare(config: Punt6Config, slices: SliceOptions): Promise<void> {
    const last = this.desired;
    if (last === null) return;
    const generated = await runInSlices(generateRuleSteps(config, last.bindings, this.flowOptions), slices);
    const set = { ...generated, notes: last.notes, bindings: last.bindings };
    const installed = this.installed;
    if (installed !== null) await runInSlices(ruleChangeSteps(installed, set), slices);
    this.prepared = { config, bindings: bindingsKey(last.bindings), set };
  }

  /** Forgets what `prepare` made (the reload it was for was given up). */
  discardPrepared(): void {
    this.prepared = null;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.round(), this.everyMs);
    this.timer.unref();
  }

  /** The counters as they are now (one round first; rounds never overlap). */
  async freshStats(): Promise<FlowStats | null> {
    await this.round();
    const desired = this.desired;
    if (desired === null || this.lastError !== '') return this.stats;
    try {
      this.stats = flowStats(desired, await this.ovs.ownFlows(this.bridge), await this.ovs.meterStats(this.bridge));
    } catch {
      // The next round logs what is wrong; the counters stay as last read.
    }
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
      const desired = await this.desiredSet(config);
      const installed = this.installed;
      let full = installed === null || ++this.roundsSinceFull >= this.fullEvery;
      if (!full && installed !== null && (await this.ovs.ownFlowCount(this.bridge)) !== installed.rules.length)
        full = true;
      if (full) {
        this.roundsSinceFull = 0;
        // The dump of a large set is read and compared in slices: answering never waits for it.
        const r = await reconcile(this.bridge, desired, this.ovs, { sliceMs: DEFAULT_SLICE_MS });
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
      } else if (installed !== null && installed !== desired) {
        const c = await installChanges(this.ovs, this.bridge, installed, desired);
        if (c === null) this.installs++;
        else this.changes++;
        this.log.info(
          c === null
            ? { bridge: this.bridge, rules: desired.rules.length, meters: desired.meters.length }
            : { bridge: this.bridge, rules: desired.rules.length, removed: c.remove.length, added: c.add.length },
          c === null ? 'flows installed' : 'flows changed',
        );
      }
      this.installed = desired;
      const fallback = this.ovs.meterFallback;
      if (fallback !== this.loggedFallback) {
        if (fallback !== null)
          this.log.warn({ bridge: this.bridge, note: fallback }, 'meters changed through ovs-ofctl');
        this.loggedFallback = fallback;
      }
      if (this.lastError !== '') {
        this.log.info({ bridge: this.bridge }, 'flows back in place');
        this.lastError = '';
      }
    } catch (e) {
      this.failures++;
      // What is on the bridge is unknown now: the next round checks it whole.
      this.installed = null;
      const message = e instanceof Error ? e.message : String(e);
      if (message !== this.lastError)
        this.log.error({ bridge: this.bridge, err: message }, 'cannot install flows; retrying');
      this.lastError = message;
    }
  }

  /** The desired rule set, generated again only when the configuration or the ports' bindings changed. */
  private async desiredSet(config: Punt6Config): Promise<RuleSet> {
    const desired = await desiredRuleSet(this.ovs, this.bridge, config, this.flowOptions, this.manual, (bindings) => {
      const key = bindingsKey(bindings);
      const from = this.generatedFrom;
      if (from !== null && from.config === config && from.bindings === key && this.desired !== null)
        return this.desired;
      const prepared = this.prepared;
      return prepared !== null && prepared.config === config && prepared.bindings === key ? prepared.set : null;
    });
    // Used, or made for this configuration with bindings that have changed since.
    if (this.prepared?.config === config) this.prepared = null;
    if (desired !== this.desired) {
      for (const note of desired.notes) if (this.desired === null) this.log.warn({ bridge: this.bridge }, note);
      this.generatedFrom = { config, bindings: bindingsKey(desired.bindings) };
      this.desired = desired;
    }
    return desired;
  }
}

/** The bindings as one comparable string. */
function bindingsKey(b: PortBindings): string {
  return JSON.stringify([[...b.interfaces], [...b.ports]]);
}
