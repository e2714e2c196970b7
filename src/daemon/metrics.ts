/**
 * Prometheus metrics of `punt6 run` (prom-client, a registry of its own), served as text on
 * `GET /metrics` by `listen()`.
 *
 * Every value is read when Prometheus scrapes, from the running responder and dataplane; nothing
 * is done per packet. Counters survive a configuration reload: the old dispatcher's counters are
 * folded into a base by `retire()` when the new dispatcher (starting at zero) takes over; a lease
 * table carried over by the reload goes on counting its own.
 * docs/operations.md lists the names.
 */

import type { FlowStats } from '../flows/stats.js';
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { LeaseType } from '../dhcp/leases.js';
import type { Counters } from '../responder/counters.js';
import type { Responder } from '../responder/responder.js';
import type { PortStatus } from '../dataplane/dataplane.js';

/**
 * The most VM ports the flow metrics label one by one: above, each category (and the meters'
 * drops) is one series, `port="*"`, so the series stay bounded by the categories whatever the
 * number of ports; `punt6 flows --stats` gives the counters port by port.
 */
export const PORT_LABEL_LIMIT = 100;

/** What the metrics read at scrape time. */
export interface MetricsSource {
  responder(): Responder | null;
  ports(): PortStatus[];
  /** When the next periodic or delayed RA is due (ms since the epoch), Infinity: none. */
  nextRaDue(): number;
  /** Frames received while no responder ran (during a reload). */
  droppedWhileReloading(): number;
  /** Replies the dataplane failed to send. */
  sendFailures(): number;
  /** punt6's OVS flow counters read now (`run --bridge`), or null when punt6 keeps no flows. */
  flows?(): Promise<FlowStats | null>;
  now?: () => number;
}

const SEP = '\u0000';

export class Punt6Metrics {
  readonly registry = new Registry();
  readonly reloads: Counter<'result'>;
  /** Frame counters of retired dispatchers: "interface\0kind\0outcome" -> count. */
  private readonly base = new Map<string, number>();
  private readonly baseDhcpDiscards = new Map<string, number>();
  private baseCommitFailures = 0;
  private baseStorageFailures = 0;
  private readonly baseLimitRefusals = new Map<string, number>();

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    const now = source.now ?? Date.now;
    collectDefaultMetrics({ register: this.registry });
    const self = this;

    new Counter({
      name: 'punt6_frames_total',
      help: 'Frames that reached the punt path, by punt interface, message kind and outcome (answered, deferred, or the reason it was dropped)',
      labelNames: ['interface', 'kind', 'outcome'],
      registers,
      collect() {
        this.reset();
        const totals = new Map(self.base);
        const r = source.responder();
        if (r) {
          const names = r.config.interfaces.map((i) => i.name);
          for (const row of r.dispatcher.counters.rows()) {
            const key = [names[row.port] ?? String(row.port), row.kind, row.outcome].join(SEP);
            totals.set(key, (totals.get(key) ?? 0) + row.count);
          }
        }
        for (const [key, v] of totals) {
          const [iface, kind, outcome] = key.split(SEP) as [string, string, string];
          this.inc({ interface: iface, kind, outcome }, v);
        }
      },
    });

    new Counter({
      name: 'punt6_dhcpv6_discards_total',
      help: 'DHCPv6 messages discarded without an answer, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        const totals = new Map(self.baseDhcpDiscards);
        const r = source.responder();
        if (r) for (const [reason, v] of r.dhcpv6.discards) totals.set(reason, (totals.get(reason) ?? 0) + v);
        for (const [reason, v] of totals) this.inc({ reason }, v);
      },
    });

    new Counter({
      name: 'punt6_dhcpv6_commit_failures_total',
      help: 'DHCPv6 replies not sent because their lease could not be journaled',
      registers,
      collect() {
        this.reset();
        this.inc(self.baseCommitFailures + (source.responder()?.dispatcher.commitFailures ?? 0));
      },
    });

    new Gauge({
      name: 'punt6_lease_storage_ok',
      help: '1 while the lease journal makes changes durable, 0 while its storage fails (DHCPv6 replies that change leases are withheld)',
      registers,
      collect() {
        const leases = source.responder()?.leases;
        this.set(leases?.journalStats().failing === true ? 0 : 1);
      },
    });

    new Counter({
      name: 'punt6_lease_storage_failures_total',
      help: 'Lease journal writes, fsyncs or compactions that failed (retries included)',
      registers,
      collect() {
        this.reset();
        this.inc(self.baseStorageFailures + (source.responder()?.leases?.journalStats().storageFailures ?? 0));
      },
    });

    new Counter({
      name: 'punt6_dhcpv6_lease_limit_refusals_total',
      help: 'DHCPv6 IAs refused a new binding by a lease limit (server.leaseLimits), by limit',
      labelNames: ['limit'],
      registers,
      collect() {
        this.reset();
        const r = source.responder();
        const now = {
          ...(r?.leases?.refusals ?? { client: 0, port: 0, table: 0 }),
          'ias-per-message': r?.dhcpv6.iasRefused ?? 0,
        };
        for (const [limit, v] of Object.entries(now)) this.inc({ limit }, v + (self.baseLimitRefusals.get(limit) ?? 0));
      },
    });

    new Gauge({
      name: 'punt6_leases',
      help: 'DHCPv6 bindings held, by kind (address, prefix, quarantined, static-binding)',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        const leases = source.responder()?.leases;
        if (!leases) return;
        const c = leases.counts();
        this.set({ kind: 'address' }, c.addresses);
        this.set({ kind: 'prefix' }, c.prefixes);
        this.set({ kind: 'quarantined' }, c.quarantined);
        this.set({ kind: 'static-binding' }, c.staticBindings);
      },
    });

    const poolLabels = ['network', 'type', 'pool'] as const;
    const poolGauge = (
      name: string,
      help: string,
      pick: (u: { size: bigint; leased: number; quarantined: number }) => number,
    ): void => {
      new Gauge({
        name,
        help,
        labelNames: poolLabels,
        registers,
        collect() {
          this.reset();
          const r = source.responder();
          if (!r?.leases) return;
          for (const u of r.leases.poolUsage()) {
            const network = r.config.networks[u.networkId]?.name ?? String(u.networkId);
            this.set({ network, type: u.type === LeaseType.Prefix ? 'prefix' : 'address', pool: u.name }, pick(u));
          }
        },
      });
    };
    poolGauge('punt6_pool_size', 'Addresses or prefixes in a DHCPv6 pool', (u) => Number(u.size));
    poolGauge('punt6_pool_leased', 'Leases held from a DHCPv6 pool', (u) => u.leased);
    poolGauge(
      'punt6_pool_quarantined',
      'Addresses or prefixes of a DHCPv6 pool in quarantine (declined or released recently)',
      (u) => u.quarantined,
    );

    new Gauge({
      name: 'punt6_ra_next_due_seconds',
      help: 'Seconds until the next unsolicited Router Advertisement is due (-1: none scheduled)',
      registers,
      collect() {
        const due = source.nextRaDue();
        this.set(due === Infinity ? -1 : Math.max(0, (due - now()) / 1000));
      },
    });

    new Counter({
      name: 'punt6_flow_packets_total',
      help: `Packets through punt6's OpenFlow rules (run --bridge), by category (answered in OVS, punted, dropped by a guard, delivered from the punt port) and VM port; port="*" for the rules a network shares, and for every port above ${PORT_LABEL_LIMIT} VM ports`,
      labelNames: ['category', 'kind', 'port'],
      registers,
      async collect() {
        this.reset();
        const stats = (await source.flows?.()) ?? null;
        if (stats === null) return;
        const perPort = stats.meters.length <= PORT_LABEL_LIMIT;
        for (const c of stats.categories) {
          if (perPort) for (const [port, n] of c.byPort) this.inc({ category: c.category, kind: c.kind, port }, n);
          else this.inc({ category: c.category, kind: c.kind, port: '*' }, c.packets);
        }
      },
    });
    new Counter({
      name: 'punt6_flow_meter_dropped_total',
      help: `Packets a VM port's punt meter dropped (run --bridge); port="*": all ports' together, above ${PORT_LABEL_LIMIT} VM ports`,
      labelNames: ['port'],
      registers,
      async collect() {
        this.reset();
        const meters = (await source.flows?.())?.meters ?? [];
        if (meters.length <= PORT_LABEL_LIMIT) for (const m of meters) this.inc({ port: m.port }, m.dropped);
        else
          this.inc(
            { port: '*' },
            meters.reduce((sum, m) => sum + m.dropped, 0),
          );
      },
    });

    const portGauge = (name: string, help: string, pick: (p: PortStatus) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['interface'],
        registers,
        collect() {
          this.reset();
          for (const p of source.ports()) this.set({ interface: p.name }, pick(p));
        },
      });
    };
    const portCounter = (name: string, help: string, pick: (p: PortStatus) => number): void => {
      new Counter({
        name,
        help,
        labelNames: ['interface'],
        registers,
        collect() {
          this.reset();
          for (const p of source.ports()) this.inc({ interface: p.name }, pick(p));
        },
      });
    };
    portGauge(
      'punt6_interface_attached',
      '1 while the punt interface is captured, 0 while it is missing (retried every second)',
      (p) => (p.attached ? 1 : 0),
    );
    portCounter(
      'punt6_interface_attaches_total',
      'Times the punt interface was attached (more than 1: it vanished and came back)',
      (p) => p.attaches,
    );
    portCounter('punt6_interface_received_frames_total', 'Frames read from the punt interface', (p) => p.received);
    portCounter('punt6_interface_sent_frames_total', 'Frames injected on the punt interface', (p) => p.sent);
    portCounter(
      'punt6_interface_send_errors_total',
      'Frames that could not be injected on the punt interface',
      (p) => p.sendErrors,
    );
    portCounter(
      'punt6_capture_received_total',
      "Frames the kernel's capture of the punt interface accepted (ring: PACKET_STATISTICS tp_packets; libpcap: ps_recv)",
      (p) => p.captureReceived,
    );
    portCounter(
      'punt6_capture_dropped_total',
      'Frames the kernel dropped because the ring or capture buffer was full (tp_drops; ps_drop)',
      (p) => p.captureDropped,
    );
    portCounter(
      'punt6_capture_interface_dropped_total',
      'Frames dropped by the interface or its driver (libpcap ps_ifdrop; 0 with the ring)',
      (p) => p.interfaceDropped,
    );
    new Counter({
      name: 'punt6_interface_checksum_trusted_frames_total',
      help: 'Frames accepted without verifying their checksums because the kernel vouched for them, by kernel status (not-ready: left to transmit offload; valid: verified)',
      labelNames: ['interface', 'status'],
      registers,
      collect() {
        this.reset();
        for (const p of source.ports()) {
          this.inc({ interface: p.name, status: 'not-ready' }, p.checksumNotReady);
          this.inc({ interface: p.name, status: 'valid' }, p.checksumValid);
        }
      },
    });

    new Counter({
      name: 'punt6_reload_dropped_frames_total',
      help: 'Frames dropped while the configuration was being reloaded',
      registers,
      collect() {
        this.reset();
        this.inc(source.droppedWhileReloading());
      },
    });

    this.reloads = new Counter({
      name: 'punt6_config_reloads_total',
      help: 'Configuration reloads (SIGHUP), by result (ok, error)',
      labelNames: ['result'],
      registers,
    });
    this.reloads.inc({ result: 'ok' }, 0);
    this.reloads.inc({ result: 'error' }, 0);
  }

  /**
   * Folds a responder's counters into the totals when `successor` replaces it. A lease table
   * carried over to the successor keeps counting there: its counters are not folded.
   */
  retire(responder: Responder, successor: Responder | null = null): void {
    const names = responder.config.interfaces.map((i) => i.name);
    const counters: Counters = responder.dispatcher.counters;
    for (const row of counters.rows()) {
      const key = [names[row.port] ?? String(row.port), row.kind, row.outcome].join(SEP);
      this.base.set(key, (this.base.get(key) ?? 0) + row.count);
    }
    for (const [reason, v] of responder.dhcpv6.discards)
      this.baseDhcpDiscards.set(reason, (this.baseDhcpDiscards.get(reason) ?? 0) + v);
    this.baseCommitFailures += responder.dispatcher.commitFailures;
    if (responder.leases !== successor?.leases)
      this.baseStorageFailures += responder.leases?.journalStats().storageFailures ?? 0;
    if (responder.leases !== successor?.leases) {
      const refused: Record<string, number> = responder.leases?.refusals ?? {};
      for (const [limit, v] of Object.entries(refused))
        this.baseLimitRefusals.set(limit, (this.baseLimitRefusals.get(limit) ?? 0) + v);
    }
    this.baseLimitRefusals.set(
      'ias-per-message',
      (this.baseLimitRefusals.get('ias-per-message') ?? 0) + responder.dhcpv6.iasRefused,
    );
  }

  /** The metrics as Prometheus text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Serves `GET /metrics` on host:port; resolves once listening. */
  listen(host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' || (path !== '/metrics' && path !== '/')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }
}

/** Closes a listener, ending idle keep-alive connections. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
