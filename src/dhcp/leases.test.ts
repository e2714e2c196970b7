import test from 'ava';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIpv6, parseIpv6, toHex } from '../../codecs/bytes.js';
import { repositoryRoot } from '../../fixtures/paths.js';
import { crashTableOptions } from '../test-support/lease-crash-child.js';
import { runInSlices } from '../system/steps.js';
import { COMPACT_SUFFIX, Journal, RecordKind } from './journal.js';
import {
  LeaseStatus,
  LeaseTable,
  leaseTablePlan,
  poolCandidate,
  LeaseType,
  type Lease,
  type LeaseResult,
  type LeaseTableOptions,
} from './leases.js';

const T0 = 1_700_000_000_000;
const NET = 1;

function duid(n: number): Uint8Array {
  return Uint8Array.from([0, 3, 0, 1, 2, 0, 0, 0, (n >> 8) & 0xff, n & 0xff]);
}

function mac(n: number): Uint8Array {
  return Uint8Array.from([2, 0, 0, 0, 0xa0, n & 0xff]);
}

function ip(text: string): Uint8Array {
  return parseIpv6(text);
}

function text(lease: Lease | null | undefined): string {
  if (lease === null || lease === undefined) return 'none';
  return lease.prefixLength === 128 ? formatIpv6(lease.address) : `${formatIpv6(lease.address)}/${lease.prefixLength}`;
}

function granted(r: LeaseResult): Lease {
  if (r.status !== LeaseStatus.Success) throw new Error(`expected a lease, got status ${r.status}`);
  return r.lease;
}

const smallPool: LeaseTableOptions = {
  pools: [{ networkId: NET, type: LeaseType.Address, first: 'fd00:1::10', last: 'fd00:1::13' }],
};

async function withTable(
  options: LeaseTableOptions,
  body: (table: LeaseTable, path: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'punt6-leases-'));
  try {
    const path = join(dir, 'leases.journal');
    const table = await LeaseTable.open(path, options);
    try {
      await body(table, path, dir);
    } finally {
      await table.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function na(
  n: number,
  extra: Partial<Parameters<LeaseTable['allocate']>[0]> = {},
): Parameters<LeaseTable['allocate']>[0] {
  return { networkId: NET, type: LeaseType.Address, duid: duid(n), iaid: 1, ...extra };
}

test("allocation order: hint when free, else linear probing from the client's own position, wrapping at the end", async (t) => {
  await withTable(smallPool, async (table) => {
    // Where client 1 lands in an empty pool is its own position.
    const home = granted(table.propose(na(1), T0)).address;
    t.deepEqual(granted(table.propose(na(1), T0 + 5)).address, home, 'the position does not depend on time');
    // Someone else takes that position by hint: client 1 gets the next one, wrapping after ::13.
    const taker = granted(table.allocate(na(2, { hint: home }), T0));
    t.deepEqual(taker.address, home);
    const next = granted(table.allocate(na(1), T0));
    const expected = home[15] === 0x13 ? 0x10 : (home[15] as number) + 1;
    t.is(text(next), `fd00:1::${expected.toString(16)}`);
    // A client that holds a lease keeps it when it asks again, whatever its hint.
    const again = table.allocate(na(1, { hint: ip('fd00:1::10') }), T0 + 1000);
    t.deepEqual(granted(again).address, next.address);
    t.is(again.status === LeaseStatus.Success ? again.replaced : 'x', null);
    t.is(granted(again).expiresAt, T0 + 1000 + 7200 * 1000);
    // A hint outside the pool is ignored.
    const outside = granted(table.allocate(na(3, { hint: ip('fd00:9::1') }), T0));
    t.not(text(outside), 'fd00:9::1');
    t.is(outside.validLifetime, 7200);
    t.is(outside.preferredLifetime, 3600);
  });
});

test('an exhausted pool answers NoAddrsAvail (and NoPrefixAvail for a delegation pool), never throws', async (t) => {
  await withTable(
    {
      pools: [
        ...smallPool.pools,
        { networkId: NET, type: LeaseType.Prefix, prefix: 'fd00:100::/62', delegatedLength: 64 },
      ],
    },
    async (table) => {
      const addresses = [1, 2, 3, 4].map((n) => text(granted(table.allocate(na(n), T0))));
      t.deepEqual([...addresses].sort(), ['fd00:1::10', 'fd00:1::11', 'fd00:1::12', 'fd00:1::13']);
      const full = table.allocate(na(5), T0);
      t.is(full.status, LeaseStatus.NoAddrsAvail);
      t.is(full.lease, null);
      t.is(table.propose(na(5), T0).status, LeaseStatus.NoAddrsAvail);
      // Another network has no pool at all.
      t.is(table.allocate(na(5, { networkId: 2 }), T0).status, LeaseStatus.NoAddrsAvail);
      for (let n = 1; n <= 4; n++) granted(table.allocate(na(n, { type: LeaseType.Prefix }), T0));
      t.is(table.allocate(na(5, { type: LeaseType.Prefix }), T0).status, LeaseStatus.NoPrefixAvail);
      t.is(table.allocate(na(5, { duid: new Uint8Array(0) }), T0).status, LeaseStatus.UnspecFail);
      t.deepEqual(table.counts(), { addresses: 4, prefixes: 4, quarantined: 0, staticBindings: 0 });
    },
  );
});

test("a port's static binding comes first, matched by source MAC, Client Link-Layer Address option or DUID", async (t) => {
  await withTable(
    {
      pools: [
        { networkId: NET, type: LeaseType.Address, first: 'fd00:1::10', last: 'fd00:1::13' },
        { networkId: NET, type: LeaseType.Prefix, prefix: 'fd00:100::/60', delegatedLength: 62 },
      ],
      staticBindings: [
        // A port with two addresses, matched by its MAC; one of them sits inside the pool.
        {
          mac: mac(1),
          type: LeaseType.Address,
          networkId: NET,
          address: 'fd00:1::12',
          validLifetime: 600,
          preferredLifetime: 300,
        },
        { mac: mac(1), type: LeaseType.Address, networkId: NET, address: 'fd00:1::99' },
        // A port matched by DUID only, with a delegated prefix.
        { duid: duid(50), type: LeaseType.Address, networkId: NET, address: 'fd00:1::50' },
        { duid: duid(50), type: LeaseType.Prefix, networkId: NET, address: 'fd00:100:0:4::', prefixLength: 62 },
      ],
    },
    async (table) => {
      const bySourceMac = granted(table.allocate(na(7, { sourceMac: mac(1) }), T0));
      t.is(text(bySourceMac), 'fd00:1::12');
      t.true(bySourceMac.isStatic);
      t.is(bySourceMac.validLifetime, 600);
      // A second IA of the same client gets the port's second address.
      const secondIa = granted(table.allocate(na(7, { iaid: 2, sourceMac: mac(1) }), T0));
      t.is(text(secondIa), 'fd00:1::99');
      // A relayed request from another DUID with the same link-layer address (option 79): both
      // of the port's addresses are held, so it gets a pool address.
      const relayed = granted(table.allocate(na(8, { clientLinkLayerAddress: mac(1), sourceMac: mac(200) }), T0));
      t.false(relayed.isStatic);
      t.not(text(relayed), 'fd00:1::12');
      // Matched by option 79 when its own binding is free again.
      t.is(granted(table.release({ type: LeaseType.Address, duid: duid(7), iaid: 1 })).isStatic, true);
      const byOption79 = granted(table.allocate(na(9, { clientLinkLayerAddress: mac(1) }), T0));
      t.is(text(byOption79), 'fd00:1::12');
      // By DUID, for addresses and prefixes.
      t.is(text(granted(table.allocate(na(50), T0))), 'fd00:1::50');
      const pd = granted(table.allocate(na(50, { type: LeaseType.Prefix }), T0));
      t.is(text(pd), 'fd00:100:0:4::/62');
      t.true(pd.isStatic);
      // The reserved addresses and prefix are never handed out from a pool to anyone else.
      for (let n = 100; n < 103; n++) {
        const r = table.allocate(na(n), T0);
        if (r.status === LeaseStatus.Success) t.false(['fd00:1::12', 'fd00:1::50'].includes(text(r.lease)));
      }
      const prefixes = [200, 201, 202].map((n) => table.allocate(na(n, { type: LeaseType.Prefix }), T0));
      t.deepEqual(prefixes.map((r) => text(r.lease)).sort(), [
        'fd00:100:0:8::/62',
        'fd00:100:0:c::/62',
        'fd00:100::/62',
      ]);
      t.is(table.allocate(na(203, { type: LeaseType.Prefix }), T0).status, LeaseStatus.NoPrefixAvail);
    },
  );
});

test('a client holding a pool lease moves to its static binding, and the old lease is reported as replaced', async (t) => {
  const pools = smallPool.pools;
  const dir = mkdtempSync(join(tmpdir(), 'punt6-leases-'));
  try {
    const path = join(dir, 'j');
    const before = await LeaseTable.open(path, { pools });
    const pooled = granted(before.allocate(na(1), T0));
    await before.close();
    // The operator now reserves an address for the client's port.
    const after = await LeaseTable.open(path, {
      pools,
      staticBindings: [{ mac: mac(1), type: LeaseType.Address, networkId: NET, address: 'fd00:1::80' }],
    });
    const moved = after.allocate(na(1, { sourceMac: mac(1) }), T0 + 1);
    t.is(text(granted(moved)), 'fd00:1::80');
    t.is(moved.status === LeaseStatus.Success ? text(moved.replaced) : '', text(pooled));
    t.is(after.lookupAddress(pooled.address), undefined, 'the pool address is free again');
    t.is(after.lookup(duid(1), 1, LeaseType.Address)?.isStatic, true);
    // Renewing the static lease needs the same identity.
    t.is(
      after.renew({ type: LeaseType.Address, duid: duid(1), iaid: 1, sourceMac: mac(1) }, T0 + 2).status,
      LeaseStatus.Success,
    );
    await after.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('release returns the address to the pool at once', async (t) => {
  await withTable(
    { pools: [{ networkId: NET, type: LeaseType.Address, first: 'fd00:1::10', last: 'fd00:1::10' }] },
    async (table) => {
      const lease = granted(table.allocate(na(1), T0));
      t.is(table.allocate(na(2), T0).status, LeaseStatus.NoAddrsAvail);
      t.is(
        table.release({ type: LeaseType.Address, duid: duid(1), iaid: 1, address: ip('fd00:1::11') }).status,
        LeaseStatus.NoBinding,
        'not the address it holds',
      );
      t.is(table.release({ type: LeaseType.Address, duid: duid(3), iaid: 1 }).status, LeaseStatus.NoBinding);
      t.is(
        text(granted(table.release({ type: LeaseType.Address, duid: duid(1), iaid: 1, address: lease.address }))),
        'fd00:1::10',
      );
      t.is(table.lookup(duid(1), 1, LeaseType.Address), undefined);
      t.is(text(granted(table.allocate(na(2), T0))), 'fd00:1::10');
    },
  );
});

test('renew extends from now; a wrong address is NoBinding, another network NotOnLink', async (t) => {
  await withTable(smallPool, async (table) => {
    const lease = granted(table.allocate(na(1), T0));
    const renewed = granted(
      table.renew(
        { type: LeaseType.Address, duid: duid(1), iaid: 1, address: lease.address, networkId: NET },
        T0 + 60_000,
      ),
    );
    t.deepEqual(renewed.address, lease.address);
    t.is(renewed.expiresAt, T0 + 60_000 + 7_200_000);
    t.is(table.lookup(duid(1), 1, LeaseType.Address)?.expiresAt, renewed.expiresAt);
    t.is(
      table.renew({ type: LeaseType.Address, duid: duid(1), iaid: 1, address: ip('fd00:1::99') }, T0).status,
      LeaseStatus.NoBinding,
    );
    t.is(table.renew({ type: LeaseType.Address, duid: duid(1), iaid: 2 }, T0).status, LeaseStatus.NoBinding);
    t.is(
      table.renew({ type: LeaseType.Address, duid: duid(1), iaid: 1, networkId: 2 }, T0).status,
      LeaseStatus.NotOnLink,
    );
  });
});

test('a declined address is quarantined: handed to nobody until the quarantine ends, even across a restart', async (t) => {
  const options: LeaseTableOptions = {
    pools: [{ networkId: NET, type: LeaseType.Address, first: 'fd00:1::10', last: 'fd00:1::11' }],
    declineQuarantineMs: 60_000,
  };
  const dir = mkdtempSync(join(tmpdir(), 'punt6-leases-'));
  try {
    const path = join(dir, 'j');
    const table = await LeaseTable.open(path, options);
    const first = granted(table.allocate(na(1), T0));
    t.is(
      granted(table.decline({ type: LeaseType.Address, duid: duid(1), iaid: 1, address: first.address }, T0 + 1000))
        .iaid,
      1,
    );
    t.is(table.lookup(duid(1), 1, LeaseType.Address), undefined);
    t.is(table.quarantined(first.address)?.until, T0 + 61_000);
    await table.close();
    const reopened = await LeaseTable.open(path, options);
    t.is(reopened.quarantined(first.address)?.until, T0 + 61_000);
    // The client that declined gets the other address; then the pool is full.
    const other = granted(reopened.allocate(na(1), T0 + 2000));
    t.notDeepEqual(other.address, first.address);
    t.is(reopened.allocate(na(2, { hint: first.address }), T0 + 60_999).status, LeaseStatus.NoAddrsAvail);
    // When the quarantine has run out the address is free, even before expire() reclaims it...
    t.deepEqual(granted(reopened.propose(na(2), T0 + 61_000)).address, first.address);
    // ...and expire() ends it for good.
    t.deepEqual(reopened.expire(T0 + 61_000), { leases: [], quarantinesEnded: 1 });
    t.is(reopened.quarantined(first.address), undefined);
    t.deepEqual(granted(reopened.allocate(na(2), T0 + 61_000)).address, first.address);
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('expired leases are reclaimed by expire(now), durably, and an expired lease may be given away before that', async (t) => {
  const options: LeaseTableOptions = {
    pools: [
      {
        networkId: NET,
        type: LeaseType.Address,
        first: 'fd00:1::10',
        last: 'fd00:1::11',
        validLifetime: 10,
        preferredLifetime: 5,
      },
    ],
  };
  const dir = mkdtempSync(join(tmpdir(), 'punt6-leases-'));
  try {
    const path = join(dir, 'j');
    const table = await LeaseTable.open(path, options);
    const a = granted(table.allocate(na(1), T0));
    const b = granted(table.allocate(na(2), T0 + 5000));
    t.is(a.expiresAt, T0 + 10_000);
    t.deepEqual(table.expire(T0 + 9_999).leases, []);
    const reclaimed = table.expire(T0 + 10_000);
    t.deepEqual(reclaimed.leases.map(text), [text(a)]);
    t.is(table.lookup(duid(1), 1, LeaseType.Address), undefined);
    await table.close();
    const reopened = await LeaseTable.open(path, options);
    t.is(reopened.lookup(duid(1), 1, LeaseType.Address), undefined, 'the reclaim was journaled');
    t.is(text(reopened.lookup(duid(2), 1, LeaseType.Address)), text(b));
    // b expired at T0+15000 but nobody called expire(): a new client still gets its address.
    // The pool has two addresses: two new clients take both, b's included, whatever the hash.
    const taken = [granted(reopened.allocate(na(3), T0 + 15_000)), granted(reopened.allocate(na(4), T0 + 15_000))];
    t.deepEqual(taken.map((l) => toHex(l.address)).sort(), [toHex(a.address), toHex(b.address)].sort());
    t.is(reopened.lookup(duid(2), 1, LeaseType.Address), undefined, 'the old holder lost it');
    t.is(
      reopened.renew({ type: LeaseType.Address, duid: duid(2), iaid: 1 }, T0 + 15_001).status,
      LeaseStatus.NoBinding,
    );
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a delegation pool hands out distinct, aligned prefixes of the delegated length', async (t) => {
  await withTable(
    { pools: [{ networkId: NET, type: LeaseType.Prefix, prefix: '2001:db8:100::/48', delegatedLength: 56 }] },
    async (table) => {
      const seen = new Set<string>();
      for (let n = 0; n < 256; n++) {
        const lease = granted(table.allocate(na(n, { type: LeaseType.Prefix }), T0));
        t.is(lease.prefixLength, 56);
        const a = lease.address;
        // Inside 2001:db8:100::/48, and nothing set after the 56th bit.
        t.deepEqual([...a.subarray(0, 6)], [0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00]);
        t.true(a.subarray(7).every((b) => b === 0));
        seen.add(toHex(a));
      }
      t.is(seen.size, 256);
      t.is(table.allocate(na(999, { type: LeaseType.Prefix }), T0).status, LeaseStatus.NoPrefixAvail);
      t.deepEqual(
        table.poolUsage().map((u) => [u.name, u.size, u.leased]),
        [['2001:db8:100::/48 delegating /56', 256n, 256]],
      );
    },
  );
});

test('the same operations at the same times give the same leases (replays are reproducible), and a reopen rebuilds them', async (t) => {
  const script = async (table: LeaseTable): Promise<string[]> => {
    for (let n = 0; n < 30; n++) table.allocate(na(n % 12, { iaid: n % 2 }), T0 + n * 1000);
    table.release({ type: LeaseType.Address, duid: duid(3), iaid: 1 });
    table.decline({ type: LeaseType.Address, duid: duid(4), iaid: 0 }, T0 + 31_000);
    table.renew({ type: LeaseType.Address, duid: duid(5), iaid: 1 }, T0 + 32_000);
    await table.commit();
    return [...table.leases()].map((l) => `${toHex(l.duid)}/${l.iaid} ${text(l)} ${l.expiresAt}`).sort();
  };
  const options: LeaseTableOptions = {
    pools: [{ networkId: NET, type: LeaseType.Address, first: 'fd00:1::', last: 'fd00:1::ff' }],
  };
  const dir = mkdtempSync(join(tmpdir(), 'punt6-leases-'));
  try {
    const one = await LeaseTable.open(join(dir, 'one'), options);
    const two = await LeaseTable.open(join(dir, 'two'), options);
    const a = await script(one);
    t.deepEqual(await script(two), a);
    t.is(a.length, 10);
    await one.close();
    await two.close();
    const again = await LeaseTable.open(join(dir, 'one'), options);
    t.deepEqual([...again.leases()].map((l) => `${toHex(l.duid)}/${l.iaid} ${text(l)} ${l.expiresAt}`).sort(), a);
    t.is(again.quarantines().next().value?.iaid, 0);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compaction through the table keeps exactly the live leases and quarantines', async (t) => {
  const options: LeaseTableOptions = {
    pools: [{ networkId: NET, type: LeaseType.Address, first: 'fd00:1::', last: 'fd00:1::ffff' }],
    compactionMinRecords: 50,
    compactionFactor: 2,
  };
  const dir = mkdtempSync(join(tmpdir(), 'punt6-leases-'));
  try {
    const path = join(dir, 'j');
    const table = await LeaseTable.open(path, options);
    for (let round = 0; round < 20; round++) {
      for (let n = 0; n < 10; n++) table.renew({ type: LeaseType.Address, duid: duid(n), iaid: 1 }, T0 + round);
      for (let n = 0; n < 10; n++)
        if (table.lookup(duid(n), 1, LeaseType.Address) === undefined) table.allocate(na(n), T0 + round);
      await table.commit();
    }
    table.decline({ type: LeaseType.Address, duid: duid(9), iaid: 1 }, T0 + 100);
    await table.journal.compact();
    const stats = table.journalStats();
    t.true(stats.compactions >= 2);
    t.is(stats.recordsInFile, 10);
    const live = [...table.leases()].map(text).sort();
    await table.close();
    // Another compaction snapshot left behind by a crash is ignored and removed.
    writeFileSync(path + COMPACT_SUFFIX, 'half a snapshot');
    const warnings: string[] = [];
    const again = await LeaseTable.open(path, { ...options, onWarning: (m) => warnings.push(m) });
    t.deepEqual([...again.leases()].map(text).sort(), live);
    t.is(again.counts().quarantined, 1);
    t.true(again.recovery.removedSnapshot);
    t.is(warnings.length, 1);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('configurations that cannot work are refused', async (t) => {
  const open = (options: LeaseTableOptions): Promise<LeaseTable> =>
    LeaseTable.open(join(tmpdir(), 'punt6-never-created'), options);
  await t.throwsAsync(
    open({
      pools: [smallPool.pools[0]!, { networkId: 2, type: LeaseType.Address, first: 'fd00:1::13', last: 'fd00:1::20' }],
    }),
    { message: /overlap/ },
  );
  await t.throwsAsync(
    open({ pools: [{ networkId: NET, type: LeaseType.Prefix, prefix: 'fd00::1/64', delegatedLength: 64 }] }),
    { message: /host bits/ },
  );
  await t.throwsAsync(
    open({ pools: [{ networkId: NET, type: LeaseType.Prefix, prefix: 'fd00::/64', delegatedLength: 60 }] }),
    { message: /delegated length/ },
  );
  await t.throwsAsync(
    open({ pools: [], staticBindings: [{ type: LeaseType.Address, networkId: NET, address: 'fd00::1' }] }),
    { message: /MAC or a DUID/ },
  );
  await t.throwsAsync(
    open({
      pools: [],
      staticBindings: [
        { mac: mac(1), type: LeaseType.Address, networkId: NET, address: 'fd00::1' },
        { mac: mac(2), type: LeaseType.Address, networkId: NET, address: 'fd00::1' },
      ],
    }),
    { message: /bound twice/ },
  );
  await t.throwsAsync(
    open({
      pools: [],
      staticBindings: [{ mac: mac(1), type: LeaseType.Address, networkId: NET, address: 'not an address' }],
    }),
    { message: /not an IPv6 address/ },
  );
  await t.throwsAsync(
    open({
      pools: [{ networkId: NET, type: LeaseType.Prefix, prefix: 'fd00:100::/48', delegatedLength: 56 }],
      staticBindings: [
        { duid: duid(1), type: LeaseType.Prefix, networkId: NET, address: 'fd00:100::', prefixLength: 52 },
      ],
    }),
    { message: /another length/ },
  );
});

// ------------------------------------------------------------------------- the crash test

const childPath = fileURLToPath(new URL('../test-support/lease-crash-child.ts', import.meta.url));

interface Acknowledged {
  granted: Map<string, string>;
  /** Releases the child started: the lease may be gone even when the release was not acknowledged. */
  releasing: Set<string>;
  released: Set<string>;
}

/** Runs the child until it has acknowledged something, lets it run `delayMs` more, then SIGKILLs it. */
function runAndKill(
  path: string,
  run: number,
  delayMs: number,
  acked: Acknowledged,
): Promise<{ lines: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', childPath, path, String(run)], {
      cwd: repositoryRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    let lines = 0;
    let timer: NodeJS.Timeout | null = null;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.stdout.on('data', (d: string) => {
      out += d;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const [kind, duidHex, iaid, address] = out.slice(0, nl).split(' ');
        out = out.slice(nl + 1);
        const key = `${duidHex}/${iaid}`;
        if (kind === 'G') acked.granted.set(key, address ?? '');
        else if (kind === 'R') acked.released.add(key);
        else if (kind === 'r') acked.releasing.add(key);
        else reject(new Error(`unexpected line from the child: ${kind}`));
        lines++;
      }
      if (timer === null && lines > 0) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer !== null) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`the child ended by itself (code ${code}): ${stderr}`));
      else resolve({ lines, stderr });
    });
  });
}

test('SIGKILL at any point loses no acknowledged lease and never gives an address to two clients', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'punt6-crash-'));
  try {
    const path = join(dir, 'leases.journal');
    const acked: Acknowledged = { granted: new Map(), releasing: new Set(), released: new Set() };
    // The same journal through several crashes, each killed at another moment.
    const delays = [0, 30, 120, 300, 700];
    for (let run = 0; run < delays.length; run++) {
      const { lines, stderr } = await runAndKill(path, run, delays[run] as number, acked);
      t.true(lines > 0);
      t.log(
        `run ${run}: killed ${delays[run]} ms after the first acknowledgement, ${lines} acknowledged${stderr === '' ? '' : `; child said: ${stderr.trim()}`}`,
      );

      // Every acknowledged lease is back; every acknowledged release stays released.
      const table = await LeaseTable.open(path, { ...crashTableOptions, onWarning: (m) => t.log(m) });
      let present = 0;
      for (const [key, address] of acked.granted) {
        const [duidHex, iaid] = key.split('/');
        const lease = table.lookup(Uint8Array.from(Buffer.from(duidHex ?? '', 'hex')), Number(iaid), LeaseType.Address);
        if (acked.released.has(key)) {
          t.is(lease, undefined, `released ${key}`);
        } else if (acked.releasing.has(key)) {
          if (lease !== undefined) t.is(toHex(lease.address), address, `lease of ${key}, being released`);
        } else {
          present++;
          t.is(lease === undefined ? 'missing' : toHex(lease.address), address, `lease of ${key}`);
        }
      }
      // No two acknowledged clients hold the same address.
      const live = [...acked.granted].filter(([key]) => !acked.releasing.has(key)).map(([, address]) => address);
      t.is(new Set(live).size, live.length);
      t.true(table.counts().addresses >= present);
      await table.close();

      // Independently of the table: replaying the raw records, no Grant ever names an address
      // another client holds.
      const holder = new Map<string, string>();
      let conflicts = 0;
      const journal = await Journal.open(path, {
        onWarning: () => undefined,
        replay: (r) => {
          const address = toHex(r.address);
          const client = `${toHex(r.duid)}/${r.iaid}`;
          if (r.kind === RecordKind.Grant || r.kind === RecordKind.Renew) {
            const other = holder.get(address);
            if (other !== undefined && other !== client) conflicts++;
            for (const [a, c] of holder) if (c === client && a !== address) holder.delete(a);
            holder.set(address, client);
          } else if (holder.get(address) === client) {
            holder.delete(address);
          }
        },
      });
      await journal.close();
      t.is(conflicts, 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pool candidates: first + index * 2^stepBits, as 128-bit arithmetic gives it', (t) => {
  const toBig = (b: Uint8Array): bigint => BigInt(`0x${toHex(b)}`);
  const out = new Uint8Array(16);
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: 127 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (first, stepBits, f) => {
        // An index that keeps first + index * step below 2^128, as a pool's positions are.
        const room = ((1n << 128n) - 1n - toBig(first)) >> BigInt(stepBits);
        const limit = room < 2n ** 53n ? Number(room) : 2 ** 53 - 1;
        const index = Math.floor(f * limit);
        poolCandidate(first, index, stepBits, out);
        return toBig(out) === toBig(first) + (BigInt(index) << BigInt(stepBits));
      },
    ),
    { numRuns: 5000 },
  );
  // A carry through every byte: ::ffff:...:ffff + 1.
  poolCandidate(Uint8Array.of(0, ...new Array<number>(15).fill(0xff)), 1, 0, out);
  t.deepEqual([...out], [1, ...new Array<number>(15).fill(0)]);
});

test('a grant journals the client it was made for, even when the request buffer is reused before the commit', async (t) => {
  await withTable(smallPool, async (table, path) => {
    // One receive buffer, as a live capture has: each request's DUID is a view of it.
    const rx = new Uint8Array(16);
    const given = new Map<string, string>();
    for (let n = 1; n <= 3; n++) {
      rx.set(duid(n), 0);
      const lease = granted(
        table.allocate({ networkId: NET, type: LeaseType.Address, duid: rx.subarray(0, 10), iaid: n }, T0),
      );
      given.set(`${toHex(duid(n))}/${n}`, text(lease));
    }
    rx.fill(0xee);
    await table.commit();
    const seen = new Map<string, string>();
    const journal = await Journal.open(path, {
      onWarning: () => undefined,
      replay: (r) => seen.set(`${toHex(r.duid)}/${r.iaid}`, formatIpv6(r.address)),
    });
    await journal.close();
    t.deepEqual(seen, given);
  });
});

test('limits: a new binding over the per-client, per-port or table limit is refused; held ones are re-granted; counts survive a reopen', async (t) => {
  const limits = { addressesPerClient: 2, addressesPerPort: 3, maxLeases: 5, prefixesPerClient: 1, prefixesPerPort: 1 };
  const options: LeaseTableOptions = {
    pools: [
      { networkId: NET, type: LeaseType.Address, first: 'fd00:1::100', last: 'fd00:1::1ff' },
      { networkId: NET, type: LeaseType.Prefix, prefix: 'fd00:100::/48', delegatedLength: 56 },
    ],
    limits,
  };
  await withTable(options, async (table) => {
    const port = mac(1);
    // Client 1 on port 1: two addresses, the third IA refused.
    granted(table.allocate(na(1, { iaid: 1, portMac: port }), T0));
    granted(table.allocate(na(1, { iaid: 2, portMac: port }), T0));
    t.is(table.allocate(na(1, { iaid: 3, portMac: port }), T0).status, LeaseStatus.NoAddrsAvail);
    t.is(
      table.propose(na(1, { iaid: 3, portMac: port }), T0).status,
      LeaseStatus.NoAddrsAvail,
      'an Advertise offers what a Request would get',
    );
    // An IA that holds its binding is renewed and re-granted whatever the counts.
    granted(table.allocate(na(1, { iaid: 2, portMac: port }), T0 + 1000));
    t.is(granted(table.renew({ type: LeaseType.Address, duid: duid(1), iaid: 1 }, T0 + 2000)).iaid, 1);
    // Another client on the same port: one more address, then the port is full.
    granted(table.allocate(na(2, { iaid: 1, portMac: port }), T0));
    t.is(table.allocate(na(2, { iaid: 2, portMac: port }), T0).status, LeaseStatus.NoAddrsAvail);
    t.deepEqual(table.refusals, { client: 2, port: 1, table: 0 });
    // Prefixes count apart from addresses.
    const pd = (n: number, iaid: number) =>
      ({ networkId: NET, type: LeaseType.Prefix, duid: duid(n), iaid, portMac: port }) as const;
    granted(table.allocate(pd(1, 1), T0));
    t.is(table.allocate(pd(1, 2), T0).status, LeaseStatus.NoPrefixAvail);
    // Releasing frees the count.
    granted(table.release({ type: LeaseType.Address, duid: duid(2), iaid: 1 }));
    granted(table.allocate(na(3, { iaid: 1, portMac: port }), T0));
    // The whole table: 5 leases (4 addresses and 1 prefix), then nothing new for anyone.
    granted(table.allocate(na(4, { iaid: 1, portMac: mac(2) }), T0));
    t.is(table.counts().addresses + table.counts().prefixes, 5);
    t.is(table.allocate(na(5, { iaid: 1, portMac: mac(3) }), T0).status, LeaseStatus.NoAddrsAvail);
    t.is(table.refusals.table, 1);
  });
  // The port MACs are journaled: after a reopen the counts, and so the limits, are the same.
  const dir = mkdtempSync(join(tmpdir(), 'punt6-limits-'));
  try {
    const path = join(dir, 'leases.journal');
    const first = await LeaseTable.open(path, options);
    for (let i = 1; i <= 3; i++) granted(first.allocate(na(10 + i, { iaid: 1, portMac: mac(9) }), T0));
    await first.close();
    const second = await LeaseTable.open(path, options);
    t.is(
      second.allocate(na(20, { iaid: 1, portMac: mac(9) }), T0).status,
      LeaseStatus.NoAddrsAvail,
      'the port still holds three',
    );
    t.is(second.lookup(duid(11), 1, LeaseType.Address)?.portMac?.[5], 9);
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('property: grants, renews, releases, reloads and crashes in any order, the receive buffer overwritten after every step, lose no acknowledged lease and never give an address twice', async (t) => {
  const pool: LeaseTableOptions = {
    pools: [{ networkId: NET, type: LeaseType.Address, first: 'fd00:7::1', last: 'fd00:7::20' }],
    validLifetime: 4_000_000_000,
  };
  type Step = { op: 'grant' | 'renew' | 'release'; client: number } | { op: 'commit' | 'reload' | 'crash' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      op: fc.constantFrom('grant' as const, 'renew' as const, 'release' as const),
      client: fc.integer({ min: 0, max: 39 }),
    }),
    fc.record({ op: fc.constantFrom('commit' as const, 'reload' as const, 'crash' as const) }),
  );
  const dir = mkdtempSync(join(tmpdir(), 'punt6-leases-prop-'));
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 255 }),
        async (steps, junk) => {
          run++;
          let path = join(dir, `j${run}`);
          let table = await LeaseTable.open(path, pool);
          // One receive buffer: every request's DUID is a view of it, as in a live capture.
          const rx = new Uint8Array(32);
          const view = (n: number): Uint8Array => {
            rx.set(duid(n), 4);
            return rx.subarray(4, 14);
          };
          /** What a client was told: its address, or null once its release was acknowledged. */
          const acked = new Map<number, string | null>();
          /** Changes made and not yet acknowledged, applied to `acked` when their commit resolves. */
          let pending: [number, string | null][] = [];
          const check = (where: string): void => {
            const holders = new Map<string, string>();
            for (const l of table.leases()) {
              const a = formatIpv6(l.address);
              t.false(holders.has(a), `${where}: ${a} held twice`);
              holders.set(a, toHex(l.duid));
            }
            for (const [n, address] of acked) {
              const lease = table.lookup(duid(n), 1, LeaseType.Address);
              if (address === null) continue;
              t.is(lease === undefined ? 'none' : formatIpv6(lease.address), address, `${where}: client ${n}`);
            }
          };
          try {
            for (const s of steps) {
              if (s.op === 'grant') {
                const r = table.allocate(
                  { networkId: NET, type: LeaseType.Address, duid: view(s.client), iaid: 1 },
                  T0,
                );
                if (r.status === LeaseStatus.Success) pending.push([s.client, formatIpv6(r.lease.address)]);
              } else if (s.op === 'renew') {
                const r = table.renew({ type: LeaseType.Address, duid: view(s.client), iaid: 1 }, T0 + 1000);
                if (r.status === LeaseStatus.Success) pending.push([s.client, formatIpv6(r.lease.address)]);
              } else if (s.op === 'release') {
                if (
                  table.release({ type: LeaseType.Address, duid: view(s.client), iaid: 1 }).status ===
                  LeaseStatus.Success
                )
                  pending.push([s.client, null]);
              } else if (s.op === 'commit') {
                await table.commit();
                for (const [n, a] of pending) acked.set(n, a);
                pending = [];
              } else if (s.op === 'reload') {
                // A clean close commits what is pending.
                await table.close();
                for (const [n, a] of pending) acked.set(n, a);
                pending = [];
                table = await LeaseTable.open(path, pool);
                check('after a reload');
              } else {
                // A crash: the file as it is now is all a new process finds; nothing pending was acknowledged.
                const next = join(dir, `j${run}-${Math.random().toString(36).slice(2)}`);
                writeFileSync(next, readFileSync(path));
                await table.close();
                path = next;
                pending = [];
                table = await LeaseTable.open(path, { ...pool, onWarning: () => undefined });
                // What was pending may or may not be on disk: unacknowledged clients are not checked.
                check('after a crash');
              }
              rx.fill(junk);
            }
            await table.commit();
            for (const [n, a] of pending) acked.set(n, a);
            check('at the end');
          } finally {
            await table.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reconfigure: new pools and reservations are checked aside, then swapped in; leases and quarantines stay', async (t) => {
  await withTable(smallPool, async (table) => {
    const kept = granted(table.allocate(na(1, { hint: ip('fd00:1::10') }), T0));
    granted(table.allocate(na(2, { hint: ip('fd00:1::11') }), T0));
    t.is(table.decline(na(2), T0).status, LeaseStatus.Success);
    // Refused: overlapping pools. Nothing changes, the old pool still serves.
    t.throws(
      () =>
        table.reconfigure({
          pools: [
            { networkId: NET, type: LeaseType.Address, first: 'fd00:2::1', last: 'fd00:2::9' },
            { networkId: NET, type: LeaseType.Address, first: 'fd00:2::9', last: 'fd00:2::f' },
          ],
        }),
      { message: /overlap/ },
    );
    t.throws(
      () =>
        table.reconfigure({
          pools: [],
          staticBindings: [{ type: LeaseType.Address, networkId: NET, address: 'fd00::1' }],
        }),
      { message: /MAC or a DUID/ },
    );
    t.deepEqual(
      table.poolUsage().map((u) => u.name),
      ['fd00:1::10-fd00:1::13'],
    );
    t.regex(text(granted(table.propose(na(3), T0))), /^fd00:1::1[0-3]$/);

    table.reconfigure({
      pools: [
        {
          networkId: NET,
          type: LeaseType.Address,
          first: 'fd00:2::10',
          last: 'fd00:2::1f',
          validLifetime: 600,
          preferredLifetime: 300,
        },
      ],
      staticBindings: [{ mac: mac(9), type: LeaseType.Address, networkId: NET, address: 'fd00:2::99' }],
    });
    t.deepEqual(
      table.poolUsage().map((u) => u.name),
      ['fd00:2::10-fd00:2::1f'],
    );
    t.deepEqual(table.counts(), { addresses: 1, prefixes: 0, quarantined: 1, staticBindings: 1 });
    // The lease from the old pool is kept, and renewed with its own lifetimes.
    t.deepEqual(table.lookup(duid(1), 1, LeaseType.Address), kept);
    t.is(granted(table.renew(na(1), T0 + 1000)).validLifetime, 7200);
    // New clients get the new pool and the new reservation.
    const fresh = granted(table.allocate(na(4), T0));
    t.regex(text(fresh), /^fd00:2::1[0-9a-f]$/);
    t.is(fresh.validLifetime, 600);
    t.is(text(granted(table.allocate(na(5, { sourceMac: mac(9) }), T0))), 'fd00:2::99');
    // The old pool's lease moves into a new pool when its client requests again.
    const moved = table.allocate(na(1), T0 + 2000);
    t.regex(text(granted(moved)), /^fd00:2::1[0-9a-f]$/);
    t.is(text(moved.replaced), 'fd00:1::10');
  });
});

test('a plan built beforehand, in slices, swaps in as reconfigure does; a refused one is refused while built', async (t) => {
  await withTable(smallPool, async (table) => {
    const kept = granted(table.allocate(na(1, { hint: ip('fd00:1::10') }), T0));
    const staticBindings = Array.from({ length: 2000 }, (_, i) => ({
      mac: Uint8Array.from([2, 0, 0, 1, i >> 8, i & 0xff]),
      type: LeaseType.Address,
      networkId: NET,
      address: `fd00:3::${(i + 1).toString(16)}`,
    }));
    const pools = [{ networkId: NET, type: LeaseType.Address, first: 'fd00:2::10', last: 'fd00:2::1f' }];
    const plan = await runInSlices(leaseTablePlan({ pools, staticBindings }), { sliceMs: 0 });
    // Built aside: the table is unchanged until the plan is used.
    t.deepEqual(
      table.poolUsage().map((u) => u.name),
      ['fd00:1::10-fd00:1::13'],
    );
    table.usePlan(plan);
    t.deepEqual(
      table.poolUsage().map((u) => u.name),
      ['fd00:2::10-fd00:2::1f'],
    );
    t.is(table.counts().staticBindings, 2000);
    t.deepEqual(table.lookup(duid(1), 1, LeaseType.Address), kept);
    const bad = [...staticBindings, { ...staticBindings[5]!, mac: mac(7) }];
    await t.throwsAsync(runInSlices(leaseTablePlan({ pools, staticBindings: bad }), { sliceMs: 0 }), {
      message: /static binding 2000 \(MAC 02000000a007\): fd00:3::6 is bound twice/,
    });
  });
});
