/**
 * The DHCPv6 lease table: the in-memory bindings (RFC 9915 §4.2) of IA_NA addresses (§12.1, one
 * address per IA here) and IA_PD prefixes (§12.2, one delegated prefix per IA), kept over the
 * crash-safe journal of journal.ts.
 *
 * Every change is made the same way: build a journal record, append it, then apply it to the
 * tables with the very function that replays the journal on start. So what a reopen rebuilds is
 * exactly what was in memory when the records were committed. Callers make a batch of changes,
 * then `await table.commit()` before sending the Replies that announce them (group commit).
 *
 * Time is never read from a clock: every operation that depends on it takes `now` (milliseconds
 * since the epoch), so a replay of captured traffic gives the same leases every time.
 *
 * Allocation (RFC 9915 §13.1, §13.3; Request §18.3.2, Decline §18.3.8): a static binding of the
 * client's port wins (matched by the frame's source MAC, the Client Link-Layer Address option 79
 * of RFC 6939, or the DUID); otherwise a client that holds a binding keeps it; otherwise a hint the client gave is honoured
 * when free; otherwise the pool is probed linearly from a start point derived from a hash of
 * DUID, IAID, lease type and network, so a client tends to get the same address back after it
 * lost its binding. Leased, quarantined (declined, §18.3.8) and statically bound addresses are
 * skipped; a lease or quarantine whose time has run out counts as free even before `expire()`
 * reclaims it. An exhausted pool is a result carrying the RFC 9915 §21.13 status NoAddrsAvail or
 * NoPrefixAvail, never a throw.
 *
 * The indexes (by client IA, by address) are byte-keyed maps (src/tables/bytes-map.ts): a Solicit's lookups
 * read the DUID and addresses where they lie and build no key. The probe counts pool positions
 * in plain numbers and writes each candidate into one scratch array; bigints are left to the
 * configuration and to the checks of a held address or a hint against the pools.
 */

import { open as fsOpen } from 'node:fs/promises';
import { IPv6, IPv6CidrRange, RangedSet } from 'ip-num';
import { processesHolding } from '../system/holders.js';
import { hashBytes } from '../tables/hash.js';
import { copyBytes, formatIpv6, sameBytes, sliceBytes, toHex } from '../../codecs/bytes.js';
import { DUID_MAX_LENGTH } from '../../codecs/duid.js';
import { BytesMap } from '../tables/bytes-map.js';
import { runSteps, type Steps } from '../system/steps.js';
import {
  Journal,
  JournalInUseError,
  LeaseType,
  readJournalRecords,
  RecordKind,
  type JournalFs,
  type JournalRecord,
  type JournalRecovery,
  type JournalStats,
  type LeaseRecord,
} from './journal.js';

export { LeaseType } from './journal.js';

/** Outcome of a lease operation, numbered as the RFC 9915 §21.13 status code the Reply carries. */
export const LeaseStatus = {
  Success: 0,
  /** The request itself was unusable (bad DUID length, unknown network...). */
  UnspecFail: 1,
  NoAddrsAvail: 2,
  NoBinding: 3,
  NotOnLink: 4,
  NoPrefixAvail: 6,
} as const;
export type LeaseStatus = (typeof LeaseStatus)[keyof typeof LeaseStatus];

/** One binding. Lease objects are immutable: a renewal replaces the object. */
export interface Lease {
  readonly type: LeaseType;
  /** 16 bytes: the address, or the first address of the prefix. */
  readonly address: Uint8Array;
  /** 128 for an address. */
  readonly prefixLength: number;
  readonly duid: Uint8Array;
  readonly iaid: number;
  readonly networkId: number;
  /** Seconds, as granted. */
  readonly validLifetime: number;
  readonly preferredLifetime: number;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  /** True when the address came from a static binding. */
  readonly isStatic: boolean;
  /** The MAC of the port the request came from (6 bytes), which the per-port limits count by; null when unknown. */
  readonly portMac: Uint8Array | null;
}

/** An address or prefix that a client declined, held back until `until`. */
export interface Quarantine {
  readonly type: LeaseType;
  readonly address: Uint8Array;
  readonly prefixLength: number;
  readonly duid: Uint8Array;
  readonly iaid: number;
  readonly networkId: number;
  readonly until: number;
}

export interface AddressPoolConfig {
  networkId: number;
  type: typeof LeaseType.Address;
  /** First and last address of the range, inclusive: text or 16 bytes. */
  first: string | Uint8Array;
  last: string | Uint8Array;
  validLifetime?: number;
  preferredLifetime?: number;
}

export interface PrefixPoolConfig {
  networkId: number;
  type: typeof LeaseType.Prefix;
  /** The pool, in CIDR notation, e.g. "2001:db8:100::/40". */
  prefix: string;
  /** Length of each delegated prefix, e.g. 56. */
  delegatedLength: number;
  validLifetime?: number;
  preferredLifetime?: number;
}

export type PoolConfig = AddressPoolConfig | PrefixPoolConfig;

/**
 * A reservation (a port's static address or delegated prefix): the client that matches gets this
 * address or prefix on this network. A client matches when its frame's source MAC or its Client
 * Link-Layer Address option equals `mac`, or its DUID equals `duid`; at least one must be given.
 * A port with several addresses is several bindings with the same `mac`: each IA of the client
 * gets the first one not held by another of its IAs.
 */
export interface StaticBinding {
  /** The port's MAC address (6 bytes). */
  mac?: Uint8Array;
  duid?: Uint8Array;
  /** Any IAID of the client when omitted. */
  iaid?: number;
  type: LeaseType;
  networkId: number;
  /** Text or 16 bytes. For a prefix, the first address of the prefix. */
  address: string | Uint8Array;
  /** Required for a prefix; 128 for an address. */
  prefixLength?: number;
  validLifetime?: number;
  preferredLifetime?: number;
}

/**
 * How many pool leases (bindings not from a static reservation) one client, one port and the
 * whole table may hold. A new binding over a limit is refused with NoAddrsAvail or NoPrefixAvail
 * (RFC 9915 §21.13); a binding an IA already holds is renewed and re-granted whatever the counts.
 */
export interface LeaseLimits {
  /** Per client DUID. */
  addressesPerClient: number;
  prefixesPerClient: number;
  /** Per port: the MAC given as `portMac` in the requests. */
  addressesPerPort: number;
  prefixesPerPort: number;
  /** Leases (addresses and prefixes) in the whole table. */
  maxLeases: number;
}

/** Which limit refused a binding: counted in `LeaseTable.refusals`. */
export type LeaseLimitKind = 'client' | 'port' | 'table';

/** What a configuration decides about the table; {@link LeaseTable.reconfigure} replaces it whole. */
export interface LeaseTableConfig {
  pools: PoolConfig[];
  /** Unlimited where not given. */
  limits?: Partial<LeaseLimits>;
  staticBindings?: StaticBinding[];
  /** Defaults for pools and static bindings that give none (seconds; 7200 and 3600). */
  validLifetime?: number;
  preferredLifetime?: number;
  /** How long a declined address stays out of use (ms; default 24 h). */
  declineQuarantineMs?: number;
}

export interface LeaseTableOptions extends LeaseTableConfig {
  /** Passed to the journal. */
  fs?: JournalFs;
  compactionFactor?: number;
  compactionMinRecords?: number;
  /** Told when the journal cut off a torn tail or removed an unfinished snapshot (default: process.emitWarning). */
  onWarning?: (message: string) => void;
  /** Told once per transition when the journal's storage fails (the error) and recovers (null). */
  onStorageChange?: (failure: Error | null) => void;
  /** The configuration's part, already checked and built by {@link leaseTablePlan} from these options. */
  plan?: LeaseTablePlan;
}

/** Who the client is, beyond its DUID: the link-layer addresses static bindings match on. */
export interface ClientLinkLayer {
  /** Source MAC of the frame that carried the request (meaningful for a direct, unrelayed request). */
  sourceMac?: Uint8Array;
  /** The address in a Client Link-Layer Address option (RFC 6939, option 79), e.g. from a relay. */
  clientLinkLayerAddress?: Uint8Array;
}

/** Identifies a client's IA in a request. */
export interface LeaseRequest extends ClientLinkLayer {
  networkId: number;
  type: LeaseType;
  duid: Uint8Array;
  iaid: number;
  /** An address (or prefix start) the client asked for; honoured when free and in a pool. */
  hint?: Uint8Array;
  /** The MAC of the port the request came from (6 bytes; copied when recorded): the per-port limits count by it. */
  portMac?: Uint8Array | null;
}

export interface BindingRequest extends ClientLinkLayer {
  type: LeaseType;
  duid: Uint8Array;
  iaid: number;
  /** The address (or prefix start) the client names; must match the binding when given. */
  address?: Uint8Array;
  /** The network the request arrived on; a binding on another one gives NotOnLink. */
  networkId?: number;
}

export type LeaseResult =
  | {
      readonly status: typeof LeaseStatus.Success;
      readonly lease: Lease;
      /**
       * allocate() only: the binding this IA held before and no longer holds (another address,
       * or another network), for the Reply to list with lifetimes 0 (RFC 9915 §18.3.2); else null.
       */
      readonly replaced: Lease | null;
    }
  | {
      readonly status: Exclude<LeaseStatus, typeof LeaseStatus.Success>;
      readonly lease: null;
      readonly replaced: null;
    };

export interface ExpireResult {
  leases: Lease[];
  quarantinesEnded: number;
}

export interface LeaseCounts {
  addresses: number;
  prefixes: number;
  quarantined: number;
  staticBindings: number;
}

export interface PoolUsage {
  networkId: number;
  type: LeaseType;
  /** "first-last" or the prefix pool with its delegated length. */
  name: string;
  /** Number of addresses or prefixes in the pool. */
  size: bigint;
  leased: number;
  quarantined: number;
}

interface Pool {
  networkId: number;
  type: LeaseType;
  name: string;
  /** Value of the first address. */
  first: bigint;
  /** Number of addresses or prefixes. */
  size: bigint;
  /** Distance between two candidates: 1, or 2^(128 - delegated length). */
  step: bigint;
  /**
   * For the probe, in plain numbers: the first address's bytes, log2(step), and the size capped
   * at 2^52 (a probe never gets that far into a larger pool).
   */
  firstBytes: Uint8Array;
  stepBits: number;
  span: number;
  prefixLength: number;
  validLifetime: number;
  preferredLifetime: number;
}

interface StaticEntry {
  mac: Uint8Array | null;
  duid: Uint8Array | null;
  iaid: number | null;
  type: LeaseType;
  networkId: number;
  address: Uint8Array;
  prefixLength: number;
  validLifetime: number;
  preferredLifetime: number;
  /** Position in the configuration, to keep its order when several match. */
  order: number;
}

interface Choice {
  address: Uint8Array;
  prefixLength: number;
  validLifetime: number;
  preferredLifetime: number;
  isStatic: boolean;
}

const UNLIMITED: LeaseLimits = {
  addressesPerClient: Infinity,
  prefixesPerClient: Infinity,
  addressesPerPort: Infinity,
  prefixesPerPort: Infinity,
  maxLeases: Infinity,
};

/** A count kept in a BytesMap: an object, so a change needs no second lookup. */
interface Counter {
  n: number;
}

/** Adds delta to the count of (key, type) and returns the new count. */
function bump(map: BytesMap<Counter>, key: Uint8Array, type: LeaseType, delta: number): number {
  const c = map.get(key, 0, key.length, type, 0);
  if (c === undefined) {
    if (delta > 0) map.set(key, type, 0, { n: delta });
    return Math.max(0, delta);
  }
  c.n += delta;
  if (c.n <= 0) map.delete(key, 0, key.length, type, 0);
  return c.n;
}

/**
 * The start of a client's probe in a pool: 53 bits from two hashes (hashBytes with two fixed
 * seeds) over the DUID, IAID, type and network. Spreads clients over the pool, and gives a client
 * the same start after a restart; a cryptographic hash would cost more than the whole Advertise.
 */
function clientHash(duid: Uint8Array, iaid: number, type: number, networkId: number): number {
  const a = hashBytes(0x811c9dc5 ^ type, duid, 0, duid.length, iaid, networkId);
  const b = hashBytes(0x050c5d1f ^ type, duid, 0, duid.length, iaid, networkId);
  // 53 bits, the most a number holds exactly: 21 of the first hash over the 32 of the second.
  return (a & 0x1fffff) * 0x100000000 + b;
}

/**
 * Writes first + index * 2^stepBits into out (16 bytes, big-endian): the index-th candidate of
 * a pool. `index` is a whole number below 2^53, added a byte at a time (a byte shifted by the
 * bits below a byte boundary stays below 2^15, so every sum is exact).
 */
export function poolCandidate(first: Uint8Array, index: number, stepBits: number, out: Uint8Array): void {
  copyBytes(first, 0, out, 0, 16);
  const shift = 1 << (stepBits & 7);
  let carry = 0;
  for (let pos = 15 - (stepBits >>> 3); pos >= 0 && (index > 0 || carry > 0); pos--) {
    const low = index % 256;
    index = (index - low) / 256;
    const v = (out[pos] as number) + low * shift + carry;
    out[pos] = v & 0xff;
    carry = v >>> 8;
  }
}

/** The probe's candidate, copied out only when it is free. */
const candidate = new Uint8Array(16);

/**
 * 128-bit conversions go through one scratch buffer in two 64-bit halves: two BigInt steps, not
 * sixteen. (A DataView over a fresh 16-byte array would be worse: V8 keeps arrays that small
 * inside the object and must move the bytes out to give the view a buffer.)
 */
const scratch = new ArrayBuffer(16);
const scratchBytes = new Uint8Array(scratch);
const scratchWords = new DataView(scratch);

/** The 16 bytes as a 128-bit number. */
function toBigInt(address: Uint8Array): bigint {
  for (let i = 0; i < 16; i++) scratchBytes[i] = address[i] as number;
  return (scratchWords.getBigUint64(0) << 64n) | scratchWords.getBigUint64(8);
}

function toBytes(value: bigint): Uint8Array {
  scratchWords.setBigUint64(0, value >> 64n);
  // setBigUint64 stores the value modulo 2^64: the low half.
  scratchWords.setBigUint64(8, value);
  return scratchBytes.slice();
}

/** What a check names in its error: the text, or what makes it when a check fails. */
type Named = string | (() => string);
const named = (what: Named): string => (typeof what === 'string' ? what : what());

function parseAddress(text: string | Uint8Array, what: Named): Uint8Array {
  if (typeof text !== 'string') {
    if (text.length !== 16) throw new RangeError(`${named(what)}: address is not 16 bytes`);
    return sliceBytes(text, 0, text.length);
  }
  try {
    return toBytes(IPv6.fromString(text).getValue());
  } catch (e) {
    throw new RangeError(
      `${named(what)}: "${text}" is not an IPv6 address (${e instanceof Error ? e.message : String(e)})`,
      {
        cause: e,
      },
    );
  }
}

function checkLifetimes(valid: number, preferred: number, what: Named): void {
  if (
    !Number.isInteger(valid) ||
    !Number.isInteger(preferred) ||
    preferred < 0 ||
    valid < 1 ||
    valid > 0xffffffff ||
    preferred > valid
  ) {
    throw new RangeError(
      `${named(what)}: lifetimes must be integers with 0 <= preferred <= valid < 2^32 and valid >= 1`,
    );
  }
}

function validDuid(duid: Uint8Array): boolean {
  return duid.length >= 1 && duid.length <= DUID_MAX_LENGTH;
}

function validIaid(iaid: number): boolean {
  return Number.isInteger(iaid) && iaid >= 0 && iaid <= 0xffffffff;
}

function validNow(now: number): boolean {
  return Number.isSafeInteger(now) && now >= 0;
}

function failure(status: Exclude<LeaseStatus, typeof LeaseStatus.Success>): LeaseResult {
  return { status, lease: null, replaced: null };
}

function exhausted(type: LeaseType): LeaseResult {
  return failure(type === LeaseType.Prefix ? LeaseStatus.NoPrefixAvail : LeaseStatus.NoAddrsAvail);
}

/** Whether the static binding names this client (by either link-layer address, or by DUID). */
function staticMatchesClient(s: StaticEntry, duid: Uint8Array, iaid: number, ll: ClientLinkLayer): boolean {
  if (s.iaid !== null && s.iaid !== iaid) return false;
  if (s.duid !== null && sameBytes(s.duid, duid)) return true;
  if (s.mac === null) return false;
  return (
    (ll.sourceMac !== undefined && sameBytes(s.mac, ll.sourceMac)) ||
    (ll.clientLinkLayerAddress !== undefined && sameBytes(s.mac, ll.clientLinkLayerAddress))
  );
}

/**
 * The lease table. Open it with {@link LeaseTable.open}; it replays the journal, then every
 * operation appends to the journal and updates memory at once. Call {@link commit} (and wait
 * for it) before announcing any change to a client.
 */
export class LeaseTable {
  // What the configuration decides (pools, reservations, quarantine time): set together by
  // reconfigure(), which the constructor calls. Plain fields rather than one object, so the
  // allocation path reads them directly.
  private pools!: Pool[];
  private declineQuarantineMs!: number;
  /** Statically bound addresses (never handed out from a pool). */
  private staticAddresses!: BytesMap<StaticEntry>;
  /** Static bindings by MAC and by DUID, with the lease type and network; in configuration order. */
  private staticByMac!: BytesMap<StaticEntry[]>;
  private staticByDuid!: BytesMap<StaticEntry[]>;
  /** Leases by client IA: the DUID, with the IAID and the lease type. */
  private readonly byClient = new BytesMap<Lease>();
  /** Leases, quarantines and static bindings by address (16 bytes; no integers: 0, 0). */
  private readonly byAddress = new BytesMap<Lease>();
  private readonly quarantine = new BytesMap<Quarantine>();
  /** Pool leases per client DUID and per port MAC, by lease type (see LeaseLimits). */
  private readonly perClient = new BytesMap<Counter>();
  private readonly perPort = new BytesMap<Counter>();
  private limits!: LeaseLimits;
  /** The most pool leases of one type one client, and one port, has held since the table opened. */
  private mostPerClient = 0;
  private mostPerPort = 0;
  /** New bindings refused by a limit, by limit. */
  readonly refusals: Record<LeaseLimitKind, number> = { client: 0, port: 0, table: 0 };
  private journalRef: Journal | null = null;

  private constructor(options: LeaseTableOptions) {
    this.usePlan(options.plan ?? runSteps(leaseTablePlan(options)));
  }

  /**
   * Replaces the pools, the static bindings, the limits, the default lifetimes and the quarantine time (a
   * configuration reload that keeps the journal). Everything is checked and built aside first,
   * with the checks of {@link LeaseTable.open}: on a throw the table is unchanged. Then it is
   * swapped in at once. The leases and quarantines stay as they are, whatever pool they came
   * from: a lease outside the new pools can still be renewed (with its own lifetimes) and moves
   * into a pool when its client requests again; a lease on a newly reserved address ends when
   * its holder renews it (NoBinding). Nothing is journaled: pools are configuration, not state.
   */
  reconfigure(options: LeaseTableConfig): void {
    this.usePlan(runSteps(leaseTablePlan(options)));
  }

  /**
   * {@link reconfigure} with the plan built beforehand by {@link leaseTablePlan} (in steps, while
   * the table answers): the swap itself, which takes the same time whatever the configuration.
   */
  usePlan(plan: LeaseTablePlan): void {
    this.pools = plan.pools;
    this.declineQuarantineMs = plan.declineQuarantineMs;
    this.staticAddresses = plan.staticAddresses;
    this.staticByMac = plan.staticByMac;
    this.staticByDuid = plan.staticByDuid;
    this.limits = plan.limits;
  }
  /**
   * Opens the journal at `path` (created when missing), replays it and returns the table. A
   * journal another process holds open for writing (a running punt6, `punt6 leases release`) is
   * refused with JournalInUseError before anything is read or written: one writer at a time.
   */
  static async open(path: string, options: LeaseTableOptions): Promise<LeaseTable> {
    const table = new LeaseTable(options);
    // Held for writing while the others are looked for: of two processes opening the same
    // journal at once, the one that looks last sees the other (src/system/holders.ts).
    const guard = await fsOpen(path, 'r+').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    try {
      if (guard !== null) {
        const holders = await processesHolding(path);
        if (holders.pids.length > 0) throw new JournalInUseError(path, holders.pids);
      }
      table.journalRef = await Journal.open(path, {
        fs: options.fs,
        compactionFactor: options.compactionFactor,
        compactionMinRecords: options.compactionMinRecords,
        onWarning: options.onWarning,
        onStorageChange: options.onStorageChange,
        replay: (record) => table.apply(record),
        live: {
          count: () => table.byAddress.size + table.quarantine.size,
          records: () => table.liveRecords(),
        },
      });
    } finally {
      await guard?.close();
    }
    return table;
  }

  /**
   * The table as the journal at `path` has it, read without opening it for writing, so it can
   * be read beside the punt6 that writes it (a torn tail is left for that writer to cut). The
   * table has no journal: lookups answer, and any change throws.
   */
  static async read(path: string, options: LeaseTableOptions): Promise<LeaseTable> {
    const table = new LeaseTable(options);
    for (const record of await readJournalRecords(path)) table.apply(record);
    return table;
  }

  get journal(): Journal {
    if (this.journalRef === null) throw new Error('lease table: no journal');
    return this.journalRef;
  }

  /** What the journal found on open (records replayed, torn tail cut off...). */
  get recovery(): JournalRecovery {
    return this.journal.recovery;
  }

  /**
   * Whether a change made now can be committed. False while the journal's storage fails (full
   * disk, I/O error; retried in the background): make no change then, since no Reply could
   * announce it.
   */
  get writable(): boolean {
    return this.journalRef !== null && this.journalRef.writable;
  }

  /** Resolves once every change made so far is durable; send Replies after it. */
  commit(): Promise<void> {
    return this.journal.commit();
  }

  /** Commits what is pending and closes the journal. */
  close(): Promise<void> {
    return this.journal.close();
  }

  // ---------------------------------------------------------------- operations

  /**
   * Grants (or re-grants with fresh lifetimes) a binding for the client's IA (Request, or a
   * Solicit with Rapid Commit). A binding the IA held on another network, or on an address it no
   * longer gets, is ended and returned as `replaced`. Returns NoAddrsAvail / NoPrefixAvail when
   * nothing is free, UnspecFail for an unusable request.
   */
  allocate(req: LeaseRequest, now: number): LeaseResult {
    if (!validDuid(req.duid) || !validIaid(req.iaid) || !validNow(now)) return failure(LeaseStatus.UnspecFail);
    const choice = this.choose(req, now);
    if (choice === null) return exhausted(req.type);
    const held = this.leaseOf(req.duid, req.iaid, req.type) ?? null;
    if (held === null && !choice.isStatic && this.mayBeOverLimit(req) && this.overLimit(req))
      return exhausted(req.type);
    let replaced: Lease | null = null;
    if (held !== null && (held.networkId !== req.networkId || !sameBytes(held.address, choice.address))) {
      this.record(RecordKind.Release, held, held.expiresAt, held.validLifetime, held.preferredLifetime);
      replaced = held;
    }
    const lease = this.record(
      RecordKind.Grant,
      {
        type: req.type,
        address: choice.address,
        prefixLength: choice.prefixLength,
        duid: req.duid,
        iaid: req.iaid,
        networkId: req.networkId,
        portMac: req.portMac ?? null,
      },
      now + choice.validLifetime * 1000,
      choice.validLifetime,
      choice.preferredLifetime,
    );
    return { status: LeaseStatus.Success, lease: lease as Lease, replaced };
  }

  /**
   * What {@link allocate} would grant, without granting it (for an Advertise). Changes nothing
   * and journals nothing. The address is not reserved: a later allocate may give another one.
   * The proposal is for the reply being written: its `duid` is `req.duid` itself, not a copy
   * (often a view of the received frame), so do not keep it past the request.
   */
  propose(req: LeaseRequest, now: number): LeaseResult {
    if (!validDuid(req.duid) || !validIaid(req.iaid) || !validNow(now)) return failure(LeaseStatus.UnspecFail);
    const choice = this.choose(req, now);
    if (choice === null) return exhausted(req.type);
    if (
      !choice.isStatic &&
      this.mayBeOverLimit(req) &&
      this.leaseOf(req.duid, req.iaid, req.type) === undefined &&
      this.overLimit(req)
    )
      return exhausted(req.type);
    const lease: Lease = {
      type: req.type,
      address: choice.address,
      prefixLength: choice.prefixLength,
      duid: req.duid,
      iaid: req.iaid,
      networkId: req.networkId,
      validLifetime: choice.validLifetime,
      preferredLifetime: choice.preferredLifetime,
      expiresAt: now + choice.validLifetime * 1000,
      isStatic: choice.isStatic,
      portMac: req.portMac ?? null,
    };
    return { status: LeaseStatus.Success, lease, replaced: null };
  }

  /**
   * Extends the client's binding (Renew, Rebind) from `now`. NoBinding when the client holds
   * none, or holds another address than the one named, or its address is now reserved for
   * another client (the binding is then ended); NotOnLink when the binding belongs to another
   * network. For a statically bound address the request's MAC fields or DUID must still match
   * the reservation, so pass the same identity as to allocate().
   */
  renew(req: BindingRequest, now: number): LeaseResult {
    if (!validNow(now)) return failure(LeaseStatus.UnspecFail);
    const held = this.held(req);
    if (held === null) return failure(LeaseStatus.NoBinding);
    if (req.networkId !== undefined && held.networkId !== req.networkId) return failure(LeaseStatus.NotOnLink);
    const bound = this.staticAddresses.get(held.address, 0, 16, 0, 0);
    if (
      bound !== undefined &&
      !(
        bound.networkId === held.networkId &&
        bound.type === held.type &&
        staticMatchesClient(bound, req.duid, req.iaid, req)
      )
    ) {
      // Reserved for another client since it was granted: take it back now.
      this.record(RecordKind.Expire, held, held.expiresAt, held.validLifetime, held.preferredLifetime);
      return failure(LeaseStatus.NoBinding);
    }
    const lifetimes = bound ?? this.poolFor(held.networkId, held.type, toBigInt(held.address));
    const valid = lifetimes?.validLifetime ?? held.validLifetime;
    const preferred = lifetimes?.preferredLifetime ?? held.preferredLifetime;
    const lease = this.record(RecordKind.Renew, held, now + valid * 1000, valid, preferred);
    return { status: LeaseStatus.Success, lease: lease as Lease, replaced: null };
  }

  /** Ends the client's binding (Release); the address is free at once. NoBinding when it holds none matching. */
  release(req: BindingRequest): LeaseResult {
    const held = this.held(req);
    if (held === null) return failure(LeaseStatus.NoBinding);
    this.record(RecordKind.Release, held, held.expiresAt, held.validLifetime, held.preferredLifetime);
    return { status: LeaseStatus.Success, lease: held, replaced: null };
  }

  /**
   * The client found its address in use (Decline): the binding ends and the address is
   * quarantined until `now + declineQuarantineMs`, handed to nobody meanwhile.
   */
  decline(req: BindingRequest, now: number): LeaseResult {
    if (!validNow(now)) return failure(LeaseStatus.UnspecFail);
    const held = this.held(req);
    if (held === null) return failure(LeaseStatus.NoBinding);
    this.record(RecordKind.Decline, held, now + this.declineQuarantineMs, 0, 0);
    return { status: LeaseStatus.Success, lease: held, replaced: null };
  }

  /**
   * Reclaims every lease whose expiry time is at or before `now`, and ends every quarantine that
   * has run out; each is journaled as an Expire record (commit to make it durable).
   */
  expire(now: number): ExpireResult {
    if (!validNow(now)) throw new RangeError('lease table: now must be a non-negative integer (ms)');
    const leases: Lease[] = [];
    for (const lease of this.byAddress.values()) if (lease.expiresAt <= now) leases.push(lease);
    const ended: Quarantine[] = [];
    for (const q of this.quarantine.values()) if (q.until <= now) ended.push(q);
    for (const lease of leases)
      this.record(RecordKind.Expire, lease, lease.expiresAt, lease.validLifetime, lease.preferredLifetime);
    for (const q of ended) this.record(RecordKind.Expire, q, q.until, 0, 0);
    return { leases, quarantinesEnded: ended.length };
  }

  // ---------------------------------------------------------------- lookups and gauges

  /** The binding of this IA, even when its time has run out and expire() has not reclaimed it yet. */
  lookup(duid: Uint8Array, iaid: number, type: LeaseType): Lease | undefined {
    return this.leaseOf(duid, iaid, type);
  }

  /** The lease on this address (or starting this prefix), same caveat as {@link lookup}. */
  lookupAddress(address: Uint8Array): Lease | undefined {
    return address.length === 16 ? this.byAddress.get(address, 0, 16, 0, 0) : undefined;
  }

  /** Every binding held under this DUID (all its IAs), e.g. for a Confirm or an Information log. */
  lookupClient(duid: Uint8Array): Lease[] {
    const out: Lease[] = [];
    for (const l of this.byAddress.values()) if (sameBytes(l.duid, duid)) out.push(l);
    return out;
  }

  quarantined(address: Uint8Array): Quarantine | undefined {
    return address.length === 16 ? this.quarantine.get(address, 0, 16, 0, 0) : undefined;
  }

  /** Every live lease (insertion order). */
  leases(): IterableIterator<Lease> {
    return this.byAddress.values();
  }

  quarantines(): IterableIterator<Quarantine> {
    return this.quarantine.values();
  }

  counts(): LeaseCounts {
    let prefixes = 0;
    for (const l of this.byAddress.values()) if (l.type === LeaseType.Prefix) prefixes++;
    return {
      addresses: this.byAddress.size - prefixes,
      prefixes,
      quarantined: this.quarantine.size,
      staticBindings: this.staticAddresses.size,
    };
  }

  poolUsage(): PoolUsage[] {
    const usage = this.pools.map((p): PoolUsage => ({
      networkId: p.networkId,
      type: p.type,
      name: p.name,
      size: p.size,
      leased: 0,
      quarantined: 0,
    }));
    const find = (type: LeaseType, address: Uint8Array): PoolUsage | undefined => {
      const v = toBigInt(address);
      const i = this.pools.findIndex((p) => p.type === type && v >= p.first && v < p.first + p.size * p.step);
      return i < 0 ? undefined : usage[i];
    };
    for (const l of this.byAddress.values()) {
      const u = find(l.type, l.address);
      if (u !== undefined) u.leased++;
    }
    for (const q of this.quarantine.values()) {
      const u = find(q.type, q.address);
      if (u !== undefined) u.quarantined++;
    }
    return usage;
  }

  journalStats(): JournalStats {
    return this.journal.stats();
  }

  // ---------------------------------------------------------------- internals

  private leaseOf(duid: Uint8Array, iaid: number, type: LeaseType): Lease | undefined {
    return this.byClient.get(duid, 0, duid.length, iaid, type);
  }

  private held(req: BindingRequest): Lease | null {
    if (!validDuid(req.duid) || !validIaid(req.iaid)) return null;
    const held = this.leaseOf(req.duid, req.iaid, req.type);
    if (held === undefined) return null;
    if (req.address !== undefined && (req.address.length !== 16 || !sameBytes(req.address, held.address))) return null;
    return held;
  }

  /** The static bindings that name this client's IA on this network, in configuration order. */
  private staticCandidates(req: LeaseRequest): StaticEntry[] {
    if (this.staticAddresses.size === 0) return [];
    const found = new Set<StaticEntry>();
    const add = (list: StaticEntry[] | undefined): void => {
      if (list !== undefined) for (const e of list) if (e.iaid === null || e.iaid === req.iaid) found.add(e);
    };
    const mac = req.sourceMac;
    if (mac !== undefined) add(this.staticByMac.get(mac, 0, mac.length, req.type, req.networkId));
    const cll = req.clientLinkLayerAddress;
    if (cll !== undefined) add(this.staticByMac.get(cll, 0, cll.length, req.type, req.networkId));
    add(this.staticByDuid.get(req.duid, 0, req.duid.length, req.type, req.networkId));
    return [...found].sort((a, b) => a.order - b.order);
  }

  private poolFor(networkId: number, type: LeaseType, value: bigint): Pool | undefined {
    for (const p of this.pools) {
      if (p.networkId !== networkId || p.type !== type || value < p.first) continue;
      const d = value - p.first;
      if (d % p.step === 0n && d / p.step < p.size) return p;
    }
    return undefined;
  }

  /** Free at `now`: no unexpired lease, no unfinished quarantine, and (unless `staticOk`) no reservation. */
  private isFree(address: Uint8Array, now: number, staticOk = false): boolean {
    const lease = this.byAddress.get(address, 0, 16, 0, 0);
    if (lease !== undefined && lease.expiresAt > now) return false;
    // Quarantines and reservations are few or none: no hashing when there are none.
    const q = this.quarantine.size === 0 ? undefined : this.quarantine.get(address, 0, 16, 0, 0);
    if (q !== undefined && q.until > now) return false;
    return staticOk || this.staticAddresses.size === 0 || !this.staticAddresses.has(address, 0, 16, 0, 0);
  }

  private choose(req: LeaseRequest, now: number): Choice | null {
    // 1. The port's reservations: the one this IA holds, else the first free one. One held by
    // another of the client's IAs, by another client, or quarantined is skipped.
    const statics = this.staticCandidates(req);
    if (statics.length > 0) {
      let pick: StaticEntry | null = null;
      for (const e of statics) {
        const holder = this.byAddress.get(e.address, 0, 16, 0, 0);
        if (
          holder !== undefined &&
          holder.iaid === req.iaid &&
          holder.type === req.type &&
          sameBytes(holder.duid, req.duid) &&
          holder.networkId === req.networkId
        ) {
          pick = e;
          break;
        }
        if (pick === null && this.isFree(e.address, now, true)) pick = e;
      }
      if (pick !== null) {
        return {
          address: pick.address,
          prefixLength: pick.prefixLength,
          validLifetime: pick.validLifetime,
          preferredLifetime: pick.preferredLifetime,
          isStatic: true,
        };
      }
    }
    // 2. The binding the IA already holds on this network, while it is still in a pool.
    const held = this.leaseOf(req.duid, req.iaid, req.type);
    if (held !== undefined && held.networkId === req.networkId) {
      const pool = this.poolFor(held.networkId, held.type, toBigInt(held.address));
      if (pool !== undefined && !this.staticAddresses.has(held.address, 0, 16, 0, 0)) {
        return {
          address: held.address,
          prefixLength: held.prefixLength,
          validLifetime: pool.validLifetime,
          preferredLifetime: pool.preferredLifetime,
          isStatic: false,
        };
      }
    }
    // 3. The client's hint, when it is a free pool position.
    if (req.hint !== undefined && req.hint.length === 16) {
      const pool = this.poolFor(req.networkId, req.type, toBigInt(req.hint));
      if (pool !== undefined && this.isFree(req.hint, now)) {
        return {
          address: sliceBytes(req.hint, 0, req.hint.length),
          prefixLength: pool.prefixLength,
          validLifetime: pool.validLifetime,
          preferredLifetime: pool.preferredLifetime,
          isStatic: false,
        };
      }
    }
    // 4. Linear probing from the client's hashed position, pool by pool in configuration order.
    // Numbers, not bigints: a pool's span is below 2^53 (see Pool), and so is every index.
    const hash = clientHash(req.duid, req.iaid, req.type, req.networkId);
    // Among (occupied + 1) distinct candidates at least one is free when the pool is larger than that.
    const occupied = this.byAddress.size + this.quarantine.size + this.staticAddresses.size;
    for (const pool of this.pools) {
      if (pool.networkId !== req.networkId || pool.type !== req.type) continue;
      const probes = Math.min(pool.span, occupied + 1);
      const start = hash % pool.span;
      for (let i = 0; i < probes; i++) {
        let index = start + i;
        if (index >= pool.span) index -= pool.span;
        poolCandidate(pool.firstBytes, index, pool.stepBits, candidate);
        if (this.isFree(candidate, now)) {
          return {
            address: sliceBytes(candidate, 0, candidate.length),
            prefixLength: pool.prefixLength,
            validLifetime: pool.validLifetime,
            preferredLifetime: pool.preferredLifetime,
            isStatic: false,
          };
        }
      }
    }
    return null;
  }

  /** Journals one change, then applies it exactly as a replay would; returns the resulting lease, if any. */
  private record(
    kind: RecordKind,
    b: {
      type: LeaseType;
      address: Uint8Array;
      prefixLength: number;
      duid: Uint8Array;
      iaid: number;
      networkId: number;
      portMac?: Uint8Array | null;
    },
    expiresAt: number,
    validLifetime: number,
    preferredLifetime: number,
  ): Lease | undefined {
    const r: LeaseRecord = {
      kind,
      leaseType: b.type,
      prefixLength: b.prefixLength,
      address: b.address,
      iaid: b.iaid,
      duid: b.duid,
      validLifetime,
      preferredLifetime,
      expiresAt,
      networkId: b.networkId,
      portMac: b.portMac ?? null,
    };
    this.journal.append(r);
    return this.apply(r);
  }

  /**
   * Applies one record to the tables. Used for replay and for live changes alike, so both build
   * the same state. Never lets two leases share an address: a Grant takes the address from any
   * earlier holder (whose time had run out) and ends the IA's earlier binding.
   */
  private apply(r: LeaseRecord | JournalRecord): Lease | undefined {
    const a = r.address;
    switch (r.kind) {
      case RecordKind.Grant:
      case RecordKind.Renew: {
        this.dropClient(r.duid, r.iaid, r.leaseType);
        this.dropAddress(a);
        this.quarantine.delete(a, 0, 16, 0, 0);
        const bound = this.staticAddresses.get(a, 0, 16, 0, 0);
        const lease: Lease = {
          type: r.leaseType,
          address: sliceBytes(a, 0, 16),
          prefixLength: r.prefixLength,
          duid: sliceBytes(r.duid, 0, r.duid.length),
          iaid: r.iaid,
          networkId: r.networkId,
          validLifetime: r.validLifetime,
          preferredLifetime: r.preferredLifetime,
          expiresAt: r.expiresAt,
          // Only the static step of choose() grants a reserved address on its own network.
          isStatic: bound !== undefined && bound.networkId === r.networkId && bound.type === r.leaseType,
          portMac: r.portMac == null ? null : sliceBytes(r.portMac, 0, 6),
        };
        this.byClient.set(lease.duid, lease.iaid, lease.type, lease);
        this.byAddress.set(lease.address, 0, 0, lease);
        this.count(lease, 1);
        return lease;
      }
      case RecordKind.Release:
        this.dropAddress(a);
        return undefined;
      case RecordKind.Decline: {
        this.dropAddress(a);
        const q: Quarantine = {
          type: r.leaseType,
          address: sliceBytes(a, 0, 16),
          prefixLength: r.prefixLength,
          duid: sliceBytes(r.duid, 0, r.duid.length),
          iaid: r.iaid,
          networkId: r.networkId,
          until: r.expiresAt,
        };
        this.quarantine.set(q.address, 0, 0, q);
        return undefined;
      }
      case RecordKind.Expire:
        if (!this.dropAddress(a)) this.quarantine.delete(a, 0, 16, 0, 0);
        return undefined;
    }
    return undefined;
  }

  private dropClient(duid: Uint8Array, iaid: number, type: LeaseType): void {
    const old = this.leaseOf(duid, iaid, type);
    if (old === undefined) return;
    this.byClient.delete(old.duid, 0, old.duid.length, old.iaid, old.type);
    this.byAddress.delete(old.address, 0, 16, 0, 0);
    this.count(old, -1);
  }

  private dropAddress(a: Uint8Array): boolean {
    const old = this.byAddress.get(a, 0, 16, 0, 0);
    if (old === undefined) return false;
    this.byAddress.delete(old.address, 0, 16, 0, 0);
    this.byClient.delete(old.duid, 0, old.duid.length, old.iaid, old.type);
    this.count(old, -1);
    return true;
  }

  /** Keeps the per-client and per-port counts of pool leases (static ones are not limited). */
  private count(l: Lease, delta: number): void {
    if (l.isStatic) return;
    const c = bump(this.perClient, l.duid, l.type, delta);
    if (c > this.mostPerClient) this.mostPerClient = c;
    if (l.portMac === null) return;
    const p = bump(this.perPort, l.portMac, l.type, delta);
    if (p > this.mostPerPort) this.mostPerPort = p;
  }

  /**
   * Whether a limit can be reached at all: no when the table is below its size limit and no
   * client or port has ever held as many leases as its limit, which spares the count lookups of
   * nearly every request. The bounds only grow, so a `false` is always right.
   */
  private mayBeOverLimit(req: LeaseRequest): boolean {
    const lim = this.limits;
    if (this.byAddress.size >= lim.maxLeases) return true;
    const address = req.type === LeaseType.Address;
    if (this.mostPerClient >= (address ? lim.addressesPerClient : lim.prefixesPerClient)) return true;
    return req.portMac != null && this.mostPerPort >= (address ? lim.addressesPerPort : lim.prefixesPerPort);
  }

  /** Whether a new pool binding for this request is over a limit; counts the refusal. */
  private overLimit(req: LeaseRequest): boolean {
    const lim = this.limits;
    const address = req.type === LeaseType.Address;
    let kind: LeaseLimitKind | null = null;
    if (this.byAddress.size >= lim.maxLeases) kind = 'table';
    else if (
      (this.perClient.get(req.duid, 0, req.duid.length, req.type, 0)?.n ?? 0) >=
      (address ? lim.addressesPerClient : lim.prefixesPerClient)
    )
      kind = 'client';
    else if (
      req.portMac != null &&
      (this.perPort.get(req.portMac, 0, req.portMac.length, req.type, 0)?.n ?? 0) >=
        (address ? lim.addressesPerPort : lim.prefixesPerPort)
    )
      kind = 'port';
    if (kind === null) return false;
    this.refusals[kind]++;
    return true;
  }

  /** The live state as records (a Grant per lease, a Decline per quarantine), for compaction. */
  private *liveRecords(): Generator<LeaseRecord> {
    for (const l of this.byAddress.values()) {
      yield {
        kind: RecordKind.Grant,
        leaseType: l.type,
        prefixLength: l.prefixLength,
        address: l.address,
        iaid: l.iaid,
        duid: l.duid,
        validLifetime: l.validLifetime,
        preferredLifetime: l.preferredLifetime,
        expiresAt: l.expiresAt,
        networkId: l.networkId,
        portMac: l.portMac,
      };
    }
    for (const q of this.quarantine.values()) {
      yield {
        kind: RecordKind.Decline,
        leaseType: q.type,
        prefixLength: q.prefixLength,
        address: q.address,
        iaid: q.iaid,
        duid: q.duid,
        validLifetime: 0,
        preferredLifetime: 0,
        expiresAt: q.until,
        networkId: q.networkId,
      };
    }
  }
}

/** Pools, reservations and quarantine time, checked and indexed: what {@link LeaseTable.reconfigure} swaps in. */
export interface LeaseTablePlan {
  pools: Pool[];
  declineQuarantineMs: number;
  staticAddresses: BytesMap<StaticEntry>;
  staticByMac: BytesMap<StaticEntry[]>;
  staticByDuid: BytesMap<StaticEntry[]>;
  limits: LeaseLimits;
}

/**
 * Checks and builds a plan, a static binding a step (src/system/steps.ts); throws a RangeError
 * naming what cannot work.
 */
export function* leaseTablePlan(options: LeaseTableConfig): Steps<LeaseTablePlan> {
  const declineQuarantineMs = options.declineQuarantineMs ?? 24 * 3600 * 1000;
  if (!Number.isSafeInteger(declineQuarantineMs) || declineQuarantineMs < 0) {
    throw new RangeError('declineQuarantineMs must be a non-negative integer');
  }
  const limits = { ...UNLIMITED, ...options.limits };
  for (const [k, v] of Object.entries(limits)) {
    if (!(Number.isInteger(v) && v >= 0) && v !== Infinity)
      throw new RangeError(`lease limits: ${k} must be a non-negative integer`);
  }
  const valid = options.validLifetime ?? 7200;
  const preferred = options.preferredLifetime ?? 3600;
  checkLifetimes(valid, preferred, 'lease table defaults');
  const pools = options.pools.map((p) => buildPool(p, valid, preferred));
  for (let i = 0; i < pools.length; i++) {
    for (let j = i + 1; j < pools.length; j++) {
      const a = pools[i] as Pool;
      const b = pools[j] as Pool;
      const aEnd = a.first + a.size * a.step;
      const bEnd = b.first + b.size * b.step;
      if (a.first < bEnd && b.first < aEnd) throw new RangeError(`pools ${a.name} and ${b.name} overlap`);
    }
  }
  const plan: LeaseTablePlan = {
    pools,
    declineQuarantineMs,
    staticAddresses: new BytesMap(),
    staticByMac: new BytesMap(),
    staticByDuid: new BytesMap(),
    limits,
  };
  const bindings = options.staticBindings ?? [];
  for (let order = 0; order < bindings.length; order++) {
    if (order > 0) yield;
    addStatic(plan, bindings[order] as StaticBinding, order, valid, preferred);
  }
  return plan;
}

/** `static binding 3 (MAC 020000000001, DUID 0003…)`, for errors. */
function staticBindingName(s: StaticBinding, order: number): string {
  const who = [s.mac !== undefined ? `MAC ${toHex(s.mac)}` : '', s.duid !== undefined ? `DUID ${toHex(s.duid)}` : '']
    .filter((x) => x !== '')
    .join(', ');
  return `static binding ${order} (${who === '' ? 'no client' : who})`;
}

function addStatic(plan: LeaseTablePlan, s: StaticBinding, order: number, valid: number, preferred: number): void {
  // Named only when a check fails.
  const what = (): string => staticBindingName(s, order);
  if (s.mac === undefined && s.duid === undefined)
    throw new RangeError(`${what()}: needs a MAC or a DUID to match the client`);
  if (s.mac !== undefined && (s.mac.length < 1 || s.mac.length > 20))
    throw new RangeError(`${what()}: a link-layer address is 1-20 bytes`);
  if (s.duid !== undefined && !validDuid(s.duid))
    throw new RangeError(`${what()}: DUID must be 1-${DUID_MAX_LENGTH} bytes`);
  if (s.iaid !== undefined && !validIaid(s.iaid)) throw new RangeError(`${what()}: bad IAID`);
  if (!Number.isInteger(s.networkId) || s.networkId < 0 || s.networkId > 0xffffffff)
    throw new RangeError(`${what()}: networkId must be a 32-bit unsigned integer`);
  const prefixLength = s.type === LeaseType.Address ? 128 : (s.prefixLength ?? -1);
  if (!Number.isInteger(prefixLength) || prefixLength < 1 || prefixLength > 128)
    throw new RangeError(`${what()}: a prefix needs a prefixLength of 1-128`);
  const entry: StaticEntry = {
    mac: s.mac === undefined ? null : sliceBytes(s.mac, 0, s.mac.length),
    duid: s.duid === undefined ? null : sliceBytes(s.duid, 0, s.duid.length),
    iaid: s.iaid ?? null,
    type: s.type,
    networkId: s.networkId,
    address: parseAddress(s.address, what),
    prefixLength,
    validLifetime: s.validLifetime ?? valid,
    preferredLifetime: s.preferredLifetime ?? preferred,
    order,
  };
  checkLifetimes(entry.validLifetime, entry.preferredLifetime, what);
  const value = toBigInt(entry.address);
  if (prefixLength < 128 && (value & ((1n << BigInt(128 - prefixLength)) - 1n)) !== 0n) {
    throw new RangeError(`${what()}: host bits set in ${formatIpv6(entry.address)}/${prefixLength}`);
  }
  if (s.type === LeaseType.Prefix) {
    // A reserved prefix inside a delegation pool must be exactly one of the pool's prefixes,
    // or the pool could hand out a prefix that overlaps it.
    const end = value + (1n << BigInt(128 - prefixLength));
    for (const p of plan.pools) {
      if (p.type !== LeaseType.Prefix || end <= p.first || value >= p.first + p.size * p.step) continue;
      if (prefixLength !== p.prefixLength)
        throw new RangeError(`${what()}: overlaps pool ${p.name} with another length`);
    }
  }
  if (plan.staticAddresses.has(entry.address, 0, 16, 0, 0))
    throw new RangeError(`${what()}: ${formatIpv6(entry.address)} is bound twice`);
  plan.staticAddresses.set(entry.address, 0, 0, entry);
  const index = (map: BytesMap<StaticEntry[]>, key: Uint8Array): void => {
    const list = map.get(key, 0, key.length, entry.type, entry.networkId);
    if (list === undefined) map.set(key, entry.type, entry.networkId, [entry]);
    else list.push(entry);
  };
  if (entry.mac !== null) index(plan.staticByMac, entry.mac);
  if (entry.duid !== null) index(plan.staticByDuid, entry.duid);
}

function poolBound(v: string | Uint8Array, what: string): bigint {
  return toBigInt(parseAddress(v, what));
}

const MAX_SPAN = 2 ** 52;

function probeFields(first: bigint, size: bigint, stepBits: number): Pick<Pool, 'firstBytes' | 'stepBits' | 'span'> {
  return { firstBytes: toBytes(first), stepBits, span: size < BigInt(MAX_SPAN) ? Number(size) : MAX_SPAN };
}

function buildPool(p: PoolConfig, valid: number, preferred: number): Pool {
  const validLifetime = p.validLifetime ?? valid;
  const preferredLifetime = p.preferredLifetime ?? preferred;
  if (!Number.isInteger(p.networkId) || p.networkId < 0 || p.networkId > 0xffffffff)
    throw new RangeError('pool: networkId must be a 32-bit unsigned integer');
  if (p.type === LeaseType.Address) {
    const first = poolBound(p.first, 'pool');
    const last = poolBound(p.last, 'pool');
    if (last < first)
      throw new RangeError(
        `pool ${formatIpv6(toBytes(first))}-${formatIpv6(toBytes(last))}: last address before first`,
      );
    const range = new RangedSet(IPv6.fromBigInt(first), IPv6.fromBigInt(last));
    const name = `${formatIpv6(toBytes(first))}-${formatIpv6(toBytes(last))}`;
    checkLifetimes(validLifetime, preferredLifetime, `pool ${name}`);
    const size = range.getSize();
    return {
      networkId: p.networkId,
      type: p.type,
      name,
      first,
      size,
      step: 1n,
      ...probeFields(first, size, 0),
      prefixLength: 128,
      validLifetime,
      preferredLifetime,
    };
  }
  const name = `${p.prefix} delegating /${p.delegatedLength}`;
  checkLifetimes(validLifetime, preferredLifetime, `pool ${name}`);
  const range = IPv6CidrRange.fromCidr(p.prefix);
  const poolLength = Number(range.getPrefix().getValue());
  const slash = p.prefix.indexOf('/');
  if (IPv6.fromString(p.prefix.slice(0, slash)).getValue() !== range.getFirst().getValue()) {
    throw new RangeError(`pool ${name}: host bits set in the prefix`);
  }
  if (!Number.isInteger(p.delegatedLength) || p.delegatedLength < poolLength || p.delegatedLength > 128) {
    throw new RangeError(`pool ${name}: delegated length must be between the pool's length and 128`);
  }
  const step = 1n << BigInt(128 - p.delegatedLength);
  const first = range.getFirst().getValue();
  const size = range.getSize() / step;
  return {
    networkId: p.networkId,
    type: p.type,
    name,
    first,
    size,
    step,
    ...probeFields(first, size, 128 - p.delegatedLength),
    prefixLength: p.delegatedLength,
    validLifetime,
    preferredLifetime,
  };
}
