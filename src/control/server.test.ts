/**
 * The control socket of a running punt6 (the service on an in-memory dataplane, real DHCPv6
 * frames, a real journal and a real Unix socket), through `punt6 ctl` and the protocol's
 * client: status; reload and its result; leases listed, shown and released; a release frees
 * the address (journaled before the answer) and the next client gets it; port state; the
 * socket's mode; errors and unknown commands.
 */

import test from 'ava';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { formatIpv6 } from '../../codecs/bytes.js';
import { FrameDecoder } from '../../codecs/frame.js';
import { ctlCommand } from '../commands/ctl.js';
import type { CommandIo } from '../commands/command.js';
import { Punt6Service } from '../daemon/service.js';
import { readJournalRecords, RecordKind } from '../dhcp/journal.js';
import { leasesCsv, type LeaseView } from '../dhcp/lease-view.js';
import { createLogger } from '../system/logging.js';
import {
  clientId,
  decodeDhcpv6Reply,
  dhcpv6Frame,
  iaNa,
  innerMessage,
  message,
  optionOf,
  optionsOf,
} from '../test-support/dhcp.js';
import { MemoryDataplane } from '../test-support/memory-dataplane.js';
import { askControl, ControlResult, type ControlResponse } from './protocol.js';
import { ControlServer } from './server.js';

const dir = await mkdtemp(join(tmpdir(), 'punt6-control-'));
const configPath = join(dir, 'punt6.yaml');
const socket = join(dir, 'run', 'control.sock');
const POOL = '2001:db8:1::1000';
const config = `interfaces: [{ name: punt0, network: tenant }]
networks:
  - name: tenant
    routerMac: 02:00:00:00:00:02
    prefixes: [2001:db8:1::/64]
    dhcpv6:
      mode: stateful
      addressPools: [${POOL}-${POOL}]
ports:
  - { name: vm1, mac: "02:00:00:00:00:01", network: tenant, addresses: [2001:db8:1::101] }
server:
  stateDirectory: state
  duid: "00:03:00:01:02:00:00:00:00:02"
  rateLimit: { rate: 100000, burst: 100000 }
control: { socket: run/control.sock }
`;
await writeFile(configPath, config);

let dp!: MemoryDataplane;
const logs: Record<string, unknown>[] = [];
const fatal: unknown[] = [];
const service = new Punt6Service({
  configPath,
  logger: createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    }),
  }),
  dataplane: (names, onEvent) => (dp = new MemoryDataplane(names, onEvent)),
  finalRaPauseMs: 0,
});
await service.start();
const control = new ControlServer({ service, configPath, startedAt: Date.now(), onFatal: (e) => fatal.push(e) });
await control.listen(service.config.control!.socket, service.config.control!.mode);

test.after.always(async () => {
  await control.close();
  await service.stop('test');
  await rm(dir, { recursive: true, force: true });
});

const ask = (command: string, args?: Record<string, unknown>): Promise<ControlResponse> =>
  askControl(socket, { command, arguments: args });

async function ctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CommandIo = { write: (t) => (out += t), error: (t) => (err += t), env: {} };
  const code = await ctlCommand.main(['--config', configPath, ...args], io);
  return { code, out, err };
}

/** A Solicit with Rapid Commit from a client of its own MAC; the address it got, or null. */
async function lease(client: number): Promise<string | null> {
  const mac = `02:00:00:00:01:${client.toString(16).padStart(2, '0')}`;
  const before = dp.sent.length;
  const solicit = dhcpv6Frame({
    srcMac: mac,
    src: `fe80::1:${client}`,
    message: message(1, 0x100 + client, [clientId(mac), { kind: 'rapid-commit' }, iaNa(1)]),
  });
  dp.deliver(0, solicit);
  // Router Advertisements go out meanwhile: the reply is the DHCPv6 frame among what was sent.
  const reply = (): Uint8Array | undefined => dp.sent.slice(before).find((s) => isDhcpv6(s.frame))?.frame;
  for (let i = 0; i < 200 && reply() === undefined; i++) await new Promise((r) => setTimeout(r, 5));
  const frame = reply();
  if (frame === undefined) throw new Error(`no reply to client ${client}`);
  const m = innerMessage(decodeDhcpv6Reply(frame).message);
  const ia = optionOf(m.options, 'ia-na');
  const address = optionsOf(ia.options, 'ia-address')[0];
  return address === undefined || address.validLifetime === 0 ? null : formatIpv6(address.address);
}

function isDhcpv6(frame: Uint8Array): boolean {
  const d = new FrameDecoder();
  d.decode(frame, 0, frame.length);
  return d.dhcpv6Type >= 0;
}

test.serial("the socket is its owner's only (mode 0600), and answers status", async (t) => {
  t.is((await stat(socket)).mode & 0o777, 0o600);
  const r = await ask('status');
  t.is(r.result, ControlResult.Success);
  const s = r.arguments as {
    pid: number;
    interfaces: { name: string; attached: boolean }[];
    networks: { name: string }[];
    leases: { storageOk: boolean; addresses: number };
    frames: Record<string, Record<string, number>>;
    flows: unknown;
  };
  t.is(s.pid, process.pid);
  t.deepEqual(
    s.interfaces.map((i) => [i.name, i.attached]),
    [['punt0', true]],
  );
  t.deepEqual(
    s.networks.map((n) => n.name),
    ['tenant'],
  );
  t.true(s.leases.storageOk);
  t.is(s.flows, null, 'no --bridge');
  const text = await ctl('status');
  t.is(text.code, 0);
  t.regex(text.out, /"interfaces": \[/);
});

test.serial('a release through the socket frees the address, journaled, and the next client gets it', async (t) => {
  t.is(await lease(1), POOL, 'client 1 gets the one address of the pool');
  t.is(await lease(2), null, 'client 2 finds the pool empty');
  const listed = await ctl('leases', 'list', '--network', 'tenant');
  t.is(listed.code, 0, listed.err);
  t.regex(listed.out, new RegExp(`^${POOL.replaceAll(':', '\\:')} +active +tenant`, 'm'));
  const r = await ask('lease-list', { address: POOL });
  t.is((r.arguments as LeaseView[])[0]?.clientDuid, '00:03:00:01:02:00:00:00:01:01');
  // Export through the socket prints what the offline export prints: JSON or CSV.
  const views = r.arguments as LeaseView[];
  const json = await ctl('leases', 'export', '--network', 'tenant');
  t.is(json.code, 0, json.err);
  t.deepEqual(JSON.parse(json.out), views);
  const csv = await ctl('leases', 'export', '--format', 'csv', '--address', POOL);
  t.is(csv.code, 0, csv.err);
  t.is(csv.out, leasesCsv(views));
  t.regex(csv.out, new RegExp(`^state,type,address,.*\\nactive,address,${POOL},tenant,`, 's'));
  t.is((await ctl('leases', 'list', '--format', 'csv')).code, 2, '--format goes with export only');
  const shown = await ctl('leases', 'show', POOL);
  t.is(shown.code, 0, shown.err);
  t.regex(
    shown.out,
    /history \(journal records since its last compaction\): 1\n {2}#\d+ grant client 00:03:00:01:02:00:00:00:01:01/,
  );

  const released = await ctl('leases', 'release', POOL);
  t.is(released.code, 0, released.err);
  t.regex(released.out, /"clientDuid": "00:03:00:01:02:00:00:00:01:01"/);
  // The Release record is in the journal when the answer comes.
  const last = (await readJournalRecords(service.loop.current!.leaseFile!)).at(-1);
  t.is(last?.kind, RecordKind.Release);
  t.is(await lease(2), POOL, 'client 2 gets the released address');
  const again = await ask('lease-release', { address: '2001:db8:1::1001' });
  t.is(again.result, ControlResult.Empty);
  t.is(again.text, 'no lease on 2001:db8:1::1001');
});

test.serial('port state: the configuration of a port, by name, MAC or address, and its leases', async (t) => {
  const byName = await ask('port-state', { port: 'vm1' });
  t.is(byName.result, ControlResult.Success);
  t.like(byName.arguments, { port: { name: 'vm1', mac: '02:00:00:00:00:01', addresses: ['2001:db8:1::101'] } });
  t.deepEqual((await ask('port-state', { mac: '02-00-00-00-00-01' })).arguments, byName.arguments);
  t.deepEqual((await ask('port-state', { address: '2001:db8:1::101' })).arguments, byName.arguments);
  const viaCtl = await ctl('port', '2001:db8:1::101');
  t.is(viaCtl.code, 0);
  const unknown = await ask('port-state', { mac: '02:00:00:00:09:09' });
  t.is(unknown.result, ControlResult.Empty);
});

test.serial('reload answers with its result: the problems of a refused file, then a reload that takes', async (t) => {
  await writeFile(configPath, config.replace('routerMac: 02:00:00:00:00:02', 'routerMac: 03:00:00:00:00:02'));
  const refused = await ask('reload');
  t.is(refused.result, ControlResult.Error);
  t.is(refused.text, 'configuration refused; the running one stays');
  t.deepEqual(refused.arguments, {
    reloaded: false,
    problems: ['networks[0].routerMac: "03:00:00:00:00:02" is a multicast MAC address'],
  });
  const viaCtl = await ctl('reload');
  t.is(viaCtl.code, 1);
  t.is(viaCtl.err, 'punt6 ctl: configuration refused; the running one stays\n');
  await writeFile(
    configPath,
    config.replace('prefixes: [2001:db8:1::/64]', 'prefixes: [2001:db8:1::/64, 2001:db8:9::/64]'),
  );
  const reloaded = await ask('reload');
  t.is(reloaded.result, ControlResult.Success);
  t.deepEqual(reloaded.arguments, { reloaded: true });
  t.deepEqual(fatal, []);
  t.true(logs.some((l) => l.msg === 'control command' && l.command === 'reload'));
  await writeFile(configPath, config);
});

test.serial('requests that are not understood', async (t) => {
  const unknown = await ask('frobnicate');
  t.is(unknown.result, ControlResult.Unsupported);
  t.regex(unknown.text, /unknown command "frobnicate"/);
  t.is((await ask('lease-show')).result, ControlResult.Error);
  t.is((await ask('lease-list', { network: 'blue' })).text, 'network: no network named "blue" in the configuration');
  const raw = await control.respond('{"command": ');
  t.deepEqual(raw, { result: ControlResult.Error, text: 'the request is not JSON' });
  const commands = await ask('list-commands');
  t.deepEqual(commands.arguments, [
    'list-commands',
    'status',
    'reload',
    'lease-list',
    'lease-show',
    'lease-release',
    'port-state',
  ]);
  const nobody = await ctlCommand.main(['--socket', join(dir, 'none.sock'), 'status'], {
    write: () => {},
    error: () => {},
    env: {},
  });
  t.is(nobody, 1);
  t.truthy(await readFile(configPath, 'utf8'));
});
