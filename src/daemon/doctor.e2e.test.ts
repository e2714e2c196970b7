/**
 * `punt6 doctor` (the built CLI) finds each problem it names when the problem is made on purpose,
 * in a network namespace of the test's own: a punt interface (one end of a veth pair, the peer
 * beside it) down, missing, with IPv6 left on, with its peer offloading checksums; a full state
 * directory (a small tmpfs); a metrics port taken; no CAP_NET_RAW (setpriv drops it); Open
 * vSwitch not reachable, a bridge missing, punt6's rules missing, then in place (a private OVS,
 * ovs-vswitchd in the namespace). A healthy setup gives no WARN or FAIL. Needs root, `ip netns`,
 * ethtool, setpriv, Open vSwitch and `dist/`; outside CI it skips, loudly, when any of that is
 * missing; under CI=true it fails.
 */

import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flowsMain } from '../commands/flows.js';
import { DefaultFlowOptions, PUNT6_COOKIE } from '../flows/rules.js';
import { PrivateOvs } from '../lab/ovs.js';
import { packageInfo, satisfiesMinimum } from '../system/package.js';
import { CLI, e2eGate, freePort, must, sh } from '../test-support/e2e.js';
import type { Finding } from './doctor.js';

const gate = e2eGate('punt6 doctor end-to-end tests', [
  'ip',
  'ethtool',
  'sysctl',
  'mount',
  'umount',
  'dd',
  'setpriv',
  'ovsdb-tool',
  'ovsdb-server',
  'ovs-vswitchd',
  'ovs-vsctl',
  'ovs-ofctl',
]);
const e2e = gate.enabled ? test.serial : test.serial.skip;

const id = String(process.pid % 100000);
const NS = `p6dr-${id}`;
const PUNT = `p6dr${id}p`;
const PEER = `p6dr${id}v`;
const BRIDGE = `p6dr${id}br`;
let dir = '';
let state = '';
let ovs: PrivateOvs | undefined;
let listener: ChildProcess | undefined;

const inNs = (args: string[]): Promise<string> => must('ip', ['netns', 'exec', NS, ...args]);

test.before(async () => {
  if (!gate.check()) return;
  dir = await mkdtemp(join(tmpdir(), 'punt6-doctor-'));
  state = join(dir, 'state');
  await mkdir(state);
  // A tmpfs of its own, above the size doctor warns at, to be filled by one test.
  await must('mount', ['-t', 'tmpfs', '-o', 'size=72m', 'punt6-doctor', state]);
  await sh('ip', ['netns', 'del', NS]);
  await must('ip', ['netns', 'add', NS]);
  await inNs(['ip', 'link', 'set', 'lo', 'up']);
  await inNs(['ip', 'link', 'add', PUNT, 'type', 'veth', 'peer', 'name', PEER]);
  await healthy();
});

test.after.always(async () => {
  listener?.kill('SIGKILL');
  await ovs?.stop();
  if (state) await sh('umount', ['-l', state]);
  if (gate.reason === null) await sh('ip', ['netns', 'del', NS]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Everything as doctor wants it: both ends up, IPv6 off on the punt end, the peer filling its checksums. */
async function healthy(): Promise<void> {
  await inNs(['sysctl', '-qw', `net.ipv6.conf.${PUNT}.disable_ipv6=1`]);
  await inNs(['ethtool', '-K', PEER, 'tx', 'off']);
  await inNs(['ip', 'link', 'set', PUNT, 'up']);
  await inNs(['ip', 'link', 'set', PEER, 'up']);
}

async function writeConfig(punt: string, metricsPort: number): Promise<string> {
  const path = join(dir, 'punt6.yaml');
  await writeFile(
    path,
    `interfaces: [{ name: ${punt}, network: tenant }]
networks:
  - name: tenant
    routerMac: 02:00:00:00:00:fe
    prefixes: [2001:db8:1::/64]
    dhcpv6: { mode: stateful, addressPools: [2001:db8:1::1000-2001:db8:1::1fff] }
ports:
  - { name: vm1, mac: "02:00:00:00:00:01", network: tenant, addresses: [2001:db8:1::101] }
server: { stateDirectory: ${JSON.stringify(state)} }
metrics: "[::1]:${metricsPort}"
`,
  );
  return path;
}

interface Doctor {
  code: number;
  findings: Finding[];
}

/** `punt6 doctor --json` in the namespace, with `prefix` before node (setpriv) and `env` for OVS. */
async function doctor(args: string[], options: { prefix?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Doctor> {
  const r = await new Promise<{ code: number; out: string; err: string }>((resolve, reject) => {
    const child = spawn(
      'ip',
      ['netns', 'exec', NS, ...(options.prefix ?? []), process.execPath, CLI, 'doctor', '--json', ...args],
      { env: options.env ?? { ...process.env, OVS_RUNDIR: join(dir, 'no-ovs') } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
  if (r.out === '') throw new Error(`doctor printed nothing (exit ${r.code}): ${r.err}`);
  return { code: r.code, findings: JSON.parse(r.out) as Finding[] };
}

function finding(t: ExecutionContext, d: Doctor, check: string): Finding {
  const f = d.findings.find((x) => x.check === check);
  if (f === undefined) throw new Error(`no finding "${check}" in ${JSON.stringify(d.findings, null, 1)}`);
  t.log(`${f.severity} ${f.check}: ${f.detail}${f.fix === undefined ? '' : ` (fix: ${f.fix})`}`);
  return f;
}

async function doctorWithConfig(punt = PUNT, options: Parameters<typeof doctor>[1] = {}, extra: string[] = []) {
  return doctor(['--config', await writeConfig(punt, await freePort()), ...extra], options);
}

e2e('a healthy setup: no WARN or FAIL, exit 0', async (t) => {
  const d = await doctorWithConfig();
  for (const check of [
    'capabilities',
    'configuration',
    `interface ${PUNT}`,
    `IPv6 on ${PUNT}`,
    `checksum offload on ${PUNT}`,
    'state directory',
    'metrics port',
  ])
    t.is(finding(t, d, check).severity, 'ok', check);
  // The Node.js finding is the runtime's, whatever the host: ok exactly when it is recent enough.
  const node = finding(t, d, 'Node.js');
  const recent = satisfiesMinimum(process.versions.node, packageInfo().nodeRange ?? '>=0') === true;
  t.is(node.severity, recent ? 'ok' : 'fail');
  t.deepEqual(
    d.findings.filter((f) => f.check !== 'Node.js' && (f.severity === 'warn' || f.severity === 'fail')),
    [],
  );
  t.is(d.code, recent ? 0 : 1);
});

e2e('IPv6 left on the punt interface: WARN with the sysctl that turns it off', async (t) => {
  await inNs(['sysctl', '-qw', `net.ipv6.conf.${PUNT}.disable_ipv6=0`]);
  try {
    const f = finding(t, await doctorWithConfig(), `IPv6 on ${PUNT}`);
    t.is(f.severity, 'warn');
    t.regex(f.fix ?? '', new RegExp(`sysctl -w net\\.ipv6\\.conf\\.${PUNT}\\.disable_ipv6=1`));
  } finally {
    await healthy();
  }
});

e2e(
  "checksum offload on the punt interface's peer: WARN naming the peer and the ethtool that turns it off",
  async (t) => {
    await inNs(['ethtool', '-K', PEER, 'tx', 'on']);
    try {
      const f = finding(t, await doctorWithConfig(), `checksum offload on ${PUNT}`);
      t.is(f.severity, 'warn');
      t.regex(f.detail, /bad-checksum/);
      t.is(f.fix, `ethtool -K ${PEER} tx off`);
    } finally {
      await healthy();
    }
  },
);

e2e('a punt interface that is down, and one that does not exist: FAIL, exit 1', async (t) => {
  await inNs(['ip', 'link', 'set', PUNT, 'down']);
  try {
    const down = await doctorWithConfig();
    const f = finding(t, down, `interface ${PUNT}`);
    t.is(f.severity, 'fail');
    t.is(f.fix, `ip link set ${PUNT} up`);
    t.is(down.code, 1);
  } finally {
    await healthy();
  }
  const missing = await doctorWithConfig(`p6dr${id}x`);
  t.regex(finding(t, missing, `interface p6dr${id}x`).detail, /does not exist/);
  t.is(missing.code, 1);
});

e2e('a full state directory: FAIL, saying DHCPv6 replies that change leases are withheld', async (t) => {
  const filler = join(state, 'filler');
  await sh('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', 'count=100']);
  try {
    const f = finding(t, await doctorWithConfig(), 'state directory');
    t.is(f.severity, 'fail');
    t.regex(f.detail, /full/);
  } finally {
    await rm(filler, { force: true });
  }
  t.is(finding(t, await doctorWithConfig(), 'state directory').severity, 'ok');
});

e2e('a metrics port another program holds: FAIL', async (t) => {
  const port = await freePort();
  listener = spawn('ip', [
    'netns',
    'exec',
    NS,
    process.execPath,
    '-e',
    `require('net').createServer().listen(${port}, '::1', () => console.log('listening'))`,
  ]);
  await new Promise<void>((resolve) => listener!.stdout!.once('data', () => resolve()));
  try {
    const d = await doctor(['--config', await writeConfig(PUNT, port)]);
    const f = finding(t, d, 'metrics port');
    t.is(f.severity, 'fail');
    t.regex(f.detail, /in use by another program/);
  } finally {
    listener.kill('SIGKILL');
    listener = undefined;
  }
});

e2e('without CAP_NET_RAW: FAIL, with the capability to grant', async (t) => {
  const d = await doctor([], { prefix: ['setpriv', '--bounding-set=-net_raw', '--inh-caps=-all'] });
  const f = finding(t, d, 'capabilities');
  t.is(f.severity, 'fail');
  t.regex(f.fix ?? '', /AmbientCapabilities=CAP_NET_RAW/);
  t.is(d.code, 1);
});

e2e("Open vSwitch not running, the bridge missing, punt6's rules missing, then in place", async (t) => {
  const notRunning = await doctorWithConfig(PUNT, {}, ['--bridge', BRIDGE]);
  t.regex(finding(t, notRunning, `bridge ${BRIDGE}`).detail, /not running or not reachable/);

  ovs = new PrivateOvs(join(dir, 'ovs'));
  await mkdir(ovs.directory);
  await ovs.start(NS);
  const env = ovs.env;
  const missing = await doctorWithConfig(PUNT, { env }, ['--bridge', BRIDGE]);
  t.regex(finding(t, missing, `bridge ${BRIDGE}`).detail, /does not exist/);

  await ovs.vsctl(['add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev']);
  await ovs.vsctl(['add-port', BRIDGE, PUNT]);
  const noRules = await doctorWithConfig(PUNT, { env });
  t.is(finding(t, noRules, `bridge ${BRIDGE}`).severity, 'ok', 'found as the bridge of the punt interface');
  const none = finding(t, noRules, `punt6's rules on ${BRIDGE}`);
  t.is(none.severity, 'fail');
  t.regex(none.detail, /^none/);

  const configPath = await writeConfig(PUNT, await freePort());
  const io = { write: () => {}, error: (s: string) => t.log(s), env };
  t.is(await flowsMain(['--config', configPath, '--bridge', BRIDGE], io), 0);
  const inPlace = await doctor(['--config', configPath], { env });
  t.is(finding(t, inPlace, `punt6's rules on ${BRIDGE}`).severity, 'ok');
  // Some of punt6's rules deleted by hand: the rest are there, but not as the configuration wants.
  await ovs.ofctl([
    '-O',
    'OpenFlow15',
    'del-flows',
    BRIDGE,
    `cookie=${PUNT6_COOKIE}/-1,table=${DefaultFlowOptions.tableBase}`,
  ]);
  const partial = finding(t, await doctor(['--config', configPath], { env }), `punt6's rules on ${BRIDGE}`);
  t.is(partial.severity, 'warn');
  t.regex(partial.detail, /[1-9]\d* missing/);
});
