/**
 * The DHCPv6 server (RFC 9915, which obsoletes RFC 8415): client messages and relayed ones in,
 * one reply message out, written straight into the caller's transmit buffer.
 *
 * Message handling (RFC 9915 §18.3; discard rules §16):
 *
 * | received            | requires                                  | answer |
 * |---------------------|-------------------------------------------|--------|
 * | Solicit             | Client ID, no Server ID, multicast        | Advertise, or Reply with Rapid Commit when asked and allowed |
 * | Request             | Client ID, our Server ID                  | Reply with bindings (after the journal commit) |
 * | Confirm             | Client ID, no Server ID, multicast, an IA address | Reply: Success or NotOnLink |
 * | Renew               | Client ID, our Server ID                  | Reply, lifetimes extended (after commit) |
 * | Rebind              | Client ID, no Server ID, multicast        | Reply, lifetimes extended; unknown bindings: re-created when the addresses fit the link, lifetimes 0 when they do not (after commit) |
 * | Release, Decline    | Client ID, our Server ID                  | Reply with Success; NoBinding per unknown IA (after commit) |
 * | Information-request | no IA; Server ID absent or ours; multicast | Reply with configuration and Information Refresh Time |
 * | Relay-forw          | a Relay Message; at most 32 relays deep   | Relay-repl, nested as received, Interface-ID echoed |
 *
 * "Multicast": sent to All_DHCP_Relay_Agents_and_Servers (or relayed); §16 has servers discard
 * Solicit, Confirm, Rebind and Information-request sent to a unicast address. Request, Renew,
 * Release and Decline are accepted by unicast: RFC 9915 retired the Server Unicast option and
 * the UseMulticast status.
 *
 * Assignment: the cloud controller decides. A client that is a configured port (found by the
 * frame's source MAC; behind a trusted relay, by its Client Link-Layer Address option 79 or the
 * port's configured DUID: see `ClientIdentity`) gets that port's addresses in its first IA_NA and
 * the port's delegated prefix in its first IA_PD; these static bindings are the controller's and
 * are not journaled. Pool leases are bounded per client, per port and in all (docs/leases.md). Other clients get addresses and prefixes from the
 * network's pools through the lease table, which journals every change; replies that change a
 * lease are sent only after the journal's fsync (see `Dispatcher`).
 */

import { addrEqual, bytesEqual, copyBytes, setU16, u16, u32 } from '../../codecs/bytes.js';
import {
  DHCPV6_HEADER_LENGTH,
  DHCPV6_HOP_COUNT_LIMIT,
  DHCPV6_RELAY_HEADER_LENGTH,
  Dhcpv6MessageType,
  Dhcpv6OptionCode,
  Dhcpv6StatusCode,
  dhcpv6OptionLength,
  emitDhcpv6Option,
  emitDhcpv6OptionHeader,
  emitIaAddressHeader,
  emitIaHeader,
  emitIaPrefixHeader,
  emitStatusCodeOption,
  emitU32Option,
  isRelayMessageType,
  optionRequested,
  type Dhcpv6OptionRepr,
} from '../../codecs/dhcpv6.js';
import { parseDuid } from '../../codecs/duid.js';
import type { NetworkConfig, PortConfig } from '../config/model.js';
import { copyWords, wordView } from '../../codecs/word-view.js';
import { MacTable } from '../tables/mac-table.js';
import { BytesMap } from '../tables/bytes-map.js';
import { LeaseStatus, LeaseType, type Lease, type LeaseTable } from './leases.js';

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

/** Where a request came from: the network of the link and who sent it. */
export interface Dhcpv6RequestContext {
  /** Index of the network the frame arrived on. */
  network: number;
  /** The frame's source MAC (6 bytes at macOff). */
  mac: Uint8Array;
  macOff: number;
  /** The IPv6 destination was a unicast address (not ff02::1:2 / ff05::1:3). */
  unicast: boolean;
  /** The frame's IPv6 source address (16 bytes at sourceOff): a relay's, for a Relay-forw. */
  source: Uint8Array;
  sourceOff: number;
}

/**
 * Who a client message is from, as far as punt6 trusts it (docs/leases.md, "Identities"). A VM
 * chooses its DUID, a DUID-LL's MAC and what a Relay-forw it sends itself says; it cannot choose
 * the source MAC of its frames, which the OVS guards pin to its port. So:
 * - a direct request's port is the one with the frame's source MAC, and nothing else;
 * - a request relayed by a trusted relay (the network's `dhcpv6.trustedRelays`) names its port
 *   by the relay's Client Link-Layer Address option (RFC 6939), else by a configured client DUID;
 * - a request relayed by any other source names no port: pool leases only.
 * The per-port lease limits count by the frame's source MAC, or by the trusted relay's option 79.
 */
class ClientIdentity {
  /** The MAC that selects a port: 6 bytes at portMacOff of portMac; portMacOff -1: none. */
  portMac: Uint8Array = EMPTY_MAC;
  portMacOff = -1;
  /** A configured client DUID may select the port (trusted relays only). */
  duidSelectsPort = false;
  /** The MAC the per-port limits count by (a copy), or null. */
  limitMac: Uint8Array | null = null;
  private readonly limitMacBytes = new Uint8Array(6);

  direct(mac: Uint8Array, macOff: number): void {
    this.portMac = mac;
    this.portMacOff = macOff;
    this.duidSelectsPort = false;
    this.limitBy(mac, macOff);
  }

  relayed(
    trusted: boolean,
    frameMac: Uint8Array,
    frameMacOff: number,
    option79: Uint8Array,
    option79Off: number,
  ): void {
    if (trusted) {
      this.portMac = option79;
      this.portMacOff = option79Off;
      this.duidSelectsPort = true;
      if (option79Off >= 0) this.limitBy(option79, option79Off);
      else this.limitMac = null;
    } else {
      this.portMac = EMPTY_MAC;
      this.portMacOff = -1;
      this.duidSelectsPort = false;
      this.limitBy(frameMac, frameMacOff);
    }
  }

  private limitBy(mac: Uint8Array, off: number): void {
    copyBytes(mac, off, this.limitMacBytes, 0, 6);
    this.limitMac = this.limitMacBytes;
  }
}

const EMPTY_MAC = new Uint8Array(0);
const MAX_IAS = 32;
const INFINITY = 0xffffffff;

/** Offsets of what a client message carries, found in one pass over its options. */
class ClientMessage {
  type = 0;
  off = 0;
  end = 0;
  clientId = -1;
  clientIdLength = 0;
  serverId = -1;
  serverIdLength = 0;
  oro = -1;
  oroLength = 0;
  rapidCommit = false;
  /** Data offsets of IA_NA / IA_PD / IA_TA options, in order. */
  readonly iaNa = new Int32Array(MAX_IAS);
  iaNaCount = 0;
  readonly iaPd = new Int32Array(MAX_IAS);
  iaPdCount = 0;
  readonly iaTa = new Int32Array(MAX_IAS);
  iaTaCount = 0;

  read(b: Uint8Array, off: number, len: number): void {
    this.type = b[off] as number;
    this.off = off;
    this.end = off + len;
    this.clientId = this.serverId = this.oro = -1;
    this.clientIdLength = this.serverIdLength = this.oroLength = 0;
    this.rapidCommit = false;
    this.iaNaCount = this.iaPdCount = this.iaTaCount = 0;
    let p = off + DHCPV6_HEADER_LENGTH;
    while (p + 4 <= this.end) {
      const code = u16(b, p);
      const n = u16(b, p + 2);
      const d = p + 4;
      switch (code) {
        case Dhcpv6OptionCode.ClientId:
          if (this.clientId < 0) {
            this.clientId = d;
            this.clientIdLength = n;
          }
          break;
        case Dhcpv6OptionCode.ServerId:
          if (this.serverId < 0) {
            this.serverId = d;
            this.serverIdLength = n;
          }
          break;
        case Dhcpv6OptionCode.OptionRequest:
          this.oro = d;
          this.oroLength = n;
          break;
        case Dhcpv6OptionCode.RapidCommit:
          this.rapidCommit = true;
          break;
        case Dhcpv6OptionCode.IaNa:
          if (this.iaNaCount < MAX_IAS) this.iaNa[this.iaNaCount++] = d;
          break;
        case Dhcpv6OptionCode.IaPd:
          if (this.iaPdCount < MAX_IAS) this.iaPd[this.iaPdCount++] = d;
          break;
        case Dhcpv6OptionCode.IaTa:
          if (this.iaTaCount < MAX_IAS) this.iaTa[this.iaTaCount++] = d;
          break;
      }
      p = d + n;
    }
  }

  requested(b: Uint8Array, code: number): boolean {
    return this.oro >= 0 && optionRequested(b, this.oro, this.oroLength, code);
  }
}

/** Per-network data the server needs, prepared once. */
interface ServerNetwork {
  index: number;
  config: NetworkConfig;
  /** Indexes into `config.ports` by MAC. */
  portsByMac: MacTable;
  /** Ports with a configured DUID, by DUID. */
  portsByDuid: BytesMap<PortConfig>;
  /** The configuration options it sends as they are, encoded once (see `Dhcpv6Server.wire`). */
  dnsServers: EncodedOption;
  /** RFC 3646 §4. */
  domainSearch: EncodedOption;
  /** RFC 5908, one server-address sub-option per server. */
  ntpServers: EncodedOption;
}

/** An option encoded once, header included: `len` octets at `off` in the server's `wire`; `len` 0 when there is none. */
interface EncodedOption {
  off: number;
  len: number;
}

/** An option encoded by the codec's own emitter, in an array of its own. */
function encodeOption(r: Dhcpv6OptionRepr): Uint8Array {
  const o = new Uint8Array(dhcpv6OptionLength(r));
  emitDhcpv6Option(r, o, 0);
  return o;
}

export interface Dhcpv6ServerOptions {
  /** Configured networks; a network's index is its position here. */
  networks: readonly NetworkConfig[];
  /** The server's DUID (Server Identifier). */
  serverDuid: Uint8Array;
  /** The lease store for pool assignments; null: only static (port) bindings are served. */
  leases: LeaseTable | null;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** SOL_MAX_RT and INF_MAX_RT (RFC 9915 §21.24, §21.25) for networks whose configuration sets none; 0: not sent. */
  solMaxRt?: number;
  infMaxRt?: number;
  /** IA_NA options, and IA_PD options, served per Solicit or Request (default 8); the rest get NoAddrsAvail / NoPrefixAvail. */
  iasPerMessage?: number;
}

/**
 * The port at index i (a MacTable value), or null for -1. Never index an array with -1: V8 takes
 * that for a property name and looks it up the slow, megamorphic way (over a thousand machine
 * instructions, more than the rest of the lookup).
 */
function portAt(st: ServerNetwork, i: number): PortConfig | null {
  return i < 0 ? null : (st.config.ports[i] ?? null);
}

/** True when the 16-byte address at a[ao] is inside prefix/len. */
function inPrefix(a: Uint8Array, ao: number, prefix: Uint8Array, len: number): boolean {
  let bits = len;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((((a[ao + i] as number) ^ (prefix[i] as number)) & mask) !== 0) return false;
  }
  return true;
}

export class Dhcpv6Server {
  readonly serverDuid: Uint8Array;
  /**
   * The options every reply carries as they are (the Server ID, and per network the DNS, domain
   * search and NTP options), encoded once into one array with a view of its own: a reply copies
   * them four bytes at a time (codecs/word-view.ts) instead of writing them field by field.
   */
  private readonly wire: Uint8Array;
  private readonly wireWords: DataView;
  private readonly serverIdOption: EncodedOption;
  readonly leases: LeaseTable | null;
  private readonly networks: ServerNetwork[];
  private readonly now: () => number;
  private readonly msg = new ClientMessage();
  private readonly identity = new ClientIdentity();
  private readonly solMaxRt: number;
  private readonly infMaxRt: number;
  private readonly iasPerMessage: number;
  /** IAs refused because a message carried more than `iasPerMessage` of their kind. */
  iasRefused = 0;
  /** Set by handle(): the reply changed the lease store and must wait for its commit. */
  needsCommit = false;
  /** Set by handle() when it returns 0. */
  discardReason: DiscardReason | '' = '';
  /** Messages discarded, by reason. */
  readonly discards = new Map<DiscardReason, number>();
  /** The lease journal could not take a change when handle() began: no lease may change. */
  private storageFailing = false;
  /** A change was needed and refused for that: the message gets no answer. */
  private withheld = false;

  constructor(options: Dhcpv6ServerOptions) {
    this.serverDuid = options.serverDuid;
    this.leases = options.leases;
    const clock = options.now ?? Date.now;
    // Whole milliseconds: the lease table keeps integer times.
    this.now = () => Math.floor(clock());
    this.solMaxRt = options.solMaxRt ?? 0;
    this.infMaxRt = options.infMaxRt ?? 0;
    this.iasPerMessage = options.iasPerMessage ?? 8;
    const encoded: Uint8Array[] = [];
    let size = 0;
    const place = (option: Uint8Array | null): EncodedOption => {
      if (option === null) return { off: 0, len: 0 };
      encoded.push(option);
      size += option.length;
      return { off: size - option.length, len: option.length };
    };
    this.serverIdOption = place(
      encodeOption({ kind: 'server-id', duid: parseDuid(this.serverDuid, 0, this.serverDuid.length) }),
    );
    this.networks = options.networks.map((config, index) => {
      const portsByMac = new MacTable(config.ports.map((p, value) => ({ mac: p.mac.bytes, value })));
      const portsByDuid = new BytesMap<PortConfig>();
      for (const p of config.ports) if (p.clientDuid) portsByDuid.set(p.clientDuid, 0, 0, p);
      const cfg = config.dhcpv6;
      return {
        index,
        config,
        portsByMac,
        portsByDuid,
        dnsServers: place(
          cfg.dnsServers.length > 0
            ? encodeOption({ kind: 'dns-servers', addresses: cfg.dnsServers.map((a) => a.bytes) })
            : null,
        ),
        domainSearch: place(
          cfg.domainSearch.length > 0
            ? encodeOption({ kind: 'domain-search-list', names: [...cfg.domainSearch] })
            : null,
        ),
        ntpServers: place(
          cfg.ntpServers.length > 0
            ? encodeOption({
                kind: 'ntp-server',
                suboptions: cfg.ntpServers.map((a) => ({ kind: 'server-address' as const, address: a.bytes })),
              })
            : null,
        ),
      };
    });
    this.wire = new Uint8Array(size);
    let at = 0;
    for (const option of encoded) {
      this.wire.set(option, at);
      at += option.length;
    }
    this.wireWords = new DataView(this.wire.buffer, this.wire.byteOffset, this.wire.byteLength);
  }

  private discard(reason: DiscardReason): number {
    this.discardReason = reason;
    this.discards.set(reason, (this.discards.get(reason) ?? 0) + 1);
    return 0;
  }

  /**
   * Answers the validated DHCPv6 message b[off, off+len) (a client message or a Relay-forw).
   * Writes the reply message at out[o] and returns its length, or 0 (see `discardReason`).
   * When `needsCommit` is set afterwards, the reply may be sent only after `leases.commit()`.
   */
  handle(b: Uint8Array, off: number, len: number, ctx: Dhcpv6RequestContext, out: Uint8Array, o: number): number {
    this.needsCommit = false;
    this.discardReason = '';
    this.storageFailing = this.leases !== null && !this.leases.writable;
    this.withheld = false;
    const type = b[off] as number;
    if (type === Dhcpv6MessageType.RelayForw) return this.relay(b, off, len, ctx, out, o, 0);
    if (isRelayMessageType(type) || !isClientMessageType(type)) return this.discard(DiscardReason.NotClientMessage);
    this.identity.direct(ctx.mac, ctx.macOff);
    return this.client(b, off, len, ctx.network, !ctx.unicast, out, o);
  }

  // ---- Relays (RFC 9915 §19) ----

  private relay(
    b: Uint8Array,
    off: number,
    len: number,
    ctx: Dhcpv6RequestContext,
    out: Uint8Array,
    o: number,
    depth: number,
  ): number {
    if (depth >= DHCPV6_HOP_COUNT_LIMIT) return this.discard(DiscardReason.RelayTooDeep);
    const end = off + len;
    let inner = -1;
    let innerLength = 0;
    let interfaceId = -1;
    let clientLinkLayer = -1;
    let clientLinkLayerLength = 0;
    for (let p = off + DHCPV6_RELAY_HEADER_LENGTH; p + 4 <= end;) {
      const code = u16(b, p);
      const n = u16(b, p + 2);
      if (code === Dhcpv6OptionCode.RelayMessage && inner < 0) {
        inner = p + 4;
        innerLength = n;
      } else if (code === Dhcpv6OptionCode.InterfaceId && interfaceId < 0) {
        interfaceId = p + 4;
      } else if (code === Dhcpv6OptionCode.ClientLinkLayerAddress && n === 8 && u16(b, p + 4) === 1) {
        clientLinkLayer = p + 6;
        clientLinkLayerLength = n - 2;
      }
      p += 4 + n;
    }
    if (inner < 0 || innerLength < 1) return this.discard(DiscardReason.RelayWithoutMessage);
    // Relay-repl header: hop-count, link-address and peer-address copied (§19.3).
    out[o] = Dhcpv6MessageType.RelayRepl;
    copyBytes(b, off + 1, out, o + 1, DHCPV6_RELAY_HEADER_LENGTH - 1);
    let p = o + DHCPV6_RELAY_HEADER_LENGTH;
    if (interfaceId >= 0) {
      const n = u16(b, interfaceId - 2);
      copyBytes(b, interfaceId - 4, out, p, 4 + n);
      p += 4 + n;
    }
    const relayMessage = p;
    p += 4;
    const innerType = b[inner] as number;
    let written: number;
    if (innerType === Dhcpv6MessageType.RelayForw) {
      written = this.relay(b, inner, innerLength, ctx, out, p, depth + 1);
    } else {
      if (!isClientMessageType(innerType)) return this.discard(DiscardReason.NotClientMessage);
      // The client's link: the innermost relay's link-address when set, else the frame's network.
      let network = ctx.network;
      if (!isUnspecified16(b, off + 2)) {
        network = this.networkOfLinkAddress(b, off + 2);
        if (network < 0) return this.discard(DiscardReason.NoNetwork);
      }
      const option79 = clientLinkLayer >= 0 && clientLinkLayerLength === 6 ? clientLinkLayer : -1;
      this.identity.relayed(this.relayTrusted(ctx), ctx.mac, ctx.macOff, b, option79);
      written = this.client(b, inner, innerLength, network, true, out, p);
    }
    if (written === 0) return 0;
    emitDhcpv6OptionHeader(out, relayMessage, Dhcpv6OptionCode.RelayMessage, written);
    return p + written - o;
  }

  /** Whether the Relay-forw came from a relay the frame's network trusts (by its source address). */
  private relayTrusted(ctx: Dhcpv6RequestContext): boolean {
    const st = this.networks[ctx.network];
    if (st === undefined) return false;
    for (const r of st.config.dhcpv6.trustedRelays)
      if (inPrefix(ctx.source, ctx.sourceOff, r.address, r.length)) return true;
    return false;
  }

  private networkOfLinkAddress(b: Uint8Array, a: number): number {
    for (const n of this.networks) {
      for (const pfx of n.config.prefixes) if (inPrefix(b, a, pfx.prefix.address, pfx.prefix.length)) return n.index;
      if (addrEqual(b, a, n.config.routerLinkLocal.bytes, 0)) return n.index;
      for (const r of n.config.routerAddresses) if (addrEqual(b, a, r.bytes, 0)) return n.index;
    }
    return -1;
  }

  // ---- Client messages (RFC 9915 §16, §18.3) ----

  private client(
    b: Uint8Array,
    off: number,
    len: number,
    network: number,
    multicast: boolean,
    out: Uint8Array,
    o: number,
  ): number {
    const st = this.networks[network];
    if (st === undefined || st.config.dhcpv6.mode === 'off') return this.discard(DiscardReason.ServiceOff);
    const m = this.msg;
    m.read(b, off, len);
    const type = m.type;
    const stateful = type !== Dhcpv6MessageType.InformationRequest;
    if (stateful && st.config.dhcpv6.mode !== 'stateful') return this.discard(DiscardReason.NotStateful);
    // §16 discard rules.
    switch (type) {
      case Dhcpv6MessageType.Solicit:
      case Dhcpv6MessageType.Confirm:
      case Dhcpv6MessageType.Rebind:
        if (!multicast) return this.discard(DiscardReason.Unicast);
        if (m.clientId < 0) return this.discard(DiscardReason.MissingClientId);
        if (m.serverId >= 0) return this.discard(DiscardReason.UnexpectedServerId);
        break;
      case Dhcpv6MessageType.Request:
      case Dhcpv6MessageType.Renew:
      case Dhcpv6MessageType.Release:
      case Dhcpv6MessageType.Decline:
        if (m.clientId < 0) return this.discard(DiscardReason.MissingClientId);
        if (m.serverId < 0) return this.discard(DiscardReason.MissingServerId);
        if (!this.isOurServerId(b, m.serverId, m.serverIdLength)) return this.discard(DiscardReason.OtherServer);
        break;
      case Dhcpv6MessageType.InformationRequest:
        if (!multicast) return this.discard(DiscardReason.Unicast);
        if (m.serverId >= 0 && !this.isOurServerId(b, m.serverId, m.serverIdLength))
          return this.discard(DiscardReason.OtherServer);
        if (m.iaNaCount + m.iaPdCount + m.iaTaCount > 0) return this.discard(DiscardReason.IaInInformationRequest);
        break;
    }
    if (type === Dhcpv6MessageType.Confirm && !this.confirmHasAddresses(b, m))
      return this.discard(DiscardReason.NoAddressesToConfirm);

    const rapid = type === Dhcpv6MessageType.Solicit && m.rapidCommit && st.config.dhcpv6.rapidCommit;
    const replyType =
      type === Dhcpv6MessageType.Solicit && !rapid ? Dhcpv6MessageType.Advertise : Dhcpv6MessageType.Reply;
    // Header: type and transaction id.
    out[o] = replyType;
    out[o + 1] = b[off + 1] as number;
    out[o + 2] = b[off + 2] as number;
    out[o + 3] = b[off + 3] as number;
    let p = o + DHCPV6_HEADER_LENGTH;
    // Server ID, then the client's Client ID (§18.3).
    p = this.copyOption(this.serverIdOption, out, p);
    if (m.clientId >= 0) {
      copyWords(wordView(b), m.clientId - 4, wordView(out), p, 4 + m.clientIdLength);
      p += 4 + m.clientIdLength;
    }
    const port = this.portOf(st, b, m);
    const cfg = st.config.dhcpv6;
    switch (type) {
      case Dhcpv6MessageType.Solicit:
        p = this.assign(b, m, st, port, rapid, out, p);
        if (rapid) p += emitDhcpv6OptionHeader(out, p, Dhcpv6OptionCode.RapidCommit, 0);
        p = this.configurationOptions(b, m, st, out, p, false);
        break;
      case Dhcpv6MessageType.Request:
        p = this.assign(b, m, st, port, true, out, p);
        p = this.configurationOptions(b, m, st, out, p, false);
        break;
      case Dhcpv6MessageType.Renew:
      case Dhcpv6MessageType.Rebind:
        p = this.extend(b, m, st, port, type === Dhcpv6MessageType.Rebind, out, p);
        p = this.configurationOptions(b, m, st, out, p, false);
        break;
      case Dhcpv6MessageType.Confirm: {
        const onLink = this.confirmOnLink(b, m, st);
        p += onLink
          ? emitStatusCodeOption(out, p, Dhcpv6StatusCode.Success, 'All addresses on link')
          : emitStatusCodeOption(out, p, Dhcpv6StatusCode.NotOnLink, 'An address is not on this link');
        break;
      }
      case Dhcpv6MessageType.Release:
      case Dhcpv6MessageType.Decline:
        p = this.giveBack(b, m, st, port, type === Dhcpv6MessageType.Decline, out, p);
        break;
      case Dhcpv6MessageType.InformationRequest:
        p = this.configurationOptions(b, m, st, out, p, true);
        p += emitU32Option(out, p, Dhcpv6OptionCode.InformationRefreshTime, cfg.informationRefreshTime);
        break;
    }
    // A Reply that needs a lease change the journal cannot make durable is withheld whole.
    if (this.withheld) return this.discard(DiscardReason.StorageFailing);
    return p - o;
  }

  /**
   * Whether a lease may change now. While the journal's storage fails, nothing changes (the
   * table stays what the disk holds, plus what waits for the retry) and the message is withheld.
   */
  private mayChangeLeases(): boolean {
    if (!this.storageFailing) return true;
    this.withheld = true;
    return false;
  }

  private isOurServerId(b: Uint8Array, d: number, n: number): boolean {
    return n === this.serverDuid.length && bytesEqual(b, d, this.serverDuid, 0, n);
  }

  /** The configured port this client is, by the identities trusted for it (see ClientIdentity). */
  private portOf(st: ServerNetwork, b: Uint8Array, m: ClientMessage): PortConfig | null {
    const id = this.identity;
    if (id.portMacOff >= 0) {
      const p = portAt(st, st.portsByMac.lookup(id.portMac, id.portMacOff));
      if (p) return p;
    }
    if (id.duidSelectsPort && m.clientId >= 0 && st.portsByDuid.size > 0)
      return st.portsByDuid.get(b, m.clientId, m.clientIdLength, 0, 0) ?? null;
    return null;
  }

  // ---- IA processing ----

  /** Times of an IA in a reply: T1/T2 from the configuration, bounded by the lifetimes granted. */
  private times(st: ServerNetwork, preferred: number): { t1: number; t2: number } {
    const cfg = st.config.dhcpv6;
    let t1 = cfg.t1;
    let t2 = cfg.t2;
    if (preferred !== INFINITY && preferred > 0) {
      t1 = Math.min(t1, Math.floor(preferred * 0.5));
      t2 = Math.min(t2, Math.floor(preferred * 0.8));
    }
    return { t1, t2 };
  }

  /** Solicit and Request: every IA_NA and IA_PD gets its bindings or a status. */
  private assign(
    b: Uint8Array,
    m: ClientMessage,
    st: ServerNetwork,
    port: PortConfig | null,
    commit: boolean,
    out: Uint8Array,
    p: number,
  ): number {
    const cfg = st.config.dhcpv6;
    const duid = b.subarray(m.clientId, m.clientId + m.clientIdLength);
    this.offeredCount = 0;
    for (let i = 0; i < m.iaNaCount; i++) {
      const d = m.iaNa[i] as number;
      const iaid = u32(b, d);
      if (i >= this.iasPerMessage) {
        this.iasRefused++;
        p = this.iaStatus(
          out,
          p,
          Dhcpv6OptionCode.IaNa,
          iaid,
          Dhcpv6StatusCode.NoAddrsAvail,
          'Too many IAs in one message',
        );
        continue;
      }
      if (port !== null) {
        const addrs = i === 0 ? port.addresses.filter((a) => this.addressOnLink(st, a.bytes, 0)) : [];
        if (addrs.length > 0) {
          const t = this.times(st, cfg.preferredLifetime);
          const start = p;
          p += emitIaHeader(out, p, Dhcpv6OptionCode.IaNa, iaid, t.t1, t.t2, 0);
          for (const a of addrs)
            p += emitIaAddressHeader(out, p, a.bytes, 0, cfg.preferredLifetime, cfg.validLifetime, 0);
          setU16(out, start + 2, p - start - 4);
          continue;
        }
        p = this.iaStatus(
          out,
          p,
          Dhcpv6OptionCode.IaNa,
          iaid,
          Dhcpv6StatusCode.NoAddrsAvail,
          'No addresses for this IA',
        );
        continue;
      }
      p = this.poolIa(b, d, LeaseType.Address, st, duid, iaid, commit, out, p);
    }
    for (let i = 0; i < m.iaPdCount; i++) {
      const d = m.iaPd[i] as number;
      const iaid = u32(b, d);
      if (i >= this.iasPerMessage) {
        this.iasRefused++;
        p = this.iaStatus(
          out,
          p,
          Dhcpv6OptionCode.IaPd,
          iaid,
          Dhcpv6StatusCode.NoPrefixAvail,
          'Too many IAs in one message',
        );
        continue;
      }
      if (port !== null && port.delegatedPrefix !== null && i === 0) {
        const dp = port.delegatedPrefix;
        const t = this.times(st, cfg.preferredLifetime);
        p += emitIaHeader(out, p, Dhcpv6OptionCode.IaPd, iaid, t.t1, t.t2, 29);
        p += emitIaPrefixHeader(out, p, cfg.preferredLifetime, cfg.validLifetime, dp.length, dp.address, 0, 0);
        continue;
      }
      if (port !== null && (port.delegatedPrefix !== null || st.config.dhcpv6.prefixDelegation.length === 0)) {
        p = this.iaStatus(
          out,
          p,
          Dhcpv6OptionCode.IaPd,
          iaid,
          Dhcpv6StatusCode.NoPrefixAvail,
          'No prefixes for this IA',
        );
        continue;
      }
      p = this.poolIa(b, d, LeaseType.Prefix, st, duid, iaid, commit, out, p);
    }
    for (let i = 0; i < m.iaTaCount; i++) {
      // Temporary addresses are not offered (RFC 9915 deprecates IA_TA).
      const d = m.iaTa[i] as number;
      const start = p;
      p += emitDhcpv6OptionHeader(out, p, Dhcpv6OptionCode.IaTa, 0);
      out[p] = b[d] as number;
      out[p + 1] = b[d + 1] as number;
      out[p + 2] = b[d + 2] as number;
      out[p + 3] = b[d + 3] as number;
      p += 4;
      p += emitStatusCodeOption(out, p, Dhcpv6StatusCode.NoAddrsAvail, 'Temporary addresses are not offered');
      setU16(out, start + 2, p - start - 4);
    }
    return p;
  }

  /** One IA from a pool: propose (Advertise) or allocate (journaled). */
  private poolIa(
    b: Uint8Array,
    d: number,
    type: LeaseType,
    st: ServerNetwork,
    duid: Uint8Array,
    iaid: number,
    commit: boolean,
    out: Uint8Array,
    p: number,
  ): number {
    const code = type === LeaseType.Address ? Dhcpv6OptionCode.IaNa : Dhcpv6OptionCode.IaPd;
    const noneStatus = type === LeaseType.Address ? Dhcpv6StatusCode.NoAddrsAvail : Dhcpv6StatusCode.NoPrefixAvail;
    const leases = this.leases;
    if (leases === null)
      return this.iaStatus(
        out,
        p,
        code,
        iaid,
        noneStatus,
        type === LeaseType.Address ? 'No addresses available' : 'No prefixes available',
      );
    const hint = this.hintOf(b, d, type);
    const req = {
      networkId: st.index,
      type,
      duid,
      iaid,
      hint: hint < 0 ? undefined : b.subarray(hint, hint + 16),
      portMac: this.identity.limitMac,
    };
    const existing = leases.lookup(duid, iaid, type);
    let lease: Lease | null;
    if (commit) {
      if (!this.mayChangeLeases()) return p;
      const r = leases.allocate(req, this.now());
      lease = r.lease;
      if (lease) this.needsCommit = true;
    } else if (existing && existing.networkId === st.index && existing.expiresAt > this.now()) {
      lease = existing;
    } else {
      lease = leases.propose(req, this.now()).lease;
      // propose() reserves nothing, so two IAs of one Solicit could be offered the same address
      // (the same hint, or the same probe): step past the ones this message offers already.
      let cursor = lease?.address ?? null;
      for (let tries = 0; lease !== null && cursor !== null && this.offeredBefore(lease.address); tries++) {
        if (tries === MAX_OFFER_TRIES) {
          lease = null;
          break;
        }
        cursor = nextCandidate(cursor, lease.prefixLength);
        lease = leases.propose({ ...req, hint: cursor }, this.now()).lease;
      }
    }
    if (lease !== null && this.offeredCount < MAX_IAS * 2) this.offered[this.offeredCount++] = lease.address;
    if (lease === null)
      return this.iaStatus(
        out,
        p,
        code,
        iaid,
        noneStatus,
        type === LeaseType.Address ? 'No addresses available' : 'No prefixes available',
      );
    return this.leaseIa(out, p, code, iaid, st, lease);
  }

  private leaseIa(out: Uint8Array, p: number, code: number, iaid: number, st: ServerNetwork, lease: Lease): number {
    const t = this.times(st, lease.preferredLifetime);
    if (code === Dhcpv6OptionCode.IaNa) {
      p += emitIaHeader(out, p, code, iaid, t.t1, t.t2, 28);
      p += emitIaAddressHeader(out, p, lease.address, 0, lease.preferredLifetime, lease.validLifetime, 0);
    } else {
      p += emitIaHeader(out, p, code, iaid, t.t1, t.t2, 29);
      p += emitIaPrefixHeader(
        out,
        p,
        lease.preferredLifetime,
        lease.validLifetime,
        lease.prefixLength,
        lease.address,
        0,
        0,
      );
    }
    return p;
  }

  /** Addresses and prefixes already put in the reply being written (Solicit and Request). */
  private readonly offered: Uint8Array[] = new Array<Uint8Array>(MAX_IAS * 2);
  private offeredCount = 0;

  private offeredBefore(a: Uint8Array): boolean {
    for (let i = 0; i < this.offeredCount; i++) if (addrEqual(this.offered[i] as Uint8Array, 0, a, 0)) return true;
    return false;
  }

  /** Offset of the first IA Address (or IA Prefix's prefix) inside the IA at d, or -1. */
  private hintOf(b: Uint8Array, d: number, type: LeaseType): number {
    const end = d + u16(b, d - 2);
    for (let p = d + 12; p + 4 <= end;) {
      const code = u16(b, p);
      const n = u16(b, p + 2);
      if (type === LeaseType.Address && code === Dhcpv6OptionCode.IaAddress && n >= 24) return p + 4;
      if (type === LeaseType.Prefix && code === Dhcpv6OptionCode.IaPrefix && n >= 25) return p + 4 + 9;
      p += 4 + n;
    }
    return -1;
  }

  private iaStatus(out: Uint8Array, p: number, code: number, iaid: number, status: number, text: string): number {
    const start = p;
    p += emitIaHeader(out, p, code, iaid, 0, 0, 0);
    p += emitStatusCodeOption(out, p, status, text);
    setU16(out, start + 2, p - start - 4);
    return p;
  }

  private addressOnLink(st: ServerNetwork, a: Uint8Array, ao: number): boolean {
    for (const pfx of st.config.prefixes) if (inPrefix(a, ao, pfx.prefix.address, pfx.prefix.length)) return true;
    for (const pool of st.config.dhcpv6.addressPools) {
      if (compare16(a, ao, pool.first) >= 0 && compare16(a, ao, pool.last) <= 0) return true;
    }
    return false;
  }

  private prefixFits(st: ServerNetwork, a: Uint8Array, ao: number, len: number): boolean {
    for (const pool of st.config.dhcpv6.prefixDelegation) {
      if (len >= pool.prefix.length && inPrefix(a, ao, pool.prefix.address, pool.prefix.length)) return true;
    }
    return false;
  }

  /** Renew and Rebind (§18.3.4, §18.3.5). */
  private extend(
    b: Uint8Array,
    m: ClientMessage,
    st: ServerNetwork,
    port: PortConfig | null,
    rebind: boolean,
    out: Uint8Array,
    p: number,
  ): number {
    const cfg = st.config.dhcpv6;
    const duid = b.subarray(m.clientId, m.clientId + m.clientIdLength);
    for (let i = 0; i < m.iaNaCount + m.iaPdCount; i++) {
      const pd = i >= m.iaNaCount;
      const d = (pd ? m.iaPd[i - m.iaNaCount] : m.iaNa[i]) as number;
      const code = pd ? Dhcpv6OptionCode.IaPd : Dhcpv6OptionCode.IaNa;
      const type = pd ? LeaseType.Prefix : LeaseType.Address;
      const iaid = u32(b, d);
      const start = p;
      p += emitIaHeader(out, p, code, iaid, 0, 0, 0);
      const bodyStart = p;
      let granted = 0;
      let minPreferred = INFINITY;
      const end = d + u16(b, d - 2);
      // The client's own view: every address/prefix it lists is confirmed, extended or zeroed.
      for (let q = d + 12; q + 4 <= end;) {
        const oc = u16(b, q);
        const n = u16(b, q + 2);
        const od = q + 4;
        q = od + n;
        if (!pd && oc === Dhcpv6OptionCode.IaAddress && n >= 24) {
          const staticOk = port !== null && port.addresses.some((a) => addrEqual(b, od, a.bytes, 0));
          if (staticOk) {
            p += emitIaAddressHeader(out, p, b, od, cfg.preferredLifetime, cfg.validLifetime, 0);
            granted++;
            minPreferred = Math.min(minPreferred, cfg.preferredLifetime);
            continue;
          }
          const lease = this.extendPool(st, type, duid, iaid, b.subarray(od, od + 16), 128);
          if (lease) {
            p += emitIaAddressHeader(out, p, lease.address, 0, lease.preferredLifetime, lease.validLifetime, 0);
            granted++;
            minPreferred = Math.min(minPreferred, lease.preferredLifetime);
          } else if (rebind && !this.addressOnLink(st, b, od)) {
            // Not appropriate for this link: lifetimes 0 (§18.3.5).
            p += emitIaAddressHeader(out, p, b, od, 0, 0, 0);
          } else if (!rebind) {
            // Renew for an address the client has no binding for: lifetimes 0 (§18.3.4).
            p += emitIaAddressHeader(out, p, b, od, 0, 0, 0);
          }
        } else if (pd && oc === Dhcpv6OptionCode.IaPrefix && n >= 25) {
          const plen = b[od + 8] as number;
          const dp = port?.delegatedPrefix ?? null;
          if (dp !== null && plen === dp.length && addrEqual(b, od + 9, dp.address, 0)) {
            p += emitIaPrefixHeader(out, p, cfg.preferredLifetime, cfg.validLifetime, plen, b, od + 9, 0);
            granted++;
            minPreferred = Math.min(minPreferred, cfg.preferredLifetime);
            continue;
          }
          const lease = this.extendPool(st, type, duid, iaid, b.subarray(od + 9, od + 25), plen);
          if (lease) {
            p += emitIaPrefixHeader(
              out,
              p,
              lease.preferredLifetime,
              lease.validLifetime,
              lease.prefixLength,
              lease.address,
              0,
              0,
            );
            granted++;
            minPreferred = Math.min(minPreferred, lease.preferredLifetime);
          } else if (!rebind || !this.prefixFits(st, b, od + 9, plen)) {
            p += emitIaPrefixHeader(out, p, 0, 0, plen, b, od + 9, 0);
          }
        }
      }
      if (granted === 0 && p === bodyStart) {
        // Nothing listed, or nothing known: the binding the server holds, else NoBinding.
        const held = this.leases?.lookup(duid, iaid, type);
        const staticAddrs = !pd && port !== null ? port.addresses : [];
        if (staticAddrs.length > 0) {
          for (const a of staticAddrs)
            p += emitIaAddressHeader(out, p, a.bytes, 0, cfg.preferredLifetime, cfg.validLifetime, 0);
          granted = staticAddrs.length;
          minPreferred = cfg.preferredLifetime;
        } else if (pd && port?.delegatedPrefix) {
          p += emitIaPrefixHeader(
            out,
            p,
            cfg.preferredLifetime,
            cfg.validLifetime,
            port.delegatedPrefix.length,
            port.delegatedPrefix.address,
            0,
            0,
          );
          granted = 1;
          minPreferred = cfg.preferredLifetime;
        } else if (held && held.networkId === st.index && this.leases && this.mayChangeLeases()) {
          const r = this.leases.renew({ type, duid, iaid, networkId: st.index }, this.now());
          if (r.lease) {
            this.needsCommit = true;
            p = pd
              ? p +
                emitIaPrefixHeader(
                  out,
                  p,
                  r.lease.preferredLifetime,
                  r.lease.validLifetime,
                  r.lease.prefixLength,
                  r.lease.address,
                  0,
                  0,
                )
              : p +
                emitIaAddressHeader(out, p, r.lease.address, 0, r.lease.preferredLifetime, r.lease.validLifetime, 0);
            granted = 1;
            minPreferred = r.lease.preferredLifetime;
          }
        }
        if (granted === 0) p += emitStatusCodeOption(out, p, Dhcpv6StatusCode.NoBinding, 'No binding for this IA');
      }
      const t = granted > 0 ? this.times(st, minPreferred) : { t1: 0, t2: 0 };
      emitIaHeader(out, start, code, iaid, t.t1, t.t2, p - bodyStart);
    }
    return p;
  }

  /**
   * Extends the pool binding of this address. A binding the server does not know (lost, or never
   * made) is re-created when the address is free and in a pool of this link, so the client keeps
   * its address (RFC 9915 §18.3.4, §18.3.5 allow it); else null.
   */
  private extendPool(
    st: ServerNetwork,
    type: LeaseType,
    duid: Uint8Array,
    iaid: number,
    address: Uint8Array,
    prefixLength: number,
  ): Lease | null {
    const leases = this.leases;
    if (leases === null || !this.mayChangeLeases()) return null;
    const r = leases.renew({ type, duid, iaid, address, networkId: st.index }, this.now());
    if (r.lease) {
      this.needsCommit = true;
      return r.lease;
    }
    if (r.status !== LeaseStatus.NoBinding) return null;
    // The server lost the binding (or never had it). If the address is free and in a pool of
    // this link, grant it again (the client keeps its address); else no binding.
    const holder = leases.lookupAddress(address);
    if (holder !== undefined) return null;
    // The IA holds another binding on this link: keep it (allocate() would hand that one back
    // instead of the address named, and giving it up would end the client's real binding).
    const own = leases.lookup(duid, iaid, type);
    if (own !== undefined && own.networkId === st.index) return null;
    // Only a free position of this link's pools can be granted again.
    if (leases.quarantined(address) !== undefined || !this.poolPosition(st, type, address, prefixLength)) return null;
    const a = leases.allocate(
      { networkId: st.index, type, duid, iaid, hint: address, portMac: this.identity.limitMac },
      this.now(),
    );
    if (a.lease && bytesEqual(a.lease.address, 0, address, 0, 16)) {
      this.needsCommit = true;
      return a.lease;
    }
    if (a.lease) {
      // allocate() chose another address: give that one up again at once.
      leases.release({ type, duid, iaid, address: a.lease.address });
      this.needsCommit = true;
    }
    return null;
  }

  /** True when the address (or the prefix address/length) is a position of one of this link's pools. */
  private poolPosition(st: ServerNetwork, type: LeaseType, a: Uint8Array, prefixLength: number): boolean {
    const cfg = st.config.dhcpv6;
    if (type === LeaseType.Address) {
      for (const pool of cfg.addressPools)
        if (compare16(a, 0, pool.first) >= 0 && compare16(a, 0, pool.last) <= 0) return true;
      return false;
    }
    for (const pool of cfg.prefixDelegation) {
      if (
        prefixLength === pool.delegatedLength &&
        inPrefix(a, 0, pool.prefix.address, pool.prefix.length) &&
        hostBitsZero(a, prefixLength)
      )
        return true;
    }
    return false;
  }

  /** Release and Decline (§18.3.7, §18.3.8). */
  private giveBack(
    b: Uint8Array,
    m: ClientMessage,
    st: ServerNetwork,
    port: PortConfig | null,
    decline: boolean,
    out: Uint8Array,
    p: number,
  ): number {
    const duid = b.subarray(m.clientId, m.clientId + m.clientIdLength);
    for (let i = 0; i < m.iaNaCount + m.iaPdCount; i++) {
      const pd = i >= m.iaNaCount;
      const d = (pd ? m.iaPd[i - m.iaNaCount] : m.iaNa[i]) as number;
      const type = pd ? LeaseType.Prefix : LeaseType.Address;
      const iaid = u32(b, d);
      const end = d + u16(b, d - 2);
      let known = 0;
      let listed = 0;
      for (let q = d + 12; q + 4 <= end;) {
        const oc = u16(b, q);
        const n = u16(b, q + 2);
        const od = q + 4;
        q = od + n;
        let a = -1;
        if (!pd && oc === Dhcpv6OptionCode.IaAddress && n >= 24) a = od;
        else if (pd && oc === Dhcpv6OptionCode.IaPrefix && n >= 25) a = od + 9;
        if (a < 0) continue;
        listed++;
        const isStatic =
          port !== null &&
          (pd
            ? port.delegatedPrefix !== null && addrEqual(b, a, port.delegatedPrefix.address, 0)
            : port.addresses.some((x) => addrEqual(b, a, x.bytes, 0)));
        if (isStatic) {
          known++;
          continue;
        }
        if (this.leases === null || !this.mayChangeLeases()) continue;
        const req = { type, duid, iaid, address: b.subarray(a, a + 16), networkId: st.index };
        const r = decline ? this.leases.decline(req, this.now()) : this.leases.release(req);
        if (r.status === LeaseStatus.Success) {
          known++;
          this.needsCommit = true;
        }
      }
      if (listed === 0 || known < listed) {
        const code = pd ? Dhcpv6OptionCode.IaPd : Dhcpv6OptionCode.IaNa;
        p = this.iaStatus(out, p, code, iaid, Dhcpv6StatusCode.NoBinding, 'No binding for this IA');
      }
    }
    // Top-level status after the IAs that had no binding.
    const top = decline ? 'Decline received' : 'Release received';
    p += emitStatusCodeOption(out, p, Dhcpv6StatusCode.Success, top);
    return p;
  }

  // ---- Confirm (§18.3.3) ----

  private confirmHasAddresses(b: Uint8Array, m: ClientMessage): boolean {
    for (let i = 0; i < m.iaNaCount; i++) {
      const d = m.iaNa[i] as number;
      const end = d + u16(b, d - 2);
      for (let q = d + 12; q + 4 <= end; q += 4 + u16(b, q + 2))
        if (u16(b, q) === Dhcpv6OptionCode.IaAddress) return true;
    }
    return false;
  }

  private confirmOnLink(b: Uint8Array, m: ClientMessage, st: ServerNetwork): boolean {
    for (let i = 0; i < m.iaNaCount; i++) {
      const d = m.iaNa[i] as number;
      const end = d + u16(b, d - 2);
      for (let q = d + 12; q + 4 <= end; q += 4 + u16(b, q + 2)) {
        if (u16(b, q) === Dhcpv6OptionCode.IaAddress && u16(b, q + 2) >= 24 && !this.addressOnLink(st, b, q + 4))
          return false;
      }
    }
    return true;
  }

  // ---- Configuration options (§21.7: those the ORO asks for and the server has) ----

  /** Copies an option encoded once (see `wire`) to out[p]; returns the offset after it. */
  private copyOption(e: EncodedOption, out: Uint8Array, p: number): number {
    copyWords(this.wireWords, e.off, wordView(out), p, e.len);
    return p + e.len;
  }

  private configurationOptions(
    b: Uint8Array,
    m: ClientMessage,
    st: ServerNetwork,
    out: Uint8Array,
    p: number,
    informationRequest: boolean,
  ): number {
    const cfg = st.config.dhcpv6;
    if (st.dnsServers.len > 0 && m.requested(b, Dhcpv6OptionCode.DnsServers))
      p = this.copyOption(st.dnsServers, out, p);
    if (st.domainSearch.len > 0 && m.requested(b, Dhcpv6OptionCode.DomainSearchList))
      p = this.copyOption(st.domainSearch, out, p);
    if (st.ntpServers.len > 0 && m.requested(b, Dhcpv6OptionCode.NtpServer)) p = this.copyOption(st.ntpServers, out, p);
    if (!informationRequest && m.requested(b, Dhcpv6OptionCode.SolMaxRt) && (cfg.solMaxRt ?? this.solMaxRt) > 0) {
      p += emitU32Option(out, p, Dhcpv6OptionCode.SolMaxRt, cfg.solMaxRt ?? this.solMaxRt);
    }
    if (informationRequest && m.requested(b, Dhcpv6OptionCode.InfMaxRt) && (cfg.infMaxRt ?? this.infMaxRt) > 0) {
      p += emitU32Option(out, p, Dhcpv6OptionCode.InfMaxRt, cfg.infMaxRt ?? this.infMaxRt);
    }
    return p;
  }
}

/** How far past an address already offered in the same Advertise the server looks for another. */
const MAX_OFFER_TRIES = 64;

/** The next address (prefixLength 128) or the next prefix of that length after a, wrapping. */
function nextCandidate(a: Uint8Array, prefixLength: number): Uint8Array {
  const out = Uint8Array.from(a);
  const bit = Math.max(1, Math.min(128, prefixLength)) - 1;
  let i = bit >>> 3;
  let carry = 1 << (7 - (bit & 7));
  for (; i >= 0 && carry > 0; i--) {
    const v = (out[i] as number) + carry;
    out[i] = v & 0xff;
    carry = v >>> 8;
  }
  return out;
}

/** True when every bit of a after the first `len` bits is zero. */
function hostBitsZero(a: Uint8Array, len: number): boolean {
  for (let bit = len; bit < 128; bit++) if (((a[bit >>> 3] as number) & (0x80 >>> (bit & 7))) !== 0) return false;
  return true;
}

/** Compares the address at a[ao] with b (16 bytes each), as unsigned numbers. */
function compare16(a: Uint8Array, ao: number, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) {
    const d = (a[ao + i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

function isUnspecified16(b: Uint8Array, o: number): boolean {
  for (let i = 0; i < 16; i++) if (b[o + i] !== 0) return false;
  return true;
}

export function isClientMessageType(t: number): boolean {
  switch (t) {
    case Dhcpv6MessageType.Solicit:
    case Dhcpv6MessageType.Request:
    case Dhcpv6MessageType.Confirm:
    case Dhcpv6MessageType.Renew:
    case Dhcpv6MessageType.Rebind:
    case Dhcpv6MessageType.Release:
    case Dhcpv6MessageType.Decline:
    case Dhcpv6MessageType.InformationRequest:
      return true;
    default:
      return false;
  }
}
