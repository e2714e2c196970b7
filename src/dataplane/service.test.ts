import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { loadCaptureFile } from '../capture-file.js';
import { ip6 } from './test-frames.js';
import { createLogger } from '../logging.js';
import { Punt6Service } from '../run-command.js';
import { MemoryDataplane } from './memory.js';

const ICMPV6_AT = 14 + 40;

/** The first prefix of the Prefix Information option(s) in an RA frame, as hex. */
function raPrefixes(frame: Uint8Array): string[] {
  const out: string[] = [];
  let p = ICMPV6_AT + 16;
  while (p + 2 <= frame.length) {
    const type = frame[p] as number;
    const len = (frame[p + 1] as number) * 8;
    if (len === 0) break;
    if (type === 3) out.push(Buffer.from(frame.subarray(p + 16, p + 32)).toString('hex'));
    p += len;
  }
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface Harness {
  dir: string;
  configPath: string;
  service: Punt6Service;
  dp: () => MemoryDataplane;
  logs: Record<string, unknown>[];
}

async function harness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'punt6-service-'));
  const configPath = join(dir, 'punt6.yaml');
  await writeFile(configPath, await readFile(join(fixturesDirectory, 'config', 'peers.yaml'), 'utf8'));
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  let dp: MemoryDataplane | undefined;
  const service = new Punt6Service({
    configPath,
    logger: createLogger({ level: 'info', destination }),
    logLevel: 'info',
    dataplane: (names, onEvent) => (dp = new MemoryDataplane(names, onEvent)),
    finalRaPauseMs: 0,
  });
  return { dir, configPath, service, dp: () => dp as MemoryDataplane, logs };
}

async function frames(file: string): Promise<Uint8Array[]> {
  return (await loadCaptureFile(join(fixturesDirectory, file))).frames.map((f) => f.data);
}

test('reload: a valid file replaces the running one; an invalid one is refused and the old one keeps answering', async (t) => {
  const h = await harness();
  const [rs] = await frames('rdisc6-rs-ra.pcap');
  try {
    await h.service.start();
    const dp = h.dp();
    dp.deliver(0, rs!);
    t.deepEqual(raPrefixes(dp.sent.at(-1)!.frame), [hex(ip6('fd00::')), hex(ip6('2001:db8:1::'))]);

    const text = await readFile(h.configPath, 'utf8');
    await writeFile(h.configPath, text.replace('- prefix: 2001:db8:1::/64', '- prefix: 2001:db8:1::/64\n      - prefix: 2001:db8:9::/64'));
    t.true(await h.service.reload());
    dp.deliver(0, rs!);
    t.deepEqual(raPrefixes(dp.sent.at(-1)!.frame), [hex(ip6('fd00::')), hex(ip6('2001:db8:1::')), hex(ip6('2001:db8:9::'))]);

    await writeFile(h.configPath, text.replace('routerMac: 02:00:00:00:00:02', 'routerMac: 02:00:00:00:00'));
    t.false(await h.service.reload());
    dp.deliver(0, rs!);
    t.deepEqual(raPrefixes(dp.sent.at(-1)!.frame), [hex(ip6('fd00::')), hex(ip6('2001:db8:1::')), hex(ip6('2001:db8:9::'))]);
    const refused = h.logs.find((l) => l.msg === 'configuration refused; the running one stays');
    t.truthy(refused);
    t.true((refused?.problems as string[]).some((p) => p.includes('routerMac')));

    const metrics = await h.service.metrics.text();
    t.regex(metrics, /punt6_frames_total\{interface="punt0",kind="rs",outcome="answered"\} 3\n/, 'counters survive reloads');
    t.regex(metrics, /punt6_config_reloads_total\{result="ok"\} 1\n/);
    t.regex(metrics, /punt6_config_reloads_total\{result="error"\} 1\n/);
  } finally {
    await h.service.stop('test');
    await rm(h.dir, { recursive: true, force: true });
  }
});

test('reload keeps the leases: the journal is closed by the old responder and reopened by the new one', async (t) => {
  const h = await harness();
  const f = await frames('dhclient-stateful.pcap');
  try {
    await h.service.start();
    const dp = h.dp();
    dp.deliver(0, f[0]!); // Solicit
    dp.deliver(0, f[2]!); // Request
    await h.service.loop.current!.dispatcher.flush();
    const before = [...h.service.loop.current!.leases!.leases()].map((l) => hex(l.address));
    t.is(before.length, 1);
    t.true(await h.service.reload());
    const after = [...h.service.loop.current!.leases!.leases()].map((l) => hex(l.address));
    t.deepEqual(after, before);
    t.regex(await h.service.metrics.text(), /punt6_leases\{kind="address"\} 1\n/);
  } finally {
    await h.service.stop('test');
    await rm(h.dir, { recursive: true, force: true });
  }
});

test('stop: final RAs with router lifetime 0, then the dataplane is closed and nothing more is sent', async (t) => {
  const h = await harness();
  const [ns] = await frames('ndisc6-ns-na.pcap');
  await h.service.start();
  const dp = h.dp();
  dp.sent.length = 0;
  await h.service.stop('SIGTERM');
  t.is(dp.sent.length, 3);
  for (const s of dp.sent) t.is((s.frame[ICMPV6_AT + 6]! << 8) | s.frame[ICMPV6_AT + 7]!, 0);
  t.true(dp.closed);
  t.false(dp.deliver(0, ns!));
  t.deepEqual(
    h.logs.map((l) => l.msg).filter((m) => m !== 'interface attached'),
    ['punt6 running', 'stopping', 'final router advertisements sent', 'stopped'],
  );
  await rm(h.dir, { recursive: true, force: true });
});

test('a vanished interface is logged and re-attached when it returns', async (t) => {
  const h = await harness();
  const [ns] = await frames('ndisc6-ns-na.pcap');
  try {
    await h.service.start();
    const dp = h.dp();
    dp.unplug('punt0');
    t.false(dp.deliver(0, ns!));
    dp.plug('punt0');
    t.true(dp.deliver(0, ns!));
    t.is(dp.sent.at(-1)!.frame[ICMPV6_AT], 136);
    t.deepEqual(
      h.logs.filter((l) => l.interface === 'punt0').map((l) => l.msg),
      ['interface attached', 'interface lost; retrying every second', 'interface attached'],
    );
    t.regex(await h.service.metrics.text(), /punt6_interface_attaches_total\{interface="punt0"\} 2\n/);
  } finally {
    await h.service.stop('test');
    await rm(h.dir, { recursive: true, force: true });
  }
});
