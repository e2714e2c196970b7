import test from 'ava';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  COMPACT_SUFFIX,
  Journal,
  JournalCorruptError,
  JournalStorageError,
  LeaseType,
  RECORD_LENGTH,
  RecordField,
  RecordKind,
  checkRecord,
  decodeRecord,
  encodeRecord,
  nodeJournalFs,
  recordLayout,
  scanJournal,
  startsLikeJournal,
  type JournalFileHandle,
  type JournalFs,
  type JournalRecord,
  type LeaseRecord,
  type LiveSource,
} from './journal.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'punt6-journal-'));
}

function record(i: number, over: Partial<LeaseRecord> = {}): LeaseRecord {
  const address = new Uint8Array(16);
  address.set([0xfd, 0x00, 0, 1], 0);
  address[14] = (i >> 8) & 0xff;
  address[15] = i & 0xff;
  return {
    kind: RecordKind.Grant,
    leaseType: LeaseType.Address,
    prefixLength: 128,
    address,
    iaid: i,
    duid: Uint8Array.from([0, 3, 0, 1, 2, 0, 0, 0, (i >> 8) & 0xff, i & 0xff]),
    validLifetime: 7200,
    preferredLifetime: 3600,
    expiresAt: 1_700_000_000_000 + i,
    networkId: 7,
    ...over,
  };
}

function leaseFields(r: LeaseRecord): LeaseRecord {
  const { kind, leaseType, prefixLength, address, iaid, duid, validLifetime, preferredLifetime, expiresAt, networkId } =
    r;
  return {
    kind,
    leaseType,
    prefixLength,
    address: Uint8Array.from(address),
    iaid,
    duid: Uint8Array.from(duid),
    validLifetime,
    preferredLifetime,
    expiresAt,
    networkId,
  };
}

/** The real file system, with fsyncs counted and faults that a test can arm. */
class CountingFs implements JournalFs {
  fileSyncs = 0;
  dirSyncs = 0;
  renames = 0;
  /** When set, every file sync waits for this before it completes. */
  gate: Promise<void> | null = null;
  failWrite = false;
  failRename = false;
  failSyncDirectoryAfterRename = false;
  /** Set by an injected crash: later operations fail. */
  crashed = false;
  /** A file sync is waiting at the gate. */
  atGate = false;

  readFile(path: string): Promise<Buffer | null> {
    return nodeJournalFs.readFile(path);
  }

  async open(path: string, flags: 'r+' | 'wx+' | 'w'): Promise<JournalFileHandle> {
    const fh = await nodeJournalFs.open(path, flags);
    return {
      write: (buffer, offset, length, position) => {
        if (this.failWrite)
          return Promise.reject(Object.assign(new Error('EIO: injected write error'), { code: 'EIO' }));
        return fh.write(buffer, offset, length, position);
      },
      sync: async () => {
        if (this.gate !== null) {
          this.atGate = true;
          await this.gate;
        }
        await fh.sync();
        this.fileSyncs++;
      },
      truncate: (length) => fh.truncate(length),
      close: () => fh.close(),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    if (this.failRename) {
      this.crashed = true;
      throw new Error('injected crash before rename');
    }
    await nodeJournalFs.rename(from, to);
    this.renames++;
  }

  unlink(path: string): Promise<boolean> {
    // An injected crash stops the process: nothing cleans up after it.
    if (this.crashed) return Promise.reject(new Error('injected crash: no more operations'));
    return nodeJournalFs.unlink(path);
  }

  async syncDirectory(path: string): Promise<void> {
    if (this.failSyncDirectoryAfterRename && this.renames > 0) throw new Error('injected crash after rename');
    await nodeJournalFs.syncDirectory(path);
    this.dirSyncs++;
  }
}

async function replayAll(
  path: string,
  fs: JournalFs = nodeJournalFs,
  warnings: string[] = [],
): Promise<{ journal: Journal; records: JournalRecord[] }> {
  const records: JournalRecord[] = [];
  const journal = await Journal.open(path, { fs, replay: (r) => records.push(r), onWarning: (m) => warnings.push(m) });
  return { journal, records };
}

async function writeJournal(path: string, batches: LeaseRecord[][]): Promise<void> {
  const j = await Journal.open(path, { onWarning: () => undefined });
  for (const batch of batches) {
    for (const r of batch) j.append(r);
    await j.commit();
  }
  await j.close();
}

test('the record layout agrees with the field table and the diagram', (t) => {
  t.is(recordLayout.span, RECORD_LENGTH);
  const names: [string, number][] = [
    ['magic', RecordField.Magic],
    ['version', RecordField.Version],
    ['kind', RecordField.Kind],
    ['leaseType', RecordField.LeaseType],
    ['prefixLength', RecordField.PrefixLength],
    ['crc', RecordField.Crc],
    ['sequence', RecordField.Sequence],
    ['batchIndex', RecordField.BatchIndex],
    ['batchCount', RecordField.BatchCount],
    ['address', RecordField.Address],
    ['iaid', RecordField.Iaid],
    ['validLifetime', RecordField.ValidLifetime],
    ['preferredLifetime', RecordField.PreferredLifetime],
    ['expiresAt', RecordField.ExpiresAt],
    ['networkId', RecordField.NetworkId],
    ['duidLength', RecordField.DuidLength],
    ['duid', RecordField.Duid],
  ];
  for (const [name, offset] of names) t.is(recordLayout.offsetOf(name), offset, name);
});

test('a record is written as the diagram says, big-endian, with its CRC', (t) => {
  const buf = Buffer.alloc(RECORD_LENGTH);
  const r = record(0x0102, { expiresAt: 0x0102_0304_0506, networkId: 0xa0b0c0d0, kind: RecordKind.Renew });
  t.is(encodeRecord(r, 0x1_0000_0002, 3, 5, buf, 0), RECORD_LENGTH);
  t.is(buf.readUInt32BE(0), 0x50364c4a);
  t.is(buf.toString('latin1', 0, 4), 'P6LJ');
  t.deepEqual([...buf.subarray(4, 8)], [1, RecordKind.Renew, LeaseType.Address, 128]);
  t.deepEqual([...buf.subarray(12, 20)], [0, 0, 0, 1, 0, 0, 0, 2]);
  t.is(buf.readUInt32BE(20), 3);
  t.is(buf.readUInt32BE(24), 5);
  t.deepEqual([...buf.subarray(28, 44)], [...r.address]);
  t.is(buf.readUInt32BE(44), 0x0102);
  t.is(buf.readUInt32BE(48), 7200);
  t.is(buf.readUInt32BE(52), 3600);
  t.deepEqual([...buf.subarray(56, 64)], [0, 0, 1, 2, 3, 4, 5, 6]);
  t.is(buf.readUInt32BE(64), 0xa0b0c0d0);
  t.is(buf[68], 10);
  t.deepEqual([...buf.subarray(69, 72)], [0, 0, 0]);
  t.deepEqual([...buf.subarray(72, 82)], [...r.duid]);
  t.true(buf.subarray(82, 208).every((b) => b === 0));
  t.is(checkRecord(buf, 0), null);
});

test('records round-trip through encode and decode, at an offset inside a larger buffer', (t) => {
  const arbRecord = fc.record({
    kind: fc.constantFrom(
      RecordKind.Grant,
      RecordKind.Renew,
      RecordKind.Release,
      RecordKind.Decline,
      RecordKind.Expire,
    ),
    prefix: fc.option(fc.integer({ min: 1, max: 128 }), { nil: undefined }),
    address: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    iaid: fc.integer({ min: 0, max: 0xffffffff }),
    duid: fc.uint8Array({ minLength: 1, maxLength: 130 }),
    validLifetime: fc.integer({ min: 0, max: 0xffffffff }),
    preferredLifetime: fc.integer({ min: 0, max: 0xffffffff }),
    expiresAt: fc.maxSafeNat(),
    networkId: fc.integer({ min: 0, max: 0xffffffff }),
    sequence: fc.maxSafeNat(),
    batch: fc.integer({ min: 1, max: 1000 }),
    offset: fc.integer({ min: 0, max: 40 }),
  });
  fc.assert(
    fc.property(arbRecord, (a) => {
      const r: LeaseRecord = {
        kind: a.kind,
        leaseType: a.prefix === undefined ? LeaseType.Address : LeaseType.Prefix,
        prefixLength: a.prefix ?? 128,
        address: a.address,
        iaid: a.iaid,
        duid: a.duid,
        validLifetime: a.validLifetime,
        preferredLifetime: a.preferredLifetime,
        expiresAt: a.expiresAt,
        networkId: a.networkId,
      };
      const buf = Buffer.alloc(a.offset + RECORD_LENGTH + 10, 0xee);
      const n = encodeRecord(r, a.sequence, a.batch - 1, a.batch, buf, a.offset);
      t.is(n, RECORD_LENGTH);
      t.is(buf[a.offset - 1] ?? 0xee, 0xee);
      t.is(buf[a.offset + RECORD_LENGTH], 0xee);
      t.is(checkRecord(buf, a.offset), null);
      const back = decodeRecord(buf, a.offset);
      t.deepEqual(leaseFields(back), leaseFields(r));
      t.is(back.sequence, a.sequence);
      t.is(back.batchIndex, a.batch - 1);
      t.is(back.batchCount, a.batch);
    }),
    { numRuns: 300 },
  );
});

test('any single flipped byte makes a record fail its check', (t) => {
  const buf = Buffer.alloc(RECORD_LENGTH);
  encodeRecord(record(9), 42, 0, 1, buf, 0);
  for (let i = 0; i < RECORD_LENGTH; i++) {
    const copy = Buffer.from(buf);
    copy[i] = (copy[i] as number) ^ 0x5a;
    t.not(checkRecord(copy, 0), null, `byte ${i}`);
  }
  t.is(checkRecord(buf.subarray(0, RECORD_LENGTH - 1), 0), 'record is cut short');
});

test('records that cannot be stored are refused before they reach the file', (t) => {
  const buf = Buffer.alloc(RECORD_LENGTH);
  const bad: [Partial<LeaseRecord>, RegExp][] = [
    [{ duid: new Uint8Array(0) }, /DUID length/],
    [{ duid: new Uint8Array(131) }, /DUID length/],
    [{ address: new Uint8Array(15) }, /16 bytes/],
    [{ prefixLength: 64 }, /prefix length/],
    [{ leaseType: LeaseType.Prefix, prefixLength: 0 }, /prefix length/],
    [{ iaid: -1 }, /32-bit/],
    [{ validLifetime: 2 ** 32 }, /32-bit/],
    [{ expiresAt: -5 }, /expiry/],
    [{ kind: 9 as RecordKind }, /record kind/],
  ];
  for (const [over, message] of bad)
    t.throws(() => encodeRecord(record(1, over), 1, 0, 1, buf, 0), { message }, JSON.stringify(Object.keys(over)));
});

test('a new journal is created empty, and what was committed is replayed on reopen', async (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'leases.journal');
    const fs = new CountingFs();
    const { journal, records } = await replayAll(path, fs);
    t.true(journal.recovery.created);
    t.is(records.length, 0);
    const written = [
      record(1),
      record(2, { kind: RecordKind.Release }),
      record(3, { leaseType: LeaseType.Prefix, prefixLength: 56 }),
    ];
    for (const r of written) journal.append(r);
    await journal.commit();
    t.is(statSync(path).size, 3 * RECORD_LENGTH);
    await journal.close();
    const again = await replayAll(path);
    t.false(again.journal.recovery.created);
    t.deepEqual(again.records.map(leaseFields), written.map(leaseFields));
    t.deepEqual(
      again.records.map((r) => r.sequence),
      [1, 2, 3],
    );
    // Sequence numbers go on from where the file ended.
    t.is(again.journal.append(record(4)), 4);
    await again.journal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('group commit: many commits made in the same turn share one write and one fsync', async (t) => {
  const dir = tempDir();
  try {
    const fs = new CountingFs();
    const journal = await Journal.open(join(dir, 'j'), { fs });
    const before = fs.fileSyncs;
    const commits: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      journal.append(record(i));
      commits.push(journal.commit());
    }
    await Promise.all(commits);
    t.is(fs.fileSyncs - before, 1);
    t.is(journal.stats().fsyncs, 1);
    t.is(journal.stats().commits, 1);
    t.is(journal.stats().recordsInFile, 100);
    // Every record of the batch says where its batch starts and ends.
    const data = readFileSync(join(dir, 'j'));
    t.deepEqual(
      [0, 50, 99].map((i) => decodeRecord(data, i * RECORD_LENGTH)).map((r) => [r.batchIndex, r.batchCount]),
      [
        [0, 100],
        [50, 100],
        [99, 100],
      ],
    );
    await journal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('commit resolves only after the fsync, and commits made during a flight form the next batch', async (t) => {
  const dir = tempDir();
  try {
    const fs = new CountingFs();
    const journal = await Journal.open(join(dir, 'j'), { fs });
    const before = fs.fileSyncs;
    let release!: () => void;
    fs.gate = new Promise((resolve) => (release = resolve));
    const done: number[] = [];
    journal.append(record(1));
    const first = journal.commit().then(() => done.push(1));
    // Let the first batch reach its fsync, which is held at the gate.
    while (!fs.atGate) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const rest: Promise<number>[] = [];
    for (let i = 2; i <= 30; i++) {
      journal.append(record(i));
      rest.push(journal.commit().then(() => done.push(i)));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.deepEqual(done, [], 'nothing is acknowledged before its fsync');
    t.is(fs.fileSyncs - before, 0);
    release();
    fs.gate = null;
    await Promise.all([first, ...rest]);
    t.is(done[0], 1);
    t.is(fs.fileSyncs - before, 2);
    t.is(journal.stats().commits, 2);
    // With nothing pending, commit() resolves at once.
    await journal.commit();
    t.is(fs.fileSyncs - before, 2);
    await journal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a write error withholds the commits, keeps the records, and a retry makes them durable', async (t) => {
  const dir = tempDir();
  try {
    const fs = new CountingFs();
    const changes: (string | null)[] = [];
    const path = join(dir, 'j');
    const journal = await Journal.open(path, {
      fs,
      retryMs: 60_000,
      onStorageChange: (e) => changes.push(e === null ? null : e.message),
    });
    journal.append(record(1));
    await journal.commit();
    fs.failWrite = true;
    journal.append(record(2));
    await t.throwsAsync(journal.commit(), { instanceOf: JournalStorageError, message: /injected write error/ });
    t.truthy(journal.failed);
    t.false(journal.writable);
    // Appending never throws for storage; commits made while failing reject at once.
    t.notThrows(() => journal.append(record(3)));
    await t.throwsAsync(journal.commit(), { instanceOf: JournalStorageError });
    t.is(journal.stats().pendingRecords, 2);
    t.true(journal.stats().failing);
    // Still failing: the retry fails again, and the transition was told once.
    t.false(await journal.retryNow());
    t.is(changes.length, 1);
    fs.failWrite = false;
    t.true(await journal.retryNow());
    t.true(journal.writable);
    t.is(changes.length, 2);
    t.is(changes[1], null);
    journal.append(record(4));
    await journal.commit();
    await journal.close();
    const { journal: again, records } = await replayAll(path);
    await again.close();
    t.deepEqual(
      records.map((r) => r.iaid),
      [1, 2, 3, 4],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a retry cuts off what a failed write left behind before writing the records again', async (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'j');
    let partial = false;
    const fs: JournalFs = {
      ...nodeJournalFs,
      async open(p, flags) {
        const fh = await nodeJournalFs.open(p, flags);
        return {
          ...fh,
          write: async (buffer, offset, length, position) => {
            if (!partial) return fh.write(buffer, offset, length, position);
            // Half a record reaches the file, then the disk is full.
            await fh.write(buffer, offset, Math.min(length, RECORD_LENGTH / 2), position);
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          },
        };
      },
    };
    const journal = await Journal.open(path, { fs, retryMs: 60_000 });
    journal.append(record(1));
    await journal.commit();
    partial = true;
    journal.append(record(2));
    await t.throwsAsync(journal.commit(), { message: /ENOSPC/ });
    t.is(statSync(path).size, RECORD_LENGTH + RECORD_LENGTH / 2);
    partial = false;
    t.true(await journal.retryNow());
    await journal.close();
    t.is(statSync(path).size, 2 * RECORD_LENGTH);
    const { journal: again, records } = await replayAll(path);
    await again.close();
    t.deepEqual(
      records.map((r) => r.iaid),
      [1, 2],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a compaction that fails removes its snapshot and keeps the queued records for the journal', async (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'j');
    await writeJournal(path, [[record(1), record(2)], [record(1, { kind: RecordKind.Release })]]);
    const live = new FakeLive();
    live.live.set(2, record(2));
    let failSnapshot = true;
    const fs: JournalFs = {
      ...nodeJournalFs,
      async open(p, flags) {
        if (failSnapshot && p.endsWith(COMPACT_SUFFIX)) {
          const fh = await nodeJournalFs.open(p, flags);
          return {
            ...fh,
            write: () =>
              Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })),
          };
        }
        return nodeJournalFs.open(p, flags);
      },
    };
    const journal = await Journal.open(path, { fs, live, retryMs: 60_000 });
    journal.append(record(3));
    live.live.set(3, record(3));
    const compacted = journal.compact();
    await t.throwsAsync(compacted, { message: /ENOSPC/ });
    t.false(existsSync(path + COMPACT_SUFFIX));
    failSnapshot = false;
    t.true(await journal.retryNow());
    await journal.close();
    const { journal: again, records } = await replayAll(path);
    await again.close();
    t.deepEqual(
      records.map((r) => [r.kind, r.iaid]),
      [
        [RecordKind.Grant, 1],
        [RecordKind.Grant, 2],
        [RecordKind.Release, 1],
        [RecordKind.Grant, 3],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recovery: a last record cut short is discarded with a warning, the rest is kept', async (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'j');
    await writeJournal(path, [[record(1), record(2)], [record(3)]]);
    const full = readFileSync(path);
    writeFileSync(path, full.subarray(0, full.length - 100));
    const warnings: string[] = [];
    const { journal, records } = await replayAll(path, nodeJournalFs, warnings);
    t.deepEqual(
      records.map((r) => r.iaid),
      [1, 2],
    );
    t.is(journal.recovery.truncatedBytes, RECORD_LENGTH - 100);
    t.is(journal.recovery.tornOffset, 2 * RECORD_LENGTH);
    t.is(warnings.length, 1);
    t.regex(warnings[0] ?? '', /torn tail/);
    t.is(statSync(path).size, 2 * RECORD_LENGTH, 'the torn tail is cut off the file');
    // Appending goes on at the cut.
    journal.append(record(4));
    await journal.close();
    const again = await replayAll(path);
    t.deepEqual(
      again.records.map((r) => r.iaid),
      [1, 2, 4],
    );
    t.deepEqual(again.journal.recovery.tornOffset, -1);
    await again.journal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recovery: a last record with a bad CRC is discarded with a warning', async (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'j');
    await writeJournal(path, [[record(1)], [record(2), record(3)]]);
    const data = readFileSync(path);
    const at = 2 * RECORD_LENGTH + RecordField.Iaid;
    data[at] = (data[at] as number) ^ 1;
    writeFileSync(path, data);
    const warnings: string[] = [];
    const { journal, records } = await replayAll(path, nodeJournalFs, warnings);
    // Record 2 is the first of the torn batch; it was written whole, so it is kept.
    t.deepEqual(
      records.map((r) => r.iaid),
      [1, 2],
    );
    t.is(journal.recovery.tornReason, 'bad CRC');
    t.regex(warnings.join('\n'), /bad CRC/);
    await journal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recovery: a bad record inside the last batch, with good records of that batch after it, is a torn tail', (t) => {
  const batch = Buffer.alloc(4 * RECORD_LENGTH);
  encodeRecord(record(0), 1, 0, 1, batch, 0);
  for (let i = 0; i < 3; i++) encodeRecord(record(i + 1), i + 2, i, 3, batch, (i + 1) * RECORD_LENGTH);
  batch.fill(0, RECORD_LENGTH, 2 * RECORD_LENGTH);
  const scan = scanJournal(batch);
  t.is(scan.state, 'torn');
  t.is(scan.goodLength, RECORD_LENGTH);
  t.is(scan.records, 1);
  // The same bad record followed by a record of another batch is not.
  encodeRecord(record(9), 9, 0, 1, batch, 3 * RECORD_LENGTH);
  t.is(scanJournal(batch).state, 'corrupt');
});

test('a bad record followed by a later commit batch is corruption: open refuses and leaves the file alone', async (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'j');
    await writeJournal(path, [[record(1)], [record(2)], [record(3)]]);
    const data = readFileSync(path);
    data.writeUInt8(
      data.readUInt8(RECORD_LENGTH + RecordField.ExpiresAt + 7) ^ 0xff,
      RECORD_LENGTH + RecordField.ExpiresAt + 7,
    );
    writeFileSync(path, data);
    const error = await t.throwsAsync(Journal.open(path), { instanceOf: JournalCorruptError });
    t.is(error?.offset, RECORD_LENGTH);
    t.regex(error?.message ?? '', /later commit batch/);
    t.deepEqual(readFileSync(path), data);
    // Junk after a complete batch is a torn tail (a new batch that never finished)...
    const withJunk = Buffer.concat([
      data.subarray(0, RECORD_LENGTH),
      Buffer.alloc(RECORD_LENGTH),
      Buffer.alloc(RECORD_LENGTH, 1),
    ]);
    t.is(scanJournal(withJunk).state, 'torn');
    // ...but junk past the end of the unfinished batch that the bad record belongs to is not.
    const head = Buffer.alloc(3 * RECORD_LENGTH);
    for (let i = 0; i < 2; i++) encodeRecord(record(i), i + 1, i, 2, head, i * RECORD_LENGTH);
    head.fill(0, RECORD_LENGTH, 2 * RECORD_LENGTH);
    head.fill(7, 2 * RECORD_LENGTH);
    t.is(scanJournal(head).state, 'corrupt');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

class FakeLive implements LiveSource {
  readonly live = new Map<number, LeaseRecord>();
  count(): number {
    return this.live.size;
  }
  records(): Iterable<LeaseRecord> {
    return this.live.values();
  }
  /** Appends and mirrors: a Grant makes an entry live, anything else ends it. */
  apply(journal: Journal, r: LeaseRecord): void {
    journal.append(r);
    if (r.kind === RecordKind.Grant) this.live.set(r.iaid, r);
    else this.live.delete(r.iaid);
  }
}

test('compaction keeps the live entries only, atomically, and the file replays to the same state', async (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'j');
    const fs = new CountingFs();
    const live = new FakeLive();
    const journal = await Journal.open(path, { fs, live });
    for (let i = 0; i < 50; i++) live.apply(journal, record(i));
    for (let i = 0; i < 50; i += 2) live.apply(journal, record(i, { kind: RecordKind.Release }));
    await journal.commit();
    t.is(journal.stats().recordsInFile, 75);
    const dirSyncs = fs.dirSyncs;
    await journal.compact();
    t.is(journal.stats().compactions, 1);
    t.is(journal.stats().recordsInFile, 25);
    t.is(statSync(path).size, 25 * RECORD_LENGTH);
    t.false(existsSync(path + COMPACT_SUFFIX));
    t.is(fs.renames, 1);
    t.is(fs.dirSyncs - dirSyncs, 2, 'the directory is fsynced before and after the rename');
    // Appends after compaction land in the new file.
    live.apply(journal, record(100));
    await journal.commit();
    await journal.close();
    const again = await replayAll(path);
    t.deepEqual(
      again.records.map((r) => r.iaid).sort((a, b) => a - b),
      [...live.live.keys()].sort((a, b) => a - b),
    );
    const seqs = again.records.map((r) => r.sequence);
    t.true(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number)));
    await again.journal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compaction starts by itself once the file holds enough dead records', async (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'j');
    const live = new FakeLive();
    const journal = await Journal.open(path, { live, compactionMinRecords: 20, compactionFactor: 2 });
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 5; i++) live.apply(journal, record(i, { expiresAt: round }));
      await journal.commit();
    }
    t.true(journal.stats().compactions >= 1);
    t.true(journal.stats().recordsInFile < 50);
    await journal.close();
    const again = await replayAll(path);
    const last = new Map(again.records.map((r) => [r.iaid, r.expiresAt]));
    t.deepEqual(
      [...last.entries()].sort(),
      [0, 1, 2, 3, 4].map((i) => [i, 9]),
    );
    await again.journal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a crash between the steps of compaction loses nothing', async (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'j');
    await writeJournal(path, [[record(1), record(2)], [record(1, { kind: RecordKind.Release })]]);
    const original = readFileSync(path);

    // 1. Crash after the snapshot was written and fsynced, before the rename: a .compact file is
    // left. The journal is authoritative; the snapshot is removed with a warning.
    const fs = new CountingFs();
    fs.failRename = true;
    const live = new FakeLive();
    const opened = await Journal.open(path, { fs, live, onWarning: () => undefined });
    live.live.set(2, record(2));
    await t.throwsAsync(opened.compact(), { message: /before rename/ });
    t.true(existsSync(path + COMPACT_SUFFIX));
    await opened.close();
    const warnings: string[] = [];
    const after = await replayAll(path, nodeJournalFs, warnings);
    t.true(after.journal.recovery.removedSnapshot);
    t.false(existsSync(path + COMPACT_SUFFIX));
    t.regex(warnings.join('\n'), /unfinished compaction snapshot/);
    t.deepEqual(readFileSync(path), original);
    t.deepEqual(
      after.records.map((r) => [r.kind, r.iaid]),
      [
        [RecordKind.Grant, 1],
        [RecordKind.Grant, 2],
        [RecordKind.Release, 1],
      ],
    );
    await after.journal.close();

    // 2. A half-written snapshot (as if the crash came during its write) is removed the same way.
    writeFileSync(path + COMPACT_SUFFIX, Buffer.alloc(RECORD_LENGTH + 17, 0x42));
    const torn = await replayAll(path, nodeJournalFs, []);
    t.true(torn.journal.recovery.removedSnapshot);
    t.is(torn.records.length, 3);
    await torn.journal.close();

    // 3. Crash after the rename, before the directory fsync: the file is the whole snapshot.
    const fs3 = new CountingFs();
    fs3.failSyncDirectoryAfterRename = true;
    const live3 = new FakeLive();
    const j3 = await Journal.open(path, {
      fs: fs3,
      live: live3,
      replay: (r) => (r.kind === RecordKind.Grant ? live3.live.set(r.iaid, r) : live3.live.delete(r.iaid)),
    });
    await t.throwsAsync(j3.compact(), { message: /after rename/ });
    // Storage is still failing at close: the file is closed and the failure reported.
    await t.throwsAsync(j3.close(), { instanceOf: JournalStorageError });
    const final = await replayAll(path, nodeJournalFs, []);
    t.deepEqual(
      final.records.map((r) => [r.kind, r.iaid]),
      [[RecordKind.Grant, 2]],
    );
    await final.journal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a record owns its bytes from append on: the caller may overwrite them before the commit', async (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'j');
    const journal = await Journal.open(path);
    // The DUID and address are views of one receive buffer, as the server passes them.
    const rx = new Uint8Array(64);
    const appended: LeaseRecord[] = [];
    for (let i = 1; i <= 3; i++) {
      const r = record(i);
      rx.set(r.duid, 0);
      rx.set(r.address, 32);
      journal.append({ ...r, duid: rx.subarray(0, r.duid.length), address: rx.subarray(32, 48) });
      appended.push(r);
    }
    // The next frame lands in the same buffer before the group commit runs.
    rx.fill(0xee);
    await journal.commit();
    await journal.close();
    const { journal: again, records } = await replayAll(path);
    await again.close();
    t.deepEqual(records.map(leaseFields), appended.map(leaseFields));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is not a journal is refused and left untouched, never cut off as a torn tail', async (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'README');
    writeFileSync(path, '# some notes that are not lease records\n');
    const before = readFileSync(path);
    await t.throwsAsync(Journal.open(path, { onWarning: () => undefined }), {
      instanceOf: JournalCorruptError,
      message: /not a punt6 lease journal/,
    });
    t.deepEqual(readFileSync(path), before);
    // Zeros, as a crash during the very first write can leave, are a torn tail.
    writeFileSync(path, Buffer.alloc(100));
    const warnings: string[] = [];
    const { journal } = await replayAll(path, nodeJournalFs, warnings);
    await journal.close();
    t.is(statSync(path).size, 0);
    t.regex(warnings.join(), /torn tail/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('startsLikeJournal: the magic or zeros, as much of them as there is; any other start never was a journal', (t) => {
  const journal = Buffer.alloc(RECORD_LENGTH);
  encodeRecord(record(1), 1, 0, 1, journal, 0);
  for (let n = 0; n <= 8; n++) t.true(startsLikeJournal(journal.subarray(0, n)), `the first ${n} bytes of a record`);
  t.true(startsLikeJournal(Buffer.alloc(RECORD_LENGTH)), 'a torn first write left as zeros');
  t.false(startsLikeJournal(Buffer.from('# punt6\n')));
  t.false(startsLikeJournal(Buffer.from([0x50, 0x36, 0x4c, 0x4b])));
  t.false(startsLikeJournal(Buffer.from([0, 0, 0, 1])));
});
