/**
 * The DHCPv6 lease journal: an append-only file of fixed-size binary lease records with group
 * commit, crash recovery and atomic compaction. The format and the guarantees are described in
 * docs/leases.md; the record layout is the table below and the `recordLayout` structure.
 *
 * Leases are the bindings (RFC 9915 §4.2) of IA_NA addresses (§12.1) and IA_PD prefixes (§12.2).
 * A server must not send a Reply that grants a binding before the binding is on stable storage,
 * or a restart could give the address to another client; hence the commit rule: `commit()`
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
 * |   ... DUID    |     port MAC (6 bytes, 0 when unknown) ...    | 200..207
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
import { Dhcpv6OptionCode } from '../../codecs/dhcpv6.js';
import { DUID_MAX_LENGTH } from '../../codecs/duid.js';

export const JOURNAL_MAGIC = 0x50364c4a;
export const JOURNAL_VERSION = 1;
/** Every record has this size, so record boundaries are known without reading records. */
export const RECORD_LENGTH = 208;
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

/** The kind of binding, numbered as the DHCPv6 option that carries it (RFC 9915 §21.4, §21.21). */
export const LeaseType = {
  /** IA_NA: one non-temporary /128 address. */
  Address: Dhcpv6OptionCode.IaNa,
  /** IA_PD: a delegated prefix. */
  Prefix: Dhcpv6OptionCode.IaPd,
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
  PortMac: 202,
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
  /**
   * The MAC of the port the request came from (6 bytes; the per-port lease limits count by it),
   * or null when unknown. Stored as zeros when null.
   */
  portMac?: Uint8Array | null;
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
  portMac: Buffer;
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
  blob(6, 'portMac'),
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
  if (r.duid.length < 1 || r.duid.length > DUID_MAX_LENGTH)
    return `DUID length ${r.duid.length} is not 1-${DUID_MAX_LENGTH}`;
  if (r.portMac != null && r.portMac.length !== 6) return 'port MAC is not 6 bytes';
  if (
    r.leaseType === LeaseType.Address
      ? r.prefixLength !== 128
      : !(Number.isInteger(r.prefixLength) && r.prefixLength >= 1 && r.prefixLength <= 128)
  ) {
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
export function encodeRecord(
  r: LeaseRecord,
  sequence: number,
  batchIndex: number,
  batchCount: number,
  buf: Buffer,
  off: number,
): number {
  const reason = invalidRecordReason(r);
  if (reason !== null) throw new RangeError(`lease record: ${reason}`);
  if (off < 0 || off + RECORD_LENGTH > buf.length) throw new RangeError('lease record: buffer too small');
  buf.fill(0, off, off + RECORD_LENGTH);
  const duid = Buffer.alloc(DUID_MAX_LENGTH);
  duid.set(r.duid, 0);
  const portMac = Buffer.alloc(6);
  if (r.portMac != null) portMac.set(r.portMac, 0);
  recordLayout.encode(
    {
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
      portMac,
    },
    buf,
    off,
  );
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
  if (buf[off + RecordField.Version] !== JOURNAL_VERSION)
    return `unsupported version ${buf[off + RecordField.Version]}`;
  if (!isRecordKind(buf[off + RecordField.Kind] as number)) return 'unknown record kind';
  const type = buf[off + RecordField.LeaseType] as number;
  if (!isLeaseType(type)) return 'unknown lease type';
  const plen = buf[off + RecordField.PrefixLength] as number;
  if (type === LeaseType.Address ? plen !== 128 : plen < 1 || plen > 128) return 'bad prefix length';
  const dlen = buf[off + RecordField.DuidLength] as number;
  if (dlen < 1 || dlen > DUID_MAX_LENGTH) return 'bad DUID length';
  if (buf.readUInt32BE(off + RecordField.BatchIndex) >= buf.readUInt32BE(off + RecordField.BatchCount))
    return 'batch index past batch count';
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
    portMac: f.portMac.every((b) => b === 0) ? null : Uint8Array.from(f.portMac),
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
    const seq =
      data.readUInt32BE(off + RecordField.Sequence) * 0x100000000 + data.readUInt32BE(off + RecordField.Sequence + 4);
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
  const corrupt = (why: string): JournalScan => ({
    state: 'corrupt',
    goodLength,
    records: i,
    badOffset: goodLength,
    reason: `${reason}; ${why}`,
  });
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

/**
 * {@link scanJournal}, and what makes a journal unusable: corruption before the last batch, or
 * a file that is no journal. Throws JournalCorruptError for either, as opening does.
 */
export function checkedScan(path: string, data: Buffer): JournalScan {
  const scan = scanJournal(data);
  if (scan.state === 'corrupt') throw new JournalCorruptError(path, scan.badOffset, scan.reason);
  // A torn first batch leaves a short file, or zeros (blocks allocated but never written):
  // anything else without one good record is some other file, never to be cut off as a tail.
  if (scan.records === 0 && !startsLikeJournal(data)) {
    throw new JournalCorruptError(path, 0, 'not a punt6 lease journal (its first bytes are not a record)');
  }
  return scan;
}

/**
 * The good records of a journal file, in order, read without opening it for writing (a torn
 * tail is left as it is, for its writer to cut): what `punt6 leases` reads beside a running
 * punt6. A missing file has none. Throws JournalCorruptError as opening does.
 */
export async function readJournalRecords(path: string): Promise<JournalRecord[]> {
  const data = await nodeJournalFs.readFile(path);
  if (data === null) return [];
  const scan = checkedScan(path, data);
  const records: JournalRecord[] = [];
  for (let off = 0; off < scan.goodLength; off += RECORD_LENGTH) records.push(decodeRecord(data, off));
  return records;
}

/** Thrown by {@link Journal.open} when a record before the last batch is bad; the file is left as it was. */
export class JournalCorruptError extends Error {
  readonly path: string;
  readonly offset: number;
  readonly reason: string;

  constructor(path: string, offset: number, reason: string) {
    super(
      `lease journal ${path} is corrupt at offset ${offset}: ${reason}; refusing to start (the file is left untouched)`,
    );
    this.name = 'JournalCorruptError';
    this.path = path;
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * Thrown when a lease journal is opened for writing while other processes hold it open for
 * writing (a running punt6, an offline release): one writer at a time. The file is untouched.
 */
export class JournalInUseError extends Error {
  readonly path: string;
  readonly pids: readonly number[];

  constructor(path: string, pids: readonly number[]) {
    super(
      `lease journal ${path} is in use by process${pids.length === 1 ? '' : 'es'} ${pids.join(', ')} (a running punt6?); not opened`,
    );
    this.name = 'JournalInUseError';
    this.path = path;
    this.pids = pids;
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
  /**
   * Told once per transition when storage fails (a write, fsync or compaction error: the error)
   * and when a retry has made every record durable again (null).
   */
  onStorageChange?: (failure: Error | null) => void;
  /** First wait before a failed write is retried, ms (default 250); doubles up to `retryMaxMs`. */
  retryMs?: number;
  /** Longest wait between retries, ms (default 5000). */
  retryMaxMs?: number;
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
  /** Records appended and not yet durable (in flight, waiting, or kept for a retry). */
  pendingRecords: number;
  commits: number;
  fsyncs: number;
  compactions: number;
  /** Write, fsync or compaction errors seen; and retries that failed again. */
  storageFailures: number;
  /** Whether storage is failing now (commits reject until a retry succeeds). */
  failing: boolean;
}

/** The waiters of the records appended up to some point. */
interface Waiters {
  /** A commit() asked for these records to be written. */
  requested: boolean;
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function newWaiters(): Waiters {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Records nobody waits for must not become an unhandled rejection.
  promise.catch(() => undefined);
  return { requested: false, promise, resolve, reject };
}

async function writeAll(fh: JournalFileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new Error('lease journal: write made no progress');
    done += bytesWritten;
  }
}

/** Sets a record's batch index and count and recomputes its CRC (the record was encoded at append). */
function setBatchFields(buf: Buffer, off: number, index: number, count: number): void {
  buf.writeUInt32BE(index, off + RecordField.BatchIndex);
  buf.writeUInt32BE(count, off + RecordField.BatchCount);
  buf.writeUInt32BE(recordCrc(buf, off), off + RecordField.Crc);
}

/** Raised through commit() while storage is failing: the records are kept and retried. */
export class JournalStorageError extends Error {
  override readonly cause: Error;
  constructor(path: string, cause: Error) {
    super(`lease journal ${path}: storage failing (${cause.message}); changes are kept in memory and retried`);
    this.name = 'JournalStorageError';
    this.cause = cause;
  }
}

/**
 * The journal. `append()` encodes a record into the queue of records not yet durable (it owns
 * its bytes from then on: the caller's buffers may be reused at once); `commit()` asks for the
 * queue to be written with one write and one fsync and resolves after the fsync. At most one
 * write+fsync is in flight: records appended meanwhile form the next batch.
 *
 * Storage failures (a full disk, an I/O error) never throw from `append()`. The records of the
 * failed write stay queued; every commit waiting for them rejects with a
 * {@link JournalStorageError}, and so does every commit made while storage is failing, so no
 * Reply announces what is not on disk. A retry with back-off cuts the file back to its last
 * durable length and writes the whole queue again; once that fsync returns, storage is healthy.
 */
export class Journal {
  readonly path: string;
  readonly recovery: JournalRecovery;
  private readonly fs: JournalFs;
  private fh: JournalFileHandle;
  private readonly live: LiveSource | null;
  private readonly compactionFactor: number;
  private readonly compactionMinRecords: number;
  private readonly onStorageChange: (failure: Error | null) => void;
  private readonly retryMs: number;
  private readonly retryMaxMs: number;
  /** Length of the file's durable records. */
  private size: number;
  private recordsInFile: number;
  private nextSequence: number;
  /** Records appended and not yet durable, encoded, in order: `queued` records from byte 0. */
  private queue: Buffer = Buffer.alloc(64 * RECORD_LENGTH);
  private queued = 0;
  /** Waiters of the queued records that are not in flight. */
  private waiting: Waiters | null = null;
  /** Waiters of the records in flight. */
  private flying: Waiters | null = null;
  private busy = false;
  private running: Promise<void> = Promise.resolve();
  /** Set by compaction, cleared by the next batch write: never compact twice in a row. */
  private justCompacted = false;
  private compactRequested: Waiters | null = null;
  /** The storage error while failing, else null. */
  private failure: JournalStorageError | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryWait: number;
  private closed = false;
  private commits = 0;
  private fsyncs = 0;
  private compactions = 0;
  private storageFailures = 0;
  /** A compaction's rename is not yet made durable by an fsync of the directory. */
  private directoryUnsynced = false;

  private constructor(
    path: string,
    fs: JournalFs,
    fh: JournalFileHandle,
    options: JournalOptions,
    size: number,
    records: number,
    nextSequence: number,
    recovery: JournalRecovery,
  ) {
    this.path = path;
    this.fs = fs;
    this.fh = fh;
    this.live = options.live ?? null;
    this.compactionFactor = options.compactionFactor ?? 4;
    this.compactionMinRecords = options.compactionMinRecords ?? 1024;
    this.onStorageChange = options.onStorageChange ?? (() => undefined);
    this.retryMs = options.retryMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 5000;
    this.retryWait = this.retryMs;
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
      const recovery = {
        records: 0,
        truncatedBytes: 0,
        tornOffset: -1,
        tornReason: '',
        removedSnapshot,
        created: true,
      };
      return new Journal(path, fs, fh, options, 0, 0, 1, recovery);
    }
    const scan = checkedScan(path, data);
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
      warn(
        `lease journal ${path}: discarded ${data.length - scan.goodLength} bytes of torn tail at offset ${scan.goodLength} (${scan.reason}); ${scan.records} records kept`,
      );
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

  /**
   * Encodes a record into the queue and returns its sequence number. The record's bytes are
   * copied here: nothing of the caller's is read later. Throws only on an invalid record or a
   * closed journal, never for storage (see the class comment).
   */
  append(record: LeaseRecord): number {
    if (this.closed) throw new Error('lease journal: closed');
    const reason = invalidRecordReason(record);
    if (reason !== null) throw new RangeError(`lease record: ${reason}`);
    const off = this.queued * RECORD_LENGTH;
    if (off + RECORD_LENGTH > this.queue.length) {
      // The old queue may still be under a write in flight: copy, never reuse it.
      const bigger = Buffer.alloc(this.queue.length * 2);
      this.queue.copy(bigger, 0, 0, off);
      this.queue = bigger;
    }
    const sequence = this.nextSequence++;
    // Batch index and count are set when the batch is written (setBatchFields).
    encodeRecord(record, sequence, 0, 1, this.queue, off);
    this.queued++;
    if (this.waiting === null) this.waiting = newWaiters();
    return sequence;
  }

  /**
   * Makes every record appended so far durable: resolves after the fsync that covers the last
   * appended record (at once when there is nothing to write). Rejects with a
   * {@link JournalStorageError} while storage is failing.
   */
  commit(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('lease journal: closed'));
    const w = this.waiting;
    if (w !== null) {
      w.requested = true;
      this.pump();
      return w.promise;
    }
    if (this.flying !== null) return this.flying.promise;
    return Promise.resolve();
  }

  /** The same as {@link commit}, with a Node-style callback. */
  commitCallback(done: (err: Error | null) => void): void {
    this.commit().then(
      () => done(null),
      (e: Error) => done(e),
    );
  }

  /** Compacts now (after any in-flight batch), whatever the size; needs a live source. */
  compact(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.live === null) return Promise.reject(new Error('lease journal: compaction needs a live source'));
    const w = this.compactRequested ?? (this.compactRequested = newWaiters());
    this.pump();
    return w.promise;
  }

  /** Whether the file has grown enough to compact. */
  needsCompaction(): boolean {
    if (this.live === null) return false;
    return (
      this.recordsInFile >= this.compactionMinRecords &&
      this.recordsInFile > this.compactionFactor * Math.max(1, this.live.count())
    );
  }

  /** The storage error while storage is failing, else null. */
  get failed(): Error | null {
    return this.failure;
  }

  /** Whether a change appended now can be committed: open, and storage not failing. */
  get writable(): boolean {
    return this.failure === null && !this.closed;
  }

  stats(): JournalStats {
    return {
      recordsInFile: this.recordsInFile,
      bytes: this.size,
      pendingRecords: this.queued,
      commits: this.commits,
      fsyncs: this.fsyncs,
      compactions: this.compactions,
      storageFailures: this.storageFailures,
      failing: this.failure !== null,
    };
  }

  /** Retries a failed write now instead of at the next back-off step; resolves true when storage is healthy. */
  async retryNow(): Promise<boolean> {
    if (this.failure === null) return true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    while (this.busy) await this.running;
    if (this.failure === null) return true;
    await this.startLoop(() => this.recover(), false);
    return this.failure === null;
  }

  /**
   * Commits what is queued, then closes the file. When storage is failing, one last retry is
   * made; if it fails too, the file is closed and the storage error thrown: the queued records
   * were never acknowledged, and what is on disk is a consistent earlier state.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.failure !== null) await this.retryNow();
    if (this.failure === null && this.waiting !== null) await this.commit().catch(() => undefined);
    while (this.busy) await this.running;
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.fh.close();
    if (this.failure !== null) throw this.failure;
  }

  private pump(): void {
    // Start on the next turn of the event loop, not now: every commit() made by the handlers of
    // the packets read in this turn joins the same batch and shares its fsync. While a flight is
    // in the air, the loop in run() picks up the next batch itself, without this delay.
    void this.startLoop(() => this.run(), true);
  }

  /**
   * Runs `body` unless a loop runs already. The body clears `busy` itself, synchronously where it
   * ends, so a commit() made by a waiter woken by the last batch starts a new loop rather than
   * being missed.
   */
  private startLoop(body: () => Promise<void>, nextTurn: boolean): Promise<void> {
    if (this.busy) return this.running;
    this.busy = true;
    const start = nextTurn ? new Promise<void>((resolve) => setImmediate(resolve)) : Promise.resolve();
    this.running = start.then(body);
    return this.running;
  }

  private async run(): Promise<void> {
    // A compaction asked for by compact(), taken off `compactRequested` while it runs.
    let manual: Waiters | null = null;
    try {
      for (;;) {
        if (this.failure !== null || this.closed) break;
        manual = this.compactRequested;
        if (manual !== null || (!this.justCompacted && this.needsCompaction())) {
          this.compactRequested = null;
          await this.compactNow();
          this.justCompacted = true;
          manual?.resolve();
          manual = null;
          continue;
        }
        const w = this.waiting;
        if (w === null || !w.requested) break;
        this.waiting = null;
        this.flying = w;
        await this.writeQueued(this.queued, false);
        this.flying = null;
        w.resolve();
      }
    } catch (e) {
      this.fail(e, manual);
    } finally {
      this.busy = false;
    }
  }

  /** Storage failed: reject every waiter, keep the records, retry later. */
  private fail(e: unknown, manual: Waiters | null): void {
    const cause = e instanceof Error ? e : new Error(String(e));
    const first = this.failure === null;
    this.storageFailures++;
    this.failure = new JournalStorageError(this.path, cause);
    for (const w of [this.flying, this.waiting, manual, this.compactRequested]) w?.reject(this.failure);
    this.flying = this.waiting = this.compactRequested = null;
    if (first) {
      this.retryWait = this.retryMs;
      this.onStorageChange(this.failure);
    } else {
      this.retryWait = Math.min(this.retryWait * 2, this.retryMaxMs);
    }
    if (!this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.startLoop(() => this.recover(), false);
      }, this.retryWait);
      this.retryTimer.unref();
    }
  }

  /** Cuts the file back to its durable length and writes the whole queue again. */
  private async recover(): Promise<void> {
    try {
      await this.recoverNow();
    } finally {
      this.busy = false;
    }
    // Records appended while failing (and now written) may have waiters made since: serve them.
    if (this.failure === null && this.waiting !== null && this.waiting.requested) this.pump();
  }

  private async recoverNow(): Promise<void> {
    if (this.failure === null || this.closed) return;
    try {
      if (this.directoryUnsynced) {
        await this.fs.syncDirectory(dirname(this.path));
        this.directoryUnsynced = false;
      }
      await this.writeQueued(this.queued, true);
    } catch (e) {
      this.fail(e, null);
      return;
    }
    this.failure = null;
    this.retryWait = this.retryMs;
    this.onStorageChange(null);
  }

  /**
   * Writes the first n queued records as one batch after the durable records (cutting off
   * whatever a failed write left past them first, when asked), fsyncs, and drops them from the queue.
   */
  private async writeQueued(n: number, truncate: boolean): Promise<void> {
    const length = n * RECORD_LENGTH;
    const buf = this.queue;
    for (let i = 0; i < n; i++) setBatchFields(buf, i * RECORD_LENGTH, i, n);
    if (truncate) await this.fh.truncate(this.size);
    if (n > 0) {
      await writeAll(this.fh, buf.subarray(0, length), this.size);
      await this.fh.sync();
      this.fsyncs++;
      this.commits++;
      this.justCompacted = false;
    } else if (truncate) {
      await this.fh.sync();
    }
    this.size += length;
    this.recordsInFile += n;
    this.dropQueued(n);
  }

  /** Removes the first n records from the queue (records appended after them move to the front). */
  private dropQueued(n: number): void {
    if (n === 0) return;
    const rest = this.queued - n;
    // A write may still read the old queue's bytes elsewhere: move into a fresh buffer when any remain.
    if (rest > 0) {
      const next = Buffer.alloc(Math.max(this.queue.length, 64 * RECORD_LENGTH));
      this.queue.copy(next, 0, n * RECORD_LENGTH, this.queued * RECORD_LENGTH);
      this.queue = next;
    }
    this.queued = rest;
  }

  /**
   * Writes the live state to `<path>.compact`, fsyncs it and the directory, renames it over the
   * journal and fsyncs the directory again. The queued records are already reflected in the
   * live state, so they are taken into the snapshot and their commits resolve with it. On a
   * failure the snapshot is removed and the queued records stay for the journal itself.
   */
  private async compactNow(): Promise<void> {
    const live = this.live;
    if (live === null) return;
    // Take the queue and the live state in the same tick: they must agree.
    const taken = this.queued;
    const waiters = this.waiting;
    this.waiting = null;
    this.flying = waiters;
    const records = Array.from(live.records());
    const n = records.length;
    const buf = Buffer.alloc(n * RECORD_LENGTH);
    for (let i = 0; i < n; i++) {
      encodeRecord(records[i] as LeaseRecord, this.nextSequence++, i, n, buf, i * RECORD_LENGTH);
    }
    const dir = dirname(this.path);
    const tmp = this.path + COMPACT_SUFFIX;
    let fh: JournalFileHandle | null = null;
    let renamed = false;
    try {
      fh = await this.fs.open(tmp, 'w');
      await writeAll(fh, buf, 0);
      await fh.sync();
      this.fsyncs++;
      await this.fs.syncDirectory(dir);
      await this.fs.rename(tmp, this.path);
      renamed = true;
      await this.fs.syncDirectory(dir);
    } catch (e) {
      if (renamed) {
        // The snapshot has replaced the journal, but the directory entry may not be durable: it
        // is the journal from now on, and the retry fsyncs the directory first. A crash before
        // that leaves the old journal, which lacks only records no commit acknowledged.
        this.adoptSnapshot(fh as JournalFileHandle, buf.length, n, taken);
        this.directoryUnsynced = true;
      } else {
        // The snapshot is abandoned; the taken records stay queued for the journal itself.
        await fh?.close().catch(() => undefined);
        await this.fs.unlink(tmp).catch(() => false);
      }
      throw e;
    }
    this.adoptSnapshot(fh, buf.length, n, taken);
    this.compactions++;
    this.flying = null;
    waiters?.resolve();
  }

  /** The snapshot file becomes the journal; the records it reflects leave the queue. */
  private adoptSnapshot(fh: JournalFileHandle, bytes: number, records: number, taken: number): void {
    const old = this.fh;
    this.fh = fh;
    this.size = bytes;
    this.recordsInFile = records;
    this.dropQueued(taken);
    void old.close().catch(() => undefined);
  }
}
