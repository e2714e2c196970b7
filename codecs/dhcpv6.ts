/**
 * DHCPv6 messages (RFC 9915, which obsoletes RFC 8415): the client/server header (§8), the relay
 * header (§9), the option walk, deep validation, Reprs, emit, parse and JSON. Options themselves
 * live in codecs/dhcpv6-options.ts, DUIDs in codecs/duid.ts.
 *
 * Client/server message (§8):
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    msg-type   |               transaction-id                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                            options                            .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * Relay-forward / Relay-reply (§9):
 * ```text
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    msg-type   |   hop-count   |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 * |                         link-address  (16 octets)             |
 * |                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 * |                         peer-address  (16 octets)             |
 * |                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               .
 * .            options (variable number and length)   ....        .
 * ```
 *
 * Status rules: an option header or option data that runs past the end of the message is
 * Truncated (the message was cut); an option that runs past the option containing it is
 * Malformed (the bytes contradict themselves); Relay Message options nested more than 32 deep
 * (HOP_COUNT_LIMIT, §7.6) are Malformed.
 *
 * Hot path: {@link Dhcpv6View}, {@link Dhcpv6OptionCursor}, {@link validateDhcpv6} allocate
 * nothing. Reprs, parse and describe allocate and are for the edges.
 */

import { copyBytes, formatIpv6, setU16, u16, u24 } from './bytes.js';
import {
  checkDhcpv6OptionData,
  describeDhcpv6Options,
  dhcpv6OptionsLength,
  Dhcpv6OptionCode,
  emitDhcpv6Options,
  nestedOptionsOffset,
  parseDhcpv6Options,
  type Dhcpv6OptionRepr,
} from './dhcpv6-options.js';
import { ByteView, type Checked, DecodeError, Failure, Layer, Status } from './status.js';

export const Dhcpv6MessageType = {
  Solicit: 1,
  Advertise: 2,
  Request: 3,
  Confirm: 4,
  Renew: 5,
  Rebind: 6,
  Reply: 7,
  Release: 8,
  Decline: 9,
  Reconfigure: 10,
  InformationRequest: 11,
  RelayForw: 12,
  RelayRepl: 13,
} as const;
export type Dhcpv6MessageType = (typeof Dhcpv6MessageType)[keyof typeof Dhcpv6MessageType];

const messageTypeNames = [
  'unknown',
  'solicit',
  'advertise',
  'request',
  'confirm',
  'renew',
  'rebind',
  'reply',
  'release',
  'decline',
  'reconfigure',
  'information-request',
  'relay-forw',
  'relay-repl',
] as const;

export function dhcpv6MessageTypeName(t: number): string {
  return (t > 0 && t < messageTypeNames.length ? messageTypeNames[t] : undefined) ?? 'unknown';
}

export function isRelayMessageType(t: number): boolean {
  return t === Dhcpv6MessageType.RelayForw || t === Dhcpv6MessageType.RelayRepl;
}

export const DHCPV6_HEADER_LENGTH = 4;
export const DHCPV6_RELAY_HEADER_LENGTH = 34;
/** HOP_COUNT_LIMIT (RFC 9915 §7.6). */
export const DHCPV6_HOP_COUNT_LIMIT = 32;
export const Dhcpv6Field = { MsgType: 0, TransactionId: 1, HopCount: 1, LinkAddress: 2, PeerAddress: 18 } as const;

/** What {@link Dhcpv6OptionCursor.next} returns after the last option. */
export const Done = -1;
export type Done = typeof Done;

/**
 * Walks the options in b[off, end) by offset. After `next()` returned Ok, `code`, `offset`
 * (of the option header), `dataOffset` and `dataLength` describe the option; the framing is
 * checked (the option lies inside [off, end)), its contents are not. `nested` says whether
 * [off, end) is the inside of an option (overrun -> Malformed) or a whole message (-> Truncated).
 */
export class Dhcpv6OptionCursor implements Checked {
  buf: Uint8Array = new Uint8Array(0);
  end = 0;
  nested = false;
  position = 0;
  code = 0;
  offset = 0;
  dataOffset = 0;
  dataLength = 0;
  errorOffset = 0;
  errorReason = '';

  reset(b: Uint8Array, off: number, end: number, nested: boolean): this {
    this.buf = b;
    this.position = off;
    this.end = Math.min(end, b.length);
    this.nested = nested;
    return this;
  }

  next(): Status | Done {
    const p = this.position;
    const left = this.end - p;
    if (left <= 0) return Done;
    const overrun = this.nested ? Status.Malformed : Status.Truncated;
    if (left < 4) {
      this.errorOffset = p;
      this.errorReason = this.nested ? 'option header runs past its container' : 'option header cut short';
      return overrun;
    }
    const n = u16(this.buf, p + 2);
    if (n > left - 4) {
      this.errorOffset = p + 2;
      this.errorReason = this.nested ? 'option runs past its container' : 'option runs past the end of the message';
      return overrun;
    }
    this.code = u16(this.buf, p);
    this.offset = p;
    this.dataOffset = p + 4;
    this.dataLength = n;
    this.position = p + 4 + n;
    return Status.Ok;
  }
}

/** A view of one DHCPv6 message (client/server or relay). */
export class Dhcpv6View extends ByteView {
  /** The header only: present and in the buffer. Options: {@link validateDhcpv6}. */
  check(): Status {
    if (this.off < 0 || this.len < 0 || this.off + this.len > this.buf.length) {
      this.errorOffset = this.off;
      this.errorReason = 'message extends past the buffer';
      return Status.Truncated;
    }
    if (this.len < 1 || this.len < this.headerLength) {
      this.errorOffset = this.off + this.len;
      this.errorReason = 'message shorter than its header';
      return Status.Truncated;
    }
    return Status.Ok;
  }

  get msgType(): number {
    return this.buf[this.off] as number;
  }
  set msgType(t: number) {
    this.buf[this.off] = t;
  }
  get isRelay(): boolean {
    return isRelayMessageType(this.msgType);
  }
  get headerLength(): number {
    return this.isRelay ? DHCPV6_RELAY_HEADER_LENGTH : DHCPV6_HEADER_LENGTH;
  }
  get transactionId(): number {
    return u24(this.buf, this.off + 1);
  }
  set transactionId(x: number) {
    const b = this.buf;
    b[this.off + 1] = (x >>> 16) & 0xff;
    b[this.off + 2] = (x >>> 8) & 0xff;
    b[this.off + 3] = x & 0xff;
  }
  get hopCount(): number {
    return this.buf[this.off + 1] as number;
  }
  set hopCount(x: number) {
    this.buf[this.off + 1] = x;
  }
  get linkAddressOffset(): number {
    return this.off + Dhcpv6Field.LinkAddress;
  }
  get peerAddressOffset(): number {
    return this.off + Dhcpv6Field.PeerAddress;
  }
  get optionsOffset(): number {
    return this.off + this.headerLength;
  }
  get end(): number {
    return this.off + this.len;
  }

  /**
   * Data offset of the first top-level option `code`, or -1; its data length is
   * `u16(buf, result - 2)`. Stops quietly at broken framing (validate first).
   */
  findOption(code: number): number {
    const b = this.buf;
    const end = this.end;
    let p = this.optionsOffset;
    while (p + 4 <= end) {
      const n = u16(b, p + 2);
      if (p + 4 + n > end) return -1;
      if (u16(b, p) === code) return p + 4;
      p += 4 + n;
    }
    return -1;
  }
}

/**
 * Deep validation of the message b[off, off+len): header, every option's framing and rules,
 * encapsulated options, and Relay Message contents down to {@link DHCPV6_HOP_COUNT_LIMIT}
 * levels. First failure goes to `failure`. Allocates nothing (one cursor per nesting level is
 * preallocated).
 */
export function validateDhcpv6(b: Uint8Array, off: number, len: number, failure: Failure): Status {
  return validateMessage(b, off, len, 0, failure);
}

/** Levels: relay nesting up to 33 messages, each with IA -> address -> options (a few levels). */
const MAX_OPTION_DEPTH = 8;
const cursors: Dhcpv6OptionCursor[] = [];
for (let i = 0; i < (DHCPV6_HOP_COUNT_LIMIT + 1) * MAX_OPTION_DEPTH; i++) cursors.push(new Dhcpv6OptionCursor());
const messageView = new Dhcpv6View();

function validateMessage(b: Uint8Array, off: number, len: number, relayDepth: number, failure: Failure): Status {
  const v = messageView.wrap(b, off, len);
  const s = v.check();
  if (s !== Status.Ok) return failure.from(s, Layer.Dhcpv6, v);
  const relay = v.isRelay;
  if (relay && relayDepth > DHCPV6_HOP_COUNT_LIMIT) {
    return failure.fail(Status.Malformed, Layer.Dhcpv6, off, 'relay messages nested deeper than 32');
  }
  const optionsOffset = v.optionsOffset;
  const end = off + len;
  return validateOptions(b, optionsOffset, end, false, relayDepth, relayDepth * MAX_OPTION_DEPTH, failure);
}

const optionSink: Checked = { errorOffset: 0, errorReason: '' };

function validateOptions(
  b: Uint8Array,
  off: number,
  end: number,
  nested: boolean,
  relayDepth: number,
  level: number,
  failure: Failure,
): Status {
  const c = cursors[level];
  if (c === undefined) return failure.fail(Status.Malformed, Layer.Dhcpv6Option, off, 'options nested too deep');
  c.reset(b, off, end, nested);
  for (;;) {
    const s = c.next();
    if (s === Done) return Status.Ok;
    if (s !== Status.Ok) return failure.fail(s, Layer.Dhcpv6Option, c.errorOffset, c.errorReason);
    const code = c.code;
    const d = c.dataOffset;
    const n = c.dataLength;
    const r = checkDhcpv6OptionData(b, code, d, n, optionSink);
    if (r !== Status.Ok) return failure.fail(r, Layer.Dhcpv6Option, optionSink.errorOffset, optionSink.errorReason);
    if (code === Dhcpv6OptionCode.RelayMessage) {
      const inner = validateRelayed(b, d, n, relayDepth + 1, failure);
      if (inner !== Status.Ok) return inner;
      continue;
    }
    const at = nestedOptionsOffset(code);
    if (at >= 0) {
      const inner = validateOptions(b, d + at, d + n, true, relayDepth, level + 1, failure);
      if (inner !== Status.Ok) return inner;
    }
  }
}

/**
 * A Relay Message option's data: a whole message; running short inside it is Malformed. The
 * top-level message is at depth 0, so relay messages may sit at depths 0..31 (32 relay agents,
 * RFC 9915 §7.6 HOP_COUNT_LIMIT) and the client/server message they carry at depth 32; a relay
 * message at depth 32 (the 33rd) is Malformed whatever it carries.
 */
function validateRelayed(b: Uint8Array, d: number, n: number, relayDepth: number, failure: Failure): Status {
  if (n < 1) return failure.fail(Status.Malformed, Layer.Dhcpv6Option, d - 2, 'empty Relay Message option');
  // In bounds: n >= 1.
  const relay = isRelayMessageType(b[d] as number);
  if (relayDepth > DHCPV6_HOP_COUNT_LIMIT || (relay && relayDepth >= DHCPV6_HOP_COUNT_LIMIT)) {
    return failure.fail(Status.Malformed, Layer.Dhcpv6, d, 'relay messages nested deeper than 32');
  }
  const header = relay ? DHCPV6_RELAY_HEADER_LENGTH : DHCPV6_HEADER_LENGTH;
  if (n < header) return failure.fail(Status.Malformed, Layer.Dhcpv6, d, 'relayed message shorter than its header');
  const s = validateOptions(b, d + header, d + n, true, relayDepth, relayDepth * MAX_OPTION_DEPTH, failure);
  return s;
}

// ---- Reprs (edges) ----

export interface Dhcpv6ClientServerRepr {
  kind: 'message';
  msgType: number;
  /** 24 bits. */
  transactionId: number;
  options: Dhcpv6OptionRepr[];
}

export interface Dhcpv6RelayRepr {
  kind: 'relay';
  /** Relay-forw (12) or Relay-repl (13). */
  msgType: number;
  hopCount: number;
  linkAddress: Uint8Array;
  peerAddress: Uint8Array;
  options: Dhcpv6OptionRepr[];
}

export type Dhcpv6MessageRepr = Dhcpv6ClientServerRepr | Dhcpv6RelayRepr;

export function dhcpv6MessageLength(r: Dhcpv6MessageRepr): number {
  return (r.kind === 'relay' ? DHCPV6_RELAY_HEADER_LENGTH : DHCPV6_HEADER_LENGTH) + dhcpv6OptionsLength(r.options);
}

/** Writes the message at b[off]; returns bytes written. Throws TypeError on an unencodable Repr. */
export function emitDhcpv6Message(r: Dhcpv6MessageRepr, b: Uint8Array, off: number): number {
  b[off] = r.msgType;
  let p: number;
  if (r.kind === 'relay') {
    if (r.linkAddress.length !== 16 || r.peerAddress.length !== 16)
      throw new TypeError('relay link and peer addresses must be 16 octets');
    b[off + 1] = r.hopCount;
    copyBytes(r.linkAddress, 0, b, off + Dhcpv6Field.LinkAddress, 16);
    copyBytes(r.peerAddress, 0, b, off + Dhcpv6Field.PeerAddress, 16);
    p = off + DHCPV6_RELAY_HEADER_LENGTH;
  } else {
    b[off + 1] = (r.transactionId >>> 16) & 0xff;
    setU16(b, off + 2, r.transactionId & 0xffff);
    p = off + DHCPV6_HEADER_LENGTH;
  }
  p += emitDhcpv6Options(r.options, b, p);
  return p - off;
}

/** Repr of a message already validated (validateDhcpv6). */
export function parseDhcpv6MessageUnchecked(b: Uint8Array, off: number, len: number): Dhcpv6MessageRepr {
  const t = b[off] as number;
  const end = off + len;
  if (isRelayMessageType(t)) {
    return {
      kind: 'relay',
      msgType: t,
      hopCount: b[off + 1] as number,
      linkAddress: b.slice(off + Dhcpv6Field.LinkAddress, off + Dhcpv6Field.LinkAddress + 16),
      peerAddress: b.slice(off + Dhcpv6Field.PeerAddress, off + Dhcpv6Field.PeerAddress + 16),
      options: parseDhcpv6Options(b, off + DHCPV6_RELAY_HEADER_LENGTH, end),
    };
  }
  return {
    kind: 'message',
    msgType: t,
    transactionId: u24(b, off + 1),
    options: parseDhcpv6Options(b, off + DHCPV6_HEADER_LENGTH, end),
  };
}

/** Repr of the message b[off, off+len); throws {@link DecodeError} when it does not validate. */
export function parseDhcpv6Message(b: Uint8Array, off: number, len: number): Dhcpv6MessageRepr {
  const f = new Failure();
  if (validateDhcpv6(b, off, len, f) !== Status.Ok) throw f.toError();
  return parseDhcpv6MessageUnchecked(b, off, len);
}

export { DecodeError };

// ---- JSON (edges) ----

/**
 * Plain JSON of a message: type, transaction id or relay fields, options in order with nested
 * options nested. Never throws; broken framing ends the option list with an `{ error, offset }`.
 */
export function describeDhcpv6Message(b: Uint8Array, off: number, len: number, depth = 0): Record<string, unknown> {
  const end = Math.min(off + len, b.length);
  if (end - off < 1) return { error: 'empty message' };
  const t = b[off] as number;
  const out: Record<string, unknown> = { msgType: t, msgTypeName: dhcpv6MessageTypeName(t) };
  if (isRelayMessageType(t)) {
    if (end - off < DHCPV6_RELAY_HEADER_LENGTH) {
      out['error'] = 'relay message shorter than its header';
      return out;
    }
    out['hopCount'] = b[off + 1] as number;
    out['linkAddress'] = formatIpv6(b, off + Dhcpv6Field.LinkAddress);
    out['peerAddress'] = formatIpv6(b, off + Dhcpv6Field.PeerAddress);
    out['options'] = describeDhcpv6Options(b, off + DHCPV6_RELAY_HEADER_LENGTH, end, depth > 0, depth);
  } else {
    if (end - off < DHCPV6_HEADER_LENGTH) {
      out['error'] = 'message shorter than its header';
      return out;
    }
    out['transactionId'] = u24(b, off + 1);
    out['options'] = describeDhcpv6Options(b, off + DHCPV6_HEADER_LENGTH, end, depth > 0, depth);
  }
  return out;
}

/** JSON of a top-level message (what `punt6 decode` prints under `dhcpv6`). */
export function describeDhcpv6(b: Uint8Array, off: number, len: number): Record<string, unknown> {
  return describeDhcpv6Message(b, off, len, 0);
}
