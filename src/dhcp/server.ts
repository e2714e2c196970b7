/**
 * The DHCPv6 server (RFC 9915): client messages and relayed ones in, one reply message out,
 * written straight into the caller's transmit buffer.
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
 * The work is split by concern: message intake (the client-message record and the discard rules,
 * src/dhcp/intake.ts), relays (src/dhcp/relay.ts), IA handling (src/dhcp/ia.ts), the reply
 * writer (src/dhcp/reply.ts) and what the server knows of each network (src/dhcp/network.ts).
 * This file builds them once and answers one message at a time.
 *
 * Assignment: the cloud controller decides. A client that is a configured port (found by the
 * frame's source MAC; behind a trusted relay, by its Client Link-Layer Address option 79 or the
 * port's configured DUID: see `ClientIdentity`) gets that port's addresses in its first IA_NA and
 * the port's delegated prefix in its first IA_PD. Pool leases are bounded per client, per port
 * and in all (docs/leases.md). Replies that change a lease are sent only after the journal's
 * fsync: `handle()` says so in the reply record it returns.
 */

import { parseDuid } from '../../codecs/duid.js';
import {
  Dhcpv6Field,
  Dhcpv6MessageType,
  Dhcpv6OptionCode,
  Dhcpv6StatusCode,
  dhcpv6OptionLength,
  emitDhcpv6Option,
  type Dhcpv6OptionRepr,
} from '../../codecs/dhcpv6.js';
import type { NetworkConfig, PortConfig } from '../config/model.js';
import { confirmOnLink, IaHandler, LeaseChanges } from './ia.js';
import { ClientMessage, DiscardReason, discardReasonOf, isClientMessageType } from './intake.js';
import type { LeaseTable } from './leases.js';
import { portAt, portIndexes, relayTrusted, type EncodedOption, type ServerNetwork } from './network.js';
import { ClientIdentity, RelayChain } from './relay.js';
import { Dhcpv6Reply, ReplyWriter } from './reply.js';

// Module-local bindings of the hot path (codecs/code-table.ts says why).
const optionCode = Dhcpv6OptionCode;
const messageType = Dhcpv6MessageType;
const statusCode = Dhcpv6StatusCode;
const msgTypeAt = Dhcpv6Field.MsgType;

export { DiscardReason, Dhcpv6Reply };

/** A DHCPv6 message as the caller received it: the message and where it came from (a record the caller reuses). */
export interface Dhcpv6Request {
  /** The message, buf[off, off + len): a client message or a Relay-forw, validated by the codec (validateDhcpv6). */
  buf: Uint8Array;
  off: number;
  len: number;
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

/** An option encoded by the codec's own emitter, in an array of its own. */
function encodeOption(r: Dhcpv6OptionRepr): Uint8Array {
  const o = new Uint8Array(dhcpv6OptionLength(r));
  emitDhcpv6Option(r, o, 0);
  return o;
}

export class Dhcpv6Server {
  readonly serverDuid: Uint8Array;
  readonly leases: LeaseTable | null;
  /** Messages discarded, by reason. */
  readonly discards = new Map<DiscardReason, number>();
  /** What the last `handle()` did (the record it returned). */
  readonly reply = new Dhcpv6Reply();
  /**
   * The options every reply carries as they are (the Server ID, and per network the DNS, domain
   * search and NTP options), encoded once into one array with a view of its own: a reply copies
   * them four bytes at a time (codecs/word-view.ts) instead of writing them field by field.
   */
  private readonly encoded: Uint8Array;
  private readonly encodedWords: DataView;
  private readonly serverIdOption: EncodedOption;
  private readonly networks: ServerNetwork[];
  private readonly solMaxRt: number;
  private readonly infMaxRt: number;
  private readonly message = new ClientMessage();
  private readonly relays = new RelayChain();
  private readonly identity = new ClientIdentity();
  private readonly writer = new ReplyWriter();
  private readonly changes = new LeaseChanges();
  private readonly ias: IaHandler;

  constructor(options: Dhcpv6ServerOptions) {
    this.serverDuid = options.serverDuid;
    this.leases = options.leases;
    const clock = options.now ?? Date.now;
    this.solMaxRt = options.solMaxRt ?? 0;
    this.infMaxRt = options.infMaxRt ?? 0;
    const parts: Uint8Array[] = [];
    let size = 0;
    const place = (option: Uint8Array | null): EncodedOption => {
      if (option === null) return { off: 0, len: 0 };
      parts.push(option);
      size += option.length;
      return { off: size - option.length, len: option.length };
    };
    this.serverIdOption = place(
      encodeOption({ kind: 'server-id', duid: parseDuid(this.serverDuid, 0, this.serverDuid.length) }),
    );
    this.networks = options.networks.map((config, index) => {
      const cfg = config.dhcpv6;
      return {
        index,
        config,
        ...portIndexes(config),
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
    this.encoded = new Uint8Array(size);
    let at = 0;
    for (const option of parts) {
      this.encoded.set(option, at);
      at += option.length;
    }
    this.encodedWords = new DataView(this.encoded.buffer, this.encoded.byteOffset, this.encoded.byteLength);
    this.ias = new IaHandler({
      leases: this.leases,
      writer: this.writer,
      changes: this.changes,
      identity: this.identity,
      // Whole milliseconds: the lease table keeps integer times.
      now: () => Math.floor(clock()),
      iasPerMessage: options.iasPerMessage ?? 8,
    });
  }

  /** IAs refused because a message carried more than `iasPerMessage` of their kind. */
  get iasRefused(): number {
    return this.ias.refused;
  }

  /**
   * Answers one message: writes the reply message at out[o] and returns what it did, in a record
   * reused by the next call: the reply's length (0: no reply, and why), and whether the reply
   * must wait for `leases.commit()`.
   */
  handle(req: Dhcpv6Request, out: Uint8Array, o: number): Dhcpv6Reply {
    const reply = this.reply;
    reply.length = 0;
    reply.awaitsCommit = false;
    reply.discardReason = '';
    this.changes.begin(this.leases);
    const w = this.writer.begin(out, o);
    const b = req.buf;
    const type = b[req.off + msgTypeAt] as number;
    if (type === messageType.RelayForw) {
      const chain = this.relays;
      const why = chain.read(b, req.off, req.len, req.network, this.networks);
      if (why !== '') return this.discard(why);
      const net = this.networks[req.network];
      const trusted = net !== undefined && relayTrusted(net, req.source, req.sourceOff);
      this.identity.relayed(trusted, req.mac, req.macOff, b, chain.clientMac);
      chain.openReply(w);
      const answer = this.client(b, chain.messageOffset, chain.messageLength, chain.network, true);
      if (answer !== '') return this.discard(answer);
      chain.closeReply(w);
    } else {
      if (!isClientMessageType(type)) return this.discard(DiscardReason.NotClientMessage);
      this.identity.direct(req.mac, req.macOff);
      const answer = this.client(b, req.off, req.len, req.network, !req.unicast);
      if (answer !== '') return this.discard(answer);
    }
    reply.length = w.length;
    reply.awaitsCommit = this.changes.made;
    return reply;
  }

  private discard(reason: DiscardReason): Dhcpv6Reply {
    this.reply.length = 0;
    this.reply.discardReason = reason;
    this.discards.set(reason, (this.discards.get(reason) ?? 0) + 1);
    return this.reply;
  }

  // ---- Client messages (RFC 9915 §16, §18.3) ----

  /** Writes the answer to the client message b[off, off+len); returns why there is none, or ''. */
  private client(b: Uint8Array, off: number, len: number, network: number, multicast: boolean): DiscardReason | '' {
    const net = this.networks[network];
    if (net === undefined || net.config.dhcpv6.mode === 'off') return DiscardReason.ServiceOff;
    const msg = this.message;
    msg.read(b, off, len);
    const type = msg.type;
    const cfg = net.config.dhcpv6;
    if (type !== messageType.InformationRequest && cfg.mode !== 'stateful') return DiscardReason.NotStateful;
    const why = discardReasonOf(msg, multicast, this.serverDuid);
    if (why !== '') return why;

    const rapid = type === messageType.Solicit && msg.rapidCommit && cfg.rapidCommit;
    const w = this.writer;
    w.header(type === messageType.Solicit && !rapid ? messageType.Advertise : messageType.Reply, msg.transactionId);
    // Server ID, then the client's Client ID (§18.3.9, §18.3.10).
    this.copyEncoded(this.serverIdOption);
    if (msg.clientId >= 0) w.copyOption(b, msg.clientId, msg.clientIdLength);
    const port = this.portOf(net, msg);
    switch (type) {
      case messageType.Solicit:
        this.ias.assign(msg, net, port, rapid);
        if (rapid) w.emptyOption(optionCode.RapidCommit);
        this.configurationOptions(msg, net, false);
        break;
      case messageType.Request:
        this.ias.assign(msg, net, port, true);
        this.configurationOptions(msg, net, false);
        break;
      case messageType.Renew:
      case messageType.Rebind:
        this.ias.extend(msg, net, port, type === messageType.Rebind);
        this.configurationOptions(msg, net, false);
        break;
      case messageType.Confirm:
        if (confirmOnLink(msg, net)) w.status(statusCode.Success, 'All addresses on link');
        else w.status(statusCode.NotOnLink, 'An address is not on this link');
        break;
      case messageType.Release:
      case messageType.Decline:
        this.ias.giveBack(msg, net, port, type === messageType.Decline);
        break;
      case messageType.InformationRequest:
        this.configurationOptions(msg, net, true);
        w.u32Option(optionCode.InformationRefreshTime, cfg.informationRefreshTime);
        break;
    }
    // A Reply that needs a lease change the journal cannot make durable is withheld whole.
    return this.changes.withheld ? DiscardReason.StorageFailing : '';
  }

  /** The configured port this client is, by the identities trusted for it (see ClientIdentity). */
  private portOf(net: ServerNetwork, msg: ClientMessage): PortConfig | null {
    const id = this.identity;
    if (id.portMacOff >= 0) {
      const p = portAt(net, net.portsByMac.lookup(id.portMac, id.portMacOff));
      if (p) return p;
    }
    if (id.duidSelectsPort && msg.clientId >= 0 && net.portsByDuid.size > 0)
      return net.portsByDuid.get(msg.buf, msg.clientId, msg.clientIdLength, 0, 0) ?? null;
    return null;
  }

  // ---- Configuration options (§21.7: those the ORO asks for and the server has) ----

  private copyEncoded(e: EncodedOption): void {
    this.writer.copyEncoded(this.encodedWords, e.off, e.len);
  }

  private configurationOptions(msg: ClientMessage, net: ServerNetwork, informationRequest: boolean): void {
    const cfg = net.config.dhcpv6;
    const w = this.writer;
    if (net.dnsServers.len > 0 && msg.requested(optionCode.DnsServers)) this.copyEncoded(net.dnsServers);
    if (net.domainSearch.len > 0 && msg.requested(optionCode.DomainSearchList)) this.copyEncoded(net.domainSearch);
    if (net.ntpServers.len > 0 && msg.requested(optionCode.NtpServer)) this.copyEncoded(net.ntpServers);
    const solMaxRt = cfg.solMaxRt ?? this.solMaxRt;
    if (!informationRequest && solMaxRt > 0 && msg.requested(optionCode.SolMaxRt))
      w.u32Option(optionCode.SolMaxRt, solMaxRt);
    const infMaxRt = cfg.infMaxRt ?? this.infMaxRt;
    if (informationRequest && infMaxRt > 0 && msg.requested(optionCode.InfMaxRt))
      w.u32Option(optionCode.InfMaxRt, infMaxRt);
  }
}
