/**
 * The few OpenFlow messages punt6 exchanges with a bridge's management socket to change its
 * meters in batches: HELLO (version negotiation), METER_MOD, BARRIER_REQUEST and BARRIER_REPLY,
 * ECHO_REQUEST and ECHO_REPLY (a switch may probe a quiet connection), and ERROR. Layouts and
 * numbers are the OpenFlow Switch Specification's (1.5.1, "The OpenFlow Switch Protocol"; the
 * struct names below are its own). OpenFlow 1.3, 1.4 and 1.5 lay these messages out alike and
 * number them alike, so any of the three wire versions (0x04, 0x05, 0x06) will do. Pure: no I/O.
 *
 * ```text
 * ofp_header, in front of every message:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    version    |     type      |   length (header included)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                              xid                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * ofp_hello: the header, then elements; punt6 sends one ofp_hello_elem_versionbitmap:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   type (1: VERSIONBITMAP)     |  length (4 + 4 * bitmaps)     |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          bitmaps[0]: bit n set = wire version n spoken        | 12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   (each element padded to a multiple of 8 bytes)
 *
 * ofp_meter_mod, then one ofp_meter_band_drop (none for a DELETE):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     command (OFPMC_*)         |        flags (OFPMF_*)        |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           meter_id                            | 12
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       type (1: DROP)          |          len (16)             | 16
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                rate (packets/s with OFPMF_PKTPS)              | 20
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               burst_size (used with OFPMF_BURST)              | 24
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          pad (zero)                           | 28
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * ofp_error_msg:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        type (OFPET_*)         |            code               |  8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  data: at least the first 64 bytes of the failed request ...     12
 * ```
 *
 * BARRIER_REQUEST, BARRIER_REPLY and an empty ECHO are the header alone. A switch answers every
 * request that fails with an ERROR carrying the request's xid; it answers a BARRIER_REQUEST only
 * once every message before it is processed, so "no ERROR for an xid before the BARRIER_REPLY"
 * means that message took effect.
 */

import { setU16, setU32, u16, u32 } from '../../codecs/bytes.js';
import { ByteView, Status } from '../../codecs/status.js';

export const OfVersion = { Of13: 0x04, Of14: 0x05, Of15: 0x06 } as const;

/** The versions whose meter messages punt6 speaks, as a HELLO version bitmap. */
export const METER_VERSIONS_BITMAP = (1 << OfVersion.Of13) | (1 << OfVersion.Of14) | (1 << OfVersion.Of15);

export const OfType = {
  Hello: 0,
  Error: 1,
  EchoRequest: 2,
  EchoReply: 3,
  BarrierRequest: 20,
  BarrierReply: 21,
  MeterMod: 29,
} as const;

export const OFP_HEADER_LENGTH = 8;
export const HeaderField = { Version: 0, Type: 1, Length: 2, Xid: 4 } as const;

/** Offsets inside one hello element, from its start. */
export const HelloElementField = { Type: 0, Length: 2, Bitmaps: 4 } as const;
export const HELLO_ELEMENT_HEADER_LENGTH = 4;
export const HelloElementType = { VersionBitmap: 1 } as const;
/** A HELLO with one version-bitmap element of one word: 8 + 8 bytes. */
export const HELLO_LENGTH = 16;

export const MeterModField = { Command: 8, Flags: 10, MeterId: 12, Bands: 16 } as const;
export const METER_MOD_LENGTH = 16;
/** Offsets inside one band, from its start. */
export const MeterBandField = { Type: 0, Length: 2, Rate: 4, BurstSize: 8, Pad: 12 } as const;
export const METER_BAND_DROP_LENGTH = 16;

export const MeterCommand = { Add: 0, Modify: 1, Delete: 2 } as const;
export type MeterCommand = (typeof MeterCommand)[keyof typeof MeterCommand];
export const MeterFlag = { Kbps: 1, Pktps: 2, Burst: 4, Stats: 8 } as const;
export const MeterBandType = { Drop: 1 } as const;
/** The last meter id a switch may number (ids above are the virtual meters). */
export const OFPM_MAX = 0xffff0000;

export const ErrorField = { Type: 8, Code: 10, Data: 12 } as const;
export const ERROR_LENGTH = 12;

export const ErrorType = {
  HelloFailed: 0,
  BadRequest: 1,
  BadAction: 2,
  BadInstruction: 3,
  BadMatch: 4,
  FlowModFailed: 5,
  GroupModFailed: 6,
  PortModFailed: 7,
  TableModFailed: 8,
  QueueOpFailed: 9,
  SwitchConfigFailed: 10,
  RoleRequestFailed: 11,
  MeterModFailed: 12,
  TableFeaturesFailed: 13,
  BadProperty: 14,
  AsyncConfigFailed: 15,
  FlowMonitorFailed: 16,
  BundleFailed: 17,
  Experimenter: 0xffff,
} as const;

const errorTypeNames: Readonly<Record<number, string>> = {
  0: 'OFPET_HELLO_FAILED',
  1: 'OFPET_BAD_REQUEST',
  2: 'OFPET_BAD_ACTION',
  3: 'OFPET_BAD_INSTRUCTION',
  4: 'OFPET_BAD_MATCH',
  5: 'OFPET_FLOW_MOD_FAILED',
  6: 'OFPET_GROUP_MOD_FAILED',
  7: 'OFPET_PORT_MOD_FAILED',
  8: 'OFPET_TABLE_MOD_FAILED',
  9: 'OFPET_QUEUE_OP_FAILED',
  10: 'OFPET_SWITCH_CONFIG_FAILED',
  11: 'OFPET_ROLE_REQUEST_FAILED',
  12: 'OFPET_METER_MOD_FAILED',
  13: 'OFPET_TABLE_FEATURES_FAILED',
  14: 'OFPET_BAD_PROPERTY',
  15: 'OFPET_ASYNC_CONFIG_FAILED',
  16: 'OFPET_FLOW_MONITOR_FAILED',
  17: 'OFPET_BUNDLE_FAILED',
  0xffff: 'OFPET_EXPERIMENTER',
};

/** The codes a meter or a connection can fail with, and what each means, in the spec's words. */
const errorCodes: Readonly<Record<number, readonly (readonly [string, string])[]>> = {
  [ErrorType.HelloFailed]: [
    ['OFPHFC_INCOMPATIBLE', 'no version in common'],
    ['OFPHFC_EPERM', 'permissions error'],
  ],
  [ErrorType.BadRequest]: [
    ['OFPBRC_BAD_VERSION', 'header version not supported'],
    ['OFPBRC_BAD_TYPE', 'message type not supported'],
    ['OFPBRC_BAD_MULTIPART', 'multipart type not supported'],
    ['OFPBRC_BAD_EXPERIMENTER', 'experimenter id not supported'],
    ['OFPBRC_BAD_EXP_TYPE', 'experimenter type not supported'],
    ['OFPBRC_EPERM', 'permissions error'],
    ['OFPBRC_BAD_LEN', 'wrong request length for the type'],
  ],
  [ErrorType.MeterModFailed]: [
    ['OFPMMFC_UNKNOWN', 'unspecified error'],
    ['OFPMMFC_METER_EXISTS', 'a meter with this id exists already'],
    ['OFPMMFC_INVALID_METER', 'the meter id is invalid'],
    ['OFPMMFC_UNKNOWN_METER', 'no meter with this id to modify'],
    ['OFPMMFC_BAD_COMMAND', 'command not supported'],
    ['OFPMMFC_BAD_FLAGS', 'flags not supported'],
    ['OFPMMFC_BAD_RATE', 'rate not supported'],
    ['OFPMMFC_BAD_BURST', 'burst size not supported'],
    ['OFPMMFC_BAD_BAND', 'band not supported'],
    ['OFPMMFC_BAD_BAND_VALUE', 'band value not supported'],
    ['OFPMMFC_OUT_OF_METERS', 'the switch has no more meters'],
    ['OFPMMFC_OUT_OF_BANDS', 'too many bands for a meter'],
  ],
};

/**
 * An error as one line: the spec's names and meaning where punt6 knows them
 * (`OFPMMFC_METER_EXISTS: a meter with this id exists already`), the numbers otherwise.
 */
export function describeError(type: number, code: number): string {
  const known = errorCodes[type]?.[code];
  if (known !== undefined) return `${known[0]}: ${known[1]}`;
  return `${errorTypeNames[type] ?? `error type ${type}`}, code ${code}`;
}

/** A whole OpenFlow message: its header, and for an ERROR the error's type and code. */
export class OfMessageView extends ByteView {
  /**
   * Ok when the header and the whole message (by its length field) are inside `len`, and an
   * ERROR is long enough for its type and code.
   */
  check(): Status {
    const o = this.off;
    if (o < 0 || o + this.len > this.buf.length || this.len < OFP_HEADER_LENGTH)
      return this.failAt(Status.Truncated, o + Math.max(0, this.len), 'shorter than the 8-byte OpenFlow header');
    // In bounds: the 8 header bytes are inside len.
    const length = u16(this.buf, o + HeaderField.Length);
    if (length < OFP_HEADER_LENGTH) return this.failAt(Status.Malformed, o + HeaderField.Length, 'length below 8');
    if (length > this.len) return this.failAt(Status.Truncated, o + this.len, 'message ends before its length');
    if (this.buf[o + HeaderField.Type] === OfType.Error && length < ERROR_LENGTH)
      return this.failAt(Status.Malformed, o + HeaderField.Length, 'ERROR shorter than 12 bytes');
    return Status.Ok;
  }

  private failAt(s: Status, at: number, reason: string): Status {
    this.errorOffset = at;
    this.errorReason = reason;
    return s;
  }

  get version(): number {
    return this.buf[this.off + HeaderField.Version] as number;
  }
  get type(): number {
    return this.buf[this.off + HeaderField.Type] as number;
  }
  get length(): number {
    return u16(this.buf, this.off + HeaderField.Length);
  }
  get xid(): number {
    return u32(this.buf, this.off + HeaderField.Xid);
  }
  /** ERROR only. */
  get errorType(): number {
    return u16(this.buf, this.off + ErrorField.Type);
  }
  /** ERROR only. */
  get errorCode(): number {
    return u16(this.buf, this.off + ErrorField.Code);
  }
}

/**
 * How many bytes the next message at b[off] takes, from its length field: 0 when fewer than 8
 * bytes or fewer than its length are there yet (read more), -1 when the length field is below
 * 8 (the stream cannot be framed any further).
 */
export function nextMessageLength(b: Uint8Array, off: number, end: number): number {
  if (end - off < OFP_HEADER_LENGTH) return 0;
  // In bounds: 8 bytes are there.
  const length = u16(b, off + HeaderField.Length);
  if (length < OFP_HEADER_LENGTH) return -1;
  return length <= end - off ? length : 0;
}

/**
 * The version two sides use after their HELLOs (the spec's "version negotiation"): when the
 * peer's HELLO carries a version bitmap, the highest version in both bitmaps; when it carries
 * none, the smaller of the two header versions, if ours has it. -1 when there is none (the
 * connection cannot go on). `hello` has passed check() and is a HELLO.
 */
export function negotiateVersion(ours: number, hello: OfMessageView): number {
  const b = hello.buf;
  const end = hello.off + hello.length;
  for (let o = hello.off + OFP_HEADER_LENGTH; o + HELLO_ELEMENT_HEADER_LENGTH <= end;) {
    // In bounds: the element header's 4 bytes are before end.
    const type = u16(b, o + HelloElementField.Type);
    const length = u16(b, o + HelloElementField.Length);
    if (length < HELLO_ELEMENT_HEADER_LENGTH || o + length > end) return -1;
    // Only bitmaps[0] counts: bits 32 and up are versions past OpenFlow 1.5.
    if (type === HelloElementType.VersionBitmap && length >= HELLO_ELEMENT_HEADER_LENGTH + 4)
      return highestBit((ours & u32(b, o + HelloElementField.Bitmaps)) >>> 0);
    o += (length + 7) & ~7;
  }
  const shared = Math.min(highestBit(ours), hello.version);
  return shared >= 0 && (ours & (1 << shared)) !== 0 ? shared : -1;
}

function highestBit(bitmap: number): number {
  return bitmap === 0 ? -1 : 31 - Math.clz32(bitmap);
}

/** Writes an 8-byte header at b[off]; returns 8. */
export function emitHeader(
  type: number,
  version: number,
  length: number,
  xid: number,
  b: Uint8Array,
  off: number,
): number {
  b[off + HeaderField.Version] = version;
  b[off + HeaderField.Type] = type;
  setU16(b, off + HeaderField.Length, length);
  setU32(b, off + HeaderField.Xid, xid);
  return OFP_HEADER_LENGTH;
}

/**
 * A HELLO offering the versions of `bitmap` (bits 0-31), its header carrying the highest of
 * them, as the spec asks. Returns HELLO_LENGTH.
 */
export function emitHello(bitmap: number, xid: number, b: Uint8Array, off: number): number {
  emitHeader(OfType.Hello, highestBit(bitmap), HELLO_LENGTH, xid, b, off);
  const e = off + OFP_HEADER_LENGTH;
  setU16(b, e + HelloElementField.Type, HelloElementType.VersionBitmap);
  setU16(b, e + HelloElementField.Length, HELLO_ELEMENT_HEADER_LENGTH + 4);
  setU32(b, e + HelloElementField.Bitmaps, bitmap);
  return HELLO_LENGTH;
}

/** One meter change, as OFPT_METER_MOD carries it (with at most the one drop band punt6 uses). */
export interface MeterModRepr {
  readonly command: MeterCommand;
  readonly meterId: number;
  /** OFPMF_* bits. */
  readonly flags: number;
  /** The drop band; null for none (a DELETE). */
  readonly band: { readonly rate: number; readonly burstSize: number } | null;
}

export function meterModLength(r: MeterModRepr): number {
  return METER_MOD_LENGTH + (r.band === null ? 0 : METER_BAND_DROP_LENGTH);
}

/** Writes an OFPT_METER_MOD at b[off]; returns meterModLength(r). */
export function emitMeterMod(r: MeterModRepr, version: number, xid: number, b: Uint8Array, off: number): number {
  const length = meterModLength(r);
  emitHeader(OfType.MeterMod, version, length, xid, b, off);
  setU16(b, off + MeterModField.Command, r.command);
  setU16(b, off + MeterModField.Flags, r.flags);
  setU32(b, off + MeterModField.MeterId, r.meterId);
  if (r.band !== null) {
    const o = off + MeterModField.Bands;
    setU16(b, o + MeterBandField.Type, MeterBandType.Drop);
    setU16(b, o + MeterBandField.Length, METER_BAND_DROP_LENGTH);
    setU32(b, o + MeterBandField.Rate, r.band.rate);
    setU32(b, o + MeterBandField.BurstSize, r.band.burstSize);
    setU32(b, o + MeterBandField.Pad, 0);
  }
  return length;
}

/** Writes an OFPT_BARRIER_REQUEST at b[off]; returns 8. */
export function emitBarrierRequest(version: number, xid: number, b: Uint8Array, off: number): number {
  return emitHeader(OfType.BarrierRequest, version, OFP_HEADER_LENGTH, xid, b, off);
}

/**
 * Writes the ECHO_REPLY to a checked ECHO_REQUEST at b[off]: the same version, xid and data.
 * Returns its length (the request's).
 */
export function emitEchoReply(request: OfMessageView, b: Uint8Array, off: number): number {
  const length = request.length;
  emitHeader(OfType.EchoReply, request.version, length, request.xid, b, off);
  for (let i = OFP_HEADER_LENGTH; i < length; i++) b[off + i] = request.buf[request.off + i] as number;
  return length;
}
