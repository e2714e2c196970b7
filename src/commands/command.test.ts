/**
 * Every command parses its arguments the same way: a usage error is `punt6 NAME: message`, a
 * blank line and the command's usage on stderr, exit 2; `--help` / `-h` print the usage on
 * stdout, exit 0. Run in process: no usage error and no help gets as far as doing any work.
 */

import test from 'ava';
import { integerOption, parseCommand, UsageError, type Command, type CommandIo } from './command.js';
import { benchCommand } from './bench.js';
import { checkCommand } from './check.js';
import { ctlCommand } from './ctl.js';
import { commands } from './commands.js';
import { decodeCommand } from './decode.js';
import { doctorCommand } from './doctor.js';
import { flowsCommand } from './flows.js';
import { labCommand } from './lab.js';
import { leasesCommand } from './leases.js';
import { replayCommand } from './replay.js';
import { runCommand } from './run.js';

async function call(c: Command, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CommandIo = { write: (t) => (out += t), error: (t) => (err += t), env: {} };
  const code = await c.main(args, io);
  return { code, out, err };
}

for (const c of commands) {
  test(`${c.name} --help and -h: the usage on stdout, exit 0`, async (t) => {
    for (const help of ['--help', '-h']) {
      const r = await call(c, [help]);
      t.is(r.code, 0);
      t.is(r.err, '');
      t.is(r.out, c.usage);
      t.true(c.usage.startsWith(`usage: punt6 ${c.name} `));
    }
  });

  test(`${c.name} with an unknown option: its name, then the usage, exit 2`, async (t) => {
    const r = await call(c, ['--frobnicate']);
    t.is(r.code, 2);
    t.is(r.out, '');
    t.regex(r.err, new RegExp(`^punt6 ${c.name}: Unknown option '--frobnicate'.*\\n\\n`));
    t.true(r.err.endsWith(`\n\n${c.usage}`));
  });
}

const config = 'fixtures/config/lab.yaml';

/** A command line each, and the message of its usage error. */
const usageErrors: [Command, string[], string][] = [
  [decodeCommand, [], 'at least one capture file is required'],
  [decodeCommand, ['--filter'], "Option '--filter <value>' argument missing"],
  [replayCommand, ['in.pcap'], '--config FILE is required'],
  [replayCommand, ['--config', config], 'the capture file IN.pcap is required'],
  [replayCommand, ['--config', config, 'a.pcap', 'b.pcap'], 'one capture file only, not 2: a.pcap b.pcap'],
  [replayCommand, ['--config', config, 'a.pcap', '--clock', 'now'], '--clock is capture or wall'],
  [replayCommand, ['--config', config, 'a.pcap', '--seed', 'x'], '--seed is an integer'],
  [runCommand, [], '--config FILE is required'],
  [runCommand, ['--config', config, 'extra'], "Unexpected argument 'extra'. This command does not take positional"],
  [runCommand, ['--config', config, '--metrics', '9464'], '--metrics 9464: not HOST:PORT'],
  [runCommand, ['--config', config, '--log-level', 'loud'], '--log-level is one of fatal, error, warn, info, debug'],
  [runCommand, ['--config', config, '--dataplane', 'dpdk'], '--dataplane is one of ring, pcap'],
  [runCommand, ['--config', config, '--ring-frames', '8'], '--ring-frames is an integer in 64..4194304'],
  [runCommand, ['--config', config, '--meter-burst', '5'], '--meter-rate, --meter-burst and --meter-base go with'],
  [runCommand, ['--config', config, '--bridge', 'br0', '--meter-rate', '0'], '--meter-rate is an integer in 1..'],
  [checkCommand, [], '--config FILE is required'],
  [checkCommand, ['--config', config, 'extra'], "Unexpected argument 'extra'. This command does not take positional"],
  [benchCommand, [], 'a subcommand is required: replay'],
  [benchCommand, ['record'], 'unknown subcommand record'],
  [benchCommand, ['replay', 'a.pcap'], '--config FILE is required'],
  [benchCommand, ['replay', '--config', config], 'at least one capture file is required'],
  [benchCommand, ['replay', '--config', config, 'a.pcap', '--rounds', '0'], '--rounds is an integer in 1..1000'],
  [doctorCommand, ['--metrics', '9464'], '--metrics 9464: not HOST:PORT'],
  [doctorCommand, ['extra'], "Unexpected argument 'extra'. This command does not take positional"],
  [doctorCommand, ['--bridge', 'br0', '--meter-rate', 'x'], '--meter-rate is an integer'],
  [leasesCommand, ['--config', config], 'a subcommand is required: list, show, release, export'],
  [leasesCommand, ['list'], '--config FILE is required'],
  [leasesCommand, ['show', '--config', config], 'show takes one ADDRESS'],
  [leasesCommand, ['release', 'fd00::x', '--config', config], 'fd00::x is not an IPv6 address or prefix'],
  [leasesCommand, ['show', '::1', '--config', config, '--port', 'vm1'], 'show takes an ADDRESS, not filters'],
  [leasesCommand, ['export', '--config', config, '--format', 'xml'], '--format is json or csv'],
  [ctlCommand, ['status'], '--socket PATH or --config FILE is required'],
  [ctlCommand, ['--socket', 's'], 'a command is required: status, reload, leases, port or commands'],
  [ctlCommand, ['--socket', 's', 'status', 'now'], 'status takes no argument'],
  [
    ctlCommand,
    ['--socket', 's', 'leases', 'drop'],
    'leases list, leases show ADDRESS, leases release ADDRESS or leases export',
  ],
  [ctlCommand, ['--socket', 's', 'status', '--port', 'vm1'], 'the filters go with leases list'],
  [ctlCommand, ['--socket', 's', 'leases', 'list', '--format', 'csv'], '--format goes with leases export'],
  [ctlCommand, ['--socket', 's', 'leases', 'export', '--format', 'xml'], '--format is json or csv'],
  [flowsCommand, ['--dry-run'], '--config FILE is required'],
  [flowsCommand, ['--config', config, '--dry-run', '--stats'], '--dry-run and --stats exclude each other'],
  [flowsCommand, ['--config', config, '--table-base', '249'], '--table-base is an integer in 1..248'],
  [flowsCommand, ['--config', config, '--port', 'vm1='], '--port takes NAME=IFACE or NAME=OFPORT, not "vm1="'],
  [labCommand, [], 'a subcommand is required: up, status or down'],
  [labCommand, ['sideways'], 'unknown subcommand sideways'],
  [labCommand, ['up', 'now'], 'unexpected argument now after up'],
  [labCommand, ['up', '--metrics-port', '65536'], '--metrics-port is an integer in 1..65535'],
];

for (const [c, args, message] of usageErrors) {
  test(`usage error: punt6 ${c.name} ${args.join(' ')}`, async (t) => {
    const r = await call(c, args);
    t.is(r.code, 2);
    t.is(r.out, '');
    t.true(r.err.startsWith(`punt6 ${c.name}: ${message}`), r.err);
    t.true(r.err.endsWith(`\n\n${c.usage}`));
  });
}

test('parseCommand: the options, the positionals where the command takes them', (t) => {
  const options = { name: { type: 'string' }, loud: { type: 'boolean', default: false } } as const;
  const p = parseCommand(['--name', 'x', 'a', '--', '--b'], options, true);
  t.deepEqual({ ...p.values }, { name: 'x', loud: false, help: false });
  t.deepEqual(p.positionals, ['a', '--b']);
  t.throws(() => parseCommand(['a'], options, false), { instanceOf: UsageError, message: /Unexpected argument 'a'/ });
});

test('integerOption: absent, an integer, in its range or not', (t) => {
  t.is(integerOption(undefined, '--n'), undefined);
  t.is(integerOption('-7', '--n'), -7);
  t.is(integerOption('65535', '--port', { min: 1, max: 65535 }), 65535);
  t.throws(() => integerOption('1.5', '--n'), { instanceOf: UsageError, message: '--n is an integer' });
  t.throws(() => integerOption('0', '--port', { min: 1, max: 65535 }), {
    instanceOf: UsageError,
    message: '--port is an integer in 1..65535',
  });
  t.throws(() => integerOption('many', '--port', { min: 1, max: 65535 }), { message: /1\.\.65535/ });
});
