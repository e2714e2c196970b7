/**
 * punt6's flows on a real Open vSwitch, as root: a private ovsdb-server and ovs-vswitchd in a
 * temporary directory (OVS_RUNDIR), a userspace (netdev) bridge, two VMs as network namespaces on
 * veths, an internal punt port, and a foreign NORMAL flow standing for the bridge's own rules.
 * No punt6 process runs: everything checked here is answered or dropped by OVS alone.
 *
 * Proved: the kernel of vm1 accepts the NA OVS builds for the router address (its neighbour
 * table shows the router MAC, router, REACHABLE) and ping to the router is answered by OVS (the
 * echo flow counter moves); a rogue RA and a spoofed NA injected in vm1 never reach vm2 (their
 * guard counters move; with punt6's rules deleted by hand the same frames do reach vm2);
 * reconciliation puts the rules back after that deletion and after ovs-vswitchd was killed and
 * started again; foreign flows survive installing twice; meters are changed in one OpenFlow batch
 * on the bridge's management socket (OVS decodes its bytes as ovs-ofctl's, refuses by xid, and
 * takes it in OpenFlow 1.3 too); a port that goes and comes back is installed as differences, its
 * meter deleted only when OVS counts no rule using it; another controller's meter in punt6's
 * range survives installs (punt6's own stale meters are deleted), and one in the way of a meter
 * punt6 wants refuses the install; a bundle that fails leaves the old rule set in place.
 *
 * ovs-vswitchd, the punt port and the bridge ends of the veths live in a namespace of their own
 * (see startVswitchd). Needs root, Open vSwitch, iproute2, ping; skipped loudly without them,
 * except under CI=true. Its names (p6fl-*) are its own, so it does not disturb `punt6 lab`.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { toHex } from '../../codecs/bytes.js';
import { fillUpperLayer } from '../../codecs/checksum.js';
import { repositoryRoot } from '../../fixtures/paths.js';
import { loadConfig, type Punt6Config } from '../config/index.js';
import { haveCommand, run, runIn, runOk, sleep, stopByPidFile, waitFor } from '../system/exec.js';
import { PrivateOvs } from '../lab/ovs.js';
import { flowsMain, type FlowsIo } from '../commands/flows.js';
import { encodeMeterBatch, type MeterChange } from './meter-batch.js';
import { OvsClient, compare, desiredRuleSet, install, installChanges, reconcile } from './ovs.js';
import { DefaultFlowOptions, PUNT6_COOKIE, bundleText, generateRules, type Category, type RuleSet } from './rules.js';
import { flowStats } from './stats.js';

const onCi = process.env['CI'] === 'true';
const REQUIRED = ['ip', 'sysctl', 'ovsdb-tool', 'ovsdb-server', 'ovs-vswitchd', 'ovs-vsctl', 'ovs-ofctl', 'ping'];
const missing = REQUIRED.filter((c) => !haveCommand(c));
const reason =
  process.getuid?.() !== 0
    ? 'not running as root'
    : missing.length > 0
      ? `missing commands: ${missing.join(' ')}`
      : null;

const BRIDGE = 'p6fl-br0';
const SWITCH_NS = 'p6fl-sw';
const PUNT = 'p6fl-punt';
const VMS = [
  { name: 'vm1', ns: 'p6fl-vm1', host: 'p6fl-v1', mac: '02:00:00:00:00:01', address: '2001:db8:1::101', ofport: 1 },
  { name: 'vm2', ns: 'p6fl-vm2', host: 'p6fl-v2', mac: '02:00:00:00:00:02', address: '2001:db8:1::102', ofport: 2 },
] as const;
const ROUTER_MAC = '02:00:00:00:00:fe';
const ROUTER = '2001:db8:1::1';
const FOREIGN = 'cookie=0x1234,table=0,priority=0,actions=NORMAL';

const directory = mkdtempSync(join(tmpdir(), 'punt6-flows-test-'));
const ovs = new PrivateOvs(join(directory, 'ovs'));
const client = new OvsClient(ovs.env);
const configPath = join(directory, 'punt6.yaml');
writeFileSync(
  configPath,
  `interfaces:
  - name: ${PUNT}
    network: tenant
networks:
  - name: tenant
    routerMac: ${ROUTER_MAC}
    routerAddresses: [${ROUTER}]
    prefixes: [2001:db8:1::/64]
ports:
${VMS.map((v) => `  - name: ${v.name}\n    mac: ${v.mac}\n    network: tenant\n    addresses: [${v.address}]\n`).join('')}
server:
  stateDirectory: state
`,
);
let config: Punt6Config;

const enabled = reason === null || onCi;
const serial = enabled ? test.serial : test.serial.skip;
if (reason !== null && !onCi) {
  test('flows on a private Open vSwitch (skipped)', (t) => {
    t.log(`SKIPPED: ${reason}; these tests need root and Open vSwitch, and run under CI=true`);
    t.pass();
  });
}

async function flows(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: FlowsIo = { write: (t) => (out += t), error: (t) => (err += t), env: ovs.env };
  return { code: await flowsMain(['--config', configPath, ...args], io), out, err };
}

async function desired(): Promise<RuleSet> {
  return desiredRuleSet(client, BRIDGE, config, DefaultFlowOptions);
}

async function counters(): Promise<Map<Category, number>> {
  const stats = flowStats(await desired(), await client.ownFlows(BRIDGE), []);
  return new Map(stats.categories.map((c) => [c.category, c.packets]));
}

async function cleanupNamespaces(): Promise<void> {
  for (const ns of [...VMS.map((v) => v.ns), SWITCH_NS]) await run('ip', ['netns', 'del', ns]);
}

/**
 * ovs-vswitchd runs in a network namespace of its own: the userspace datapath opens a TAP device
 * with the fixed name `ovs-netdev`, which only one ovs-vswitchd per namespace can hold, so this
 * keeps the test clear of any other OVS on the machine (the lab's, for one).
 */
async function startVswitchd(): Promise<void> {
  await runOk(
    'ip',
    [
      'netns',
      'exec',
      SWITCH_NS,
      'ovs-vswitchd',
      `unix:${ovs.dbSocket}`,
      `--pidfile=${ovs.vswitchdPidFile}`,
      '--detach',
      '--no-chdir',
      `--log-file=${join(ovs.directory, 'ovs-vswitchd.log')}`,
    ],
    { env: ovs.env, timeout: 60_000 },
  );
  await waitFor('ovs-vswitchd', 10_000, () => (ovs.vswitchdPid() === null ? undefined : true));
}

async function startOvs(): Promise<void> {
  const schema = ['/usr/share/openvswitch/vswitch.ovsschema', '/usr/local/share/openvswitch/vswitch.ovsschema'].find(
    (f) => existsSync(f),
  );
  if (schema === undefined) throw new Error('the OVS schema vswitch.ovsschema is missing');
  await runOk('ovsdb-tool', ['create', join(ovs.directory, 'conf.db'), schema], { env: ovs.env });
  await runOk(
    'ovsdb-server',
    [
      join(ovs.directory, 'conf.db'),
      `--remote=punix:${ovs.dbSocket}`,
      `--pidfile=${ovs.ovsdbPidFile}`,
      '--detach',
      '--no-chdir',
      `--log-file=${join(ovs.directory, 'ovsdb-server.log')}`,
    ],
    { env: ovs.env },
  );
  await ovs.vsctl(['--no-wait', 'init']);
  await startVswitchd();
}

async function bridgeAnswers(): Promise<void> {
  await waitFor('the bridge to answer OpenFlow', 20_000, async () =>
    (await run('ovs-ofctl', ['show', BRIDGE], { env: ovs.env })).code === 0 ? true : undefined,
  );
}

/** Icmp6In* counters of a namespace's kernel (/proc/net/snmp6 is per namespace). */
async function snmp6(ns: string, name: string): Promise<number> {
  const r = await runIn(ns, 'cat', ['/proc/net/snmp6']);
  const m = new RegExp(`^${name}\\s+(\\d+)$`, 'm').exec(r.stdout);
  if (!m) throw new Error(`no ${name} in /proc/net/snmp6 of ${ns}`);
  return Number(m[1]);
}

function macBytes(mac: string): number[] {
  return mac.split(':').map((x) => Number.parseInt(x, 16));
}

function ipBytes(text: string): number[] {
  // Only the forms used below: fe80::ff:fe00:N, ff02::1 and 2001:db8:1::N.
  const [head, tail] = text.split('::') as [string, string];
  const h = head.split(':').filter((x) => x !== '');
  const tl = tail.split(':').filter((x) => x !== '');
  const words = [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl].map((w) => Number.parseInt(w, 16));
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** An Ethernet + IPv6 + ICMPv6 frame, hop limit 255, with a correct checksum. */
function icmpv6Frame(dstMac: string, srcMac: string, src: string, dst: string, icmp: number[]): Buffer {
  const b = Buffer.alloc(14 + 40 + icmp.length);
  b.set(macBytes(dstMac), 0);
  b.set(macBytes(srcMac), 6);
  b.writeUInt16BE(0x86dd, 12);
  b[14] = 0x60;
  b.writeUInt16BE(icmp.length, 18);
  b[20] = 58;
  b[21] = 255;
  b.set(ipBytes(src), 22);
  b.set(ipBytes(dst), 38);
  b.set(icmp, 54);
  fillUpperLayer(b, 22, 38, 58, 54, icmp.length, 56);
  return b;
}

const vm1Ll = 'fe80::ff:fe00:1';
/** A Router Advertisement from vm1: router lifetime 1800 s, SLL option. */
const rogueRa = icmpv6Frame('33:33:00:00:00:01', VMS[0].mac, vm1Ll, 'ff02::1', [
  134,
  0,
  0,
  0,
  64,
  0,
  0x07,
  0x08,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  1,
  1,
  ...macBytes(VMS[0].mac),
]);
/** An NA from vm1 claiming vm2's address with vm1's MAC (override set). */
const spoofedNa = icmpv6Frame('33:33:00:00:00:01', VMS[0].mac, vm1Ll, 'ff02::1', [
  136,
  0,
  0,
  0,
  0x20,
  0,
  0,
  0,
  ...ipBytes(VMS[1].address),
  2,
  1,
  ...macBytes(VMS[0].mac),
]);

/** Sends frames out of eth0 of a namespace through the pcap package. */
async function inject(ns: string, frames: Buffer[]): Promise<void> {
  const script = `
const pcap = require(process.argv[1]);
pcap.warningHandler = () => {};
const s = pcap.createSession('eth0', { filter: '', buffer_timeout: 0 });
for (const hex of process.argv.slice(2)) s.inject(Buffer.from(hex, 'hex'));
s.close();
`;
  const args = [
    'netns',
    'exec',
    ns,
    process.execPath,
    '-e',
    script,
    join(repositoryRoot, 'node_modules', 'pcap'),
    ...frames.map((f) => f.toString('hex')),
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`inject in ${ns} failed: ${err}`))));
  });
}

/** Polls a counter until it is above `than` (frames cross the userspace datapath asynchronously). */
async function grows(read: () => Promise<number>, than: number, what: string): Promise<number> {
  return waitFor(what, 10_000, async () => {
    const v = await read();
    return v > than ? v : undefined;
  });
}

if (enabled)
  test.before(async () => {
    await cleanupNamespaces();
    await runOk('mkdir', ['-p', ovs.directory]);
    await runOk('ip', ['netns', 'add', SWITCH_NS]);
    await startOvs();
    await ovs.vsctl(['add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev', 'fail_mode=secure']);
    await ovs.vsctl(['add-port', BRIDGE, PUNT, '--', 'set', 'interface', PUNT, 'type=internal', 'ofport_request=100']);
    // ovs-vswitchd creates the internal port's TAP device once it has reconfigured.
    await waitFor(`the TAP device ${PUNT}`, 10_000, async () =>
      (await run('ip', ['-n', SWITCH_NS, 'link', 'show', PUNT])).code === 0 ? true : undefined,
    );
    await runOk('ip', ['netns', 'exec', SWITCH_NS, 'sysctl', '-qw', `net.ipv6.conf.${PUNT}.disable_ipv6=1`]);
    await runOk('ip', ['-n', SWITCH_NS, 'link', 'set', PUNT, 'up']);
    for (const v of VMS) {
      await runOk('ip', ['netns', 'add', v.ns]);
      await runOk('ip', [
        '-n',
        SWITCH_NS,
        'link',
        'add',
        v.host,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        v.ns,
      ]);
      await runOk('ip', ['netns', 'exec', SWITCH_NS, 'sysctl', '-qw', `net.ipv6.conf.${v.host}.disable_ipv6=1`]);
      await runOk('ip', ['-n', SWITCH_NS, 'link', 'set', v.host, 'up']);
      // vm1 is found by external_ids:iface-id, vm2 by external_ids:attached-mac (docs/flows.md).
      const ids = v.name === 'vm1' ? `external_ids:iface-id=${v.name}` : `external_ids:attached-mac=${v.mac}`;
      await ovs.vsctl([
        'add-port',
        BRIDGE,
        v.host,
        '--',
        'set',
        'interface',
        v.host,
        `ofport_request=${v.ofport}`,
        ids,
      ]);
      await runOk('ip', ['-n', v.ns, 'link', 'set', 'eth0', 'address', v.mac]);
      if (haveCommand('ethtool')) {
        // Checksums computed by the sender, not left to an offload a veth never performs.
        await run('ip', ['netns', 'exec', SWITCH_NS, 'ethtool', '-K', v.host, 'tx', 'off']);
        await run('ip', ['netns', 'exec', v.ns, 'ethtool', '-K', 'eth0', 'tx', 'off']);
      }
      await runOk('ip', ['-n', v.ns, 'link', 'set', 'eth0', 'up']);
      await runOk('ip', ['-n', v.ns, '-6', 'addr', 'add', `${v.address}/64`, 'dev', 'eth0', 'nodad']);
    }
    await bridgeAnswers();
    await ovs.ofctl(['-O', 'OpenFlow15', 'add-flow', BRIDGE, FOREIGN]);
    config = await loadConfig(configPath);
  });

if (enabled)
  test.after.always(async () => {
    await ovs.stop();
    await cleanupNamespaces();
    rmSync(directory, { recursive: true, force: true });
  });

serial('install twice: exit 0, the rule set is on the bridge, the foreign flow survives', async (t) => {
  for (let i = 0; i < 2; i++) {
    const r = await flows([]); // the bridge is found through the punt interface
    t.is(r.code, 0, r.err);
    t.regex(r.out, new RegExp(`installed \\d+ rules and 2 meters on ${BRIDGE} \\(cookie ${PUNT6_COOKIE}\\)`));
    t.is(r.err, '');
  }
  const want = await desired();
  t.deepEqual(compare(want, await client.ownFlows(BRIDGE), await client.meters(BRIDGE)), {
    missing: 0,
    extra: 0,
    meters: 0,
  });
  t.deepEqual([...(await desired()).meters.map((m) => m.port)], ['vm1', 'vm2']);
  const foreign = await ovs.ofctl(['-O', 'OpenFlow15', 'dump-flows', BRIDGE, 'cookie=0x1234/-1']);
  t.regex(foreign, /cookie=0x1234, .*priority=0 actions=NORMAL/);
  const again = await reconcile(BRIDGE, want, client);
  t.false(again.reinstalled, 'in sync right after installing: nothing to do');
});

serial(
  "meters go in one OpenFlow batch on the bridge's socket: OVS reads the bytes, refuses by xid, speaks 1.3 too",
  async (t) => {
    // OVS's own decoder reads the batch's first message, a METER_MOD of 32 bytes, as ovs-ofctl's.
    const add = (id: number, rate = 100, burst = 200): MeterChange => ({
      command: 'add',
      meter: { id, port: 'test', rate, burst },
    });
    const printed = await runOk('ovs-ofctl', ['ofp-print', toHex(encodeMeterBatch([add(63000)], 6), 0, 32)]);
    t.regex(
      printed,
      /^OFPT_METER_MOD \(OF1\.5\) \(xid=0x2\): ADD meter=63000 pktps burst stats bands=\ntype=drop rate=100 burst_size=200\n/,
    );
    // One batch: an add, the same add again and a modification of a missing meter (both refused,
    // matched by xid), an add and its deletion.
    const batch: MeterChange[] = [
      add(63000),
      add(63000, 5),
      { command: 'modify', meter: { id: 63001, port: 'test', rate: 1, burst: 1 } },
      add(63002),
      { command: 'delete', id: 63002 },
    ];
    const failures = await client.meterBatch(BRIDGE, batch);
    t.is(client.meterFallback, null, 'through the socket');
    t.deepEqual(failures, [
      { change: batch[1], reason: 'OFPMMFC_METER_EXISTS: a meter with this id exists already' },
      { change: batch[2], reason: 'OFPMMFC_UNKNOWN_METER: no meter with this id to modify' },
    ]);
    const meters = await client.meters(BRIDGE);
    t.like(
      meters.find((m) => m.id === 63000),
      { rate: 100, burst: 200 },
    );
    t.false(meters.some((m) => m.id === 63002 || m.id === 63001));
    // A bridge that allows OpenFlow 1.3 but not 1.5: the batch is sent in 1.3.
    await ovs.vsctl(['set', 'bridge', BRIDGE, 'protocols=OpenFlow10,OpenFlow13']);
    try {
      t.deepEqual(await client.meterBatch(BRIDGE, [{ command: 'delete', id: 63000 }, add(63010, 7, 8)]), []);
      t.regex(
        await ovs.ofctl(['-O', 'OpenFlow13', 'dump-meters', BRIDGE]),
        /meter=63010 pktps burst stats bands=\ntype=drop rate=7 burst_size=8/,
      );
    } finally {
      await ovs.vsctl(['clear', 'bridge', BRIDGE, 'protocols']);
    }
    t.deepEqual(await client.meterBatch(BRIDGE, [{ command: 'delete', id: 63010 }]), []);
    t.false((await client.meters(BRIDGE)).some((m) => m.id >= 63000));
    // install itself: its meters through the socket, and the set in place.
    await install(client, BRIDGE, await desired());
    t.is(client.meterFallback, null);
    t.deepEqual(compare(await desired(), await client.ownFlows(BRIDGE), await client.meters(BRIDGE)), {
      missing: 0,
      extra: 0,
      meters: 0,
    });
  },
);

serial(
  'a port that goes and comes back, as differences: its meter deleted when OVS counts no rule on it, then added',
  async (t) => {
    const full = await desiredRuleSet(client, BRIDGE, config, DefaultFlowOptions);
    await install(client, BRIDGE, full);
    const ports = new Map([...full.bindings.ports].filter(([name]) => name !== 'vm2'));
    const without = generateRules(config, { interfaces: full.bindings.interfaces, ports });
    const inSync = async (set: RuleSet) => compare(set, await client.ownFlows(BRIDGE), await client.meters(BRIDGE));
    const meterIds = async () => (await client.meters(BRIDGE)).map((m) => m.id).sort((a, b) => a - b);

    t.not(await installChanges(client, BRIDGE, full, without), null, 'a difference, not a whole install');
    t.deepEqual(await inSync(without), { missing: 0, extra: 0, meters: 0 });
    t.deepEqual(await meterIds(), [60000]);
    t.deepEqual([...(await client.recordedMeters(BRIDGE))], [60000]);
    t.not(await installChanges(client, BRIDGE, without, full), null);
    t.deepEqual(await inSync(full), { missing: 0, extra: 0, meters: 0 });
    t.deepEqual(
      [...(await client.recordedMeters(BRIDGE))].sort((a, b) => a - b),
      [60000, 60001],
    );

    // Another controller's rule on vm2's meter: when vm2 goes, the meter stays with that rule.
    await ovs.ofctl([
      '-O',
      'OpenFlow15',
      'add-flow',
      BRIDGE,
      'cookie=0x4321,table=77,priority=1,actions=meter:60001,NORMAL',
    ]);
    t.like(
      (await client.meterStats(BRIDGE)).find((m) => m.id === 60001),
      { flowCount: 2 },
    );
    await installChanges(client, BRIDGE, full, without);
    t.deepEqual(await meterIds(), [60000, 60001]);
    t.deepEqual([...(await client.recordedMeters(BRIDGE))], [60000]);
    t.like(
      (await client.meterStats(BRIDGE)).find((m) => m.id === 60001),
      { flowCount: 1 },
    );
    // Put back as it was: deleting the meter deletes the foreign rule with it.
    await ovs.ofctl(['-O', 'OpenFlow15', 'del-meter', BRIDGE, 'meter=60001']);
    t.notRegex(await ovs.ofctl(['-O', 'OpenFlow15', 'dump-flows', BRIDGE]), /cookie=0x4321/);
    await install(client, BRIDGE, full);
    t.deepEqual(await inSync(full), { missing: 0, extra: 0, meters: 0 });
  },
);

/** Another controller's meter in punt6's default range (60000 up), and its rule using it. */
async function addForeignMeter(id: number, table: number): Promise<void> {
  await ovs.ofctl(['-O', 'OpenFlow15', 'add-meter', BRIDGE, `meter=${id},pktps,bands=type=drop,rate=7`]);
  await ovs.ofctl([
    '-O',
    'OpenFlow15',
    'add-flow',
    BRIDGE,
    `cookie=0x5678,table=${table},priority=1,actions=meter:${id},NORMAL`,
  ]);
}

async function meterIds(): Promise<number[]> {
  return (await client.meters(BRIDGE)).map((m) => m.id).sort((a, b) => a - b);
}

serial(
  "another controller's meter in punt6's range and its rule survive install and reinstall; punt6's stale meters go",
  async (t) => {
    await addForeignMeter(60050, 77);
    // punt6's meters moved to 61000 and back: each time the previous ones are punt6's and unused.
    const moved = await flows(['--meter-base', '61000']);
    t.is(moved.code, 0, moved.err);
    t.deepEqual(await meterIds(), [60050, 61000, 61001]);
    t.deepEqual(await client.recordedMeters(BRIDGE), new Set([61000, 61001]));
    for (let i = 0; i < 2; i++) {
      const r = await flows([]);
      t.is(r.code, 0, r.err);
    }
    t.deepEqual(await meterIds(), [60000, 60001, 60050]);
    t.deepEqual(await client.recordedMeters(BRIDGE), new Set([60000, 60001]));
    t.like(
      (await client.meters(BRIDGE)).find((m) => m.id === 60050),
      { rate: 7, burst: 0 },
    );
    t.regex(
      await ovs.ofctl(['-O', 'OpenFlow15', 'dump-flows', BRIDGE, 'cookie=0x5678/-1']),
      /table=77, .*actions=meter:60050,NORMAL/,
    );
    t.deepEqual(compare(await desired(), await client.ownFlows(BRIDGE), await client.meters(BRIDGE)), {
      missing: 0,
      extra: 0,
      meters: 0,
    });
  },
);

serial(
  'a meter punt6 wants that another controller holds: exit 1 naming it, the port and --meter-base; nothing changes',
  async (t) => {
    await addForeignMeter(62001, 78);
    const before = {
      flows: await client.allFlows(BRIDGE),
      meters: await client.meters(BRIDGE),
      record: await client.recordedMeters(BRIDGE),
    };
    const r = await flows(['--meter-base', '62000']);
    t.is(r.code, 1);
    t.is(
      r.err,
      `punt6 flows: meter 62001 for port vm2 (rules of another cookie use it) on bridge ${BRIDGE} is another controller's; punt6 leaves it alone and installs nothing: ` +
        'give punt6 2 free meter ids with another --meter-base (now 62000), e.g. --meter-base 62002\n',
    );
    const ignoreAge = (f: { packets: number }[]) => f.map((x) => ({ ...x, packets: 0, bytes: 0 }));
    t.deepEqual(ignoreAge(await client.allFlows(BRIDGE)), ignoreAge(before.flows));
    t.deepEqual(await client.meters(BRIDGE), before.meters);
    t.deepEqual(await client.recordedMeters(BRIDGE), before.record);
  },
);

serial('a bundle that fails changes nothing: old rules stay, foreign flow stays', async (t) => {
  const before = (await client.ownFlows(BRIDGE)).length;
  const broken =
    bundleText(await desired()) + `add cookie=${PUNT6_COOKIE},table=250,priority=1,actions=meter:99999,output:1\n`;
  const r = await run('ovs-ofctl', ['-O', 'OpenFlow15', '--bundle', 'add-flows', BRIDGE, '-'], {
    env: ovs.env,
    input: broken,
  });
  t.not(r.code, 0);
  t.is((await client.ownFlows(BRIDGE)).length, before);
  t.regex(await ovs.ofctl(['dump-flows', BRIDGE, 'cookie=0x1234/-1']), /actions=NORMAL/);
});

serial("vm1's kernel takes the router MAC from the NA built in OVS; ping to the router answered in OVS", async (t) => {
  const vm1 = VMS[0];
  const before = await counters();
  const ping = await runIn(vm1.ns, 'ping', ['-6', '-c', '2', '-i', '0.3', '-W', '2', ROUTER]);
  t.log(ping.stdout.trim());
  t.is(ping.code, 0, ping.stderr);
  t.regex(ping.stdout, /2 received/);
  const neigh = await runIn(vm1.ns, 'ip', ['-6', 'neigh', 'show', ROUTER, 'dev', 'eth0']);
  t.log(neigh.stdout.trim());
  t.regex(neigh.stdout, new RegExp(`${ROUTER} lladdr ${ROUTER_MAC} router (REACHABLE|DELAY|PROBE)`));
  // Datapath counters reach the OpenFlow rules when the revalidators next run: poll.
  await grows(
    async () => (await counters()).get('answer-na-router') ?? 0,
    before.get('answer-na-router') ?? 0,
    'the NA flow counter',
  );
  await grows(
    async () => (await counters()).get('answer-echo') ?? 0,
    (before.get('answer-echo') ?? 0) + 1,
    'the echo flow counter (2 requests)',
  );
  const stats = await flows(['--stats']);
  t.is(stats.code, 0, stats.err);
  t.regex(stats.out, /answered\s+answer-echo\s+[1-9]\d*\s+vm1 [1-9]/);
});

serial('ping between the VMs still works: frames punt6 does not claim go to the foreign NORMAL flow', async (t) => {
  const ping = await runIn(VMS[0].ns, 'ping', ['-6', '-c', '1', '-W', '3', VMS[1].address]);
  t.is(ping.code, 0, ping.stdout + ping.stderr);
  // vm1 resolved vm2 through the NA OVS built on vm2's behalf.
  const neigh = await runIn(VMS[0].ns, 'ip', ['-6', 'neigh', 'show', VMS[1].address, 'dev', 'eth0']);
  t.regex(neigh.stdout, new RegExp(`lladdr ${VMS[1].mac}`));
  await grows(async () => (await counters()).get('answer-na-port') ?? 0, 0, 'the NA flow counter for port addresses');
  t.pass();
});

serial('a rogue RA and a spoofed NA from vm1 never reach vm2; their guard counters move', async (t) => {
  const vm2 = VMS[1].ns;
  const ra0 = await snmp6(vm2, 'Icmp6InRouterAdvertisements');
  const na0 = await snmp6(vm2, 'Icmp6InNeighborAdvertisements');
  const c0 = await counters();
  await inject(VMS[0].ns, [rogueRa, spoofedNa]);
  await grows(async () => (await counters()).get('guard-ra') ?? 0, c0.get('guard-ra') ?? 0, 'the RA guard counter');
  await grows(
    async () => (await counters()).get('guard-na-target') ?? 0,
    c0.get('guard-na-target') ?? 0,
    'the NA target guard counter',
  );
  await sleep(300);
  t.is(await snmp6(vm2, 'Icmp6InRouterAdvertisements'), ra0);
  t.is(await snmp6(vm2, 'Icmp6InNeighborAdvertisements'), na0);
});

serial("with punt6's rules deleted by hand the same frames reach vm2; reconcile puts the rules back", async (t) => {
  await ovs.ofctl(['-O', 'OpenFlow15', 'del-flows', BRIDGE, `cookie=${PUNT6_COOKIE}/-1`]);
  t.is((await client.ownFlows(BRIDGE)).length, 0);
  const vm2 = VMS[1].ns;
  const ra0 = await snmp6(vm2, 'Icmp6InRouterAdvertisements');
  const started = Date.now();
  await inject(VMS[0].ns, [rogueRa]);
  const injected = Date.now();
  await grows(() => snmp6(vm2, 'Icmp6InRouterAdvertisements'), ra0, 'the RA at vm2 (control: no guard)');
  t.log(`control RA: injected in ${injected - started} ms, seen by vm2 ${Date.now() - injected} ms later`);
  const want = await desired();
  const r = await reconcile(BRIDGE, want, client);
  t.true(r.reinstalled);
  t.is(r.missing, want.rules.length);
  t.deepEqual(compare(want, await client.ownFlows(BRIDGE), await client.meters(BRIDGE)), {
    missing: 0,
    extra: 0,
    meters: 0,
  });
  t.regex(await ovs.ofctl(['dump-flows', BRIDGE, 'cookie=0x1234/-1']), /actions=NORMAL/);
  const ra1 = await snmp6(vm2, 'Icmp6InRouterAdvertisements');
  await inject(VMS[0].ns, [rogueRa]);
  await sleep(500);
  t.is(await snmp6(vm2, 'Icmp6InRouterAdvertisements'), ra1, 'guarded again');
});

serial('after ovs-vswitchd is killed and started again, reconcile re-installs rules and meters', async (t) => {
  t.true(await stopByPidFile(ovs.vswitchdPidFile, 'ovs-vswitchd'));
  await startVswitchd();
  await bridgeAnswers();
  t.is((await client.ownFlows(BRIDGE)).length, 0, 'a restarted ovs-vswitchd starts with no flows');
  const want = await desired();
  const r = await reconcile(BRIDGE, want, client);
  t.true(r.reinstalled);
  t.is(r.meters, 2);
  t.deepEqual(compare(want, await client.ownFlows(BRIDGE), await client.meters(BRIDGE)), {
    missing: 0,
    extra: 0,
    meters: 0,
  });
  t.false((await reconcile(BRIDGE, want, client)).reinstalled);
  // The foreign flow was lost with the restart (OVS keeps no flows); its owner puts it back.
  await ovs.ofctl(['-O', 'OpenFlow15', 'add-flow', BRIDGE, FOREIGN]);
  await runIn(VMS[0].ns, 'ip', ['-6', 'neigh', 'flush', 'dev', 'eth0']);
  const ping = await runIn(VMS[0].ns, 'ping', ['-6', '-c', '1', '-W', '3', ROUTER]);
  t.is(ping.code, 0, ping.stdout + ping.stderr);
});

serial("a flood of RS from vm1 is cut by vm1's meter; vm2's meter is untouched", async (t) => {
  const rs = icmpv6Frame('33:33:00:00:00:02', VMS[0].mac, vm1Ll, 'ff02::2', [
    133,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    1,
    ...macBytes(VMS[0].mac),
  ]);
  const read = async (id: number) =>
    (await client.meterStats(BRIDGE)).find((m) => m.id === id) ?? { id, flowCount: 0, packetsIn: 0, dropped: 0 };
  const [a0, b0] = [await read(60000), await read(60001)];
  const started = Date.now();
  await inject(VMS[0].ns, Array<Buffer>(600).fill(rs));
  const seconds = Math.ceil((Date.now() - started) / 1000);
  // A userspace datapath under a burst may lose some frames before they reach the meter; what
  // reaches it must be more than the burst for the meter to be tested at all.
  const a = await waitFor('more than the burst at the meter', 10_000, async () => {
    const m = await read(60000);
    return m.packetsIn - a0.packetsIn > 200 ? m : undefined;
  });
  await sleep(500);
  const a1 = await read(60000);
  const inCount = a1.packetsIn - a0.packetsIn;
  const dropped = a1.dropped - a0.dropped;
  t.log(`vm1 meter: ${inCount} in, ${dropped} dropped, injection took ${seconds} s or less`);
  t.true(a.packetsIn >= a0.packetsIn);
  t.true(
    inCount - dropped <= 200 + 100 * (seconds + 1),
    'at most the burst plus the rate over the injection got through',
  );
  t.true(dropped > 0);
  t.is((await read(60001)).dropped - b0.dropped, 0);
  const r = await flows(['--stats']);
  t.regex(r.out, new RegExp(`60000\\s+vm1\\s+${a1.packetsIn}\\s+${a1.dropped}`));
});

serial(
  "punt6's multicast from the punt port reaches every VM through a chain of delivery rules, as OVS prints them",
  async (t) => {
    // One output per rule: the two VMs' multicast goes through a chain of two rules.
    const chained = await desiredRuleSet(client, BRIDGE, config, { ...DefaultFlowOptions, multicastOutputsPerRule: 1 });
    t.is(chained.rules.filter((r) => r.category === 'deliver-multicast').length, 2);
    await install(client, BRIDGE, chained);
    try {
      t.deepEqual(compare(chained, await client.ownFlows(BRIDGE), await client.meters(BRIDGE)), {
        missing: 0,
        extra: 0,
        meters: 0,
      });
      const before = await Promise.all(VMS.map((v) => snmp6(v.ns, 'Icmp6InRouterAdvertisements')));
      const ra = icmpv6Frame(
        '33:33:00:00:00:01',
        ROUTER_MAC,
        'fe80::ff:fe00:fe',
        'ff02::1',
        [134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      );
      // Into the pipeline as if punt6 had sent it on the punt port (ofport 100).
      await ovs.ofctl([
        '-O',
        'OpenFlow15',
        'packet-out',
        BRIDGE,
        `in_port=100 packet=${ra.toString('hex')} actions=table`,
      ]);
      for (const [i, v] of VMS.entries())
        await grows(() => snmp6(v.ns, 'Icmp6InRouterAdvertisements'), before[i]!, `the RA at ${v.name}`);
      await sleep(300);
      for (const [i, v] of VMS.entries())
        t.is(await snmp6(v.ns, 'Icmp6InRouterAdvertisements'), before[i]! + 1, `${v.name}: the RA once`);
    } finally {
      await install(client, BRIDGE, await desired());
    }
  },
);

serial('a missing bridge: exit 1, said plainly', async (t) => {
  const r = await flows(['--bridge', 'p6fl-nope']);
  t.is(r.code, 1);
  t.is(r.err, 'punt6 flows: bridge p6fl-nope does not exist\n');
});
