import test from 'ava';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { loadCaptureFile } from '../capture/reader.js';
import { nodeJournalFs, type JournalFileHandle, type JournalFs } from '../dhcp/journal.js';
import { ip6 } from '../test-support/frames.js';
import { createLogger } from '../system/logging.js';
import { Punt6Service, type ServiceOptions } from './service.js';
import { MemoryDataplane } from '../test-support/memory-dataplane.js';

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

/** fixtures/config/peers.yaml without a per-sender limit (the tests below send bursts of NS). */
async function peersText(): Promise<string> {
  const text = await readFile(join(fixturesDirectory, 'config', 'peers.yaml'), 'utf8');
  return text.replace(
    '  stateDirectory: state',
    '  stateDirectory: state\n  rateLimit: { rate: 1000000, burst: 1000000 }',
  );
}

async function harness(options: Partial<ServiceOptions> = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'punt6-service-'));
  const configPath = join(dir, 'punt6.yaml');
  await writeFile(configPath, await peersText());
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
    ...options,
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
    await writeFile(
      h.configPath,
      text.replace('- prefix: 2001:db8:1::/64', '- prefix: 2001:db8:1::/64\n      - prefix: 2001:db8:9::/64'),
    );
    t.true(await h.service.reload());
    dp.deliver(0, rs!);
    t.deepEqual(raPrefixes(dp.sent.at(-1)!.frame), [
      hex(ip6('fd00::')),
      hex(ip6('2001:db8:1::')),
      hex(ip6('2001:db8:9::')),
    ]);

    await writeFile(h.configPath, text.replace('routerMac: 02:00:00:00:00:02', 'routerMac: 02:00:00:00:00'));
    t.false(await h.service.reload());
    dp.deliver(0, rs!);
    t.deepEqual(raPrefixes(dp.sent.at(-1)!.frame), [
      hex(ip6('fd00::')),
      hex(ip6('2001:db8:1::')),
      hex(ip6('2001:db8:9::')),
    ]);
    const refused = h.logs.find((l) => l.msg === 'configuration refused; the running one stays');
    t.truthy(refused);
    t.true((refused?.problems as string[]).some((p) => p.includes('routerMac')));

    const metrics = await h.service.metrics.text();
    t.regex(
      metrics,
      /punt6_frames_total\{interface="punt0",kind="rs",outcome="answered"\} 3\n/,
      'counters survive reloads',
    );
    t.regex(metrics, /punt6_config_reloads_total\{result="ok"\} 1\n/);
    t.regex(metrics, /punt6_config_reloads_total\{result="error"\} 1\n/);
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

// ------------------------------------------------------------------ reloads that cannot finish

const NA = 136;

/** What `work` resolved to, or `timedOut` when it did not settle within `ms`. */
async function within<T>(work: Promise<T>, ms: number): Promise<{ timedOut: boolean; value?: T; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const r = await Promise.race([work.then((value) => ({ value })), late]);
  clearTimeout(timer);
  return r === 'late'
    ? { timedOut: true, ms: Date.now() - started }
    : { timedOut: false, value: r.value, ms: Date.now() - started };
}

/**
 * Delivers the NS at every turn of the event loop until `work` settles (or `limitMs` passes),
 * and counts the ones answered with an NA at once.
 */
async function askWhile<T>(
  h: Harness,
  ns: Uint8Array,
  work: Promise<T>,
  limitMs = 5000,
): Promise<{ asked: number; answered: number; settled: boolean; value?: T; ms: number }> {
  const dp = h.dp();
  let settled = false;
  let value: T | undefined;
  void work.then((v) => {
    settled = true;
    value = v;
  });
  const started = Date.now();
  let asked = 0;
  let answered = 0;
  while (!settled && Date.now() - started < limitMs) {
    const before = dp.sent.length;
    dp.deliver(0, ns);
    asked++;
    if (dp.sent.length > before && dp.sent.at(-1)!.frame[ICMPV6_AT] === NA) answered++;
    await new Promise((r) => setImmediate(r));
  }
  return { asked, answered, settled, value, ms: Date.now() - started };
}

/** The NS is answered now. */
function answers(h: Harness, ns: Uint8Array): boolean {
  const dp = h.dp();
  const before = dp.sent.length;
  dp.deliver(0, ns);
  return dp.sent.length > before && dp.sent.at(-1)!.frame[ICMPV6_AT] === NA;
}

/** The configuration with `stateDirectory: state` replaced by `server` lines. */
async function writeServer(h: Harness, server: string): Promise<void> {
  await writeFile(
    h.configPath,
    (await peersText()).replace('  stateDirectory: state\n', server.replace(/^/gm, '  ') + '\n'),
  );
}

/** The real journal file system, with each opened file's operations passed through `wrap`. */
function wrappedFs(
  wrap: (path: string, fh: JournalFileHandle) => Partial<JournalFileHandle>,
  readFile = nodeJournalFs.readFile,
): JournalFs {
  return {
    ...nodeJournalFs,
    readFile,
    async open(path, flags) {
      const fh = await nodeJournalFs.open(path, flags);
      return { ...fh, ...wrap(path, fh) };
    },
  };
}

/** A journal file system whose reads of paths matching `hang` wait for `release()`; it records opens and closes. */
function gatedFs(hang: (path: string) => boolean): {
  fs: JournalFs;
  release: () => void;
  opened: string[];
  closed: string[];
} {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const opened: string[] = [];
  const closed: string[] = [];
  const fs = wrappedFs(
    (path, fh) => {
      opened.push(path);
      return {
        close: async () => {
          closed.push(path);
          await fh.close();
        },
      };
    },
    async (path) => {
      if (hang(path)) await gate;
      return nodeJournalFs.readFile(path);
    },
  );
  return { fs, release, opened, closed };
}

/** Opens the FIFO for writing without blocking, so that a reader stuck on it (if any) gets EOF. */
function releaseFifo(path: string): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: nobody reads it
  }
}

function abandoned(h: Harness): Record<string, unknown>[] {
  return h.logs.filter((l) => l.msg === 'reload abandoned; the running configuration stays');
}

/** Checks the old configuration answers during and after a reload that must be abandoned, then a valid reload. */
async function refusedWhileAnswering(
  t: import('ava').ExecutionContext,
  h: Harness,
  ns: Uint8Array,
  reason: RegExp,
  limitMs = 2000,
): Promise<void> {
  const r = await askWhile(h, ns, h.service.reload(), limitMs + 3000);
  t.true(r.settled, 'the reload resolves');
  t.false(r.value, 'the reload is abandoned');
  t.true(r.ms < limitMs, `the reload resolved after ${r.ms} ms`);
  t.true(r.asked > 0);
  t.is(r.answered, r.asked, 'every NS during the attempt is answered');
  t.is(h.service.loop.droppedWhilePaused, 0);
  t.true(answers(h, ns), 'the old configuration answers afterwards');
  const log = abandoned(h).at(-1);
  t.regex(String(log?.reason), reason);
  t.regex(await h.service.metrics.text(), /punt6_config_reloads_total\{result="error"\} 1\n/);
  // A later valid reload works.
  await writeFile(
    h.configPath,
    (await peersText()).replace(
      '- prefix: 2001:db8:1::/64',
      '- prefix: 2001:db8:1::/64\n      - prefix: 2001:db8:9::/64',
    ),
  );
  t.true(await h.service.reload());
  t.true(answers(h, ns));
}

/** Runs `body` on a started service, then stops it (waiting 3 s at most), runs `cleanup` and removes its directory. */
async function withService(
  options: Partial<ServiceOptions>,
  body: (h: Harness) => Promise<void>,
  cleanup: () => void = () => {},
): Promise<void> {
  const h = await harness(options);
  try {
    await h.service.start();
    await body(h);
  } finally {
    await within(h.service.stop('test'), 3000);
    cleanup();
    await rm(h.dir, { recursive: true, force: true });
  }
}

/** Waits (3 s at most) until `done()`. */
async function eventually(done: () => boolean): Promise<void> {
  await within(
    (async () => {
      while (!done()) await new Promise((r) => setTimeout(r, 10));
    })(),
    3000,
  );
}

test('reload with a FIFO as lease file: refused before anything pauses; the old configuration answers throughout', async (t) => {
  const [ns] = await frames('ndisc6-ns-na.pcap');
  let fifo = '';
  await withService(
    {},
    async (h) => {
      fifo = join(h.dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      await writeServer(h, `stateDirectory: state\nleaseFile: ${JSON.stringify(fifo)}`);
      await refusedWhileAnswering(t, h, ns!, /fifo: is a FIFO, not a regular file/);
      t.is(abandoned(h).length, 1);
      t.false((await within(h.service.stop('test'), 3000)).timedOut, 'stop finishes');
    },
    () => releaseFifo(fifo),
  );
});

test('reload with a state directory under /proc: refused up front; the old configuration answers throughout', async (t) => {
  const [ns] = await frames('ndisc6-ns-na.pcap');
  await withService({}, async (h) => {
    await writeServer(h, 'stateDirectory: /proc/punt6-test');
    await refusedWhileAnswering(t, h, ns!, /\/proc\/punt6-test.*proc file system/);
    t.false(existsSync('/proc/punt6-test'));
  });
});

test('reload whose state takes too long to open: abandoned at the time limit, what it opened later is closed', async (t) => {
  const gated = gatedFs((path) => path.includes('state2'));
  const [ns] = await frames('ndisc6-ns-na.pcap');
  // Long enough for the start (every test of this file starts at once), short for a test.
  await withService(
    { prepareTimeoutMs: 1500, journalFs: gated.fs },
    async (h) => {
      await writeServer(h, 'stateDirectory: state2');
      const r = await askWhile(h, ns!, h.service.reload(), 5000);
      t.true(r.settled);
      t.false(r.value);
      // From a clock read just after the reload began: a millisecond or so short of its timer.
      t.true(r.ms >= 1490 && r.ms < 4000, `the reload resolved after ${r.ms} ms`);
      t.is(r.answered, r.asked);
      t.regex(String(abandoned(h).at(-1)?.reason), /took longer than 1500 ms/);
      // The open completes later: the journal it opened is closed at once.
      gated.release();
      const late = join(h.dir, 'state2', 'leases.journal');
      await eventually(() => gated.closed.includes(late));
      t.true(gated.opened.includes(late));
      t.true(gated.closed.includes(late), 'the late journal is closed');
      t.false(h.service.loop.current!.leases!.journal.path.includes('state2'), 'the running table is the old one');
      t.true(answers(h, ns!));
      await writeServer(h, 'stateDirectory: state3');
      t.true(await h.service.reload(), 'a later valid reload works');
      t.regex(h.service.loop.current!.leases!.journal.path, /state3/);
    },
    gated.release,
  );
});

test('stop during a reload that hangs: the preparation is abandoned and the stop finishes at once', async (t) => {
  const gated = gatedFs((path) => path.includes('state2'));
  const [ns] = await frames('ndisc6-ns-na.pcap');
  await withService(
    { prepareTimeoutMs: 60_000, journalFs: gated.fs },
    async (h) => {
      await writeServer(h, 'stateDirectory: state2');
      const reload = h.service.reload();
      const r = await askWhile(h, ns!, new Promise((resolve) => setTimeout(resolve, 200)));
      t.is(r.answered, r.asked, 'answering goes on while the reload hangs');
      const stop = await within(h.service.stop('SIGTERM'), 2000);
      t.false(stop.timedOut, 'the stop does not wait for the hanging reload');
      t.is((await within(reload, 100)).value, false);
      t.deepEqual(
        h.logs.map((l) => l.msg).filter((m) => m === 'stopping' || m === 'stopped'),
        ['stopping', 'stopped'],
      );
      t.true(h.dp().closed);
    },
    gated.release,
  );
});

test('reload with the same lease file: the running table is carried over with every lease, frames are answered throughout', async (t) => {
  const [ns] = await frames('ndisc6-ns-na.pcap');
  const na = await frames('dhclient-stateful.pcap');
  const pd = await frames('dhclient-pd.pcap');
  await withService({}, async (h) => {
    const dp = h.dp();
    for (const f of [na[0]!, na[2]!, pd[0]!, pd[2]!]) dp.deliver(0, f); // Solicit, Request of each
    await h.service.loop.current!.dispatcher.flush();
    const table = h.service.loop.current!.leases!;
    const before = [...table.leases()].map((l) => `${hex(l.address)}/${l.prefixLength}`);
    t.is(before.length, 2);
    await writeFile(
      h.configPath,
      (await peersText()).replace(
        'addressPools: [2001:db8:1::100-2001:db8:1::1ff]',
        'addressPools: [2001:db8:1::100-2001:db8:1::1ff, 2001:db8:1::300-2001:db8:1::3ff]',
      ),
    );
    const r = await askWhile(h, ns!, h.service.reload());
    t.true(r.value);
    t.true(r.asked >= 2, 'NS arrive while the new configuration is prepared');
    t.is(r.answered, r.asked, 'no frame is dropped');
    t.is(h.service.loop.droppedWhilePaused, 0);
    const after = h.service.loop.current!.leases!;
    t.is(after, table, 'the same table, the journal never closed');
    t.true(after.writable);
    t.deepEqual(
      [...after.leases()].map((l) => `${hex(l.address)}/${l.prefixLength}`),
      before,
    );
    t.true(
      after.poolUsage().some((u) => u.name === '2001:db8:1::300-2001:db8:1::3ff'),
      'the new pool is in use',
    );
    const reloaded = h.logs.find((l) => l.msg === 'configuration reloaded');
    t.is(typeof reloaded?.pausedMs, 'number');
    const metrics = await h.service.metrics.text();
    t.regex(metrics, /punt6_leases\{kind="address"\} 1\n/);
    t.regex(metrics, /punt6_leases\{kind="prefix"\} 1\n/);
    t.regex(metrics, /punt6_reload_dropped_frames_total 0\n/);
  });
});

test('reload while a DHCPv6 reply waits for its commit: the reload does not wait, the reply goes out after the commit', async (t) => {
  let releaseSync!: () => void;
  const syncGate = new Promise<void>((r) => (releaseSync = r));
  let gateSyncs = false;
  const fs = wrappedFs((_path, fh) => ({
    sync: async () => {
      if (gateSyncs) await syncGate;
      await fh.sync();
    },
  }));
  const na = await frames('dhclient-stateful.pcap');
  await withService(
    { journalFs: fs },
    async (h) => {
      const dp = h.dp();
      // DHCPv6 frames sent (RAs go out too, from the new dispatcher's start).
      const dhcpv6Sent = (): number => dp.sent.filter((s) => s.frame[14 + 6] === 17).length;
      gateSyncs = true;
      dp.deliver(0, na[0]!); // Solicit: Advertise at once
      const sent = dhcpv6Sent();
      t.is(sent, 1);
      dp.deliver(0, na[2]!); // Request: its Reply waits for the commit
      t.is(dhcpv6Sent(), sent);
      await writeFile(
        h.configPath,
        (await peersText()).replace(
          '- prefix: 2001:db8:1::/64',
          '- prefix: 2001:db8:1::/64\n      - prefix: 2001:db8:9::/64',
        ),
      );
      const reload = await within(h.service.reload(), 2000);
      t.false(reload.timedOut, 'the reload does not wait for the commit');
      t.true(reload.value);
      t.is(dhcpv6Sent(), sent, 'the Reply is still held');
      releaseSync();
      await h.service.loop.current!.leases!.commit();
      await new Promise((r) => setImmediate(r));
      t.is(dhcpv6Sent(), sent + 1, 'the old dispatcher sent its Reply after the commit');
    },
    releaseSync,
  );
});

test("reload with the same lease file counts the table's storage failures once", async (t) => {
  let failures = 1;
  const fs = wrappedFs((_path, fh) => ({
    write: async (b, o, l, p) => {
      if (failures > 0) {
        failures--;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return fh.write(b, o, l, p);
    },
  }));
  const na = await frames('dhclient-stateful.pcap');
  await withService({ journalFs: fs }, async (h) => {
    const dp = h.dp();
    dp.deliver(0, na[0]!);
    dp.deliver(0, na[2]!);
    await h.service.loop.current!.dispatcher.flush();
    const table = h.service.loop.current!.leases!;
    await eventually(() => failures === 0 && !table.journalStats().failing);
    t.regex(await h.service.metrics.text(), /punt6_lease_storage_failures_total 1\n/);
    t.true(await h.service.reload());
    t.is(h.service.loop.current!.leases, table);
    t.regex(await h.service.metrics.text(), /punt6_lease_storage_failures_total 1\n/);
  });
});

test('reload to another lease file: the new journal opens before the swap, the old one is closed after it', async (t) => {
  const [ns] = await frames('ndisc6-ns-na.pcap');
  await withService({}, async (h) => {
    const old = h.service.loop.current!.leases!;
    await writeServer(h, 'stateDirectory: state2');
    const r = await askWhile(h, ns!, h.service.reload());
    t.true(r.value);
    t.is(r.answered, r.asked);
    const now = h.service.loop.current!.leases!;
    t.not(now, old);
    t.is(now.journal.path, join(h.dir, 'state2', 'leases.journal'));
    await eventually(() => !old.writable);
    t.false(old.writable, 'the old journal is closed');
  });
});

/** peers.yaml with `n` more ports, one address each (as static bindings of its stateful network). */
function withPorts(text: string, n: number): string {
  const hex = (x: number): string => x.toString(16).padStart(2, '0');
  let ports = '';
  for (let i = 0; i < n; i++)
    ports += `  - name: p${i}\n    mac: 02:01:00:${hex(i >> 8)}:${hex(i & 255)}:01\n    network: lab\n    addresses: [2001:db8:1::1:${i.toString(16)}]\n`;
  return text.replace('\nserver:', `${ports}\nserver:`);
}

test('reload of 3,000 ports: prepared in slices, an NS every millisecond is answered throughout', async (t) => {
  const [ns] = await frames('ndisc6-ns-na.pcap');
  await withService({ prepareTimeoutMs: 60_000 }, async (h) => {
    await writeFile(h.configPath, withPorts(await peersText(), 3000));
    t.true(await h.service.reload());
    // The same lease file again: the carried table's 3,000 reservations are built aside too.
    await writeFile(h.configPath, withPorts(await peersText(), 3001));
    const dp = h.dp();
    const answeredAt: number[] = [];
    let asked = 0;
    const timer = setInterval(() => {
      const before = dp.sent.length;
      dp.deliver(0, ns!);
      asked++;
      if (dp.sent.length > before && dp.sent.at(-1)!.frame[ICMPV6_AT] === NA) answeredAt.push(performance.now());
    }, 1);
    const started = performance.now();
    const ok = await h.service.reload();
    const ended = performance.now();
    clearInterval(timer);
    t.true(ok);
    t.is(answeredAt.length, asked, 'every NS answered, none dropped at the swap');
    t.is(h.service.loop.droppedWhilePaused, 0);
    const during = answeredAt.filter((x) => x > started && x < ended);
    let longest = 0;
    for (let i = 1; i < answeredAt.length; i++) longest = Math.max(longest, answeredAt[i]! - answeredAt[i - 1]!);
    const took = ended - started;
    t.log(`reload ${took.toFixed(0)} ms, ${during.length} NS answered meanwhile, longest gap ${longest.toFixed(1)} ms`);
    t.true(during.length >= 20, 'answers while the new configuration is prepared');
    // Prepared at once, the gap would be the whole preparation; a busy machine stretches slices.
    t.true(longest < took / 4, `longest gap ${longest.toFixed(1)} ms of a ${took.toFixed(0)} ms reload`);
    // vm-static: two addresses and a delegated prefix.
    t.is(h.service.loop.current!.leases!.counts().staticBindings, 3001 + 3);
  });
});
