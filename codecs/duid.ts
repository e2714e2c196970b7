/**
 * DHCP Unique Identifiers (RFC 9915 §11): the contents of the Client Identifier and Server
 * Identifier options (RFC 9915 §21.2, §21.3).
 *
 * Every DUID starts with a 2-octet type code; the rest depends on the type. A DUID is at most 128
 * octets long, not counting the type code (RFC 9915 §11.1).
 *
 * DUID-LLT, link-layer address plus time (RFC 9915 §11.2):
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               1               |    hardware type (16 bits)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        time (32 bits)                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                                                               .
 * .             link-layer address (variable length)              .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * (time: seconds since midnight UTC, 1 January 2000, modulo 2^32.)
 *
 * DUID-EN, vendor-assigned unique ID based on enterprise number (RFC 9915 §11.3):
 * ```text
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               2               |       enterprise-number       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   enterprise-number (contd)   |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 * .                           identifier                          .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * DUID-LL, link-layer address (RFC 9915 §11.4):
 * ```text
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               3               |    hardware type (16 bits)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .             link-layer address (variable length)              .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * DUID-UUID (RFC 6355 §4): type 4 followed by a 16-octet UUID (RFC 9562), 18 octets in all.
 *
 * Rules applied by {@link checkDuid}: at least the 2-octet type; at most 130 octets; LLT at least 8
 * octets, EN at least 6, LL at least 4, UUID exactly 18. Other type codes are data: the bytes after
 * the type code are kept as they are.
 */

import { copyBytes, formatColonHex, setU16, setU32, sliceBytes, toHex, u16, u32 } from './bytes.js';
import { codesOf, nameOf, namesOf } from './code-table.js';
import { ByteView, type Checked, Status } from './status.js';

/** DUID types (RFC 9915 §11.1, RFC 6355 §4): code and the name used in JSON and as the Repr `kind`. */
export const duidTypes = {
  LinkLayerPlusTime: { code: 1, name: 'llt' },
  EnterpriseNumber: { code: 2, name: 'en' },
  LinkLayer: { code: 3, name: 'll' },
  Uuid: { code: 4, name: 'uuid' },
} as const;

export const DuidType = codesOf(duidTypes);
export type DuidType = (typeof DuidType)[keyof typeof DuidType];

const duidTypeNames = namesOf(duidTypes);

/** "llt", "en", "ll", "uuid" or "unknown". */
export function duidTypeName(type: number): string {
  return nameOf(duidTypeNames, type);
}

/**
 * Hardware types (IANA "Hardware Types", the ARP registry) of the link-layer addresses in a
 * DUID-LLT or DUID-LL, and in the Client Link-Layer Address option (RFC 6939 §4).
 */
export const HardwareType = {
  /** Ethernet (RFC 826): a 6-octet MAC. */
  Ethernet: 1,
} as const;

/** Field offsets from the DUID's first byte. */
export const DuidField = {
  Type: 0,
  /** LLT and LL. */
  HardwareType: 2,
  /** LLT. */
  Time: 4,
  LltLinkLayerAddress: 8,
  LlLinkLayerAddress: 4,
  /** EN. */
  EnterpriseNumber: 2,
  EnIdentifier: 6,
  /** UUID. */
  Uuid: 2,
  /** Any other type: what follows the type code. */
  Data: 2,
} as const;

/** The lengths a DUID may have, type code included (RFC 9915 §11.1 to §11.4, RFC 6355 §4). */
const lengths = {
  Min: 2,
  /** 128 octets plus the type code (RFC 9915 §11.1). */
  Max: 130,
  LltMin: 8,
  EnMin: 6,
  LlMin: 4,
  Uuid: 18,
} as const;
export const DUID_MIN_LENGTH = lengths.Min;
export const DUID_MAX_LENGTH = lengths.Max;
export const DUID_LLT_MIN_LENGTH = lengths.LltMin;
export const DUID_EN_MIN_LENGTH = lengths.EnMin;
export const DUID_LL_MIN_LENGTH = lengths.LlMin;
export const DUID_UUID_LENGTH = lengths.Uuid;

/** Seconds between the Unix epoch and the DUID-LLT epoch (2000-01-01T00:00:00Z). */
export const DUID_TIME_EPOCH = 946684800;

// Module-local bindings of the hot path (codecs/code-table.ts says why).
const { Ok, Malformed } = Status;
const duidType = DuidType;
const duidField = DuidField;

/**
 * Checks the DUID at b[off, off+len), which the caller has proven is inside the buffer (it is an
 * option's data). Leaves offset and reason in `sink` on failure; everything here is Malformed,
 * since a DUID fills its option exactly.
 */
export function checkDuid(b: Uint8Array, off: number, len: number, sink: Checked): Status {
  if (len < lengths.Min) return malformed(sink, off, 'DUID shorter than its 2-octet type');
  if (len > lengths.Max) return malformed(sink, off, 'DUID longer than 128 octets after its type');
  // In bounds: len >= 2.
  switch (u16(b, off + duidField.Type)) {
    case duidType.LinkLayerPlusTime:
      return len >= lengths.LltMin ? Ok : malformed(sink, off, 'DUID-LLT shorter than 8 octets');
    case duidType.EnterpriseNumber:
      return len >= lengths.EnMin ? Ok : malformed(sink, off, 'DUID-EN shorter than 6 octets');
    case duidType.LinkLayer:
      return len >= lengths.LlMin ? Ok : malformed(sink, off, 'DUID-LL shorter than 4 octets');
    case duidType.Uuid:
      return len === lengths.Uuid ? Ok : malformed(sink, off, 'DUID-UUID is not 18 octets');
    default:
      return Ok;
  }
}

/** A DUID fills its option exactly, so a length its type forbids is Malformed. */
function malformed(sink: Checked, at: number, reason: string): Status {
  sink.errorOffset = at;
  sink.errorReason = reason;
  return Malformed;
}

/**
 * A view over one DUID. After check() returns Ok, every getter is in bounds; getters for fields a
 * type does not have return -1 (numbers) or a length of 0.
 */
export class DuidView extends ByteView {
  check(): Status {
    if (this.off < 0 || this.len < 0 || this.off + this.len > this.buf.length) {
      this.errorOffset = Math.max(0, Math.min(this.off, this.buf.length));
      this.errorReason = 'DUID runs past the buffer';
      return Status.Truncated;
    }
    return checkDuid(this.buf, this.off, this.len, this);
  }

  get type(): number {
    return u16(this.buf, this.off + DuidField.Type);
  }
  /** LLT and LL; -1 otherwise. */
  get hardwareType(): number {
    const t = this.type;
    return t === DuidType.LinkLayerPlusTime || t === DuidType.LinkLayer
      ? u16(this.buf, this.off + DuidField.HardwareType)
      : -1;
  }
  /** LLT: seconds since 2000-01-01T00:00:00Z modulo 2^32; -1 otherwise. */
  get time(): number {
    return this.type === DuidType.LinkLayerPlusTime ? u32(this.buf, this.off + DuidField.Time) : -1;
  }
  /** EN: the vendor's IANA enterprise number; -1 otherwise. */
  get enterpriseNumber(): number {
    return this.type === DuidType.EnterpriseNumber ? u32(this.buf, this.off + DuidField.EnterpriseNumber) : -1;
  }
  /** Offset of the link-layer address (LLT, LL) or the identifier (EN), or of the UUID. */
  get valueOffset(): number {
    switch (this.type) {
      case DuidType.LinkLayerPlusTime:
        return this.off + DuidField.LltLinkLayerAddress;
      case DuidType.EnterpriseNumber:
        return this.off + DuidField.EnIdentifier;
      case DuidType.LinkLayer:
        return this.off + DuidField.LlLinkLayerAddress;
      case DuidType.Uuid:
        return this.off + DuidField.Uuid;
      default:
        return this.off + DuidField.Data;
    }
  }
  /** Length of what valueOffset points at. */
  get valueLength(): number {
    return this.off + this.len - this.valueOffset;
  }
}

/** What a DUID is built from; `kind` picks the layout. */
export type DuidRepr =
  | { kind: 'llt'; hardwareType: number; time: number; linkLayerAddress: Uint8Array }
  | { kind: 'en'; enterpriseNumber: number; identifier: Uint8Array }
  | { kind: 'll'; hardwareType: number; linkLayerAddress: Uint8Array }
  | { kind: 'uuid'; uuid: Uint8Array }
  /** Any other type code; `data` is everything after the type code. */
  | { kind: 'unknown'; type: number; data: Uint8Array };

export function duidLength(r: DuidRepr): number {
  switch (r.kind) {
    case 'llt':
      return DUID_LLT_MIN_LENGTH + r.linkLayerAddress.length;
    case 'en':
      return DUID_EN_MIN_LENGTH + r.identifier.length;
    case 'll':
      return DUID_LL_MIN_LENGTH + r.linkLayerAddress.length;
    case 'uuid':
      return DUID_UUID_LENGTH;
    case 'unknown':
      return 2 + r.data.length;
  }
}

/** Writes the DUID at b[off]; returns bytes written (= duidLength(r)). */
export function emitDuid(r: DuidRepr, b: Uint8Array, off: number): number {
  switch (r.kind) {
    case 'llt':
      setU16(b, off + DuidField.Type, DuidType.LinkLayerPlusTime);
      setU16(b, off + DuidField.HardwareType, r.hardwareType);
      setU32(b, off + DuidField.Time, r.time);
      copyBytes(r.linkLayerAddress, 0, b, off + DuidField.LltLinkLayerAddress, r.linkLayerAddress.length);
      break;
    case 'en':
      setU16(b, off + DuidField.Type, DuidType.EnterpriseNumber);
      setU32(b, off + DuidField.EnterpriseNumber, r.enterpriseNumber);
      copyBytes(r.identifier, 0, b, off + DuidField.EnIdentifier, r.identifier.length);
      break;
    case 'll':
      setU16(b, off + DuidField.Type, DuidType.LinkLayer);
      setU16(b, off + DuidField.HardwareType, r.hardwareType);
      copyBytes(r.linkLayerAddress, 0, b, off + DuidField.LlLinkLayerAddress, r.linkLayerAddress.length);
      break;
    case 'uuid':
      setU16(b, off + DuidField.Type, DuidType.Uuid);
      copyBytes(r.uuid, 0, b, off + DuidField.Uuid, 16);
      break;
    case 'unknown':
      setU16(b, off + DuidField.Type, r.type);
      copyBytes(r.data, 0, b, off + DuidField.Data, r.data.length);
      break;
  }
  return duidLength(r);
}

/**
 * The Repr of a DUID that passed checkDuid (edges only: allocates). A DUID that does not check
 * is returned as `unknown` with its bytes, so this never throws.
 */
export function parseDuid(b: Uint8Array, off: number, len: number): DuidRepr {
  const v = scratch.wrap(b, off, len);
  if (v.check() !== Status.Ok) {
    const type = len >= DUID_MIN_LENGTH ? u16(b, off + DuidField.Type) : 0;
    return { kind: 'unknown', type, data: sliceBytes(b, off + Math.min(DuidField.Data, len), off + len) };
  }
  const value = sliceBytes(b, v.valueOffset, off + len);
  switch (v.type) {
    case DuidType.LinkLayerPlusTime:
      return { kind: 'llt', hardwareType: v.hardwareType, time: v.time, linkLayerAddress: value };
    case DuidType.EnterpriseNumber:
      return { kind: 'en', enterpriseNumber: v.enterpriseNumber, identifier: value };
    case DuidType.LinkLayer:
      return { kind: 'll', hardwareType: v.hardwareType, linkLayerAddress: value };
    case DuidType.Uuid:
      return { kind: 'uuid', uuid: value };
    default:
      return { kind: 'unknown', type: v.type, data: value };
  }
}

const scratch = new DuidView();

/** RFC 9562 text form of the 16 bytes at b[o]. */
export function formatUuid(b: Uint8Array, o: number): string {
  return `${toHex(b, o, 4)}-${toHex(b, o + 4, 2)}-${toHex(b, o + 6, 2)}-${toHex(b, o + 8, 2)}-${toHex(b, o + 10, 6)}`;
}

/**
 * Plain JSON for the DUID at b[off, off+len): `type`, `typeName`, the fields its type has
 * (`hardwareType`, `linkLayerAddress`, `time`, `enterpriseNumber`, `identifier` as hex, `uuid`),
 * and `hex` of the whole DUID. A DUID that does not check also gets `error`. Edges only.
 */
export function describeDuid(b: Uint8Array, off: number, len: number): Record<string, unknown> {
  const n = Math.max(0, Math.min(len, b.length - off));
  const out: Record<string, unknown> = {};
  const v = scratch.wrap(b, off, n);
  const s = v.check();
  if (n >= 2) {
    out['type'] = v.type;
    out['typeName'] = duidTypeName(v.type);
  }
  if (s === Status.Ok) {
    switch (v.type) {
      case DuidType.LinkLayerPlusTime:
        out['hardwareType'] = v.hardwareType;
        out['time'] = v.time;
        out['linkLayerAddress'] = formatColonHex(b, v.valueOffset, v.valueLength);
        break;
      case DuidType.EnterpriseNumber:
        out['enterpriseNumber'] = v.enterpriseNumber;
        out['identifier'] = toHex(b, v.valueOffset, v.valueLength);
        break;
      case DuidType.LinkLayer:
        out['hardwareType'] = v.hardwareType;
        out['linkLayerAddress'] = formatColonHex(b, v.valueOffset, v.valueLength);
        break;
      case DuidType.Uuid:
        out['uuid'] = formatUuid(b, v.valueOffset);
        break;
      default:
        out['identifier'] = toHex(b, v.valueOffset, v.valueLength);
        break;
    }
  } else {
    out['error'] = v.errorReason;
  }
  out['hex'] = toHex(b, off, n);
  return out;
}
