/**
 * ICMPv6 (RFC 4443): the module to import for anything ICMPv6. It re-exports the common header,
 * type constants and checksum helpers (`icmpv6-header.ts`), and adds Echo Request/Reply (§4.1,
 * §4.2), whole-message validation of every type punt6 knows ({@link validateIcmpv6}) and the JSON
 * form used by the CLI and tests ({@link describeIcmpv6}).
 *
 * ```text
 * Echo Request (128) / Echo Reply (129), RFC 4443 §4.1:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Identifier          |        Sequence Number        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Data ...
 * +-+-+-+-+-
 *
 * Error messages (types 1..4, RFC 4443 §3): a 32-bit field (unused, MTU or pointer), then as
 * much of the invoking packet as fits:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Unused / MTU / Pointer                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                As much of invoking packet as fits ...         |
 * ```
 *
 * Fixed lengths checked by validation for the other types: MLD (RFC 2710 §3, RFC 3810 §5) 24
 * bytes, an MLDv2 query 28 bytes plus its sources, an MLDv2 report its records; Router
 * Renumbering (RFC 2894 §3.1) and Node Information (RFC 4620 §4) 16 bytes; Extended Echo (RFC
 * 8335) 8 bytes; ND, Inverse ND and MRD per their modules. Other types are accepted as
 * type, code and bytes.
 */

import { copyBytes, formatIpv6, setU16, toHex, u16, u32 } from './bytes.js';
import {
  ICMPV6_HEADER_LENGTH,
  Icmpv6Field,
  Icmpv6Type,
  Icmpv6View,
  checkLength,
  icmpv6TypeName,
} from './icmpv6-header.js';
import {
  InverseNeighborAdvertisementView,
  InverseNeighborSolicitationView,
  INVERSE_ND_LENGTH,
  requireInverseNdOptions,
} from './inverse-nd.js';
import { MrdAdvertisementField, MrdView } from './mrd.js';
import {
  NdMessageView,
  NEIGHBOR_ADVERTISEMENT_LENGTH,
  NEIGHBOR_SOLICITATION_LENGTH,
  NeighborAdvertisementFlag,
  NeighborField,
  REDIRECT_LENGTH,
  RedirectField,
  ROUTER_ADVERTISEMENT_LENGTH,
  ROUTER_SOLICITATION_LENGTH,
  RouterAdvertisementField,
  RouterAdvertisementFlag,
} from './ndp.js';
import { NdpOptionCursor, checkNdpOptions, describeNdpOption, routerPreferenceName } from './ndp-options.js';
import { Failure, Layer, Rule, Status, layerName, statusName } from './status.js';

export * from './icmpv6-header.js';

export const ECHO_HEADER_LENGTH = 8;
export const ICMPV6_ERROR_HEADER_LENGTH = 8;
export const MLD_LENGTH = 24;
export const MLDV2_QUERY_LENGTH = 28;
export const MLDV2_REPORT_HEADER_LENGTH = 8;
export const MLDV2_RECORD_HEADER_LENGTH = 20;
export const NODE_INFORMATION_LENGTH = 16;
export const ROUTER_RENUMBERING_LENGTH = 16;

/** Echo Request and Reply fields (RFC 4443 §4.1, §4.2). */
export const EchoField = { Identifier: 4, SequenceNumber: 6, Data: 8 } as const;
/** Error message fields (RFC 4443 §3): the unused word, Packet Too Big's MTU or Parameter Problem's pointer. */
export const Icmpv6ErrorField = { Parameter: 4, InvokingPacket: 8 } as const;
/** MLD fields (RFC 2710 §3), and those an MLDv2 query adds (RFC 3810 §5.1). */
export const MldField = {
  MaximumResponse: 4,
  MulticastAddress: 8,
  /** S flag (0x08) and QRV (3 bits). */
  QueryFlags: 24,
  QueryIntervalCode: 25,
  SourceCount: 26,
  Sources: 28,
} as const;
/** MLDv2 report fields (RFC 3810 §5.2) and those of each of its multicast address records. */
export const Mldv2ReportField = { RecordCount: 6, Records: 8 } as const;
export const Mldv2RecordField = {
  Type: 0,
  AuxDataLength: 1,
  SourceCount: 2,
  MulticastAddress: 4,
  Sources: 20,
} as const;
/** Node Information Query and Response fields (RFC 4620 §4). */
export const NodeInformationField = { Qtype: 4, Flags: 6, Nonce: 8, Data: 16 } as const;
/** The MLDv2 query's S flag (RFC 3810 §5.1.7) and robustness bits (§5.1.8). */
const MLDV2_SUPPRESS = 0x08;
const MLDV2_QRV_MASK = 0x07;
/** Echo Request / Echo Reply (RFC 4443 §4.1, §4.2). */
export class EchoView extends Icmpv6View {
  override check(): Status {
    const s = checkLength(this, ECHO_HEADER_LENGTH, 'echo message shorter than 8 bytes');
    if (s !== Status.Ok) return s;
    const t = this.buf[this.off + Icmpv6Field.Type] as number;
    if (t !== Icmpv6Type.EchoRequest && t !== Icmpv6Type.EchoReply)
      return this.fail(Status.Malformed, this.off, 'not an echo request or reply', Rule.Value);
    return Status.Ok;
  }

  get identifier(): number {
    return u16(this.buf, this.off + EchoField.Identifier);
  }
  set identifier(v: number) {
    setU16(this.buf, this.off + EchoField.Identifier, v);
  }
  get sequenceNumber(): number {
    return u16(this.buf, this.off + EchoField.SequenceNumber);
  }
  set sequenceNumber(v: number) {
    setU16(this.buf, this.off + EchoField.SequenceNumber, v);
  }
  get dataOffset(): number {
    return this.off + EchoField.Data;
  }
  get dataLength(): number {
    return this.len - ECHO_HEADER_LENGTH;
  }
}

export interface EchoRepr {
  /** Icmpv6Type.EchoRequest or Icmpv6Type.EchoReply. */
  type: number;
  identifier: number;
  sequenceNumber: number;
  data: Uint8Array;
}

export function echoLength(r: { data: Uint8Array }): number {
  return ECHO_HEADER_LENGTH + r.data.length;
}

/** Writes the message with a zero checksum (fill it with {@link fillIcmpv6Checksum}). */
export function emitEcho(r: EchoRepr, b: Uint8Array, o: number): number {
  b[o + Icmpv6Field.Type] = r.type;
  b[o + Icmpv6Field.Code] = 0;
  setU16(b, o + Icmpv6Field.Checksum, 0);
  setU16(b, o + EchoField.Identifier, r.identifier);
  setU16(b, o + EchoField.SequenceNumber, r.sequenceNumber);
  copyBytes(r.data, 0, b, o + EchoField.Data, r.data.length);
  return ECHO_HEADER_LENGTH + r.data.length;
}

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const icmpv6Type = Icmpv6Type;
const icmpv6Field = Icmpv6Field;
const icmpv6HeaderLength = ICMPV6_HEADER_LENGTH;
const echoHeaderLength = ECHO_HEADER_LENGTH;
const { Ok } = Status;

// ---- Whole-message validation ----

/**
 * Validates one ICMPv6 message: its fixed part for its type, then (ND and Inverse ND) every
 * option, in one walk whose cursor (`options`) remembers where the options handlers look for
 * stand. The checksum is not looked at. Owns its views and cursor, so it allocates nothing; make
 * one per decoder, or use {@link validateIcmpv6}.
 */

export class Icmpv6Validator {
  private readonly header = new Icmpv6View();
  // Plain NdMessageViews, one shape for every ND type (see NdMessageView's constructor).
  private readonly routerSolicitation = new NdMessageView(icmpv6Type.RouterSolicitation, ROUTER_SOLICITATION_LENGTH);
  private readonly routerAdvertisement = new NdMessageView(icmpv6Type.RouterAdvertisement, ROUTER_ADVERTISEMENT_LENGTH);
  private readonly neighborSolicitation = new NdMessageView(
    icmpv6Type.NeighborSolicitation,
    NEIGHBOR_SOLICITATION_LENGTH,
  );
  private readonly neighborAdvertisement = new NdMessageView(
    icmpv6Type.NeighborAdvertisement,
    NEIGHBOR_ADVERTISEMENT_LENGTH,
  );
  private readonly redirect = new NdMessageView(icmpv6Type.Redirect, REDIRECT_LENGTH);
  private readonly inverseSolicitation = new InverseNeighborSolicitationView();
  private readonly inverseAdvertisement = new InverseNeighborAdvertisementView();
  private readonly mrd = new MrdView();
  /**
   * The option walk of the last ND or Inverse ND message validated; after Ok it says where that
   * message's link-layer address options and Target Address List stand.
   */
  readonly options = new NdpOptionCursor();
  /**
   * Set by validate(): true once the fixed part of the message proved good (so a failure, if
   * any, is in the options or a missing required option).
   */
  fixedPartValid = false;

  validate(b: Uint8Array, off: number, len: number, failure: Failure): Status {
    this.fixedPartValid = false;
    const s = this.validateMessage(b, off, len, failure);
    if (s === Ok) this.fixedPartValid = true;
    return s;
  }

  private validateMessage(b: Uint8Array, off: number, len: number, failure: Failure): Status {
    let s: Status;
    if (off < 0 || len < icmpv6HeaderLength || len > b.length - off) {
      const h = this.header.wrap(b, off, len);
      s = h.check();
      if (s !== Ok) return failure.from(s, Layer.Icmpv6, h);
    }
    // The generic header view, for the types whose only rule is a length (the ND types have
    // views of their own): wrapped where it is used, so the ND path does not pay for it.
    const h = this.header;
    // In bounds from here: off >= 0, len >= 4 and off + len <= b.length.
    const type = b[off + icmpv6Field.Type] as number;
    // A switch is a chain of compares in order: the punt path's messages (NS, echo, RS, NA) first.
    switch (type) {
      case icmpv6Type.NeighborSolicitation:
        return this.nd(this.neighborSolicitation, b, off, len, failure);
      case icmpv6Type.EchoRequest:
      case icmpv6Type.EchoReply:
      case icmpv6Type.ExtendedEchoRequest:
      case icmpv6Type.ExtendedEchoReply:
        return this.minimum(h.wrap(b, off, len), echoHeaderLength, 'echo message shorter than 8 bytes', failure);
      case icmpv6Type.RouterSolicitation:
        return this.nd(this.routerSolicitation, b, off, len, failure);
      case icmpv6Type.NeighborAdvertisement:
        return this.nd(this.neighborAdvertisement, b, off, len, failure);
      case icmpv6Type.DestinationUnreachable:
      case icmpv6Type.PacketTooBig:
      case icmpv6Type.TimeExceeded:
      case icmpv6Type.ParameterProblem:
        return this.minimum(
          h.wrap(b, off, len),
          ICMPV6_ERROR_HEADER_LENGTH,
          'ICMPv6 error message shorter than 8 bytes',
          failure,
        );
      case icmpv6Type.MulticastListenerQuery:
        return this.listenerQuery(h.wrap(b, off, len), failure);
      case icmpv6Type.MulticastListenerReport:
      case icmpv6Type.MulticastListenerDone:
        return this.minimum(h.wrap(b, off, len), MLD_LENGTH, 'MLD message shorter than 24 bytes', failure);
      case icmpv6Type.MulticastListenerReportV2:
        return this.listenerReportV2(h.wrap(b, off, len), failure);
      case icmpv6Type.RouterRenumbering:
        return this.minimum(
          h.wrap(b, off, len),
          ROUTER_RENUMBERING_LENGTH,
          'router renumbering message shorter than 16 bytes',
          failure,
        );
      case icmpv6Type.NodeInformationQuery:
      case icmpv6Type.NodeInformationResponse:
        return this.minimum(
          h.wrap(b, off, len),
          NODE_INFORMATION_LENGTH,
          'node information message shorter than 16 bytes',
          failure,
        );
      case icmpv6Type.RouterAdvertisement:
        return this.nd(this.routerAdvertisement, b, off, len, failure);
      case icmpv6Type.Redirect:
        return this.nd(this.redirect, b, off, len, failure);
      case icmpv6Type.InverseNeighborSolicitation:
      case icmpv6Type.InverseNeighborAdvertisement: {
        const v =
          type === icmpv6Type.InverseNeighborSolicitation ? this.inverseSolicitation : this.inverseAdvertisement;
        v.wrap(b, off, len);
        s = v.check();
        if (s !== Ok) return failure.from(s, Layer.InverseNd, v);
        this.fixedPartValid = true;
        s = checkNdpOptions(this.options, b, v.optionsOffset, v.optionsEnd);
        if (s !== Ok) return failure.from(s, Layer.NdpOption, this.options);
        // The options are framed; what can still fail is a required option missing.
        s = requireInverseNdOptions(type, this.options, v.optionsOffset, v);
        if (s !== Ok) return failure.from(s, Layer.InverseNd, v);
        return Ok;
      }
      case icmpv6Type.MulticastRouterAdvertisement:
      case icmpv6Type.MulticastRouterSolicitation:
      case icmpv6Type.MulticastRouterTermination: {
        const v = this.mrd.wrap(b, off, len);
        s = v.check();
        return s === Ok ? s : failure.from(s, Layer.Mrd, v);
      }
      default:
        return Ok;
    }
  }

  private minimum(h: Icmpv6View, min: number, reason: string, failure: Failure): Status {
    // The header check proved the range is inside the buffer; only the length is left.
    if (h.len >= min) return Ok;
    const s = checkLength(h, min, reason);
    return s === Ok ? s : failure.from(s, Layer.Icmpv6, h);
  }

  private nd(v: NdMessageView, b: Uint8Array, off: number, len: number, failure: Failure): Status {
    v.wrap(b, off, len);
    let s = v.check();
    if (s !== Ok) return failure.from(s, Layer.Ndp, v);
    this.fixedPartValid = true;
    s = checkNdpOptions(this.options, b, v.optionsOffset, v.optionsEnd);
    return s === Ok ? s : failure.from(s, Layer.NdpOption, this.options);
  }

  /** MLDv1 query: 24 bytes; MLDv2 query: 28 + 16 × sources (RFC 3810 §8.1: 25..27 is invalid). */
  private listenerQuery(h: Icmpv6View, failure: Failure): Status {
    const len = h.len;
    if (len < MLD_LENGTH) return this.minimum(h, MLD_LENGTH, 'MLD message shorter than 24 bytes', failure);
    if (len === MLD_LENGTH) return Ok;
    if (len < MLDV2_QUERY_LENGTH)
      return failure.fail(
        Status.Truncated,
        Layer.Icmpv6,
        h.off + len,
        'MLDv2 query shorter than 28 bytes',
        Rule.Length,
      );
    // In bounds: len >= 28.
    const sources = u16(h.buf, h.off + MldField.SourceCount);
    if (MLDV2_QUERY_LENGTH + 16 * sources > len)
      return failure.fail(
        Status.Truncated,
        Layer.Icmpv6,
        h.off + len,
        'MLDv2 query sources run past the end of the message',
        Rule.Length,
      );
    return Ok;
  }

  /** MLDv2 report (RFC 3810 §5.2): 8 bytes, then the multicast address records. */
  private listenerReportV2(h: Icmpv6View, failure: Failure): Status {
    const s = this.minimum(h, MLDV2_REPORT_HEADER_LENGTH, 'MLDv2 report shorter than 8 bytes', failure);
    if (s !== Ok) return s;
    const b = h.buf;
    const end = h.off + h.len;
    const records = u16(b, h.off + Mldv2ReportField.RecordCount);
    let p = h.off + Mldv2ReportField.Records;
    for (let i = 0; i < records; i++) {
      if (end - p < MLDV2_RECORD_HEADER_LENGTH)
        return failure.fail(
          Status.Truncated,
          Layer.Icmpv6,
          p,
          'MLDv2 record header runs past the end of the message',
          Rule.Length,
        );
      // In bounds: p + 20 <= end.
      const n = mldv2RecordLength(b, p);
      if (n > end - p)
        return failure.fail(
          Status.Truncated,
          Layer.Icmpv6,
          p,
          'MLDv2 record runs past the end of the message',
          Rule.Length,
        );
      p += n;
    }
    return Ok;
  }
}

/** Bytes of the MLDv2 multicast address record at b[p]: header, sources, auxiliary data (RFC 3810 §5.2.6). */
function mldv2RecordLength(b: Uint8Array, p: number): number {
  return (
    MLDV2_RECORD_HEADER_LENGTH +
    16 * u16(b, p + Mldv2RecordField.SourceCount) +
    4 * (b[p + Mldv2RecordField.AuxDataLength] as number)
  );
}

const sharedValidator = new Icmpv6Validator();

/**
 * Validates one ICMPv6 message at b[off, off+len) (see {@link Icmpv6Validator}); on failure the
 * layer, absolute offset and reason are in `failure` and the status is returned.
 */
export function validateIcmpv6(b: Uint8Array, off: number, len: number, failure: Failure): Status {
  return sharedValidator.validate(b, off, len, failure);
}

// ---- JSON (edges only: everything below allocates) ----

const unreachableCodes = [
  'no-route',
  'administratively-prohibited',
  'beyond-scope',
  'address-unreachable',
  'port-unreachable',
  'source-address-failed-policy',
  'reject-route',
  'source-routing-header-error',
  'headers-too-long',
];
const timeExceededCodes = ['hop-limit-exceeded', 'fragment-reassembly-time-exceeded'];
const parameterProblemCodes = [
  'erroneous-header-field',
  'unrecognized-next-header',
  'unrecognized-ipv6-option',
  'incomplete-header-chain',
  'sr-upper-layer-header-error',
  'unrecognized-next-header-by-intermediate-node',
  'extension-header-too-big',
  'extension-header-chain-too-long',
  'too-many-extension-headers',
  'too-many-options-in-extension-header',
  'option-too-big',
];
const mldv2RecordTypes = [
  '',
  'mode-is-include',
  'mode-is-exclude',
  'change-to-include',
  'change-to-exclude',
  'allow-new-sources',
  'block-old-sources',
];

function codeName(names: readonly string[], code: number): string {
  return names[code] ?? 'unknown';
}

/** RFC 3810 §5.1.3 Maximum Response Code to milliseconds. */
function mldv2MaxResponseDelay(code: number): number {
  if (code < 0x8000) return code;
  return ((code & 0x0fff) | 0x1000) << (((code >>> 12) & 7) + 3);
}

/** RFC 3810 §5.1.9 Querier's Query Interval Code to seconds. */
function mldv2QueryInterval(code: number): number {
  if (code < 0x80) return code;
  return ((code & 0x0f) | 0x10) << (((code >>> 4) & 7) + 3);
}

function addressList(b: Uint8Array, from: number, count: number, end: number): string[] {
  const out: string[] = [];
  for (let i = 0, p = from; i < count && p + 16 <= end; i++, p += 16) out.push(formatIpv6(b, p));
  return out;
}

/**
 * Plain JSON of one ICMPv6 message with every decoded field: `type`, `typeName`, `code`,
 * `checksum`, the fields of its type, `options` for ND and Inverse ND (in wire order, each
 * `{ type, name, ...fields }`) and, when {@link validateIcmpv6} fails, `error: { status, layer,
 * offset, reason }` (fields past the failure are left out). Never throws and reads nothing at or
 * past `off + len`.
 */
export function describeIcmpv6(b: Uint8Array, off: number, len: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const failure = new Failure();
  const validator = new Icmpv6Validator();
  const status = validator.validate(b, off, len, failure);
  const valid = status === Status.Ok;
  const error = valid
    ? undefined
    : { status: statusName(status), layer: layerName(failure.layer), offset: failure.offset, reason: failure.reason };
  const avail = off < 0 || off > b.length ? 0 : Math.max(0, Math.min(len, b.length - off));
  if (avail < ICMPV6_HEADER_LENGTH) {
    if (avail > 0) out['type'] = b[off + Icmpv6Field.Type] as number;
    if (avail > 0) out['typeName'] = icmpv6TypeName(b[off + Icmpv6Field.Type] as number);
    out['error'] = error;
    return out;
  }
  const end = off + avail;
  const type = b[off + Icmpv6Field.Type] as number;
  const code = b[off + Icmpv6Field.Code] as number;
  out['type'] = type;
  out['typeName'] = icmpv6TypeName(type);
  out['code'] = code;
  out['checksum'] = u16(b, off + Icmpv6Field.Checksum);
  const body = off + Icmpv6Field.Body;
  // Per-type fields are read only when the fixed part proved good (a failure, if any, came later).
  if (!validator.fixedPartValid) {
    out['data'] = toHex(b, body, end - body);
    out['error'] = error;
    return out;
  }
  let optionsFrom = -1;
  switch (type) {
    case Icmpv6Type.DestinationUnreachable:
    case Icmpv6Type.TimeExceeded:
    case Icmpv6Type.ParameterProblem:
    case Icmpv6Type.PacketTooBig:
      if (type === Icmpv6Type.DestinationUnreachable) out['codeName'] = codeName(unreachableCodes, code);
      if (type === Icmpv6Type.TimeExceeded) out['codeName'] = codeName(timeExceededCodes, code);
      if (type === Icmpv6Type.ParameterProblem) {
        out['codeName'] = codeName(parameterProblemCodes, code);
        out['pointer'] = u32(b, off + Icmpv6ErrorField.Parameter);
      }
      if (type === Icmpv6Type.PacketTooBig) out['mtu'] = u32(b, off + Icmpv6ErrorField.Parameter);
      out['invokingPacket'] = toHex(
        b,
        off + Icmpv6ErrorField.InvokingPacket,
        end - off - Icmpv6ErrorField.InvokingPacket,
      );
      break;
    case Icmpv6Type.EchoRequest:
    case Icmpv6Type.EchoReply:
      out['identifier'] = u16(b, off + EchoField.Identifier);
      out['sequenceNumber'] = u16(b, off + EchoField.SequenceNumber);
      out['dataLength'] = end - off - EchoField.Data;
      out['data'] = toHex(b, off + EchoField.Data, end - off - EchoField.Data);
      break;
    case Icmpv6Type.MulticastListenerQuery:
    case Icmpv6Type.MulticastListenerReport:
    case Icmpv6Type.MulticastListenerDone: {
      const v2 = type === Icmpv6Type.MulticastListenerQuery && avail >= MLDV2_QUERY_LENGTH;
      out['version'] = v2 ? 2 : 1;
      const maximumResponse = u16(b, off + MldField.MaximumResponse);
      out['maxResponseDelay'] = v2 ? mldv2MaxResponseDelay(maximumResponse) : maximumResponse;
      out['multicastAddress'] = formatIpv6(b, off + MldField.MulticastAddress);
      if (v2) {
        const flags = b[off + MldField.QueryFlags] as number;
        out['suppressRouterProcessing'] = (flags & MLDV2_SUPPRESS) !== 0;
        out['robustness'] = flags & MLDV2_QRV_MASK;
        out['queryInterval'] = mldv2QueryInterval(b[off + MldField.QueryIntervalCode] as number);
        out['sources'] = addressList(b, off + MldField.Sources, u16(b, off + MldField.SourceCount), end);
      }
      break;
    }
    case Icmpv6Type.MulticastListenerReportV2: {
      const records: Record<string, unknown>[] = [];
      let p = off + Mldv2ReportField.Records;
      const count = u16(b, off + Mldv2ReportField.RecordCount);
      for (let i = 0; i < count && end - p >= MLDV2_RECORD_HEADER_LENGTH; i++) {
        const n = mldv2RecordLength(b, p);
        if (n > end - p) break;
        const sources = u16(b, p + Mldv2RecordField.SourceCount);
        records.push({
          recordType: mldv2RecordTypes[b[p + Mldv2RecordField.Type] as number] ?? 'unknown',
          multicastAddress: formatIpv6(b, p + Mldv2RecordField.MulticastAddress),
          sources: addressList(b, p + Mldv2RecordField.Sources, sources, end),
          auxiliaryData: toHex(
            b,
            p + Mldv2RecordField.Sources + 16 * sources,
            4 * (b[p + Mldv2RecordField.AuxDataLength] as number),
          ),
        });
        p += n;
      }
      out['records'] = records;
      break;
    }
    case Icmpv6Type.RouterSolicitation:
      optionsFrom = off + ROUTER_SOLICITATION_LENGTH;
      break;
    case Icmpv6Type.RouterAdvertisement: {
      const f = b[off + RouterAdvertisementField.Flags] as number;
      const flags: string[] = [];
      if (f & RouterAdvertisementFlag.Managed) flags.push('managed');
      if (f & RouterAdvertisementFlag.Other) flags.push('other');
      if (f & RouterAdvertisementFlag.HomeAgent) flags.push('home-agent');
      if (f & RouterAdvertisementFlag.Proxy) flags.push('proxy');
      out['curHopLimit'] = b[off + RouterAdvertisementField.CurHopLimit] as number;
      out['flags'] = flags;
      out['preference'] = routerPreferenceName((f & RouterAdvertisementFlag.PreferenceMask) >>> 3);
      out['routerLifetime'] = u16(b, off + RouterAdvertisementField.RouterLifetime);
      out['reachableTime'] = u32(b, off + RouterAdvertisementField.ReachableTime);
      out['retransTimer'] = u32(b, off + RouterAdvertisementField.RetransTimer);
      optionsFrom = off + ROUTER_ADVERTISEMENT_LENGTH;
      break;
    }
    case Icmpv6Type.NeighborSolicitation:
      out['target'] = formatIpv6(b, off + NeighborField.Target);
      optionsFrom = off + NEIGHBOR_SOLICITATION_LENGTH;
      break;
    case Icmpv6Type.NeighborAdvertisement: {
      const f = b[off + NeighborField.Flags] as number;
      const flags: string[] = [];
      if (f & NeighborAdvertisementFlag.Router) flags.push('router');
      if (f & NeighborAdvertisementFlag.Solicited) flags.push('solicited');
      if (f & NeighborAdvertisementFlag.Override) flags.push('override');
      out['flags'] = flags;
      out['target'] = formatIpv6(b, off + NeighborField.Target);
      optionsFrom = off + NEIGHBOR_ADVERTISEMENT_LENGTH;
      break;
    }
    case Icmpv6Type.Redirect:
      out['target'] = formatIpv6(b, off + RedirectField.Target);
      out['destination'] = formatIpv6(b, off + RedirectField.Destination);
      optionsFrom = off + REDIRECT_LENGTH;
      break;
    case Icmpv6Type.InverseNeighborSolicitation:
    case Icmpv6Type.InverseNeighborAdvertisement:
      optionsFrom = off + INVERSE_ND_LENGTH;
      break;
    case Icmpv6Type.NodeInformationQuery:
    case Icmpv6Type.NodeInformationResponse:
      out['qtype'] = u16(b, off + NodeInformationField.Qtype);
      out['flags'] = u16(b, off + NodeInformationField.Flags);
      out['nonce'] = toHex(b, off + NodeInformationField.Nonce, NodeInformationField.Data - NodeInformationField.Nonce);
      out['data'] = toHex(b, off + NodeInformationField.Data, end - off - NodeInformationField.Data);
      break;
    case Icmpv6Type.MulticastRouterAdvertisement:
      out['advertisementInterval'] = code;
      out['queryInterval'] = u16(b, off + MrdAdvertisementField.QueryInterval);
      out['robustnessVariable'] = u16(b, off + MrdAdvertisementField.RobustnessVariable);
      break;
    case Icmpv6Type.MulticastRouterSolicitation:
    case Icmpv6Type.MulticastRouterTermination:
      break;
    default:
      out['data'] = toHex(b, body, end - body);
      break;
  }
  if (optionsFrom >= 0) {
    const options: Record<string, unknown>[] = [];
    const c = new NdpOptionCursor().reset(b, optionsFrom, end);
    while (c.next() === Status.Ok) options.push(describeNdpOption(b, c.offset, c.length));
    out['options'] = options;
  }
  if (error !== undefined) out['error'] = error;
  return out;
}
