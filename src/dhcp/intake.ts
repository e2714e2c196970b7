/**
 * Message intake (RFC 9915 §16): what the server reads of a client message, in one pass over its
 * options, and the rules that make it discard one.
 *
 * {@link ClientMessage} is a plain record, reused for every message: one walk with the codec's
 * option cursor fills it, the options inside every IA included (IAID, T1, T2, and the offsets of
 * the addresses or prefixes it lists), so no handler walks the options again. The message must
 * have passed the codec's deep validation (validateDhcpv6): the record trusts every length.
 */

import { bytesEqual, u24 } from '../../codecs/bytes.js';
import {
  DHCPV6_HEADER_LENGTH,
  Dhcpv6Field,
  Dhcpv6MessageType,
  Dhcpv6OptionCode,
  Dhcpv6OptionCursor,
  IaAddressField,
  IaPrefixField,
  IaView,
  optionRequested,
} from '../../codecs/dhcpv6.js';
import { Status } from '../../codecs/status.js';

// Module-local bindings of the hot path (codecs/code-table.ts says why).
const optionCode = Dhcpv6OptionCode;
const messageType = Dhcpv6MessageType;
const dhcpv6Field = Dhcpv6Field;
const iaAddressField = IaAddressField;
const iaPrefixField = IaPrefixField;
const Ok = Status.Ok;
const headerLength = DHCPV6_HEADER_LENGTH;

/** Why a message got no answer (constant strings; counted per reason). */
export const DiscardReason = {
  ServiceOff: 'DHCPv6 is off on this network',
  NotStateful: 'stateful service (addresses, prefixes) is off on this network',
  MissingClientId: 'no Client ID option',
  UnexpectedServerId: 'a Server ID option where none is allowed',
  MissingServerId: 'no Server ID option',
  OtherServer: 'Server ID of another server',
  Unicast: 'sent to a unicast address (RFC 9915 §16)',
  IaInInformationRequest: 'an IA option in an Information-request',
  NoAddressesToConfirm: 'a Confirm without addresses',
  NotClientMessage: 'not a client message',
  RelayTooDeep: 'relayed more than 32 times',
  RelayWithoutMessage: 'a Relay-forw without a Relay Message option',
  NoNetwork: 'relayed from a link of no configured network',
  StorageFailing: 'the lease journal cannot make a change durable (storage failing)',
} as const;
export type DiscardReason = (typeof DiscardReason)[keyof typeof DiscardReason];

/** The messages a client sends to a server (RFC 9915 §7.3). */
export function isClientMessageType(t: number): boolean {
  switch (t) {
    case messageType.Solicit:
    case messageType.Request:
    case messageType.Confirm:
    case messageType.Renew:
    case messageType.Rebind:
    case messageType.Release:
    case messageType.Decline:
    case messageType.InformationRequest:
      return true;
    default:
      return false;
  }
}

/** IA options of one kind a message may carry; more are ignored. */
export const MAX_IAS = 32;
/**
 * Addresses and prefixes the IAs of one message may list: one per 28 octets of a 64 KiB message
 * (an IA Address option is 28 octets at least, an IA Prefix option 29), so never more in practice.
 */
const MAX_LISTED = 2341;

/**
 * The IA options of one kind (IA_NA, IA_PD or IA_TA) in message order, each with its fields and
 * what it lists: IA `i` lists entries `first[i]` to `first[i] + listed[i]` of the message's
 * {@link Listed}.
 */
export class IaList {
  count = 0;
  /** Data offset of each IA option. */
  readonly offset = new Int32Array(MAX_IAS);
  readonly iaid = new Float64Array(MAX_IAS);
  readonly t1 = new Float64Array(MAX_IAS);
  readonly t2 = new Float64Array(MAX_IAS);
  readonly first = new Int32Array(MAX_IAS);
  readonly listed = new Int32Array(MAX_IAS);
}

/**
 * The addresses (IA Address options, §21.6) and prefixes (IA Prefix options, §21.22) the IAs
 * list, in message order: where the 16 bytes of each sit in the message, and the prefix length
 * (128 for an address).
 */
export class Listed {
  count = 0;
  readonly at = new Int32Array(MAX_LISTED);
  readonly prefixLength = new Uint8Array(MAX_LISTED);
}

/** What a client message carries, found in one pass over its options (RFC 9915 §8, §21). */
export class ClientMessage {
  buf: Uint8Array = new Uint8Array(0);
  type = 0;
  transactionId = 0;
  /** Data offset and length of the first Client Identifier option (§21.2); -1: none. */
  clientId = -1;
  clientIdLength = 0;
  /** The first Server Identifier option (§21.3); -1: none. */
  serverId = -1;
  serverIdLength = 0;
  /** The last Option Request option (§21.7); -1: none. */
  oro = -1;
  oroLength = 0;
  /** A Rapid Commit option (§21.14). */
  rapidCommit = false;
  readonly iaNa = new IaList();
  readonly iaPd = new IaList();
  /** IA_TA (§21.5, obsoleted): only the IAID is read. */
  readonly iaTa = new IaList();
  readonly listed = new Listed();
  private readonly options = new Dhcpv6OptionCursor();
  private readonly inner = new Dhcpv6OptionCursor();
  private readonly ia = new IaView();

  /** Fills the record from the validated client message b[off, off+len). */
  read(b: Uint8Array, off: number, len: number): void {
    this.buf = b;
    this.type = b[off + dhcpv6Field.MsgType] as number;
    this.transactionId = u24(b, off + dhcpv6Field.TransactionId);
    this.clientId = this.serverId = this.oro = -1;
    this.clientIdLength = this.serverIdLength = this.oroLength = 0;
    this.rapidCommit = false;
    this.iaNa.count = this.iaPd.count = this.iaTa.count = 0;
    this.listed.count = 0;
    const c = this.options.reset(b, off + headerLength, off + len, false);
    while (c.next() === Ok) {
      const d = c.dataOffset;
      const n = c.dataLength;
      switch (c.code) {
        case optionCode.ClientId:
          if (this.clientId < 0) {
            this.clientId = d;
            this.clientIdLength = n;
          }
          break;
        case optionCode.ServerId:
          if (this.serverId < 0) {
            this.serverId = d;
            this.serverIdLength = n;
          }
          break;
        case optionCode.OptionRequest:
          this.oro = d;
          this.oroLength = n;
          break;
        case optionCode.RapidCommit:
          this.rapidCommit = true;
          break;
        case optionCode.IaNa:
          this.readIa(this.iaNa, d, n, optionCode.IaAddress);
          break;
        case optionCode.IaPd:
          this.readIa(this.iaPd, d, n, optionCode.IaPrefix);
          break;
        case optionCode.IaTa:
          this.readIa(this.iaTa, d, n, -1);
          break;
      }
    }
  }

  /** Records the IA option with data b[d, d+n) and the `listing` options (IA Address or IA Prefix) inside it. */
  private readIa(list: IaList, d: number, n: number, listing: number): void {
    const i = list.count;
    if (i >= MAX_IAS) return;
    list.count = i + 1;
    list.offset[i] = d;
    const listed = this.listed;
    list.first[i] = listed.count;
    list.listed[i] = 0;
    if (listing < 0) {
      // IA_TA: the IAID, the same field as in IA_NA and IA_PD.
      list.iaid[i] = this.ia.wrap(this.buf, d, n).iaid;
      return;
    }
    const ia = this.ia.wrap(this.buf, d, n);
    list.iaid[i] = ia.iaid;
    list.t1[i] = ia.t1;
    list.t2[i] = ia.t2;
    const c = this.inner.reset(this.buf, ia.optionsOffset, ia.end, true);
    while (c.next() === Ok) {
      if (c.code !== listing || listed.count >= MAX_LISTED) continue;
      // The codec's rules guarantee these lengths; checked again so the record holds only whole entries.
      if (listing === optionCode.IaAddress) {
        if (c.dataLength < iaAddressField.Options) continue;
        listed.at[listed.count] = c.dataOffset + iaAddressField.Address;
        listed.prefixLength[listed.count] = 128;
      } else {
        if (c.dataLength < iaPrefixField.Options) continue;
        listed.at[listed.count] = c.dataOffset + iaPrefixField.Prefix;
        listed.prefixLength[listed.count] = this.buf[c.dataOffset + iaPrefixField.PrefixLength] as number;
      }
      listed.count++;
      list.listed[i]++;
    }
  }

  /** Whether the Option Request option asks for `code` (§21.7). */
  requested(code: number): boolean {
    return this.oro >= 0 && optionRequested(this.buf, this.oro, this.oroLength, code);
  }

  /** Whether the Server Identifier option holds the DUID `ours`. */
  serverIdIs(ours: Uint8Array): boolean {
    const n = this.serverIdLength;
    return this.serverId >= 0 && n === ours.length && bytesEqual(this.buf, this.serverId, ours, 0, n);
  }
}

/**
 * The discard rules of RFC 9915 §16 for a client message (§16.2 to §16.12): the Client and Server
 * Identifier options each message type must or must not carry, the multicast destination of the
 * messages a client sends to every server, no IA in an Information-request, and an address in a
 * Confirm (§18.3.3 has no answer for a Confirm that lists none). `ours` is the server's DUID.
 */
export function discardReasonOf(msg: ClientMessage, multicast: boolean, ours: Uint8Array): DiscardReason | '' {
  switch (msg.type) {
    case messageType.Solicit:
    case messageType.Confirm:
    case messageType.Rebind:
      if (!multicast) return DiscardReason.Unicast;
      if (msg.clientId < 0) return DiscardReason.MissingClientId;
      if (msg.serverId >= 0) return DiscardReason.UnexpectedServerId;
      break;
    case messageType.Request:
    case messageType.Renew:
    case messageType.Release:
    case messageType.Decline:
      if (msg.clientId < 0) return DiscardReason.MissingClientId;
      if (msg.serverId < 0) return DiscardReason.MissingServerId;
      if (!msg.serverIdIs(ours)) return DiscardReason.OtherServer;
      break;
    case messageType.InformationRequest:
      if (!multicast) return DiscardReason.Unicast;
      if (msg.serverId >= 0 && !msg.serverIdIs(ours)) return DiscardReason.OtherServer;
      if (msg.iaNa.count + msg.iaPd.count + msg.iaTa.count > 0) return DiscardReason.IaInInformationRequest;
      break;
  }
  if (msg.type === messageType.Confirm && !listsAddresses(msg)) return DiscardReason.NoAddressesToConfirm;
  return '';
}

/** Whether an IA_NA of the message lists an address. */
function listsAddresses(msg: ClientMessage): boolean {
  for (let i = 0; i < msg.iaNa.count; i++) if ((msg.iaNa.listed[i] as number) > 0) return true;
  return false;
}
