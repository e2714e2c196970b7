/**
 * The `punt6` command line as a user runs it: `node dist/src/commands/cli.js …` in a child process
 * (`npm test` builds dist/ before running the tests). Exit codes: 0 decoded, 1 a capture could
 * not be read (or not to its end), 2 usage error.
 */

import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';
import { fillUpperLayer } from '../../codecs/checksum.js';
import { loadCaptureFile } from '../capture/reader.js';
import { fixtureCaptures, pcapFixture, ScratchFiles } from '../test-support/captures.js';
import { CaptureWriter } from '../capture/writer.js';
import { repositoryRoot } from '../../fixtures/paths.js';
import { commandAvailable, fixturePath, testNeeding } from '../../fixtures/test-support.js';

const cli = join(repositoryRoot, 'dist', 'src', 'commands', 'cli.js');
const built = {
  available: existsSync(cli),
  reason: 'dist/src/commands/cli.js is missing (build with `npm run build`; `npm test` does)',
};
const editcap = {
  available: commandAvailable('editcap', ['-V']),
  reason: 'editcap is not installed (Debian package wireshark-common)',
};
// Every await before the first test: ava takes declarations only until the first one's turn ends.
const { faulty } = await fixtureCaptures();
const ping = await pcapFixture(fixturePath('ping6-echo'));
const stateful = await pcapFixture(fixturePath('dhclient-stateful'));
const scratch = new ScratchFiles('punt6-cli-faults-');
test.after.always(() => scratch.remove());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function punt6(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd: repositoryRoot, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

function run(file: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve({ code: 0, stdout, stderr });
    });
  });
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const ETH = 14;
const IP6 = ETH; // IPv6 header offset in these Ethernet frames
const SRC = IP6 + 8;
const DST = IP6 + 24;
const ICMP = IP6 + 40;

function refillIcmpv6Checksum(f: Uint8Array): void {
  const len = (f[IP6 + 4] as number) * 256 + (f[IP6 + 5] as number);
  fillUpperLayer(f, SRC, DST, 58, ICMP, len, ICMP + 2);
}

/**
 * A capture of five frames made from real fixture frames: 1 a Neighbor Solicitation cut to 20
 * bytes (lengths consistent, checksum good), 2 an Echo Request whose checksum is wrong, 3 a
 * Neighbor Solicitation whose Source Link-Layer Address option has length 0 (checksum good),
 * 4 a good Neighbor Advertisement, 5 a good DHCPv6 Solicit.
 */
async function craftCapture(path: string): Promise<void> {
  const nsna = await loadCaptureFile(fixturePath('ndisc6-ns-na'));
  const ping = await loadCaptureFile(fixturePath('ping6-echo'));
  const dhcp = await loadCaptureFile(fixturePath('dhclient-stateful'));
  const ns = nsna.frames[0]?.data;
  const na = nsna.frames[1]?.data;
  const echo = ping.frames[0]?.data;
  const solicit = dhcp.frames[0]?.data;
  if (ns === undefined || na === undefined || echo === undefined || solicit === undefined)
    throw new Error('fixture frames missing');

  const truncatedNs = ns.slice(0, ICMP + 20);
  truncatedNs[IP6 + 4] = 0;
  truncatedNs[IP6 + 5] = 20;
  refillIcmpv6Checksum(truncatedNs);

  const badEcho = echo.slice();
  badEcho[ICMP + 2] = (badEcho[ICMP + 2] as number) ^ 0xff;

  const zeroOption = ns.slice();
  if (zeroOption[ICMP + 24] !== 1)
    throw new Error('expected the NS fixture to carry a Source Link-Layer Address option');
  zeroOption[ICMP + 25] = 0;
  refillIcmpv6Checksum(zeroOption);

  const w = new CaptureWriter(path);
  [truncatedNs, badEcho, zeroOption, na, solicit].forEach((f, i) => {
    w.write(f, 0, f.length, 1_700_000_000 + i);
  });
  w.close();
}

let dir = '';
let crafted = '';
test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'punt6-cli-test-'));
  crafted = join(dir, 'crafted.pcap');
  await craftCapture(crafted);
});
test.after.always(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

testNeeding('decode prints one JSON object per frame', built, async (t) => {
  const r = await punt6('decode', 'fixtures/ndisc6-ns-na.pcap');
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  const lines = jsonLines(r.stdout);
  t.is(lines.length, 2);
  t.like(lines[0], {
    frame: 1,
    status: 'ok',
    ipv6: { source: 'fe80::ff:fe00:1', destination: 'ff02::1:ff00:2', hopLimit: 255 },
    icmpv6: { type: 135, target: 'fd00::2' },
  });
  t.like(lines[1], {
    frame: 2,
    status: 'ok',
    icmpv6: { type: 136, flags: ['solicited', 'override'], target: 'fd00::2' },
  });
  t.deepEqual((lines[1]?.['icmpv6'] as { options: unknown }).options, [
    { type: 2, name: 'target-link-layer-address', linkLayerAddress: '02:00:00:00:00:02' },
  ]);
});

testNeeding('decode --summary prints one line per frame', built, async (t) => {
  const r = await punt6('decode', '--summary', 'fixtures/ping6-echo.pcap', 'fixtures/dhclient-stateless.pcap');
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  t.is(lines.length, 8);
  t.regex(lines[0] ?? '', /^1 \d+\.\d{6} fd00::1 > fd00::2 icmpv6 echo-request id 19260 seq 1$/);
  t.regex(lines[5] ?? '', /^6 \d+\.\d{6} fd00::2 > fd00::1 icmpv6 echo-reply id 19260 seq 3$/);
  t.regex(lines[6] ?? '', /^1 \d+\.\d{6} fe80::ff:fe00:1 > ff02::1:2 dhcpv6 information-request xid 0x[0-9a-f]{6}$/);
  t.regex(lines[7] ?? '', /^2 \d+\.\d{6} fe80::ff:fe00:2 > fe80::ff:fe00:1 dhcpv6 reply xid 0x[0-9a-f]{6}$/);
});

testNeeding(
  'a missing file: a message naming it on stderr, exit 1, the other files still decoded',
  built,
  async (t) => {
    const r = await punt6('decode', 'fixtures/no-such-capture.pcap', 'fixtures/ndisc6-ns-na.pcap');
    t.is(r.code, 1);
    t.regex(r.stderr, /fixtures\/no-such-capture\.pcap: no such file/);
    t.is(jsonLines(r.stdout).length, 2);
  },
);

testNeeding('a file that is not a capture: exit 1 with a message naming it', built, async (t) => {
  const r = await punt6('decode', 'package.json');
  t.is(r.code, 1);
  t.regex(r.stderr, /package\.json: not a readable pcap or pcapng capture/);
  t.is(r.stdout, '');
});

testNeeding('no arguments: usage on stderr, exit 2', built, async (t) => {
  const r = await punt6();
  t.is(r.code, 2);
  t.regex(r.stderr, /usage: punt6 <command>/);
  t.is(r.stdout, '');
});

testNeeding('decode without a file: the message, then the usage of decode on stderr, exit 2', built, async (t) => {
  const r = await punt6('decode');
  t.is(r.code, 2);
  t.regex(r.stderr, /^punt6 decode: at least one capture file is required\n\nusage: punt6 decode FILE\.\.\. /);
  t.is(r.stdout, '');
});

testNeeding('--help: the overall usage, and each command its own, on stdout, exit 0', built, async (t) => {
  const all = await punt6('--help');
  t.is(all.code, 0);
  t.regex(all.stdout, /^usage: punt6 <command>/);
  for (const command of ['decode', 'replay', 'run', 'check', 'leases', 'ctl', 'bench', 'doctor', 'flows', 'lab']) {
    t.regex(all.stdout, new RegExp(`^  ${command} `, 'm'));
    const r = await punt6(command, '--help');
    t.is(r.code, 0, command);
    t.regex(r.stdout, new RegExp(`^usage: punt6 ${command} `));
    t.is(r.stderr, '');
  }
});

testNeeding('--version and -V: the package version and the Node.js version on stdout, exit 0', built, async (t) => {
  const { version } = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = await punt6(flag);
    t.is(r.code, 0);
    t.is(r.stdout, `punt6 ${version} (Node.js ${process.version})\n`);
    t.is(r.stderr, '');
  }
});

testNeeding('an unknown command or option: exit 2', built, async (t) => {
  const a = await punt6('frobnicate');
  t.is(a.code, 2);
  t.regex(a.stderr, /unknown command: frobnicate/);
  const b = await punt6('decode', '--no-such-option', 'fixtures/ndisc6-ns-na.pcap');
  t.is(b.code, 2);
  t.regex(b.stderr, /no-such-option/);
  t.is(b.stdout, '');
  const c = await punt6('run', '--config', 'fixtures/config/lab.yaml', '--bridge', 'br0', '--meter-rate', 'fast');
  t.is(c.code, 2);
  t.regex(c.stderr, /--meter-rate is an integer/);
  const d = await punt6('run', '--config', 'fixtures/config/lab.yaml', '--meter-rate', '500');
  t.is(d.code, 2);
  t.regex(d.stderr, /go with --bridge/);
  const e = await punt6('run', '--config', 'fixtures/config/lab.yaml', '--meter-base', '61000');
  t.is(e.code, 2);
  t.regex(e.stderr, /--meter-base go with --bridge/);
  const f = await punt6('run', '--config', 'fixtures/config/lab.yaml', '--bridge', 'br0', '--meter-base', '0');
  t.is(f.code, 2);
  t.regex(f.stderr, /--meter-base is an integer in 1\.\./);
});

testNeeding('malformed frames are printed with status, layer and offset, and decoding goes on', built, async (t) => {
  const r = await punt6('decode', crafted);
  t.is(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  t.deepEqual(
    lines.map((l) => l['frame']),
    [1, 2, 3, 4, 5],
  );
  t.deepEqual(
    lines.map((l) => l['status']),
    ['truncated', 'bad-checksum', 'malformed', 'ok', 'ok'],
  );
  // 1: the NS is 20 bytes, the fixed part needs 24: the error is at the NDP layer, at the end.
  t.like(lines[0], {
    error: { status: 'truncated', layer: 'ndp', offset: ICMP + 20 },
    ipv6: { payloadLength: 20 },
    icmpv6: { type: 135 },
  });
  // 2: the checksum field of the Echo Request.
  t.like(lines[1], {
    error: { status: 'bad-checksum', layer: 'icmpv6', offset: ICMP + 2 },
    icmpv6: { type: 128, identifier: 19260, sequenceNumber: 1 },
  });
  // 3: the option's length byte (the option starts after the 24-byte NS body).
  t.like(lines[2], {
    error: { status: 'malformed', layer: 'ndp-option', offset: ICMP + 25 },
    icmpv6: { type: 135, target: 'fd00::2' },
  });
  t.like(lines[3], { icmpv6: { type: 136, target: 'fd00::2' } });
  t.like(lines[4], { dhcpv6: { msgTypeName: 'solicit' } });
  for (const l of lines) {
    const e = l['error'] as { reason?: unknown } | undefined;
    if (e !== undefined) t.true(typeof e.reason === 'string' && e.reason.length > 0, 'every error carries a reason');
    else t.is(l['status'], 'ok');
  }

  const s = await punt6('decode', '--summary', crafted);
  t.is(s.code, 0, s.stderr);
  const summary = s.stdout.split('\n').filter((l) => l !== '');
  t.is(summary.length, 5);
  t.regex(summary[0] ?? '', /\[truncated ndp @74: .+\]$/);
  t.regex(summary[1] ?? '', /\[bad-checksum icmpv6 @56: .+\]$/);
  t.regex(summary[2] ?? '', /\[malformed ndp-option @79: .+\]$/);
  t.notRegex(summary[3] ?? '', /\[/);
});

testNeeding('--no-verify-checksums accepts the bad checksum', built, async (t) => {
  const r = await punt6('decode', '--no-verify-checksums', crafted);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(
    jsonLines(r.stdout).map((l) => l['status']),
    ['truncated', 'ok', 'malformed', 'ok', 'ok'],
  );
});

testNeeding('--filter applies a BPF filter while reading', built, async (t) => {
  const icmp = await punt6('decode', '--filter', 'icmp6', crafted);
  t.is(icmp.code, 0, icmp.stderr);
  const lines = jsonLines(icmp.stdout);
  t.is(lines.length, 4);
  t.true(lines.every((l) => l['icmpv6'] !== undefined && l['dhcpv6'] === undefined));
  const dhcp = await punt6('decode', '--summary', '--filter', 'udp port 547', crafted);
  t.is(dhcp.code, 0, dhcp.stderr);
  t.regex(dhcp.stdout.trim(), /^1 \d+\.\d{6} fe80::ff:fe00:1 > ff02::1:2 dhcpv6 solicit xid 0x[0-9a-f]{6}$/);
});

testNeeding('a filter that does not compile: an error saying so, nothing decoded', built, async (t) => {
  const r = await punt6('decode', '--filter', 'icmp6 and (', 'fixtures/ndisc6-ns-na.pcap', 'fixtures/ping6-echo.pcap');
  t.is(r.code, 2, 'a usage error');
  t.regex(r.stderr, /invalid filter "icmp6 and \(":/);
  t.is(r.stderr.split('invalid filter').length, 2, 'said once, not once per file');
  t.is(r.stdout, '');
});

testNeeding(
  'pcapng input decodes like the same frames in pcap',
  { available: built.available && editcap.available, reason: built.available ? editcap.reason : built.reason },
  async (t) => {
    const ng = join(dir, 'crafted.pcapng');
    await run('editcap', '-F', 'pcapng', crafted, ng);
    const a = await punt6('decode', crafted);
    const b = await punt6('decode', ng);
    t.is(b.code, 0, b.stderr);
    t.is(jsonLines(b.stdout).length, 5);
    t.is(b.stdout, a.stdout);
    const fx = join(dir, 'dhcp6-relay.pcapng');
    await run('editcap', '-F', 'pcapng', fixturePath('dhcp6-relay'), fx);
    const c = await punt6('decode', fx);
    const d = await punt6('decode', 'fixtures/dhcp6-relay.pcap');
    t.is(c.code, 0, c.stderr);
    t.is(c.stdout, d.stdout);
  },
);

/** Every path below `root`, with each file's size: what a command created or changed there. */
function tree(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((p) => {
      const st = statSync(join(root, p));
      return st.isDirectory() ? `${p}/` : `${p} ${st.size}`;
    })
    .sort();
}

/**
 * A directory for one command's paths: the lab configuration copied in (its state directory,
 * `state`, would be made here), a directory, and a file that is not a lease journal.
 */
function pathsDirectory(): { root: string; config: string; directory: string; notJournal: string } {
  const root = mkdtempSync(join(dir, 'paths-'));
  const config = join(root, 'punt6.yaml');
  copyFileSync(join(repositoryRoot, 'fixtures', 'config', 'lab.yaml'), config);
  mkdirSync(join(root, 'a-directory'));
  writeFileSync(join(root, 'notes.txt'), 'not a journal\n');
  return { root, config, directory: join(root, 'a-directory'), notJournal: join(root, 'notes.txt') };
}

const refusedPaths: {
  title: string;
  args: (p: ReturnType<typeof pathsDirectory>) => string[];
  bad: (p: ReturnType<typeof pathsDirectory>) => string;
  reason: string;
}[] = [
  {
    title: '--out into a missing directory',
    args: (p) => ['--out', join(p.root, 'missing', 'out.pcap')],
    bad: (p) => join(p.root, 'missing', 'out.pcap'),
    reason: 'the directory PARENT does not exist',
  },
  {
    title: '--out onto a directory',
    args: (p) => ['--out', p.directory],
    bad: (p) => p.directory,
    reason: 'is a directory, not a file',
  },
  {
    title: '--leases on a directory',
    args: (p) => ['--leases', p.directory],
    bad: (p) => p.directory,
    reason: 'is a directory, not a file',
  },
  {
    title: '--leases in missing directories (none is made)',
    args: (p) => ['--leases', join(p.root, 'nonexistent', 'dir', 'j')],
    bad: (p) => join(p.root, 'nonexistent', 'dir', 'j'),
    reason: 'the directory PARENT does not exist',
  },
  {
    title: '--leases on a file that is not a lease journal (left untouched, not cut as a torn tail)',
    args: (p) => ['--leases', p.notJournal],
    bad: (p) => p.notJournal,
    reason: 'not a lease journal (it does not start with "P6LJ"); left untouched',
  },
  {
    title: 'a good --out with a bad --leases: the output is not created either',
    args: (p) => ['--out', join(p.root, 'replies.pcap'), '--leases', join(p.root, 'missing', 'j')],
    bad: (p) => join(p.root, 'missing', 'j'),
    reason: 'the directory PARENT does not exist',
  },
];

for (const c of refusedPaths) {
  testNeeding(`replay ${c.title}: exit 1, one line PATH: reason, nothing created`, built, async (t) => {
    const p = pathsDirectory();
    const before = tree(p.root);
    const r = await punt6('replay', '--config', p.config, 'fixtures/dhclient-stateful.pcap', ...c.args(p));
    t.is(r.code, 1);
    const bad = c.bad(p);
    t.is(r.stderr, `punt6 replay: ${bad}: ${c.reason.replace('PARENT', dirname(bad))}\n`);
    t.is(r.stdout, '');
    t.deepEqual(tree(p.root), before);
    t.is(readFileSync(p.notJournal, 'utf8'), 'not a journal\n');
  });
}

testNeeding(
  "replay with --leases and --out writes those two files and nothing in the configuration's state directory",
  built,
  async (t) => {
    const p = pathsDirectory();
    const args = [
      'replay',
      '--config',
      p.config,
      'fixtures/dhclient-stateful.pcap',
      '--leases',
      join(p.root, 'leases.journal'),
      '--out',
      join(p.root, 'replies.pcap'),
    ];
    const r = await punt6(...args);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(
      tree(p.root).map((e) => e.replace(/ \d+$/, '')),
      ['a-directory/', 'leases.journal', 'notes.txt', 'punt6.yaml', 'replies.pcap'],
    );
    const again = await punt6(...args);
    t.is(again.code, 0, again.stderr);
  },
);

testNeeding('a directory where a file is wanted: exit 1 and a message, never a stack trace', built, async (t) => {
  const p = pathsDirectory();
  const runs: [string[], RegExp][] = [
    [['decode', p.directory], /^punt6 decode: \S+a-directory: is a directory, not a file\n$/],
    [['replay', '--config', p.config, p.directory], /^punt6 replay: \S+a-directory: is a directory, not a file\n$/],
    [
      ['replay', '--config', p.directory, 'fixtures/ping6-echo.pcap'],
      /^punt6 replay: \S+a-directory: cannot read the configuration, 1 problem:\n {2}\S+: is a directory, not a file\n$/,
    ],
    [
      ['flows', '--config', p.directory, '--dry-run'],
      /^punt6 flows: \S+a-directory: cannot read the configuration, 1 problem:\n {2}\S+: is a directory, not a file\n$/,
    ],
    [
      ['run', '--config', p.directory],
      /^punt6 run: \S+a-directory: cannot read the configuration, 1 problem:\n {2}\S+: is a directory, not a file\n$/,
    ],
  ];
  for (const [args, stderr] of runs) {
    const r = await punt6(...args);
    t.is(r.code, 1, args.join(' '));
    t.regex(r.stderr, stderr);
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  }
  t.deepEqual(
    tree(p.root).map((e) => e.replace(/ \d+$/, '')),
    ['a-directory/', 'notes.txt', 'punt6.yaml'],
  );
});

test('the crafted capture is what the CLI tests expect', async (t) => {
  const c = await loadCaptureFile(crafted);
  t.is(c.frames.length, 5);
  t.is(c.frames[0]?.data.length, ICMP + 20);
});

// ---- Captures that cannot be read to their end ----------------------------------------------

testNeeding(
  'a capture cut short: its frames as before, then file, record and offset on stderr, exit 1; the next file still decoded',
  built,
  async (t) => {
    const cut = scratch.write('ping6-echo-cut', ping.bytes.subarray(0, (ping.recordOffsets[5] as number) + 16 + 10));
    const good = await punt6('decode', fixturePath('ping6-echo'));
    const r = await punt6('decode', cut, 'fixtures/ndisc6-ns-na.pcap');
    t.is(r.code, 1);
    t.is(
      r.stderr,
      `punt6 decode: ${cut}: record 6 at byte offset 694: the file ends 10 bytes into the record's 118-byte packet\n`,
    );
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    t.deepEqual(
      lines.slice(0, 5),
      good.stdout.split('\n').slice(0, 5),
      'the five frames before the cut, decoded as from the whole file',
    );
    t.deepEqual(
      jsonLines(lines.slice(5).join('\n')).map((l) => l['frame']),
      [1, 2],
      'then the next file',
    );
    const s = await punt6('decode', '--summary', cut);
    t.is(s.code, 1);
    t.is(s.stdout.split('\n').filter((l) => l !== '').length, 5);
  },
);

for (const c of faulty) {
  const where = `${c.fault.unit} ${c.fault.number} at byte offset ${c.fault.offset}`;
  testNeeding(`decode, ${c.name}: ${c.frames.length} frames, then "${where}", exit 1`, built, async (t) => {
    const path = scratch.write(c.name, c.bytes);
    const r = await punt6('decode', path);
    t.is(r.code, 1, r.stderr);
    t.deepEqual(
      jsonLines(r.stdout).map((l) => l['frame']),
      c.frames.map((_, i) => i + 1),
    );
    const prefix = `punt6 decode: ${path}: ${where}: `;
    t.true(r.stderr.startsWith(prefix), r.stderr);
    t.regex(r.stderr.slice(prefix.length).trimEnd(), c.fault.reason);
  });
}

testNeeding(
  'decode --filter on a capture with a fault: the matching frames before it, then the fault, exit 1',
  built,
  async (t) => {
    const c = faulty.find((x) => x.name.startsWith('pcapng: a packet on interface 5'));
    if (c === undefined) throw new Error('capture missing');
    const path = scratch.write(c.name, c.bytes);
    // ping6-echo alternates echo requests and replies; two frames come before the fault.
    const r = await punt6('decode', '--summary', '--filter', 'icmp6 and ip6[40] == 128', path);
    t.is(r.code, 1);
    t.regex(r.stdout.trim(), /^1 \d+\.\d{6} fd00::1 > fd00::2 icmpv6 echo-request id 19260 seq 1$/);
    t.regex(r.stderr, /: block 5 at byte offset 352: enhanced packet block on interface 5/);
  },
);

testNeeding(
  'replay of a capture cut short: the frames before the cut answered as from a capture that ends there, then the fault, exit 1',
  built,
  async (t) => {
    // dhclient-stateful's last record (the server's Reply to the Release) cut in the middle.
    const last = stateful.recordOffsets[7] as number;
    const cut = scratch.write('dhclient-stateful-cut', stateful.bytes.subarray(0, last + 16 + 50));
    const whole = scratch.write('dhclient-stateful-seven', stateful.bytes.subarray(0, last));
    const config = 'fixtures/config/peers.yaml';
    const a = await punt6('replay', '--config', config, cut, '--out', join(scratch.dir, 'cut-replies.pcap'));
    const b = await punt6('replay', '--config', config, whole, '--out', join(scratch.dir, 'seven-replies.pcap'));
    t.is(b.code, 0, b.stderr);
    t.is(a.code, 1);
    t.is(
      a.stderr,
      `punt6 replay: ${cut}: record 8 at byte offset ${last}: the file ends 50 bytes into the record's 206-byte packet\n`,
    );
    t.is(a.stdout, b.stdout, 'the same table');
    t.regex(a.stdout, /^7 frames in, [1-9]\d* frames out$/m);
    const replies = async (f: string) => (await loadCaptureFile(join(scratch.dir, f))).frames.map((x) => x.data);
    t.deepEqual(await replies('cut-replies.pcap'), await replies('seven-replies.pcap'), 'the same replies');
  },
);

testNeeding(
  'replay of a pcapng whose second interface has another link type: exit 1 naming the block',
  built,
  async (t) => {
    const c = faulty.find((x) => x.name === 'pcapng: two interfaces of different link types');
    if (c === undefined) throw new Error('capture missing');
    const path = scratch.write(c.name, c.bytes);
    const r = await punt6('replay', '--config', 'fixtures/config/peers.yaml', path);
    t.is(r.code, 1);
    t.regex(r.stdout, /^2 frames in, \d+ frames out$/m);
    t.is(
      r.stderr,
      `punt6 replay: ${path}: block 5 at byte offset 352: interface description block with link type 101, where the first interface's is 1: libpcap reads one link type per file\n`,
    );
  },
);
