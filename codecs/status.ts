/**
 * Decode outcomes shared by every codec.
 *
 * The hot path never throws: a view's `check()` returns one of these small integers and, when it
 * is not `Ok`, leaves the absolute byte offset, a constant reason string and the rule that failed
 * on the view (`errorOffset`, `errorReason`, `errorRule`). Assigning a string literal allocates
 * nothing. At the edges (CLI, config, tests) a status becomes a {@link DecodeError} naming layer,
 * offset and reason.
 */

import { namesFromKeys } from './names.js';

export const Status = {
  Ok: 0,
  /** The bytes end before a length the protocol requires. */
  Truncated: 1,
  /** The bytes are all there but contradict the protocol (bad length field, zero-length option…). */
  Malformed: 2,
  /** A checksum does not verify. */
  BadChecksum: 3,
  /** Well-formed, but a kind punt6 does not decode (IPv4, ESP, fragments past the first…). */
  Unsupported: 4,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

const statusNames = namesFromKeys(Status);

/** The name of a status in JSON and messages: its key in kebab case (`bad-checksum`). */
export function statusName(s: Status): string {
  return statusNames.get(s) ?? 'malformed';
}

/** The layer a status belongs to, for counters and error messages. */
export const Layer = {
  Ethernet: 0,
  Vlan: 1,
  Ipv6: 2,
  Ipv6Extension: 3,
  Udp: 4,
  Icmpv6: 5,
  Ndp: 6,
  NdpOption: 7,
  InverseNd: 8,
  Mrd: 9,
  Dhcpv6: 10,
  Dhcpv6Option: 11,
} as const;
export type Layer = (typeof Layer)[keyof typeof Layer];

const layerNames = namesFromKeys(Layer);

/** The name of a layer in JSON and messages: its key in kebab case (`ipv6-extension`). */
export function layerName(l: Layer): string {
  return layerNames.get(l) ?? 'ethernet';
}

/**
 * The rule a failure broke, as a small number: a caller that treats one rule apart (the
 * dispatcher counts an ND message with a code other than 0 as invalid, not malformed) branches on
 * it, never on an offset or a reason. One code per kind of rule; the reason says which check.
 */
export const Rule = {
  /** No failure, or one whose codec does not name its rule. */
  None: 0,
  /** The bytes end before a length the protocol requires (with Truncated). */
  Length: 1,
  /** A length field contradicts the bytes, its type or another layer (zero-length option…). */
  LengthField: 2,
  /** A field holds a value the protocol forbids (IP version, a message of another type…). */
  Value: 3,
  /** An ND or Inverse ND code other than 0 (RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1). */
  Code: 4,
  /** An option the protocol requires is missing (RFC 3122 §2.1, §2.2). */
  RequiredOption: 5,
  /** Extension headers in an order or number RFC 8200 §4.1 forbids. */
  HeaderChain: 6,
  /** A checksum does not verify (with BadChecksum). */
  Checksum: 7,
  /** A kind punt6 recognises but does not decode (with Unsupported). */
  NotDecoded: 8,
} as const;
export type Rule = (typeof Rule)[keyof typeof Rule];

/** Anything a view's `check()` can fail on leaves these behind. */
export interface Checked {
  /** Absolute offset in the buffer where the problem was found (valid when check() was not Ok). */
  errorOffset: number;
  /** A constant, human-readable reason (valid when check() was not Ok). */
  errorReason: string;
  /** The rule that failed (valid when check() was not Ok; absent: {@link Rule.None}). */
  errorRule?: Rule;
}

/**
 * What a view over (buffer, offset, length) starts from: the range, the failure fields of
 * {@link Checked}, `wrap()`, which points the view at a new range (no allocation), and `fail()`,
 * which records a failure. A view adds its `check()` and getters.
 */
export class ByteView implements Checked {
  buf: Uint8Array = new Uint8Array(0);
  off = 0;
  len = 0;
  errorOffset = 0;
  errorReason = '';
  errorRule: Rule = Rule.None;

  wrap(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /** Records a failure at absolute offset `at` and returns its status, for `return this.fail(…)`. */
  fail(status: Status, at: number, reason: string, rule: Rule): Status {
    this.errorOffset = at;
    this.errorReason = reason;
    this.errorRule = rule;
    return status;
  }
}

/** What a cursor's `next()` returns once its items are exhausted. */
export const Done = -1;
export type Done = typeof Done;

/** The typed error used at API boundaries; never thrown on the hot path. */
export class DecodeError extends Error {
  readonly status: Status;
  readonly layer: Layer;
  readonly offset: number;
  readonly reason: string;

  constructor(status: Status, layer: Layer, offset: number, reason: string) {
    super(`${layerName(layer)}: ${statusName(status)} at offset ${offset}: ${reason}`);
    this.name = 'DecodeError';
    this.status = status;
    this.layer = layer;
    this.offset = offset;
    this.reason = reason;
  }
}

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const { Ok } = Status;
const noRule = Rule.None;

/**
 * Where a deep validation (a message and all its options) records its first failure. One is
 * preallocated per decoder and reused; `fail()` returns the status so callers can
 * `return failure.fail(...)`.
 */
export class Failure {
  status: Status = Status.Ok;
  layer: Layer = Layer.Ethernet;
  offset = 0;
  reason = '';
  rule: Rule = Rule.None;

  fail(status: Status, layer: Layer, offset: number, reason: string, rule: Rule = Rule.None): Status {
    this.status = status;
    this.layer = layer;
    this.offset = offset;
    this.reason = reason;
    this.rule = rule;
    return status;
  }

  /** Copies a view's failure (after its check() returned `status`). */
  from(status: Status, layer: Layer, view: Checked): Status {
    return this.fail(status, layer, view.errorOffset, view.errorReason, view.errorRule ?? Rule.None);
  }

  reset(): void {
    this.status = Ok;
    this.offset = 0;
    this.reason = '';
    this.rule = noRule;
  }

  toError(): DecodeError {
    return new DecodeError(this.status, this.layer, this.offset, this.reason);
  }
}
