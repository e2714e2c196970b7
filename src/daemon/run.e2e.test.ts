/**
 * End to end: `punt6 run` (the built CLI) attached to one end of a veth pair, a "VM" network
 * namespace on the other end, and real clients in the VM: the kernel (SLAAC, DAD, default route),
 * rdisc6, ndisc6, ping, dhclient. Needs root, `ip netns`, those tools and `dist/` (the test run
 * builds first). Outside CI it skips, loudly, when any of that is missing; under CI=true it fails.
 */

import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '../../fixtures/paths.js';
import { ip6, mac, neighborSolicitation, solicitedNode } from '../test-support/frames.js';
import {
  e2eGate,
  frameCount,
  freePort,
  gauge,
  must,
  Punt6Process,
  ROUTER_LL,
  scrape,
  sh,
  tenantConfig,
  until,
  VethVm,
} from '../test-support/e2e.js';

const gate = e2eGate('punt6 run end-to-end tests', ['ip', 'ethtool', 'sysctl', 'rdisc6', 'ndisc6', 'ping', 'dhclient']);
const e2e = gate.enabled ? test.serial : test.serial.skip;

const id = String(process.pid % 100000);
const VM_MAC = '02:00:00:00:00:01';
const vm = new VethVm(`p6e-${id}`, `p6e${id}`, VM_MAC);
const NS = vm.ns;
const PUNT = vm.hostIf;
const VM_IF = vm.vmIf;

const inVm = (args: string[], timeoutMs?: number) => vm.exec(args, timeoutMs);

function configText(net: 1 | 2, stateDirectory: string, metricsPort: number): string {
  return tenantConfig({ punt: PUNT, vmMac: VM_MAC, net, stateDirectory, metricsPort });
}

let dir = '';
let configPath = '';
let metricsPort = 0;
let punt6: Punt6Process | undefined;
const dhclients: ChildProcess[] = [];

const logged = (msg: string, after = 0) => punt6!.logged(msg, after);

const metrics = (): Promise<string> => scrape(metricsPort);

interface AddrInfo {
  local: string;
  prefixlen: number;
  scope: string;
  tentative?: boolean;
  dadfailed?: boolean;
}
async function vmAddresses(): Promise<AddrInfo[]> {
  const r = await inVm(['ip', '-6', '-j', 'addr', 'show', 'dev', VM_IF]);
  if (r.code !== 0) return [];
  const j = JSON.parse(r.out) as { addr_info: AddrInfo[] }[];
  return j[0]?.addr_info ?? [];
}

async function defaultRoute(): Promise<{ gateway?: string; dev?: string } | undefined> {
  const r = await inVm(['ip', '-6', '-j', 'route', 'show', 'default']);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.out) as { gateway?: string; dev?: string }[])[0];
}

/** A dhclient script that appends the variables it is given, one call a line. */
async function dhclientScript(name: string): Promise<{ script: string; out: string }> {
  const out = join(dir, `${name}.env`);
  const script = join(dir, `${name}.sh`);
  await writeFile(
    script,
    `#!/bin/sh\n{ env | grep -E '^(reason|new_|old_)' | sort | tr '\\n' ' '; echo; } >> '${out}'\nexit 0\n`,
  );
  await chmod(script, 0o755);
  return { script, out };
}

async function dhclientLines(out: string): Promise<string[]> {
  return existsSync(out) ? (await readFile(out, 'utf8')).split('\n').filter(Boolean) : [];
}

function dhclient(name: string, script: string, extra: string[]): ChildProcess {
  const c = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS,
      'dhclient',
      '-6',
      '-d',
      ...extra,
      '-lf',
      join(dir, `${name}.leases`),
      '-pf',
      join(dir, `${name}.pid`),
      '-sf',
      script,
      VM_IF,
    ],
    { stdio: 'ignore' },
  );
  dhclients.push(c);
  return c;
}

test.before(async () => {
  if (!gate.check()) return;
  dir = await mkdtemp(join(tmpdir(), 'punt6-e2e-'));
  configPath = join(dir, 'punt6.yaml');
  metricsPort = await freePort();
  await vm.create();
  await vm.createLink();
  await writeFile(configPath, configText(1, join(dir, 'state'), metricsPort));
  punt6 = new Punt6Process(configPath);
  await logged('punt6 running');
  // The VM comes up now: its kernel sends DAD and RS on link up.
  await vm.up();
});

test.after.always(async () => {
  for (const c of dhclients) if (c.exitCode === null) c.kill('SIGKILL');
  await punt6?.kill();
  if (gate.reason === null) await vm.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

e2e("the kernel takes a SLAAC address and a default route via the router link-local from punt6's RA", async (t) => {
  t.timeout(40_000);
  const global = await until('a SLAAC address', async () =>
    (await vmAddresses()).find((a) => a.scope === 'global' && a.local.startsWith('2001:db8:1:') && !a.tentative),
  );
  t.is(global.prefixlen, 64);
  t.falsy(global.dadfailed);
  const route = await until('a default route', defaultRoute);
  t.is(route.gateway, ROUTER_LL);
  t.is(route.dev, VM_IF);
});

e2e('rdisc6 sees the prefix, MTU, RDNSS and DNSSL', async (t) => {
  const r = await inVm(['rdisc6', '-1', '-w', '2000', VM_IF]);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Prefix\s+:\s+2001:db8:1::\/64/);
  t.regex(r.out, /MTU\s+:\s+1400 bytes/);
  t.regex(r.out, /Recursive DNS server\s+:\s+2001:db8:1::53/);
  t.regex(r.out, /DNS search list\s+:\s+lab\.example/);
  t.regex(r.out, /Stateful address conf\.\s+:\s+Yes/);
  t.regex(r.out, new RegExp(`from ${ROUTER_LL}`));
});

e2e('ndisc6 resolves the gateway to the router MAC, and ping -6 reaches it', async (t) => {
  const nd = await inVm(['ndisc6', '-1', '-w', '2000', '2001:db8:1::1', VM_IF]);
  t.is(nd.code, 0, nd.out);
  t.regex(nd.out, /Target link-layer address: 02:00:00:00:00:FE/i);
  const ping = await inVm(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', '2001:db8:1::1']);
  t.is(ping.code, 0, ping.out);
  t.regex(ping.out, /3 received/);
  const pingLl = await inVm(['ping', '-6', '-c', '1', '-W', '2', `${ROUTER_LL}%${VM_IF}`]);
  t.is(pingLl.code, 0, pingLl.out);
});

e2e("DAD of the VM's own address (assigned to its port) is not disturbed", async (t) => {
  t.timeout(30_000);
  await vm.must(['ip', '-6', 'addr', 'add', '2001:db8:1::101/64', 'dev', VM_IF]);
  const a = await until('DAD to finish', async () =>
    (await vmAddresses()).find((x) => x.local === '2001:db8:1::101' && (x.dadfailed || !x.tentative)),
  );
  t.falsy(a.dadfailed, 'the address is not dadfailed');
  t.true((await vmAddresses()).every((x) => !x.dadfailed));
  t.true(
    frameCount(await metrics(), { kind: 'ns', outcome: 'own-address' }) >= 1,
    'the DAD NS was seen and not answered',
  );
});

e2e('dhclient -6 gets the address of its port, renews it (T1 3 s) and releases it', async (t) => {
  t.timeout(60_000);
  const { script, out } = await dhclientScript('stateful');
  const c = dhclient('stateful', script, ['-N']);
  const bound = await until(
    'BOUND6',
    async () => (await dhclientLines(out)).find((l) => l.includes('reason=BOUND6')),
    20_000,
  );
  t.regex(bound, /new_ip6_address=2001:db8:1::101 /);
  t.regex(bound, /new_renew=3 /);
  // A port's own address is a static binding, not a pool lease.
  t.is(gauge(await metrics(), 'punt6_leases{kind="static-binding"}'), 1);
  const renewed = await until(
    'RENEW6',
    async () => (await dhclientLines(out)).find((l) => l.includes('reason=RENEW6')),
    20_000,
  );
  t.regex(renewed, /new_ip6_address=2001:db8:1::101 /);
  t.true(frameCount(await metrics(), { kind: 'dhcpv6-renew', outcome: 'answered' }) >= 1);
  c.kill('SIGTERM');
  await new Promise((r) => c.once('exit', r));
  const release = await inVm(
    [
      'dhclient',
      '-6',
      '-r',
      '-lf',
      join(dir, 'stateful.leases'),
      '-pf',
      join(dir, 'stateful.pid'),
      '-sf',
      script,
      VM_IF,
    ],
    20_000,
  );
  t.is(release.code, 0, release.out);
  await until(
    'the Release to be answered',
    async () => frameCount(await metrics(), { kind: 'dhcpv6-release', outcome: 'answered' }) >= 1,
  );
  const released = (await dhclientLines(out)).find((l) => l.includes('reason=RELEASE6'));
  t.regex(released ?? '', /old_ip6_address=2001:db8:1::101 /);
  t.is(gauge(await metrics(), 'punt6_leases{kind="address"}'), 0, 'no lease held');
});

e2e('dhclient -6 -S gets the DNS servers and the search list', async (t) => {
  t.timeout(40_000);
  const { script, out } = await dhclientScript('stateless');
  const c = dhclient('stateless', script, ['-S']);
  const line = await until(
    'an Information-request answer',
    async () => (await dhclientLines(out)).find((l) => /new_dhcp6_name_servers=/.test(l)),
    20_000,
  );
  c.kill('SIGTERM');
  t.regex(line, /new_dhcp6_name_servers=2001:db8:1::53 /);
  t.regex(line, /new_dhcp6_domain_search=lab\.example\. /);
  t.true(frameCount(await metrics(), { kind: 'dhcpv6-information-request', outcome: 'answered' }) >= 1);
});

e2e('a flood of malformed packets is counted and dropped while ndisc6 and ping are served', async (t) => {
  t.timeout(60_000);
  const srcMac = mac(VM_MAC);
  const src = ip6('fe80::ff:fe00:1');
  const router = ip6('2001:db8:1::1');
  const base = { srcMac, src, dst: solicitedNode(router) };
  const valid = neighborSolicitation(base, router);
  const bad = {
    truncated: valid.slice(0, 14 + 40 + 12),
    'bad-checksum': neighborSolicitation({ ...base, badChecksum: true }, router),
    malformed: neighborSolicitation(base, router, [1, 0, 0, 0, 0, 0, 0, 0]), // a zero-length option
  };
  const before = await metrics();
  const framesFile = join(dir, 'flood.hex');
  const rounds = 2000;
  await writeFile(
    framesFile,
    Object.values(bad)
      .map((f) => Buffer.from(f).toString('hex'))
      .join('\n'),
  );
  // The sender runs inside the VM namespace and injects with the pcap package.
  const sender = `
    const { createRequire } = require('node:module');
    const fs = require('node:fs');
    const pcap = createRequire(${JSON.stringify(join(repositoryRoot, 'package.json'))})('pcap');
    pcap.warningHandler = () => {};
    const frames = fs.readFileSync(process.argv[1], 'utf8').split('\\n').map((h) => Buffer.from(h, 'hex'));
    const s = pcap.createSession(process.argv[2], { filter: 'ether proto 0', buffer_timeout: 0 });
    // Bursts of 20 rounds (60 frames), yielding between them, so that neither the veth backlog
    // (1000 frames) nor punt6's capture buffer overflows on a loaded machine.
    let left = Number(process.argv[3]);
    const burst = () => {
      for (let i = 0; i < 20 && left > 0; i++, left--) for (const f of frames) s.inject(f);
      if (left > 0) setTimeout(burst, 2); else process.exit(0);
    };
    burst();
  `;
  const flood = sh(
    'ip',
    ['netns', 'exec', NS, process.execPath, '-e', sender, framesFile, VM_IF, String(rounds)],
    50_000,
  );
  const [nd, ping, sent] = await Promise.all([
    inVm(['ndisc6', '-1', '-w', '2000', '2001:db8:1::1', VM_IF]),
    inVm(['ping', '-6', '-c', '5', '-i', '0.2', '-W', '2', '2001:db8:1::1']),
    flood,
  ]);
  t.is(sent.code, 0, sent.out);
  t.is(nd.code, 0, nd.out);
  t.regex(nd.out, /02:00:00:00:00:FE/i);
  t.is(ping.code, 0, ping.out);
  // Frames can be lost on the way (the veth backlog holds 1000): most must arrive, each one
  // that arrives must be counted as what it is, and none of them answered.
  await until('the flood to be read', async () => {
    const n = await metrics();
    return Object.keys(bad).every(
      (outcome) => frameCount(n, { outcome }) - frameCount(before, { outcome }) >= rounds / 2,
    );
  });
  const after = await metrics();
  for (const outcome of Object.keys(bad)) {
    const got = frameCount(after, { outcome }) - frameCount(before, { outcome });
    t.true(got >= rounds / 2 && got <= rounds, `${outcome}: ${got} of ${rounds}`);
  }
  const answered =
    frameCount(after, { kind: 'ns', outcome: 'answered' }) - frameCount(before, { kind: 'ns', outcome: 'answered' });
  t.true(
    answered >= 1 && answered < 10,
    `NS answered during the flood: ${answered} (ndisc6 and the kernel, not the flood)`,
  );
  t.is(punt6!.child.exitCode, null, 'punt6 is still running');
});

e2e('SIGHUP reloads the configuration: a new prefix is advertised; a broken file is refused', async (t) => {
  t.timeout(40_000);
  await writeFile(configPath, configText(2, join(dir, 'state'), metricsPort));
  let mark = punt6!.logs.length;
  punt6!.child.kill('SIGHUP');
  await logged('configuration reloaded', mark);
  const r = await inVm(['rdisc6', '-1', '-w', '2000', VM_IF]);
  t.regex(r.out, /Prefix\s+:\s+2001:db8:2::\/64/);
  t.notRegex(r.out, /2001:db8:1::\/64/);

  await writeFile(configPath, 'interfaces: [\n');
  mark = punt6!.logs.length;
  punt6!.child.kill('SIGHUP');
  const refused = await logged('configuration refused; the running one stays', mark);
  t.true(Array.isArray(refused.problems) && (refused.problems as unknown[]).length > 0);
  const again = await inVm(['rdisc6', '-1', '-w', '2000', VM_IF]);
  t.regex(again.out, /Prefix\s+:\s+2001:db8:2::\/64/);
  t.regex(await metrics(), /punt6_config_reloads_total\{result="error"\} 1\n/);
  await writeFile(configPath, configText(2, join(dir, 'state'), metricsPort));
});

e2e('a vanished interface is logged, retried and re-attached when it returns', async (t) => {
  t.timeout(40_000);
  const mark = punt6!.logs.length;
  await must('ip', ['link', 'del', PUNT]);
  const lost = await logged('interface lost; retrying every second', mark);
  t.is(lost.interface, PUNT);
  await vm.createLink();
  const attached = await logged('interface attached', mark);
  t.is(attached.interface, PUNT);
  await vm.up();
  const nd = await until('ndisc6 to answer again', async () => {
    const r = await inVm(['ndisc6', '-1', '-w', '1000', '2001:db8:2::1', VM_IF]);
    return r.code === 0 ? r : undefined;
  });
  t.regex(nd.out, /02:00:00:00:00:FE/i);
  t.is(punt6!.child.exitCode, null);
});

e2e('SIGTERM: final RAs withdraw the default route, the leases are flushed, exit 0', async (t) => {
  t.timeout(40_000);
  await until('a default route', defaultRoute);
  punt6!.child.kill('SIGTERM');
  const code = await punt6!.exit;
  t.is(code, 0);
  const msgs = punt6!.logs.map((l) => l.msg);
  t.true(msgs.includes('final router advertisements sent'));
  t.is(msgs.at(-1), 'stopped');
  const final = punt6!.logs.find((l) => l.msg === 'final router advertisements sent');
  t.is(final?.frames, 3);
  t.is(await defaultRoute(), undefined, 'the router lifetime 0 RA removed the default route');
  t.true(existsSync(join(dir, 'state', 'leases.journal')));
});
