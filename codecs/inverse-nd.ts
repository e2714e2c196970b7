/**
 * Inverse Neighbor Discovery (RFC 3122): Inverse Neighbor Discovery Solicitation (type 141,
 * §2.1) and Advertisement (type 142, §2.2), which map a known link-layer address to the IPv6
 * addresses behind it.
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           Reserved                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Options ...
 * +-+-+-+-+-+-+-+-+-+-+-+-
 * ```
 *
 * Options (RFC 3122 §2, §3): a solicitation must carry Source and Target Link-Layer Address
 * options and may carry a Source Address List (type 9) and MTU; an advertisement must carry
 * Source and Target Link-Layer Address and a Target Address List (type 10), and may carry MTU.
 * The address list options are 6 reserved bytes then IPv6 addresses (`ndp-options.ts`).
 *
 * check() proves the fixed part (8 bytes, type, code 0). `checkInverseNdOptions` walks the
 * options once and enforces the required ones (`requireInverseNdOptions`, from where the walk
 * found them); `validateIcmpv6` does both.
 */

import { fillZero } from './bytes.js';
import { ICMPV6_FIXED_LENGTH, Icmpv6Field, Icmpv6Type } from './icmpv6-header.js';
import { NdMessageView } from './ndp.js';
import {
  checkNdpOptions,
  emitNdpOptions,
  ndpOptionsLength,
  type NdpOptionCursor,
  type NdpOptionRepr,
} from './ndp-options.js';
import { Rule, Status, type ByteView } from './status.js';

export const INVERSE_ND_LENGTH = ICMPV6_FIXED_LENGTH;

export class InverseNeighborSolicitationView extends NdMessageView {
  constructor() {
    super(Icmpv6Type.InverseNeighborSolicitation, INVERSE_ND_LENGTH);
  }
}

export class InverseNeighborAdvertisementView extends NdMessageView {
  constructor() {
    super(Icmpv6Type.InverseNeighborAdvertisement, INVERSE_ND_LENGTH);
  }
}

/**
 * Walks the options of an Inverse ND message of `type` in b[off, end) once and checks that the
 * options RFC 3122 requires are there. On failure the offset, reason and rule are on `sink`
 * (which may be the cursor itself).
 */
export function checkInverseNdOptions(
  type: number,
  cursor: NdpOptionCursor,
  b: Uint8Array,
  off: number,
  end: number,
  sink: ByteView,
): Status {
  const s = checkNdpOptions(cursor, b, off, end);
  if (s !== Status.Ok) return sink.fail(s, cursor.errorOffset, cursor.errorReason, cursor.errorRule);
  return requireInverseNdOptions(type, cursor, off, sink);
}

/**
 * The options RFC 3122 §2.1 and §2.2 require of an Inverse ND message of `type` whose options
 * starting at `off` the cursor has walked without failure (it remembers where they stand): Source
 * and Target Link-Layer Address, and for an advertisement a Target Address List. A missing one is
 * Malformed, at `off`, with {@link Rule.RequiredOption}.
 */
export function requireInverseNdOptions(type: number, cursor: NdpOptionCursor, off: number, sink: ByteView): Status {
  let reason = '';
  if (cursor.sourceLinkLayerOption < 0) reason = 'inverse ND message without a Source Link-Layer Address option';
  else if (cursor.targetLinkLayerOption < 0) reason = 'inverse ND message without a Target Link-Layer Address option';
  else if (type === Icmpv6Type.InverseNeighborAdvertisement && cursor.targetAddressListOption < 0)
    reason = 'inverse neighbor advertisement without a Target Address List option';
  if (reason === '') return Status.Ok;
  return sink.fail(Status.Malformed, off, reason, Rule.RequiredOption);
}

export interface InverseNdRepr {
  /** Icmpv6Type.InverseNeighborSolicitation or Icmpv6Type.InverseNeighborAdvertisement. */
  type: number;
  options: NdpOptionRepr[];
}

export function inverseNdLength(r: InverseNdRepr): number {
  return INVERSE_ND_LENGTH + ndpOptionsLength(r.options);
}

/** Writes the message (checksum 0) and returns its length. */
export function emitInverseNd(r: InverseNdRepr, b: Uint8Array, o: number): number {
  fillZero(b, o, INVERSE_ND_LENGTH);
  b[o + Icmpv6Field.Type] = r.type;
  return INVERSE_ND_LENGTH + emitNdpOptions(r.options, b, o + INVERSE_ND_LENGTH);
}
