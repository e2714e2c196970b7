/**
 * `punt6 lab` end to end, as root: `up --vms 50` builds a lab of 50 VMs from
 * fixtures/config/lab.yaml and every real client in every VM gets what the configuration says; `up` again over a running lab works;
 * `status` shows the daemons, flows and counters; `down` leaves nothing behind. Needs root, Open
 * vSwitch, the real clients and a built dist/ (`npm test` builds it): skipped loudly without
 * them, except under CI=true, where it runs and fails.
 *
 * It uses its own state directory and metrics port, but the lab's namespaces and links have
 * fixed names (p6lab-*): a lab started by hand is replaced by this test's and removed after it.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { FrameDecoder } from '../../codecs/frame.js';
import { loadCaptureFile } from '../capture/reader.js';
import { loadConfig } from '../config/index.js';
import { describeFrame } from '../capture/describe.js';
import { Dispatcher } from '../responder/dispatcher.js';
import { buildRuntime } from '../responder/from-config.js';
import { haveCommand, processCommandLine, run } from '../system/exec.js';
import { REQUIRED_COMMANDS, repositoryRoot } from './lab.js';
import { LAB_PREFIX } from './plan.js';
import { lastEvent, parseDhclientRecord } from './parse.js';

const root = repositoryRoot();
const onCi = process.env['CI'] === 'true';
const missing = REQUIRED_COMMANDS.filter((c) => !haveCommand(c));
const reason =
  process.getuid?.() !== 0
    ? 'not running as root'
    : missing.length > 0
      ? `missing commands: ${missing.join(' ')}`
      : !existsSync(join(root, 'dist', 'src', 'commands', 'cli.js'))
        ? 'dist/src/commands/cli.js is missing (build with `npm run build`; `npm test` does)'
        : null;

const parent = mkdtempSync(join(tmpdir(), 'punt6-lab-test-'));
const state = join(parent, 'lab');
const metricsPort = '9671';
/** The issue of scale asks the OVS end-to-end tests for a lab of at least 50 VMs. */
const vms = 50;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `punt6 ARGS` (any command) in a child process; its output. */
function punt6(...args: string[]): Promise<Run> {
  const entry = join(root, 'dist', 'src', 'commands', 'cli.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** `punt6 lab ARGS --state STATE` in a child process. */
function lab(...args: string[]): Promise<Run> {
  return punt6('lab', ...args, '--state', state);
}

function show(t: ExecutionContext, r: Run): void {
  t.log(r.stdout);
  if (r.stderr !== '') t.log(r.stderr);
}

/** The ok/FAIL cell of a VM table row: `  ok  CHECK  GOT`. */
function rowOf(stdout: string, vm: string, check: string): string | undefined {
  const section = stdout.split(/\n(?=\S)/).find((s) => s.startsWith(`${vm} `));
  return section?.split('\n').find((l) => l.includes(`  ${check}  `));
}

async function labNamespaces(): Promise<string[]> {
  const r = await run('ip', ['-j', 'netns', 'list']);
  return r.stdout.trim() === ''
    ? []
    : (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name).filter((n) => n.startsWith(`${LAB_PREFIX}-`));
}

async function labLinks(): Promise<string[]> {
  const r = await run('ip', ['-j', 'link', 'show']);
  return (JSON.parse(r.stdout) as { ifname: string }[])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith(`${LAB_PREFIX}-`) || n === 'punt0');
}

function pidIn(file: string): number {
  return Number(readFileSync(file, 'utf8').trim());
}

function labTest(title: string, impl: (t: ExecutionContext) => Promise<void>): void {
  if (reason === null) {
    test.serial(title, async (t) => {
      t.timeout(240_000);
      await impl(t);
    });
  } else if (onCi) {
    test.serial(title, (t) => {
      t.fail(`CI=true but ${reason}`);
    });
  } else {
    process.stderr.write(`SKIPPED ${title}: ${reason} (set CI=true to make this a failure)\n`);
    test.serial.skip(`${title} [SKIPPED: ${reason}]`, impl);
  }
}

test.after.always(async () => {
  if (reason === null && existsSync(state)) await lab('down');
  rmSync(parent, { recursive: true, force: true });
});

labTest('lab up: every real client in every VM gets what the configuration says', async (t) => {
  const r = await lab('up', '--vms', String(vms), '--metrics-port', metricsPort);
  show(t, r);
  t.is(r.code, 0);
  t.regex(r.stdout, /every check passed/);
  t.notRegex(r.stdout, /FAIL/);
  for (const [vm, address] of [
    ['vm1', '2001:db8:1::101'],
    ['vm2', '2001:db8:1::102'],
  ] as const) {
    t.regex(rowOf(r.stdout, vm, 'kernel default route') ?? '', /^\s+ok\s.*via fe80::ff:fe00:fe dev eth0$/);
    t.regex(rowOf(r.stdout, vm, 'ndisc6 2001:db8:1::1') ?? '', /^\s+ok\s.*02:00:00:00:00:fe$/);
    t.regex(rowOf(r.stdout, vm, 'rdisc6 RDNSS') ?? '', /^\s+ok\s.*2001:db8:1::53$/);
    t.regex(rowOf(r.stdout, vm, 'dhclient -6 address') ?? '', new RegExp(`^\\s+ok\\s.*${address}/128$`));
    t.regex(rowOf(r.stdout, vm, 'dhclient -6 -S search list') ?? '', /^\s+ok\s.*lab\.example\.$/);
  }
  t.regex(r.stdout, /punt6_frames_total\{interface="punt0",kind="rs",outcome="answered"\}\s+[1-9]/);
  t.regex(rowOf(r.stdout, `vm${vms}`, 'dhclient -6 address') ?? '', /^\s+ok\s.*2001:db8:1::132\/128$/);
  t.deepEqual((await labNamespaces()).sort(), Array.from({ length: vms }, (_, i) => `p6lab-vm${i + 1}`).sort());
});

labTest('lab up over a running lab replaces it', async (t) => {
  const before = pidIn(join(state, 'punt6.pid'));
  const r = await lab('up', '--vms', String(vms), '--metrics-port', metricsPort);
  show(t, r);
  t.is(r.code, 0);
  t.regex(r.stderr, /removed punt6/);
  t.regex(r.stderr, /removed namespace p6lab-vm1/);
  t.regex(r.stdout, /every check passed/);
  t.is(processCommandLine(before), null);
  t.not(pidIn(join(state, 'punt6.pid')), before);
});

labTest('lab status shows the daemons, the namespaces, the flows and the counters', async (t) => {
  const r = await lab('status');
  show(t, r);
  t.is(r.code, 0);
  for (const daemon of ['ovsdb-server', 'ovs-vswitchd', 'punt6'])
    t.regex(r.stdout, new RegExp(`^\\s+${daemon}\\s+\\d+$`, 'm'));
  t.regex(r.stdout, /p6lab-vm1: eth0.*2001:db8:1::101\/128/);
  // punt6's own rules (its cookie) are on the bridge and have counted vm1's RS and echo.
  t.regex(
    r.stdout,
    /^\s+[1-9]\d*\s+priority=60000,reg9=0\/0x80000000,in_port=1 actions=load:0x1->NXM_NX_REG9\[0\.\.15\],resubmit\(,200\)$/m,
  );
  t.regex(r.stdout, /punt6_flow_packets_total\{category="punt-rs",kind="punted",port="vm1"\}\s+[1-9]/);
  t.regex(r.stdout, /punt6_flow_packets_total\{category="answer-echo",kind="answered",port="vm1"\}\s+[1-9]/);
  t.regex(r.stdout, /kind="dhcpv6-information-request",outcome="answered"\}\s+[1-9]/);
});

labTest(
  "punt6 ctl reaches the lab's punt6: status with its interface, rules in sync, every VM's static binding",
  async (t) => {
    const ctl = async (...args: string[]): Promise<{ arguments: Record<string, unknown> }> => {
      const r = await punt6('ctl', '--config', join(state, 'punt6.yaml'), ...args, '--json');
      t.is(r.code, 0, r.stderr + r.stdout);
      return JSON.parse(r.stdout) as { arguments: Record<string, unknown> };
    };
    const status = (await ctl('status')).arguments;
    t.like(status, {
      interfaces: [{ name: 'punt0', attached: true }],
      networks: [{ name: 'tenant', ports: vms }],
      leases: { storageOk: true, staticBindings: vms + 1 },
      flows: { bridge: 'p6lab-br0', inSync: true },
    });
    const rs = (status['frames'] as Record<string, Record<string, number> | undefined>)['rs'];
    t.true((rs?.['answered'] ?? 0) > 0, 'RS answered');
    // Each VM's dhclient holds its port's static binding, which the port's state names.
    for (const i of [1, vms]) {
      const vm = `vm${i}`;
      const record = readFileSync(join(state, 'vms', vm, 'stateful.record'), 'utf8');
      const address = lastEvent(parseDhclientRecord(record), ['BOUND6', 'RENEW6', 'REBIND6', 'REBOOT6'])?.[
        'new_ip6_address'
      ];
      const port = (await ctl('port', vm)).arguments as {
        port: { addresses: string[] };
        flows: { meter: { packetsIn: number } };
      };
      t.deepEqual(port.port.addresses, [address], `${vm}: dhclient holds its port's address`);
      t.true(port.flows.meter.packetsIn > 0, `${vm}: its meter counted its punted requests`);
    }
  },
);

labTest(
  'the NA and the echo reply OVS builds equal, field by field, what punt6 builds in userspace for the same request',
  async (t) => {
    // A real NS (ndisc6) and echo request (ping) from vm1 to the router, and OVS's answers,
    // captured inside vm1.
    const file = join(parent, 'offload.pcap');
    const dump = spawn(
      'ip',
      [
        'netns',
        'exec',
        `${LAB_PREFIX}-vm1`,
        'tcpdump',
        '-i',
        'eth0',
        // Each frame handed over at once: without it, frames wait in the kernel's ring for up
        // to a second, and the SIGINT below would end tcpdump before it has read them.
        '--immediate-mode',
        '-U',
        '-w',
        file,
        'icmp6 and (ip6[40] == 135 or ip6[40] == 136 or ip6[40] == 128 or ip6[40] == 129)',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // tcpdump says "listening on eth0" once its capture is open: the requests go after that.
    let said = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${said}`)), 20_000);
      dump.stderr!.setEncoding('utf8').on('data', (d: string) => {
        said += d;
        if (said.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const nd = await run('ip', [
      'netns',
      'exec',
      `${LAB_PREFIX}-vm1`,
      'ndisc6',
      '-1',
      '-r',
      '2',
      '2001:db8:1::1',
      'eth0',
    ]);
    const ping = await run('ip', [
      'netns',
      'exec',
      `${LAB_PREFIX}-vm1`,
      'ping',
      '-6',
      '-c',
      '1',
      '-W',
      '2',
      '2001:db8:1::1',
    ]);
    await new Promise((r) => setTimeout(r, 500));
    dump.kill('SIGINT');
    await new Promise((r) => dump.once('close', r));
    t.is(nd.code, 0, nd.stdout + nd.stderr);
    t.is(ping.code, 0, ping.stdout + ping.stderr);
    const frames = (await loadCaptureFile(file)).frames.map((f) => Uint8Array.from(f.data));
    const config = await loadConfig(join(state, 'punt6.yaml'));
    const dispatcher = new Dispatcher(buildRuntime(config), { rateLimit: null, seed: 1 });
    const decoder = new FrameDecoder();
    const describe = (f: Uint8Array): Record<string, unknown> => {
      const status = decoder.decode(f, 0, f.length);
      const j = describeFrame(decoder, f, status) as Record<string, unknown>;
      // Not chosen by the responder: OVS keeps the request's flow label, punt6 writes 0.
      const ip = j['ipv6'] as Record<string, unknown>;
      delete ip['flowLabel'];
      return j;
    };
    const byType = (type: number, fromMac: string): Uint8Array | undefined =>
      frames.find(
        (f) =>
          decoder.decode(f, 0, f.length) === 0 &&
          decoder.icmpv6Type === type &&
          [...f.subarray(6, 12)].map((x) => x.toString(16).padStart(2, '0')).join(':') === fromMac,
      );
    for (const [request, answer, what] of [
      [135, 136, 'NA'],
      [128, 129, 'echo reply'],
    ] as const) {
      const req = byType(request, '02:00:00:00:00:01');
      const ovs = byType(answer, '02:00:00:00:00:fe');
      if (req === undefined || ovs === undefined) {
        const seen = frames.map((f) => `${decoder.decode(f, 0, f.length)}/${decoder.icmpv6Type}`).join(' ');
        t.fail(
          `the ${what} exchange was not captured (${frames.length} frames, status/type: ${seen}; tcpdump: ${said})`,
        );
        continue;
      }
      const n = dispatcher.handle(req, 0, req.length, 0);
      t.true(n > 0, `punt6 answers the same request with a ${what}`);
      const ours = dispatcher.tx.slice(0, n);
      const a = describe(ovs);
      const b = describe(ours);
      t.is(a['status'], 'ok', `OVS's ${what} decodes, checksum verified`);
      t.deepEqual(a, b, `OVS's ${what} and punt6's, field by field`);
    }
  },
);

labTest('punt6 run --bridge puts its rules back within seconds after someone deletes them', async (t) => {
  const ovsDir = join(state, 'ovs');
  const env = { ...process.env, OVS_RUNDIR: ovsDir, OVS_DBDIR: ovsDir, OVS_LOGDIR: ovsDir };
  const own = async (): Promise<number> => {
    const r = await run('ovs-ofctl', ['-O', 'OpenFlow15', 'dump-flows', 'p6lab-br0', 'cookie=0x70756e7436000000/-1'], {
      env,
    });
    return r.stdout.split('\n').filter((l) => l.includes('cookie=0x70756e7436000000')).length;
  };
  const before = await own();
  t.true(before > 20, `punt6's rules are installed (${before})`);
  const del = await run('ovs-ofctl', ['-O', 'OpenFlow15', 'del-flows', 'p6lab-br0', 'cookie=0x70756e7436000000/-1'], {
    env,
  });
  t.is(del.code, 0, del.stderr);
  t.is(await own(), 0, 'deleted by hand');
  let after = 0;
  for (let i = 0; i < 50 && after < before; i++) {
    await new Promise((r) => setTimeout(r, 200));
    after = await own();
  }
  t.is(after, before, 'all of them back within 10 s');
  const log = readFileSync(join(state, 'punt6.log'), 'utf8');
  t.regex(log, /"msg":"flows installed"/);
});

labTest('lab down removes every daemon, namespace, link and the state directory', async (t) => {
  const pids = ['punt6.pid', 'ovs/ovsdb-server.pid', 'ovs/ovs-vswitchd.pid'].map((f) => pidIn(join(state, f)));
  const r = await lab('down');
  show(t, r);
  t.is(r.code, 0);
  for (const pid of pids) t.is(processCommandLine(pid), null, `pid ${pid} still runs`);
  t.deepEqual(await labNamespaces(), []);
  t.deepEqual(await labLinks(), []);
  t.false(existsSync(state));
  const again = await lab('status');
  t.is(again.code, 1);
  t.regex(again.stdout, /no lab recorded there/);
});
