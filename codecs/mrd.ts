/**
 * Multicast Router Discovery (RFC 4286): Multicast Router Advertisement (type 151, §3),
 * Solicitation (type 152, §4) and Termination (type 153, §5).
 *
 * ```text
 * Advertisement (§3):
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |  Ad. Interval |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       Query Interval          |     Robustness Variable       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Solicitation (§4) and Termination (§5):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |   Reserved    |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * The advertisement interval (seconds) rides in the ICMPv6 code field; the query interval
 * (seconds) and robustness variable are the sender's MLD values. Bytes past the fixed part are
 * ignored, as in MLD. check() proves the fixed part is there and the type is MRD.
 */

import { setU16, u16 } from './bytes.js';
import { Icmpv6Field, Icmpv6Type, Icmpv6View, checkLength } from './icmpv6-header.js';
import { Rule, Status } from './status.js';

export const MRD_ADVERTISEMENT_LENGTH = 8;
export const MRD_SOLICITATION_LENGTH = 4;
export const MRD_TERMINATION_LENGTH = 4;

/** MRD messages are sent with, and solicitations must arrive with, IP hop limit 1 (RFC 4286 §3, §4). */
export const MRD_HOP_LIMIT = 1;

/** Advertisement fields (RFC 4286 §3): the interval rides in the ICMPv6 code field. */
export const MrdAdvertisementField = {
  AdvertisementInterval: Icmpv6Field.Code,
  QueryInterval: 4,
  RobustnessVariable: 6,
} as const;

/** Fixed length of an MRD type, or -1 for other types. */
export function mrdFixedLength(type: number): number {
  switch (type) {
    case Icmpv6Type.MulticastRouterAdvertisement:
      return MRD_ADVERTISEMENT_LENGTH;
    case Icmpv6Type.MulticastRouterSolicitation:
      return MRD_SOLICITATION_LENGTH;
    case Icmpv6Type.MulticastRouterTermination:
      return MRD_TERMINATION_LENGTH;
    default:
      return -1;
  }
}

/** Any of the three MRD messages; the advertisement getters are valid for type 151 only. */
export class MrdView extends Icmpv6View {
  override check(): Status {
    const s = checkLength(this, MRD_SOLICITATION_LENGTH, 'message shorter than the 4-byte MRD header');
    if (s !== Status.Ok) return s;
    const need = mrdFixedLength(this.buf[this.off + Icmpv6Field.Type] as number);
    if (need < 0) return this.fail(Status.Malformed, this.off, 'not a multicast router discovery message', Rule.Value);
    return checkLength(this, need, 'multicast router advertisement shorter than 8 bytes');
  }

  get isAdvertisement(): boolean {
    return this.buf[this.off + Icmpv6Field.Type] === Icmpv6Type.MulticastRouterAdvertisement;
  }
  /** Seconds (the code field). */
  get advertisementInterval(): number {
    return this.buf[this.off + MrdAdvertisementField.AdvertisementInterval] as number;
  }
  set advertisementInterval(v: number) {
    this.buf[this.off + MrdAdvertisementField.AdvertisementInterval] = v;
  }
  /** Seconds. */
  get queryInterval(): number {
    return u16(this.buf, this.off + MrdAdvertisementField.QueryInterval);
  }
  set queryInterval(v: number) {
    setU16(this.buf, this.off + MrdAdvertisementField.QueryInterval, v);
  }
  get robustnessVariable(): number {
    return u16(this.buf, this.off + MrdAdvertisementField.RobustnessVariable);
  }
  set robustnessVariable(v: number) {
    setU16(this.buf, this.off + MrdAdvertisementField.RobustnessVariable, v);
  }
}

export type MrdRepr =
  | { kind: 'advertisement'; advertisementInterval: number; queryInterval: number; robustnessVariable: number }
  | { kind: 'solicitation' }
  | { kind: 'termination' };

export function mrdLength(r: MrdRepr): number {
  return r.kind === 'advertisement' ? MRD_ADVERTISEMENT_LENGTH : MRD_SOLICITATION_LENGTH;
}

/** Writes the message (checksum 0) and returns its length. */
export function emitMrd(r: MrdRepr, b: Uint8Array, o: number): number {
  setU16(b, o + Icmpv6Field.Checksum, 0);
  if (r.kind === 'advertisement') {
    b[o + Icmpv6Field.Type] = Icmpv6Type.MulticastRouterAdvertisement;
    b[o + MrdAdvertisementField.AdvertisementInterval] = r.advertisementInterval;
    setU16(b, o + MrdAdvertisementField.QueryInterval, r.queryInterval);
    setU16(b, o + MrdAdvertisementField.RobustnessVariable, r.robustnessVariable);
    return MRD_ADVERTISEMENT_LENGTH;
  }
  b[o + Icmpv6Field.Type] =
    r.kind === 'solicitation' ? Icmpv6Type.MulticastRouterSolicitation : Icmpv6Type.MulticastRouterTermination;
  b[o + Icmpv6Field.Code] = 0;
  return MRD_SOLICITATION_LENGTH;
}
