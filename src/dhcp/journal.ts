/**
 * The DHCPv6 lease journal: an append-only file of fixed-size binary lease records with group
 * commit, crash recovery and atomic compaction. The format and the guarantees are described in
 * docs/leases.md; the record layout is the table below and the `recordLayout` structure.
 *
 * Leases are the bindings of RFC 8415 §6.1 (IA_NA addresses) and §6.3 (IA_PD prefixes); RFC 8415
 * §18.3 asks that a server keep them across restarts, and a server must not send a Reply that
 * grants a binding before the binding is stable storage, hence the commit rule: `commit()`
 * resolves only after the fsync that made its records durable.
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    magic 0x50364c4a ("P6LJ")                  |  0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   version (1) |  record kind  |  lease type   | prefix length |  4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            CRC-32 (bytes 0-7 and 12-207 of the record)        |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |              sequence number (64-bit, < 2^53)                 | 12
 * +                                                               +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |             index of the record in its commit batch           | 20
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |              number of records in its commit batch            | 24
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               | 28
 * +                 address or prefix (16 bytes)                  +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                             IAID                              | 44
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   valid lifetime (seconds)                    | 48
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 preferred lifetime (seconds)                  | 52
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          expiry time (ms since the epoch, 64-bit)             | 56
 * +                                                               +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          network id                           | 64
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  DUID length  |          reserved (0)                         | 68
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         client DUID (130 bytes, zero padded) ...              | 72
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   ... DUID    |           reserved (6 bytes, 0) ...           | 200..207
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * All integers are big-endian. This is a cold path (a record per lease change, not per packet),
 * so records are described declaratively with `buffer-layout` and allocation is acceptable.
 */

import { dirname } from 'node:path';
import { open as fsOpen, readFile as fsReadFile, rename as fsRename, unlink as fsUnlink } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { blob, nu64be, struct, u32be, u8 } from 'buffer-layout';

export const JOURNAL_MAGIC = 0x50364c4a;
export const JOURNAL_VERSION = 1;
/** Every record has this size, so record boundaries are known without reading records. */
export const RECORD_LENGTH = 208;
/** RFC 8415 §11.1: a DUID is at most 128 octets plus its 2-octet type. */
export const DUID_MAX_LENGTH = 130;
/** The name of the compaction snapshot before it is renamed over the journal. */
export const COMPACT_SUFFIX = '.compact';

/** What a record says happened. */
export const RecordKind = {
  /** A lease was granted (or re-granted): the client key now holds this address or prefix. */
  Grant: 1,
  /** A held lease got new lifetimes and a new expiry time. */
  Renew: 2,
  /** The client released the lease. */
  Release: 3,
  /** The client declined the address; it is quarantined until the record's expiry time. */
  Decline: 4,
  /** The lease (or a quarantine) ran out and was reclaimed. */
  Expire: 5,
} as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** The kind of binding, numbered as the DHCPv6 option that carries it (RFC 8415 §21.4, §21.21). */
export const LeaseType = {
  /** IA_NA: one non-temporary /128 address. */
  Address: 3,
  /** IA_PD: a delegated prefix. */
  Prefix: 25,
} as const;
export type LeaseType = (typeof LeaseType)[keyof typeof LeaseType];

/** Byte offsets of the fields inside a record (the diagram above). */
export const RecordField = {
  Magic: 0,
  Version: 4,
  Kind: 5,
  LeaseType: 6,
  PrefixLength: 7,
  Crc: 8,
  Sequence: 12,
  BatchIndex: 20,
  BatchCount: 24,
  Address: 28,
  Iaid: 44,
  ValidLifetime: 48,
  PreferredLifetime: 52,
  ExpiresAt: 56,
  NetworkId: 64,
  DuidLength: 68,
  Duid: 72,
  End: 208,
} as const;

/** The lease fields of a record, as the lease table produces and consumes them. */
export interface LeaseRecord {
  kind: RecordKind;
  leaseType: LeaseType;
  /** 128 for an address, the delegated length for a prefix. */
  prefixLength: number;
  /** 16 bytes. */
  address: Uint8Array;
  iaid: number;
  /** 1 to 130 bytes. */
  duid: Uint8Array;
  /** Seconds. */
  validLifetime: number;
  /** Seconds. */
  preferredLifetime: number;
  /** Milliseconds since the epoch: end of the lease, or of the quarantine for a Decline. */
  expiresAt: number;
  networkId: number;
}

/** A record as stored: its lease fields plus where it sits in the journal. */
export interface JournalRecord extends LeaseRecord {
  sequence: number;
  batchIndex: number;
  batchCount: number;
}

interface RecordFields {
  magic: number;
  version: number;
  kind: number;
  leaseType: number;
  prefixLength: number;
  crc: number;
  sequence: number;
  batchIndex: number;
  batchCount: number;
  address: Buffer;
  iaid: number;
  validLifetime: number;
  preferredLifetime: number;
  expiresAt: number;
  networkId: number;
  duidLength: number;
  duid: Buffer;
}

/** The record layout, declared once; `RecordField` must agree with it (a test checks). */
export const recordLayout = struct<RecordFields>([
  u32be('magic'),
  u8('version'),
  u8('kind'),
  u8('leaseType'),
  u8('prefixLength'),
  u32be('crc'),
  nu64be('sequence'),
  u32be('batchIndex'),
  u32be('batchCount'),
  blob(16, 'address'),
  u32be('iaid'),
  u32be('validLifetime'),
  u32be('preferredLifetime'),
  nu64be('expiresAt'),
  u32be('networkId'),
  u8('duidLength'),
  blob(3),
  blob(DUID_MAX_LENGTH, 'duid'),
  blob(6),
]);

function isRecordKind(v: number): v is RecordKind {
  return v >= RecordKind.Grant && v <= RecordKind.Expire;
}

function isLeaseType(v: number): v is LeaseType {
  return v === LeaseType.Address || v === LeaseType.Prefix;
}

function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

/** Why a lease record cannot be stored, or null when it can. */
export function invalidRecordReason(r: LeaseRecord): string | null {
  if (!isRecordKind(r.kind)) return `unknown record kind ${r.kind}`;
  if (!isLeaseType(r.leaseType)) return `unknown lease type ${r.leaseType}`;
  if (r.address.length !== 16) return 'address is not 16 bytes';
  if (r.duid.length < 1 || r.duid.length > DUID_MAX_LENGTH) return `DUID length ${r.duid.length} is not 1-${DUID_MAX_LENGTH}`;
  if (r.leaseType === LeaseType.Address ? r.prefixLength !== 128 : !(Number.isInteger(r.prefixLength) && r.prefixLength >= 1 && r.prefixLength <= 128)) {
    return `prefix length ${r.prefixLength} does not fit the lease type`;
  }
  if (!isU32(r.iaid) || !isU32(r.validLifetime) || !isU32(r.preferredLifetime) || !isU32(r.networkId)) {
    return 'IAID, lifetimes and network id must be 32-bit unsigned integers';
  }
  if (!Number.isSafeInteger(r.expiresAt) || r.expiresAt < 0) return 'expiry time is not a non-negative safe integer';
  return null;
}

function recordCrc(buf: Uint8Array, off: number): number {
  const head = crc32(buf.subarray(off, off + RecordField.Crc));
  return crc32(buf.subarray(off + RecordField.Sequence, off + RECORD_LENGTH), head);
}

/**
 * Writes one record at `off` (RECORD_LENGTH bytes, reserved bytes zeroed) and returns the bytes
 * written. The record must be valid (see {@link invalidRecordReason}); this throws otherwise.
 */
export function encodeRecord(r: LeaseRecord, sequence: number, batchIndex: number, batchCount: number, buf: Buffer, off: number): number {
  const reason = invalidRecordReason(r);
  if (reason !== null) throw new RangeError(`lease record: ${reason}`);
  if (off < 0 || off + RECORD_LENGTH > buf.length) throw new RangeError('lease record: buffer too small');
  buf.fill(0, off, off + RECORD_LENGTH);
  const duid = Buffer.alloc(DUID_MAX_LENGTH);
  duid.set(r.duid, 0);
  recordLayout.encode({
    magic: JOURNAL_MAGIC,
    version: JOURNAL_VERSION,
    kind: r.kind,
    leaseType: r.leaseType,
    prefixLength: r.prefixLength,
    crc: 0,
    sequence,
    batchIndex,
    batchCount,
    address: Buffer.from(r.address.buffer, r.address.byteOffset, 16),
    iaid: r.iaid,
    validLifetime: r.validLifetime,
    preferredLifetime: r.preferredLifetime,
    expiresAt: r.expiresAt,
    networkId: r.networkId,
    duidLength: r.duid.length,
    duid,
  }, buf, off);
  buf.writeUInt32BE(recordCrc(buf, off), off + RecordField.Crc);
  return RECORD_LENGTH;
}

/**
 * Checks the record at `off` without decoding it: length, magic, version, CRC and field ranges.
 * Returns null when it is good, or the reason it is not.
 */
export function checkRecord(buf: Buffer, off: number): string | null {
  if (off < 0 || off + RECORD_LENGTH > buf.length) return 'record is cut short';
  if (buf.readUInt32BE(off + RecordField.Magic) !== JOURNAL_MAGIC) return 'bad magic';
  if (buf.readUInt32BE(off + RecordField.Crc) !== recordCrc(buf, off)) return 'bad CRC';
  // CRC verified: the remaining checks catch records written by a different version or a bug.
  if (buf[off + RecordField.Version] !== JOURNAL_VERSION) return `unsupported version ${buf[off + RecordField.Version]}`;
  if (!isRecordKind(buf[off + RecordField.Kind] as number)) return 'unknown record kind';
  const type = buf[off + RecordField.LeaseType] as number;
  if (!isLeaseType(type)) return 'unknown lease type';
  const plen = buf[off + RecordField.PrefixLength] as number;
  if (type === LeaseType.Address ? plen !== 128 : plen < 1 || plen > 128) return 'bad prefix length';
  const dlen = buf[off + RecordField.DuidLength] as number;
  if (dlen < 1 || dlen > DUID_MAX_LENGTH) return 'bad DUID length';
  if (buf.readUInt32BE(off + RecordField.BatchIndex) >= buf.readUInt32BE(off + RecordField.BatchCount)) return 'batch index past batch count';
  return null;
}

/** Decodes a record that {@link checkRecord} accepted. The result owns its bytes. */
export function decodeRecord(buf: Buffer, off: number): JournalRecord {
  const f = recordLayout.decode(buf, off);
  return {
    kind: f.kind as RecordKind,
    leaseType: f.leaseType as LeaseType,
    prefixLength: f.prefixLength,
    address: Uint8Array.from(f.address),
    iaid: f.iaid,
    duid: Uint8Array.from(f.duid.subarray(0, f.duidLength)),
    validLifetime: f.validLifetime,
    preferredLifetime: f.preferredLifetime,
    expiresAt: f.expiresAt,
    networkId: f.networkId,
    sequence: f.sequence,
    batchIndex: f.batchIndex,
    batchCount: f.batchCount,
  };
}

/** What {@link scanJournal} found in a journal's bytes. */
export interface JournalScan {
  /** 'ok': every byte is good records; 'torn': an interrupted last batch to cut off; 'corrupt'. */
  state: 'ok' | 'torn' | 'corrupt';
  /** Bytes of good records from the start (where to truncate when torn). */
  goodLength: number;
  /** Number of good records before goodLength. */
  records: number;
  /** Offset of the first bad record (torn or corrupt), or -1. */
  badOffset: number;
  /** Why the first bad record is bad, and for corruption why it cannot be a torn tail. */
  reason: string;
}

/**
 * Whether the first bytes of a file can be the start of a journal: the magic (or as much of it as
 * there is), or zeros (a torn first write, from a file system that extended the file before its
 * data reached the disk). Anything else was never a journal; an empty file passes.
 */
export function startsLikeJournal(head: Uint8Array): boolean {
  const n = Math.min(head.length, 4);
  let zeros = true;
  let magic = true;
  for (let i = 0; i < n; i++) {
    const b = head[i] as number;
    if (b !== 0) zeros = false;
    if (b !== ((JOURNAL_MAGIC >>> (24 - 8 * i)) & 0xff)) magic = false;
  }
  return zeros || magic;
}

/**
 * Sorts a journal's bytes into good records, a torn tail, or corruption.
 *
 * Only the last batch can be torn: a batch is written only after the previous one's fsync
 * returned. So the first bad record is a torn tail when it and everything after it can belong to
 * one last batch: every good record after it names (by its batch index) the same batch start,
 * and the file does not extend past that batch's end. Anything else is corruption.
 */
export function scanJournal(data: Buffer): JournalScan {
  const n = Math.floor(data.length / RECORD_LENGTH);
  let prevSequence = -1;
  let i = 0;
  let reason = '';
  for (; i < n; i++) {
    const off = i * RECORD_LENGTH;
    const why = checkRecord(data, off);
    if (why !== null) {
      reason = why;
      break;
    }
    const seq = data.readUInt32BE(off + RecordField.Sequence) * 0x100000000 + data.readUInt32BE(off + RecordField.Sequence + 4);
    if (seq <= prevSequence) {
      reason = `sequence number ${seq} does not follow ${prevSequence}`;
      break;
    }
    prevSequence = seq;
  }
  const goodLength = i * RECORD_LENGTH;
  if (i === n) {
    if (goodLength === data.length) return { state: 'ok', goodLength, records: n, badOffset: -1, reason: '' };
    return { state: 'torn', goodLength, records: n, badOffset: goodLength, reason: 'file ends inside a record' };
  }
  // Which batch the bad record belongs to: the previous record's, if that batch is unfinished.
  let batchStart = i;
  let batchEnd = Number.POSITIVE_INFINITY;
  if (i > 0) {
    const prev = (i - 1) * RECORD_LENGTH;
    const index = data.readUInt32BE(prev + RecordField.BatchIndex);
    const count = data.readUInt32BE(prev + RecordField.BatchCount);
    if (index + 1 < count) {
      batchStart = i - 1 - index;
      batchEnd = batchStart + count;
    }
  }
  const corrupt = (why: string): JournalScan => ({ state: 'corrupt', goodLength, records: i, badOffset: goodLength, reason: `${reason}; ${why}` });
  for (let j = i + 1; j < n; j++) {
    const off = j * RECORD_LENGTH;
    if (checkRecord(data, off) !== null) continue;
    const start = j - data.readUInt32BE(off + RecordField.BatchIndex);
    const end = start + data.readUInt32BE(off + RecordField.BatchCount);
    if (start !== batchStart || (batchEnd !== Number.POSITIVE_INFINITY && end !== batchEnd)) {
      return corrupt(`the good record at offset ${off} belongs to a later commit batch`);
    }
    batchEnd = end;
  }
  if (data.length > batchEnd * RECORD_LENGTH) {
    return corrupt(`the file extends past the end of the last commit batch at offset ${batchEnd * RECORD_LENGTH}`);
  }
  return { state: 'torn', goodLength, records: i, badOffset: goodLength, reason };
}

/** Thrown by {@link Journal.open} when a record before the last batch is bad; the file is left as it was. */
export class JournalCorruptError extends Error {
  readonly path: string;
  readonly offset: number;
  readonly reason: string;

  constructor(path: string, offset: number, reason: string) {
    super(`lease journal ${path} is corrupt at offset ${offset}: ${reason}; refusing to start (the file is left untouched)`);
    this.name = 'JournalCorruptError';
    this.path = path;
    this.offset = offset;
    this.reason = reason;
  }
}

/** The file operations the journal uses; replaced in tests to count fsyncs or simulate crashes. */
export interface JournalFileHandle {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface JournalFs {
  /** The whole file, or null when it does not exist. */
  readFile(path: string): Promise<Buffer | null>;
  /** 'r+' opens an existing file; 'wx+' creates a new one; 'w' creates or truncates. */
  open(path: string, flags: 'r+' | 'wx+' | 'w'): Promise<JournalFileHandle>;
  rename(from: string, to: string): Promise<void>;
  /** Returns false when the file did not exist. */
  unlink(path: string): Promise<boolean>;
  /** fsync of a directory, making renames and creations in it durable. */
  syncDirectory(path: string): Promise<void>;
}

function isNotFound(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENOENT';
}

/** The real file system (node:fs/promises). */
export const nodeJournalFs: JournalFs = {
  async readFile(path) {
    try {
      return await fsReadFile(path);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  },
  async open(path, flags) {
    const fh = await fsOpen(path, flags);
    return {
      write: (buffer, offset, length, position) => fh.write(buffer, offset, length, position),
      sync: () => fh.sync(),
      truncate: (length) => fh.truncate(length),
      close: () => fh.close(),
    };
  },
  rename: (from, to) => fsRename(from, to),
  async unlink(path) {
    try {
      await fsUnlink(path);
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  },
  async syncDirectory(path) {
    const fh = await fsOpen(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};

/** Where compaction gets the live state from (the lease table). */
export interface LiveSource {
  /** Number of live entries (leases and quarantines). */
  count(): number;
  /** One record per live entry, reflecting every record appended so far. */
  records(): Iterable<LeaseRecord>;
}

export interface JournalOptions {
  fs?: JournalFs;
  /** Called for every good record on open, in order, before open resolves. */
  replay?: (record: JournalRecord, offset: number) => void;
  /** Compaction source; without it the journal never compacts. */
  live?: LiveSource;
  /** Compact when the file holds more than this many records per live entry (default 4, > 1). */
  compactionFactor?: number;
  /** ...and at least this many records (default 1024). */
  compactionMinRecords?: number;
  /**
   * Told when open cuts off a torn tail or removes an unfinished compaction snapshot (default:
   * `process.emitWarning`). Never called for a clean file.
   */
  onWarning?: (message: string) => void;
}

/** What open found and did, for the log. */
export interface JournalRecovery {
  records: number;
  /** Bytes of torn tail cut off (0 when the file was clean). */
  truncatedBytes: number;
  /** Offset where the torn tail began, or -1. */
  tornOffset: number;
  /** Why the torn tail's first record was bad, or ''. */
  tornReason: string;
  /** An unfinished compaction snapshot was found and removed. */
  removedSnapshot: boolean;
  created: boolean;
}

/** Counters for gauges. */
export interface JournalStats {
  recordsInFile: number;
  bytes: number;
  pendingRecords: number;
  commits: number;
  fsyncs: number;
  compactions: number;
}

interface Batch {
  records: LeaseRecord[];
  sequences: number[];
  requested: boolean;
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A batch nobody waits for must not become an unhandled rejection.
  promise.catch(() => undefined);
  return { records: [], sequences: [], requested: false, promise, resolve, reject };
}

async function writeAll(fh: JournalFileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new Error('lease journal: write made no progress');
    done += bytesWritten;
  }
}

/**
 * The journal. `append()` adds a record to the open batch; `commit()` asks for that batch to be
 * written with one write and one fsync and resolves after the fsync. At most one write+fsync is
 * in flight: records appended meanwhile form the next batch, written when the flight lands.
 * After any I/O error the journal is failed: every later append or commit throws or rejects,
 * since what reached the disk is unknown (reopen to recover).
 */
export class Journal {
  readonly path: string;
  readonly recovery: JournalRecovery;
  private readonly fs: JournalFs;
  private fh: JournalFileHandle;
  private readonly live: LiveSource | null;
  private readonly compactionFactor: number;
  private readonly compactionMinRecords: number;
  private size: number;
  private recordsInFile: number;
  private nextSequence: number;
  private pending: Batch | null = null;
  private inflight: Batch | null = null;
  private busy = false;
  private running: Promise<void> = Promise.resolve();
  /** Set by compaction, cleared by the next batch write: never compact twice in a row. */
  private justCompacted = false;
  private compactRequested: Batch | null = null;
  private failure: Error | null = null;
  private closed = false;
  private commits = 0;
  private fsyncs = 0;
  private compactions = 0;

  private constructor(path: string, fs: JournalFs, fh: JournalFileHandle, options: JournalOptions, size: number, records: number, nextSequence: number, recovery: JournalRecovery) {
    this.path = path;
    this.fs = fs;
    this.fh = fh;
    this.live = options.live ?? null;
    this.compactionFactor = options.compactionFactor ?? 4;
    this.compactionMinRecords = options.compactionMinRecords ?? 1024;
    this.size = size;
    this.recordsInFile = records;
    this.nextSequence = nextSequence;
    this.recovery = recovery;
  }

  /**
   * Opens (or creates) the journal at `path`, replays every good record through
   * `options.replay`, cuts off a torn tail, and removes an unfinished compaction snapshot.
   * Rejects with {@link JournalCorruptError} when a record before the last batch is bad.
   */
  static async open(path: string, options: JournalOptions = {}): Promise<Journal> {
    const fs = options.fs ?? nodeJournalFs;
    const dir = dirname(path);
    if (options.compactionFactor !== undefined && !(options.compactionFactor > 1)) {
      throw new RangeError('lease journal: compactionFactor must be greater than 1');
    }
    // A snapshot still under its temporary name was never renamed in: the journal is authoritative.
    const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, 'LeaseJournalWarning'));
    const snapshotWarning = `lease journal ${path}: removed an unfinished compaction snapshot ${path + COMPACT_SUFFIX}; the journal is authoritative`;
    const removedSnapshot = await fs.unlink(path + COMPACT_SUFFIX);
    const data = await fs.readFile(path);
    if (data === null) {
      const fh = await fs.open(path, 'wx+');
      await fs.syncDirectory(dir);
      if (removedSnapshot) warn(snapshotWarning);
      const recovery = { records: 0, truncatedBytes: 0, tornOffset: -1, tornReason: '', removedSnapshot, created: true };
      return new Journal(path, fs, fh, options, 0, 0, 1, recovery);
    }
    const scan = scanJournal(data);
    if (scan.state === 'corrupt') throw new JournalCorruptError(path, scan.badOffset, scan.reason);
    let nextSequence = 1;
    for (let off = 0; off < scan.goodLength; off += RECORD_LENGTH) {
      const record = decodeRecord(data, off);
      nextSequence = record.sequence + 1;
      options.replay?.(record, off);
    }
    const fh = await fs.open(path, 'r+');
    if (scan.state === 'torn') {
      await fh.truncate(scan.goodLength);
      await fh.sync();
    }
    if (removedSnapshot) await fs.syncDirectory(dir);
    if (removedSnapshot) warn(snapshotWarning);
    if (scan.state === 'torn') {
      warn(`lease journal ${path}: discarded ${data.length - scan.goodLength} bytes of torn tail at offset ${scan.goodLength} (${scan.reason}); ${scan.records} records kept`);
    }
    const recovery: JournalRecovery = {
      records: scan.records,
      truncatedBytes: data.length - scan.goodLength,
      tornOffset: scan.state === 'torn' ? scan.badOffset : -1,
      tornReason: scan.state === 'torn' ? scan.reason : '',
      removedSnapshot,
      created: false,
    };
    return new Journal(path, fs, fh, options, scan.goodLength, scan.records, nextSequence, recovery);
  }

  /** Adds a record to the open batch and returns its sequence number. Throws on an invalid record or a failed journal. */
  append(record: LeaseRecord): number {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new Error('lease journal: closed');
    const reason = invalidRecordReason(record);
    if (reason !== null) throw new RangeError(`lease record: ${reason}`);
    const batch = this.pending ?? (this.pending = newBatch());
    const sequence = this.nextSequence++;
    batch.records.push(record);
    batch.sequences.push(sequence);
    return sequence;
  }

  /**
   * Makes every record appended so far durable: resolves after the fsync that covers the last
   * appended record (at once when there is nothing to write).
   */
  commit(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const batch = this.pending;
    if (batch !== null) {
      batch.requested = true;
      this.pump();
      return batch.promise;
    }
    if (this.inflight !== null) return this.inflight.promise;
    return Promise.resolve();
  }

  /** The same as {@link commit}, with a Node-style callback. */
  commitCallback(done: (err: Error | null) => void): void {
    this.commit().then(() => done(null), (e: Error) => done(e));
  }

  /** Compacts now (after any in-flight batch), whatever the size; needs a live source. */
  compact(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.live === null) return Promise.reject(new Error('lease journal: compaction needs a live source'));
    const b = this.compactRequested ?? (this.compactRequested = newBatch());
    this.pump();
    return b.promise;
  }

  /** Whether the file has grown enough to compact. */
  needsCompaction(): boolean {
    if (this.live === null) return false;
    return this.recordsInFile >= this.compactionMinRecords && this.recordsInFile > this.compactionFactor * Math.max(1, this.live.count());
  }

  get failed(): Error | null {
    return this.failure;
  }

  stats(): JournalStats {
    return {
      recordsInFile: this.recordsInFile,
      bytes: this.size,
      pendingRecords: this.pending?.records.length ?? 0,
      commits: this.commits,
      fsyncs: this.fsyncs,
      compactions: this.compactions,
    };
  }

  /** Commits what is pending, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.failure === null && this.pending !== null) await this.commit().catch(() => undefined);
    while (this.busy) await this.running;
    this.closed = true;
    await this.fh.close();
  }

  private pump(): void {
    // `busy` is cleared synchronously when the loop finds nothing to do, so a commit() made by a
    // waiter woken by the last batch starts a new loop rather than being missed.
    if (this.busy) return;
    this.busy = true;
    // Start on the next turn of the event loop, not now: every commit() made by the handlers of
    // the packets read in this turn joins the same batch and shares its fsync. While a flight is
    // in the air, the loop in run() picks up the next batch itself, without this delay.
    this.running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run());
  }

  private async run(): Promise<void> {
    // A compaction asked for by compact(), taken off `compactRequested` while it runs.
    let manual: Batch | null = null;
    try {
      for (;;) {
        if (this.failure !== null) break;
        manual = this.compactRequested;
        if (manual !== null || (!this.justCompacted && this.needsCompaction())) {
          this.compactRequested = null;
          await this.compactNow();
          this.justCompacted = true;
          manual?.resolve();
          manual = null;
          continue;
        }
        const batch = this.pending;
        if (batch === null || !batch.requested) break;
        this.pending = null;
        this.inflight = batch;
        await this.writeBatch(batch);
        this.inflight = null;
        batch.resolve();
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.failure = err;
      this.inflight?.reject(err);
      this.pending?.reject(err);
      manual?.reject(err);
      this.compactRequested?.reject(err);
      this.inflight = null;
    } finally {
      this.busy = false;
    }
  }

  private async writeBatch(batch: Batch): Promise<void> {
    const n = batch.records.length;
    const buf = Buffer.alloc(n * RECORD_LENGTH);
    for (let i = 0; i < n; i++) {
      encodeRecord(batch.records[i] as LeaseRecord, batch.sequences[i] as number, i, n, buf, i * RECORD_LENGTH);
    }
    await writeAll(this.fh, buf, this.size);
    await this.fh.sync();
    this.fsyncs++;
    this.commits++;
    this.justCompacted = false;
    this.size += buf.length;
    this.recordsInFile += n;
  }

  /**
   * Writes the live state to `<path>.compact`, fsyncs it and the directory, renames it over the
   * journal and fsyncs the directory again. The open batch's records are already reflected in
   * the live state, so they are taken into the snapshot and their commit resolves with it.
   */
  private async compactNow(): Promise<void> {
    const live = this.live;
    if (live === null) return;
    // Take the open batch and the live state in the same tick: they must agree.
    const taken = this.pending;
    this.pending = null;
    this.inflight = taken;
    const records = Array.from(live.records());
    const n = records.length;
    const buf = Buffer.alloc(n * RECORD_LENGTH);
    for (let i = 0; i < n; i++) {
      encodeRecord(records[i] as LeaseRecord, this.nextSequence++, i, n, buf, i * RECORD_LENGTH);
    }
    const dir = dirname(this.path);
    const tmp = this.path + COMPACT_SUFFIX;
    const fh = await this.fs.open(tmp, 'w');
    try {
      await writeAll(fh, buf, 0);
      await fh.sync();
      this.fsyncs++;
      await this.fs.syncDirectory(dir);
      await this.fs.rename(tmp, this.path);
      await this.fs.syncDirectory(dir);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    const old = this.fh;
    this.fh = fh;
    this.size = buf.length;
    this.recordsInFile = n;
    this.compactions++;
    await old.close().catch(() => undefined);
    this.inflight = null;
    taken?.resolve();
  }
}
