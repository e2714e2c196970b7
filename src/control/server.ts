/**
 * The control socket of `punt6 run` (protocol.ts says the wire format): a Unix socket at
 * `control.socket`, mode `control.mode` (0600: its owner only), answering
 *
 * - `status`: the process, its configuration, each punt interface (attached, frames, drops),
 *   frames by kind and outcome since start, the next RA, the leases and their storage, the
 *   reloads, and the OpenFlow rules with `--bridge` (in sync or not);
 * - `reload`: reloads the configuration as SIGHUP does, and answers with the result (the file's
 *   problems, or why the reload was abandoned);
 * - `lease-list` (filters as `punt6 leases list`), `lease-show` (`address`: the lease and its
 *   journal history), `lease-release` (`address`: ends the lease as its client's Release would,
 *   journaled before the answer; the address is free for the next client);
 * - `port-state` (`port`, `mac` or `address`): what punt6 knows of a port: its configuration,
 *   its leases and quarantined addresses, its meter and flow counters with `--bridge`;
 * - `list-commands`.
 *
 * One request per connection, at most MAX_REQUEST_BYTES, read within a time limit. Commands run
 * on the event loop of the punt path, between frames: each does little, and a release waits
 * only for its journal commit.
 */

import { lstat, chmod, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { parseIpv6Address, parseMacAddress } from '../config/addr.js';
import type { Punt6Config } from '../config/index.js';
import { readJournalRecords } from '../dhcp/journal.js';
import {
  addressHistory,
  leaseViews,
  LeaseFilterError,
  parseLeaseFilter,
  releaseLease,
  type LeaseFilterText,
} from '../dhcp/lease-view.js';
import type { Punt6Service } from '../daemon/service.js';
import { packageInfo } from '../system/package.js';
import { formatColonHex, formatMac, sameBytes } from '../../codecs/bytes.js';
import { ControlResult, MAX_REQUEST_BYTES, type ControlRequest, type ControlResponse } from './protocol.js';

/** How long a client may take to send its request, ms. */
const REQUEST_TIMEOUT_MS = 10_000;

type Handler = (args: Record<string, unknown>) => Promise<ControlResponse>;

const response = (result: ControlResult, text: string, args?: unknown): ControlResponse =>
  args === undefined ? { result, text } : { result, text, arguments: args };
const ok = (text: string, args?: unknown): ControlResponse => response(ControlResult.Success, text, args);
const error = (text: string, args?: unknown): ControlResponse => response(ControlResult.Error, text, args);
const empty = (text: string): ControlResponse => ({ result: ControlResult.Empty, text });

function stringArg(args: Record<string, unknown>, key: string): string | undefined {
  const v = args[key];
  return typeof v === 'string' ? v : undefined;
}

/** Whether a process answers on the Unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export interface ControlServerOptions {
  service: Punt6Service;
  configPath: string;
  /** When the process started, ms since the epoch. */
  startedAt: number;
  /** Told when a reload failed while switching configurations: punt6 must stop. */
  onFatal: (e: unknown) => void;
}

export class ControlServer {
  private readonly o: ControlServerOptions;
  private server: Server | null = null;
  private path = '';
  private readonly handlers: Record<string, Handler>;

  constructor(o: ControlServerOptions) {
    this.o = o;
    this.handlers = {
      'list-commands': async () => ok(`${Object.keys(this.handlers).length} commands`, Object.keys(this.handlers)),
      status: () => this.status(),
      reload: () => this.reload(),
      'lease-list': (a) => this.leaseList(a),
      'lease-show': (a) => this.leaseShow(a),
      'lease-release': (a) => this.leaseRelease(a),
      'port-state': (a) => this.portState(a),
    };
  }

  private get service(): Punt6Service {
    return this.o.service;
  }

  private get config(): Punt6Config {
    return this.service.config;
  }

  /**
   * Listens at `path` with file mode `mode`. A socket left there by a punt6 that ended is
   * replaced; one another process answers on, or anything that is not a socket, is refused.
   */
  async listen(path: string, mode: number): Promise<void> {
    const st = await lstat(path).catch(() => null);
    if (st !== null) {
      if (!st.isSocket())
        throw new Error(`control socket ${path}: something else is there (not a socket); not replaced`);
      if (await answers(path))
        throw new Error(`control socket ${path}: another process answers on it (another punt6?)`);
      await unlink(path);
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o750 });
    // Half open: a client may close its sending side once the request is out, and still read the answer.
    const server = createServer({ allowHalfOpen: true }, (socket) => this.connection(socket));
    // The socket is made with the mode wanted: nobody can connect in between.
    const umask = process.umask(0o777 & ~mode);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    await chmod(path, mode);
    this.server = server;
    this.path = path;
  }

  /** Stops listening and removes the socket. */
  async close(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(this.path).catch(() => undefined);
  }

  private connection(socket: Socket): void {
    let data = '';
    let done = false;
    socket.setEncoding('utf8');
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    const answer = (r: ControlResponse): void => {
      socket.setTimeout(0);
      socket.end(JSON.stringify(r) + '\n');
    };
    const handle = (): void => {
      if (done) return;
      done = true;
      socket.pause();
      void this.respond(data).then(answer, (e: unknown) => answer(error(`internal error: ${(e as Error).message}`)));
    };
    socket.on('data', (chunk: string) => {
      if (done) return;
      data += chunk;
      if (data.length > MAX_REQUEST_BYTES) {
        done = true;
        answer(error(`the request is longer than ${MAX_REQUEST_BYTES} bytes`));
      } else if (data.includes('\n')) handle();
    });
    socket.on('end', handle);
  }

  /** The response to the request text. */
  async respond(text: string): Promise<ControlResponse> {
    let request: ControlRequest;
    try {
      request = JSON.parse(text) as ControlRequest;
    } catch {
      return error('the request is not JSON');
    }
    if (typeof request !== 'object' || request === null || typeof request.command !== 'string')
      return error('the request has no "command"');
    const args = request.arguments ?? {};
    if (typeof args !== 'object' || args === null || Array.isArray(args)) return error('"arguments" is not a mapping');
    const handler = Object.hasOwn(this.handlers, request.command) ? this.handlers[request.command] : undefined;
    if (handler === undefined)
      return {
        result: ControlResult.Unsupported,
        text: `unknown command "${request.command}" (list-commands lists them)`,
      };
    const r = await handler(args);
    this.service.log.info({ command: request.command, arguments: args, result: r.result }, 'control command');
    return r;
  }

  private async frames(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const m of await this.service.metrics.registry.getMetricsAsJSON()) {
      if (m.name !== 'punt6_frames_total') continue;
      for (const v of m.values) {
        const kind = String(v.labels['kind']);
        const outcome = String(v.labels['outcome']);
        const byOutcome = (out[kind] ??= {});
        byOutcome[outcome] = (byOutcome[outcome] ?? 0) + v.value;
      }
    }
    return out;
  }

  private async status(): Promise<ControlResponse> {
    const s = this.service;
    const config = this.config;
    const responder = s.loop.current;
    const leases = responder?.leases ?? null;
    const reloads = (await s.metrics.reloads.get()).values.map((v) => [String(v.labels.result), v.value]);
    let flows: Record<string, unknown> | null = null;
    if (s.flows !== null) {
      const failures = s.flows.failures;
      const stats = await s.flows.freshStats();
      flows = {
        bridge: s.flows.bridge,
        rules: s.flows.desired?.rules.length ?? null,
        meters: s.flows.desired?.meters.length ?? null,
        inSync: s.flows.failures === failures && stats !== null && stats.unknownRules === 0,
        installs: s.flows.installs,
        changes: s.flows.changes,
        failures: s.flows.failures,
      };
    }
    const nextRa = s.loop.nextDue;
    return ok('punt6 running', {
      pid: process.pid,
      version: packageInfo().version,
      node: process.version,
      uptimeSeconds: Math.round((Date.now() - this.o.startedAt) / 1000),
      config: this.o.configPath,
      interfaces: s.dataplane.status().map((p) => ({
        name: p.name,
        attached: p.attached,
        ifindex: p.ifindex,
        received: p.received,
        sent: p.sent,
        sendErrors: p.sendErrors,
        attaches: p.attaches,
        captureDropped: p.captureDropped,
      })),
      networks: config.networks.map((n) => ({
        name: n.name,
        interface: n.interface,
        vlan: n.vlan,
        dhcpv6: n.dhcpv6.mode,
        prefixes: n.prefixes.map((p) => p.prefix.text),
        ports: n.ports.length,
      })),
      frames: await this.frames(),
      nextRouterAdvertisementSeconds: Number.isFinite(nextRa) ? Math.max(0, (nextRa - Date.now()) / 1000) : null,
      leases:
        leases === null
          ? null
          : {
              journal: responder?.leaseFile ?? null,
              storageOk: leases.writable,
              ...leases.counts(),
            },
      reloads: Object.fromEntries(reloads),
      lastReloadFailure: s.lastReloadFailure,
      flows,
    });
  }

  private async reload(): Promise<ControlResponse> {
    let reloaded: boolean;
    try {
      reloaded = await this.service.reload();
    } catch (e) {
      // As for SIGHUP: a throw from the swap leaves the punt path in an unknown state.
      this.o.onFatal(e);
      return error(`reload failed while switching configurations; punt6 stops: ${(e as Error).message}`);
    }
    if (reloaded) return ok('configuration reloaded', { reloaded: true });
    const failure = this.service.lastReloadFailure;
    if (failure !== null && 'problems' in failure)
      return error('configuration refused; the running one stays', { reloaded: false, problems: failure.problems });
    if (failure !== null)
      return error('reload abandoned; the running configuration stays', { reloaded: false, reason: failure.reason });
    return error('not reloaded: punt6 is stopping', { reloaded: false });
  }

  private table() {
    return this.service.loop.current?.leases ?? null;
  }

  private async leaseList(args: Record<string, unknown>): Promise<ControlResponse> {
    const table = this.table();
    if (table === null) return empty('no network has stateful DHCPv6: there are no leases');
    const now = Date.now();
    let views;
    try {
      const filter: LeaseFilterText = {
        network: stringArg(args, 'network'),
        port: stringArg(args, 'port'),
        duid: stringArg(args, 'duid'),
        address: stringArg(args, 'address'),
        expiringBefore: stringArg(args, 'expiring-before'),
      };
      views = leaseViews(table, this.config, now, parseLeaseFilter(filter, this.config, now));
    } catch (e) {
      if (e instanceof LeaseFilterError) return error(e.message);
      throw e;
    }
    const n = views.length;
    return n === 0 ? { ...empty('0 leases'), arguments: [] } : ok(`${n} lease${n === 1 ? '' : 's'}`, views);
  }

  private async leaseShow(args: Record<string, unknown>): Promise<ControlResponse> {
    const table = this.table();
    const address = stringArg(args, 'address');
    if (address === undefined) return error('lease-show needs "address"');
    if (table === null) return empty('no network has stateful DHCPv6: there are no leases');
    const now = Date.now();
    let views;
    try {
      views = leaseViews(table, this.config, now, parseLeaseFilter({ address }, this.config, now));
    } catch (e) {
      if (e instanceof LeaseFilterError) return error(e.message);
      throw e;
    }
    const at = parseLeaseFilter({ address }, this.config, now).within!;
    const file = this.service.loop.current?.leaseFile ?? null;
    const history = file === null ? [] : addressHistory(await readJournalRecords(file), at.address, at.length);
    const lease = views.find((v) => v.address === address) ?? views[0] ?? null;
    if (lease === null)
      return { result: ControlResult.Empty, text: `no lease on ${address}`, arguments: { lease, history } };
    return ok(`lease on ${lease.address}`, { lease, history });
  }

  private async leaseRelease(args: Record<string, unknown>): Promise<ControlResponse> {
    const table = this.table();
    const address = stringArg(args, 'address');
    if (address === undefined) return error('lease-release needs "address"');
    if (table === null) return empty('no network has stateful DHCPv6: there are no leases');
    // While storage fails nothing changes: no change can be made durable (docs/leases.md).
    if (!table.writable) return error('lease storage is failing: nothing is released until it recovers');
    const r = releaseLease(table, address);
    if ('error' in r) return r.error.startsWith('no lease') ? empty(r.error) : error(r.error);
    try {
      await table.commit();
    } catch (e) {
      return error(`released in memory, but the journal commit failed: ${(e as Error).message}`);
    }
    return ok(`released ${address}`, {
      address,
      clientDuid: formatColonHex(r.lease.duid, 0, r.lease.duid.length),
      iaid: r.lease.iaid,
    });
  }

  private async portState(args: Record<string, unknown>): Promise<ControlResponse> {
    const config = this.config;
    const name = stringArg(args, 'port');
    const macText = stringArg(args, 'mac');
    const addressText = stringArg(args, 'address');
    const mac = macText === undefined ? null : parseMacAddress(macText);
    if (macText !== undefined && mac === null) return error(`"${macText}" is not a MAC address`);
    const address = addressText === undefined ? null : parseIpv6Address(addressText);
    if (addressText !== undefined && address === null) return error(`"${addressText}" is not an IPv6 address`);
    if (name === undefined && mac === null && address === null)
      return error('port-state needs "port", "mac" or "address"');
    const table = this.table();
    const leaseOn = address === null ? undefined : table?.lookupAddress(address.model.bytes);
    const port = config.ports.find(
      (p) =>
        (name !== undefined && p.name === name) ||
        (mac !== null && sameBytes(p.mac.bytes, mac.bytes)) ||
        (address !== null && p.addresses.some((a) => sameBytes(a.bytes, address.model.bytes))) ||
        (leaseOn?.portMac != null && sameBytes(p.mac.bytes, leaseOn.portMac)),
    );
    const portMac = port?.mac.bytes ?? mac?.bytes ?? leaseOn?.portMac ?? null;
    const now = Date.now();
    const leases =
      table === null
        ? []
        : leaseViews(table, config, now).filter(
            (v) =>
              (portMac !== null && v.portMac === formatMac(portMac)) ||
              (address !== null && v.address === address.model.text),
          );
    if (port === undefined && leases.length === 0)
      return empty(`punt6 knows no port ${name ?? macText ?? addressText}`);
    let flows: Record<string, unknown> | null = null;
    if (port !== undefined && this.service.flows !== null) {
      const stats = await this.service.flows.freshStats();
      flows = {
        meter: stats?.meters.find((m) => m.port === port.name) ?? null,
        packets: Object.fromEntries((stats?.categories ?? []).map((c) => [c.category, c.byPort.get(port.name) ?? 0])),
      };
    }
    return ok(port === undefined ? 'not a configured port; its leases' : `port ${port.name}`, {
      port:
        port === undefined
          ? null
          : {
              name: port.name,
              mac: port.mac.text,
              network: port.network,
              addresses: port.addresses.map((a) => a.text),
              delegatedPrefix: port.delegatedPrefix?.text ?? null,
              clientDuid: port.clientDuid === null ? null : formatColonHex(port.clientDuid, 0, port.clientDuid.length),
            },
      leases: leases.filter((v) => v.state !== 'quarantined'),
      quarantined: leases.filter((v) => v.state === 'quarantined'),
      flows,
    });
  }
}
