/**
 * `punt6 flows` as a command, without a running OVS: the dry run, usage errors, and the clear
 * error (exit 1) when Open vSwitch is not reachable.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { repositoryRoot } from '../../fixtures/paths.js';
import { flowsMain, type FlowsIo } from './flows.js';

const labConfig = join(repositoryRoot, 'fixtures', 'config', 'lab.yaml');
const trunkConfig = join(repositoryRoot, 'fixtures', 'config', 'trunk.yaml');

async function flows(
  args: string[],
  env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent' },
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: FlowsIo = { write: (t) => (out += t), error: (t) => (err += t), env };
  const code = await flowsMain(args, io);
  return { code, out, err };
}

test('--dry-run prints the meters and the bundle without any OVS command (PATH has none)', async (t) => {
  const r = await flows([
    '--config',
    labConfig,
    '--dry-run',
    '--port',
    'vm1=1',
    '--port',
    'vm2=p6-tap2',
    '--meter-rate',
    '50',
    '--meter-burst',
    '80',
  ]);
  t.is(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  t.is(lines[0], '# meters (ovs-ofctl -O OpenFlow15 add-meter BRIDGE ...)');
  t.is(lines[1], '# vm1: meter=60000,pktps,burst,stats,bands=type=drop,rate=50,burst_size=80');
  t.true(lines.includes('delete cookie=0x70756e7436000000/-1'));
  t.true(
    lines.includes('add cookie=0x70756e7436000000,table=205,priority=100,in_port=1,actions=meter:60000,output:"punt0"'),
  );
  t.true(
    lines.includes(
      'add cookie=0x70756e7436000000,table=205,priority=100,in_port="p6-tap2",actions=meter:60001,output:"punt0"',
    ),
  );
});

test('--table-base and --meter-base move punt6 tables and meters', async (t) => {
  const r = await flows(['--config', trunkConfig, '--dry-run', '--table-base', '100', '--meter-base', '7']);
  t.is(r.code, 0, r.err);
  t.true(r.out.includes('# blue-vm: meter=7,'));
  t.true(
    r.out.includes(
      'table=0,priority=60000,reg9=0/0x80000000,in_port="blue-vm",actions=set_field:0x1/0xffff->reg9,goto_table:100',
    ),
  );
  t.false(r.out.includes('table=200'));
});

const usage: [string, string[], RegExp][] = [
  ['no --config', ['--dry-run'], /--config FILE is required/],
  ['both modes', ['--config', labConfig, '--dry-run', '--stats'], /exclude each other/],
  ['a bad rate', ['--config', labConfig, '--meter-rate', '0'], /--meter-rate is an integer/],
  ['a bad port mapping', ['--config', labConfig, '--port', 'vm1'], /--port takes NAME=IFACE/],
  ['an unknown option', ['--config', labConfig, '--frobnicate'], /Unknown option/],
];
for (const [name, args, message] of usage) {
  test(`usage error (exit 2): ${name}`, async (t) => {
    const r = await flows(args);
    t.is(r.code, 2);
    t.regex(r.err, message);
    t.regex(r.err, /usage: punt6 flows/);
  });
}

test('a configuration error: exit 1 with the message', async (t) => {
  const r = await flows(['--config', join(repositoryRoot, 'fixtures', 'config', 'no-such-file.yaml'), '--dry-run']);
  t.is(r.code, 1);
  t.regex(r.err, /^punt6 flows: /);
});

test('Open vSwitch not running (no database socket, or no ovs-vsctl at all): exit 1, said plainly', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'punt6-flows-noovs-'));
  try {
    for (const env of [
      { ...process.env, OVS_RUNDIR: empty, OVS_DBDIR: empty },
      { ...process.env, PATH: '/nonexistent' },
    ]) {
      for (const extra of [['--bridge', 'br0'], []]) {
        const r = await flows(['--config', labConfig, ...extra], env);
        t.is(r.code, 1, r.err);
        t.regex(r.err, /^punt6 flows: Open vSwitch is not running or not reachable/);
      }
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
