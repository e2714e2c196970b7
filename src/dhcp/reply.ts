/**
 * The reply the server writes: one writer object that appends the message, option by option,
 * through the codec's emitters and views (codecs/dhcpv6.ts), into the caller's buffer; and the
 * small record `Dhcpv6Server.handle()` returns, which the caller reads at once.
 *
 * The writer allocates nothing. It does not check the room left: the caller's buffer holds the
 * largest reply a request can draw (a DHCPv6 message fits a UDP datagram).
 */

import {
  DHCPV6_HEADER_LENGTH,
  DHCPV6_OPTION_HEADER_LENGTH,
  DHCPV6_RELAY_HEADER_LENGTH,
  Dhcpv6Field,
  Dhcpv6MessageType,
  Dhcpv6OptionCode,
  Dhcpv6View,
  IaAddressField,
  IaAddressView,
  IaField,
  IaPrefixField,
  IaPrefixView,
  IaTaField,
  IaView,
  OptionField,
  emitDhcpv6OptionHeader,
  emitStatusCodeOption,
  emitU32Option,
} from '../../codecs/dhcpv6.js';
import { copyBytes, setU16, setU32 } from '../../codecs/bytes.js';
import { copyWords, wordView } from '../../codecs/word-view.js';
import type { DiscardReason } from './intake.js';

// Module-local bindings of the hot path (codecs/code-table.ts says why).
const optionCode = Dhcpv6OptionCode;
const messageType = Dhcpv6MessageType;
const dhcpv6Field = Dhcpv6Field;
const iaField = IaField;
const iaTaField = IaTaField;
const iaAddressField = IaAddressField;
const iaPrefixField = IaPrefixField;
const optionField = OptionField;
const headerLength = DHCPV6_HEADER_LENGTH;
const relayHeaderLength = DHCPV6_RELAY_HEADER_LENGTH;
const optionHeaderLength = DHCPV6_OPTION_HEADER_LENGTH;

/** What `Dhcpv6Server.handle()` did with one message: read it at once, it is reused for the next. */
export class Dhcpv6Reply {
  /** Octets of the reply message written at the caller's offset; 0: no reply (see `discardReason`). */
  length = 0;
  /** The reply announces a lease change: send it only once `leases.commit()` has resolved. */
  awaitsCommit = false;
  /** Why the message got no reply; '' when it got one. */
  discardReason: DiscardReason | '' = '';
}

/** Appends a DHCPv6 message to out[o...]: `begin()`, then one call per part, in wire order. */
export class ReplyWriter {
  out: Uint8Array = new Uint8Array(0);
  private outWords: DataView = new DataView(new ArrayBuffer(0));
  private start = 0;
  /** Where the next octet goes. */
  p = 0;
  private readonly message = new Dhcpv6View();
  private readonly ia = new IaView();
  private readonly address = new IaAddressView();
  private readonly prefix = new IaPrefixView();

  begin(out: Uint8Array, o: number): this {
    if (out !== this.out) {
      this.out = out;
      this.outWords = wordView(out);
    }
    this.start = this.p = o;
    return this;
  }

  /** Octets written since `begin()`. */
  get length(): number {
    return this.p - this.start;
  }

  /** A client/server header (§8): the reply's type and the transaction id it answers (§18.3.9, §18.3.10). */
  header(type: number, transactionId: number): void {
    const v = this.message.wrap(this.out, this.p, headerLength);
    v.msgType = type;
    v.transactionId = transactionId;
    this.p += v.len;
  }

  /** A Relay-repl header (§19.3): hop-count, link-address and peer-address of the Relay-forw at b[off]. */
  relayReplyHeader(b: Uint8Array, off: number): void {
    this.message.wrap(this.out, this.p, relayHeaderLength).msgType = messageType.RelayRepl;
    const from = dhcpv6Field.HopCount;
    copyBytes(b, off + from, this.out, this.p + from, relayHeaderLength - from);
    this.p += relayHeaderLength;
  }

  /** Copies `n` octets of whole options, encoded beforehand, from the words of `src` at `from`. */
  copyEncoded(src: DataView, from: number, n: number): void {
    copyWords(src, from, this.outWords, this.p, n);
    this.p += n;
  }

  /** Copies an option of the request whole, header included; its data is b[d, d+n). */
  copyOption(b: Uint8Array, d: number, n: number): void {
    this.copyEncoded(wordView(b), d - optionHeaderLength, optionHeaderLength + n);
  }

  /** Starts an option whose data follows; returns where it starts, for {@link closeOption}. */
  openOption(code: number): number {
    const at = this.p;
    this.p += emitDhcpv6OptionHeader(this.out, at, code, 0);
    return at;
  }

  /** Sets the option-len of the option started at `at` to what was written since. */
  closeOption(at: number): void {
    setU16(this.out, at + optionField.Length, this.p - at - optionHeaderLength);
  }

  /** An option without data (Rapid Commit, §21.14). */
  emptyOption(code: number): void {
    this.p += emitDhcpv6OptionHeader(this.out, this.p, code, 0);
  }

  /** Starts an IA_NA or IA_PD (§21.4, §21.21) with its IAID; its options follow, then {@link closeIa}. */
  openIa(code: number, iaid: number): number {
    const at = this.openOption(code);
    const ia = this.ia.wrap(this.out, this.p, iaField.Options);
    ia.iaid = iaid;
    this.p += iaField.Options;
    return at;
  }

  /** Ends the IA started at `at`: its T1, T2 and length. */
  closeIa(at: number, t1: number, t2: number): void {
    const ia = this.ia.wrap(this.out, at + optionHeaderLength, iaField.Options);
    ia.t1 = t1;
    ia.t2 = t2;
    this.closeOption(at);
  }

  /** An IA Address option (§21.6) for the 16 bytes at a[ao], with no options of its own. */
  iaAddress(a: Uint8Array, ao: number, preferredLifetime: number, validLifetime: number): void {
    this.p += emitDhcpv6OptionHeader(this.out, this.p, optionCode.IaAddress, iaAddressField.Options);
    const v = this.address.wrap(this.out, this.p, iaAddressField.Options);
    v.setAddress(a, ao);
    v.preferredLifetime = preferredLifetime;
    v.validLifetime = validLifetime;
    this.p += iaAddressField.Options;
  }

  /** An IA Prefix option (§21.22) for the prefix at a[ao], with no options of its own. */
  iaPrefix(a: Uint8Array, ao: number, prefixLength: number, preferredLifetime: number, validLifetime: number): void {
    this.p += emitDhcpv6OptionHeader(this.out, this.p, optionCode.IaPrefix, iaPrefixField.Options);
    const v = this.prefix.wrap(this.out, this.p, iaPrefixField.Options);
    v.preferredLifetime = preferredLifetime;
    v.validLifetime = validLifetime;
    v.prefixLength = prefixLength;
    v.setPrefix(a, ao);
    this.p += iaPrefixField.Options;
  }

  /** A Status Code option (§21.13); `text` is ASCII. */
  status(code: number, text: string): void {
    this.p += emitStatusCodeOption(this.out, this.p, code, text);
  }

  /** An IA_NA or IA_PD holding only a status (§18.3: NoAddrsAvail, NoPrefixAvail, NoBinding), T1 and T2 0. */
  iaStatus(code: number, iaid: number, status: number, text: string): void {
    const at = this.openIa(code, iaid);
    this.status(status, text);
    this.closeIa(at, 0, 0);
  }

  /** An IA_TA (§21.5, obsoleted) holding only a status: temporary addresses are not offered. */
  iaTaStatus(iaid: number, status: number, text: string): void {
    const at = this.openOption(optionCode.IaTa);
    setU32(this.out, this.p + iaTaField.Iaid, iaid);
    this.p += iaTaField.Options;
    this.status(status, text);
    this.closeOption(at);
  }

  /** An option holding a 4-octet number (Information Refresh Time, SOL_MAX_RT, INF_MAX_RT). */
  u32Option(code: number, value: number): void {
    this.p += emitU32Option(this.out, this.p, code, value);
  }
}
