/**
 * A map keyed by a byte string and two 32-bit integers, looked up where the bytes lie (a DUID in
 * a received message, an address in a lease) without building a key: no string, no subarray, no
 * allocation per lookup. The lease table's indexes (by client IA, by address) are these.
 *
 * Shape (that of V8's own ordered hash tables): entries are appended to dense arrays in insertion
 * order; a bucket array holds the first entry of each hash chain and every entry the next one.
 * A deleted entry leaves a hole that iteration skips; when the entry arrays are full the live
 * entries are packed again (and the arrays doubled when more than half are live), so iteration
 * follows insertion order, as a Map's does.
 *
 * The hash is seeded per map from a random value, so which keys share a chain cannot be worked
 * out from outside (the DUIDs are chosen by clients). Keys are stored by reference: a key passed
 * to `set` must not change afterwards (the lease table stores the lease's own copies).
 */

import { randomBytes } from 'node:crypto';
import { bytesEqual } from '../../codecs/bytes.js';
import { hashBytes } from './hash.js';

const EMPTY = -1;
/** An entry whose key was deleted (iteration skips it, lookups never reach it). */
const HOLE: Uint8Array = new Uint8Array(0);

function randomSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

function sameKey(k: Uint8Array, b: Uint8Array, off: number, len: number): boolean {
  return k.length === len && bytesEqual(k, 0, b, off, len);
}

export class BytesMap<V> {
  private readonly seed: number;
  // Set by allocate(), from the constructor and on every repack.
  /** First entry of each chain, or EMPTY; a power of two long. */
  private buckets!: Int32Array;
  private mask!: number;
  /** Per entry: next entry in the chain (or EMPTY), full hash, key, x, y, value. */
  private next!: Int32Array;
  private hashes!: Uint32Array;
  private keys!: Uint8Array[];
  private xs!: Int32Array;
  private ys!: Int32Array;
  private vals!: (V | undefined)[];
  /** Entries used so far (live ones and holes). */
  private used = 0;
  private live = 0;

  constructor(capacity = 16, seed: number = randomSeed()) {
    this.seed = seed >>> 0;
    let n = 16;
    while (n < capacity) n *= 2;
    this.allocate(n);
  }

  /** Empty arrays for n entries (n a power of two), as many buckets. */
  private allocate(n: number): void {
    this.buckets = new Int32Array(n).fill(EMPTY);
    this.mask = n - 1;
    this.next = new Int32Array(n);
    this.hashes = new Uint32Array(n);
    this.keys = new Array<Uint8Array>(n).fill(HOLE);
    this.xs = new Int32Array(n);
    this.ys = new Int32Array(n);
    this.vals = new Array<V | undefined>(n).fill(undefined);
  }

  get size(): number {
    return this.live;
  }

  /** The value under the key b[off, off+len) with x and y (32-bit integers), or undefined. */
  get(b: Uint8Array, off: number, len: number, x: number, y: number): V | undefined {
    const e = this.find(b, off, len, x | 0, y | 0, hashBytes(this.seed, b, off, len, x, y));
    return e === EMPTY ? undefined : this.vals[e];
  }

  has(b: Uint8Array, off: number, len: number, x: number, y: number): boolean {
    return this.find(b, off, len, x | 0, y | 0, hashBytes(this.seed, b, off, len, x, y)) !== EMPTY;
  }

  /** Sets the value under the whole of `key` with x and y; `key` is kept, not copied. */
  set(key: Uint8Array, x: number, y: number, value: V): void {
    const h = hashBytes(this.seed, key, 0, key.length, x, y);
    const e = this.find(key, 0, key.length, x | 0, y | 0, h);
    if (e !== EMPTY) {
      this.vals[e] = value;
      return;
    }
    if (this.used === this.keys.length)
      this.repack(this.live + 1 > this.keys.length / 2 ? this.keys.length * 2 : this.keys.length);
    const n = this.used++;
    const bucket = h & this.mask;
    this.next[n] = this.buckets[bucket] as number;
    this.buckets[bucket] = n;
    this.hashes[n] = h;
    this.keys[n] = key;
    this.xs[n] = x | 0;
    this.ys[n] = y | 0;
    this.vals[n] = value;
    this.live++;
  }

  /** Removes the key; true when it was there. */
  delete(b: Uint8Array, off: number, len: number, x: number, y: number): boolean {
    const h = hashBytes(this.seed, b, off, len, x, y);
    const bucket = h & this.mask;
    let prev = EMPTY;
    for (let e = this.buckets[bucket] as number; e !== EMPTY; prev = e, e = this.next[e] as number) {
      if (!this.matches(e, b, off, len, x | 0, y | 0, h)) continue;
      if (prev === EMPTY) this.buckets[bucket] = this.next[e] as number;
      else this.next[prev] = this.next[e] as number;
      this.keys[e] = HOLE;
      this.vals[e] = undefined;
      this.live--;
      return true;
    }
    return false;
  }

  /** The values in insertion order. Do not add keys while iterating (a repack moves entries). */
  *values(): IterableIterator<V> {
    for (let e = 0; e < this.used; e++) if (this.keys[e] !== HOLE) yield this.vals[e] as V;
  }

  private find(b: Uint8Array, off: number, len: number, x: number, y: number, h: number): number {
    for (let e = this.buckets[h & this.mask] as number; e !== EMPTY; e = this.next[e] as number) {
      if (this.matches(e, b, off, len, x, y, h)) return e;
    }
    return EMPTY;
  }

  private matches(e: number, b: Uint8Array, off: number, len: number, x: number, y: number, h: number): boolean {
    return (
      this.hashes[e] === h && this.xs[e] === x && this.ys[e] === y && sameKey(this.keys[e] as Uint8Array, b, off, len)
    );
  }

  /** Packs the live entries, in order, into arrays of `n` entries and rebuilds the chains. */
  private repack(n: number): void {
    const { hashes, keys, xs, ys, vals, used } = this;
    this.allocate(n);
    let k = 0;
    for (let e = 0; e < used; e++) {
      if (keys[e] === HOLE) continue;
      const h = hashes[e] as number;
      const bucket = h & this.mask;
      this.next[k] = this.buckets[bucket] as number;
      this.buckets[bucket] = k;
      this.hashes[k] = h;
      this.keys[k] = keys[e] as Uint8Array;
      this.xs[k] = xs[e] as number;
      this.ys[k] = ys[e] as number;
      this.vals[k] = vals[e];
      k++;
    }
    this.used = k;
  }
}
