/**
 * Decode outcomes shared by every codec.
 *
 * The hot path never throws: a view's `check()` returns one of these small integers and, when it
 * is not `Ok`, leaves the absolute byte offset and a constant reason string on the view
 * (`errorOffset`, `errorReason`). Assigning a string literal allocates nothing. At the edges (CLI,
 * config, tests) a status becomes a {@link DecodeError} naming layer, offset and reason.
 */

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

const statusNames = ['ok', 'truncated', 'malformed', 'bad-checksum', 'unsupported'] as const;
export type StatusName = (typeof statusNames)[number];

export function statusName(s: Status): StatusName {
  return statusNames[s] ?? 'malformed';
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

const layerNames = [
  'ethernet',
  'vlan',
  'ipv6',
  'ipv6-extension',
  'udp',
  'icmpv6',
  'ndp',
  'ndp-option',
  'inverse-nd',
  'mrd',
  'dhcpv6',
  'dhcpv6-option',
] as const;
export type LayerName = (typeof layerNames)[number];

export function layerName(l: Layer): LayerName {
  return layerNames[l] ?? 'ethernet';
}

/** Anything a view's `check()` can fail on leaves these behind. */
export interface Checked {
  /** Absolute offset in the buffer where the problem was found (valid when check() was not Ok). */
  errorOffset: number;
  /** A constant, human-readable reason (valid when check() was not Ok). */
  errorReason: string;
}

/**
 * What a view over (buffer, offset, length) starts from: the range, the failure fields of
 * {@link Checked}, and `wrap()`, which points the view at a new range (no allocation). A view
 * adds its `check()` and getters.
 */
export class ByteView implements Checked {
  buf: Uint8Array = new Uint8Array(0);
  off = 0;
  len = 0;
  errorOffset = 0;
  errorReason = '';

  wrap(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
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

  fail(status: Status, layer: Layer, offset: number, reason: string): Status {
    this.status = status;
    this.layer = layer;
    this.offset = offset;
    this.reason = reason;
    return status;
  }

  /** Copies a view's failure (after its check() returned `status`). */
  from(status: Status, layer: Layer, view: Checked): Status {
    return this.fail(status, layer, view.errorOffset, view.errorReason);
  }

  reset(): void {
    this.status = Status.Ok;
    this.offset = 0;
    this.reason = '';
  }

  toError(): DecodeError {
    return new DecodeError(this.status, this.layer, this.offset, this.reason);
  }
}
