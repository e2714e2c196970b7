/**
 * The fast-path dispatcher: given one frame that reached the punt path, classify it and hand it
 * to its answer, which writes the reply the RFCs require into the transmit buffer; `handle()`
 * returns the reply's length (0 = no reply).
 *
 * `handle(rx, off, len, ifIndex)` decodes with one reused FrameDecoder, drops what no answer may
 * see (refused by the decoder, from a multicast or punt6's own MAC, on a link of no network, a
 * fragment, over the sender's rate limit), finds the network from the interface and VLAN, and
 * switches on the message kind (ICMPv6 type, DHCPv6 message type). Each answer is a file of
 * answers/. Counters per port, kind and outcome are slots of a Float64Array. The NS, RS and echo
 * paths allocate nothing.
 *
 * Replies go to the requester's MAC from the frame and keep its VLAN tag. Answers that are sent
 * later (rate-limited multicast RAs, periodic RAs, DHCPv6 replies that wait for their lease to be
 * journaled) go through the `FrameSink` given at construction.
 */

import { isMacMulticast } from '../../codecs/bytes.js';
import { ETHERNET_HEADER_LENGTH, EthernetField, NO_VLAN } from '../../codecs/ethernet.js';
import { FrameDecoder } from '../../codecs/frame.js';
import { Dhcpv6MessageType } from '../../codecs/dhcpv6.js';
import { Icmpv6Field, Icmpv6Type } from '../../codecs/icmpv6.js';
import { IpProtocol } from '../../codecs/ipv6.js';
import { Rule, Status } from '../../codecs/status.js';
import type { Dhcpv6Server } from '../dhcp/server.js';
import { MacTable } from '../tables/mac-table.js';
import { Dhcpv6Answer } from './answers/dhcpv6.js';
import { EchoAnswer } from './answers/echo.js';
import { InverseNdAnswer } from './answers/inverse-nd.js';
import { MrdAnswer } from './answers/mrd.js';
import { NeighborDiscoveryAnswer } from './answers/nd.js';
import { RouterDiscoveryAnswer } from './answers/router-discovery.js';
import { Counters, MessageKind, Outcome } from './counters.js';
import { HeldReplies } from './held-replies.js';
import { networkStateSteps, UNTAGGED_SLOT, vlanMaps, type NetworkState } from './network-state.js';
import { DEFAULT_RATE_LIMIT, SenderRateLimiter, type RateLimit } from './rate-limiter.js';
import { Reply, type FrameSink } from './reply.js';
import { MulticastAdvertisements, Random } from './router-advertiser.js';
import type { Runtime } from './runtime.js';
import { runSteps, type Steps } from '../system/steps.js';

export type { FrameSink } from './reply.js';

// Module-local bindings of the hot path (docs/architecture.md, "Constants on the hot path", says why).
const { Ok } = Status;
const ethernetField = EthernetField;
const ethernetHeaderLength = ETHERNET_HEADER_LENGTH;
const noVlan = NO_VLAN;
const untaggedSlot = UNTAGGED_SLOT;
const icmpv6Type = Icmpv6Type;
const messageType = Dhcpv6MessageType;
const messageKind = MessageKind;
const outcome = Outcome;

export interface DispatcherOptions {
  sink?: FrameSink;
  /** Milliseconds; defaults to Date.now. Replays pass the capture's clock. */
  now?: () => number;
  /** Seed of the RA timing jitter (fixed in replays and tests for reproducible schedules). */
  seed?: number;
  /** Verify checksums of received frames (off only for captures with offloaded checksums). */
  verifyChecksums?: boolean;
  /** The DHCPv6 server; without one DHCPv6 is not answered (counted as no-service). */
  dhcpv6?: Dhcpv6Server;
  /** Told when a lease commit fails (those replies are not sent). */
  onCommitError?: (error: unknown, replies: number) => void;
  /** Per-sender token bucket (source MAC); null: none. Default DEFAULT_RATE_LIMIT. */
  rateLimit?: RateLimit | null;
  /** The tables, built beforehand by {@link dispatcherTables} with the same runtime and options. */
  tables?: DispatcherTables;
}

/**
 * What a dispatcher looks frames up in, made from the runtime model: per network, the addresses
 * it answers for and their NAs (network-state.ts); the ports by MAC; the per-sender buckets.
 * They grow with the ports, so they are built in steps (src/system/steps.ts) of a few addresses
 * or one table: a reload builds them while the running dispatcher answers.
 */
export interface DispatcherTables {
  readonly networks: NetworkState[];
  readonly portByMac: MacTable;
  readonly limiter: SenderRateLimiter | null;
}

export function* dispatcherTables(
  runtime: Runtime,
  options: Pick<DispatcherOptions, 'seed' | 'rateLimit'> = {},
): Steps<DispatcherTables> {
  const limit = options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit;
  const limiter =
    limit === null
      ? null
      : new SenderRateLimiter(
          runtime.ports.map((p) => p.mac),
          runtime.interfaces.length,
          limit,
        );
  yield;
  const networks = yield* networkStateSteps(runtime, new Random(options.seed));
  const portByMac = new MacTable(runtime.ports.map((p) => ({ mac: p.mac, value: p.index })));
  return { networks, portByMac, limiter };
}

export class Dispatcher {
  readonly runtime: Runtime;
  readonly decoder = new FrameDecoder();
  readonly counters: Counters;
  private readonly reply = new Reply(this.decoder);
  /** The transmit buffer: handle() writes its reply at offset 0. */
  readonly tx = this.reply.tx;
  private readonly networks: NetworkState[];
  /** Per interface: a VLAN id (or untaggedSlot) -> network index or -1. */
  private readonly vlanMap: Int16Array[];
  /** punt6's own MACs (the networks' router MACs). */
  private readonly ownMacs: MacTable;
  readonly now: () => number;
  readonly dhcpv6: Dhcpv6Server | undefined;
  /** punt6's own per-sender token bucket, or null. */
  readonly limiter: SenderRateLimiter | null;
  private readonly held: HeldReplies;
  private readonly advertisements: MulticastAdvertisements;
  private readonly nd: NeighborDiscoveryAnswer;
  private readonly echo: EchoAnswer;
  private readonly routerDiscovery: RouterDiscoveryAnswer;
  private readonly inverseNd: InverseNdAnswer;
  private readonly mrd: MrdAnswer;
  private readonly dhcpv6Answer: Dhcpv6Answer;

  constructor(runtime: Runtime, options: DispatcherOptions = {}) {
    this.runtime = runtime;
    const sink = options.sink ?? (() => {});
    this.now = options.now ?? Date.now;
    this.verifyChecksums = options.verifyChecksums ?? true;
    // An echo request's checksum is verified while it is copied into the reply (answers/echo.ts).
    this.decoder.deferEchoRequestChecksum = true;
    this.dhcpv6 = options.dhcpv6;
    const tables = options.tables ?? runSteps(dispatcherTables(runtime, options));
    this.limiter = tables.limiter;
    this.counters = new Counters(runtime.interfaces.length);
    this.networks = tables.networks;
    const { maps, links } = vlanMaps(runtime);
    this.vlanMap = maps;
    this.ownMacs = new MacTable(runtime.networks.map((n) => ({ mac: n.routerMac, value: n.index })));
    const portByMac = tables.portByMac;
    this.held = new HeldReplies(
      sink,
      () => {
        const leases = this.dhcpv6?.leases;
        return leases ? leases.commit() : Promise.resolve();
      },
      options.onCommitError ?? (() => {}),
    );
    this.advertisements = new MulticastAdvertisements(this.networks, links, sink);
    const d = this.decoder;
    const reply = this.reply;
    this.nd = new NeighborDiscoveryAnswer(d, reply, runtime.ports, portByMac);
    this.echo = new EchoAnswer(d, reply);
    this.routerDiscovery = new RouterDiscoveryAnswer(d, reply, this.advertisements, this.now);
    this.inverseNd = new InverseNdAnswer(d, reply, runtime.ports, portByMac, runtime.networks);
    this.mrd = new MrdAnswer(d, reply, runtime.networks);
    this.dhcpv6Answer = new Dhcpv6Answer(this.dhcpv6, d, reply, this.held);
  }

  /** Starts periodic RAs. */
  start(): void {
    this.advertisements.start(this.now());
  }

  /** The network a frame on this interface and VLAN belongs to, or -1. */
  networkOf(ifIndex: number, vlan: number): number {
    const m = this.vlanMap[ifIndex];
    if (m === undefined) return -1;
    return m[vlan === noVlan ? untaggedSlot : vlan] as number;
  }

  /**
   * Handles one received frame; returns the number of reply bytes written at tx[0] (0: none).
   * `checksumTrusted`: the kernel vouched for this frame's checksums (verified them, or marked
   * them as left to transmit offload and never filled in), so they are not verified here.
   */
  handle(rx: Uint8Array, off: number, len: number, ifIndex: number, checksumTrusted = false): number {
    const c = this.counters;
    // One store per frame: the decoder reads the flag, the handlers read what it decoded.
    this.decoder.verifyChecksums = this.verifyChecksums && !checksumTrusted;
    if (len < ethernetHeaderLength || off < 0 || off + len > rx.length) {
      c.add(ifIndex, messageKind.Undecodable, outcome.Truncated);
      return 0;
    }
    const d = this.decoder;
    const status = d.decode(rx, off, len);
    const kind =
      d.icmpv6Type >= 0
        ? kindOfIcmpv6(d.icmpv6Type)
        : d.dhcpv6Type >= 0
          ? kindOfDhcpv6(d.dhcpv6Type)
          : this.firstFragmentKind(rx);
    if (status !== Ok) {
      c.add(ifIndex, kind, this.failureOutcome(status));
      return 0;
    }
    const source = off + ethernetField.Source;
    if (isMacMulticast(rx, source) || this.ownMacs.lookup(rx, source) >= 0) {
      c.add(ifIndex, kind, outcome.BadSource);
      return 0;
    }
    const network = this.networkOf(ifIndex, d.vlanId);
    if (network < 0) {
      c.add(ifIndex, kind, outcome.NoService);
      return 0;
    }
    if (d.ipv6.isFragment) {
      c.add(ifIndex, kind, outcome.Fragment);
      return 0;
    }
    // One sender's flood must not starve the others (the second line behind the OVS meter).
    if (this.limiter !== null && !this.limiter.admit(rx, source, ifIndex, this.now())) {
      c.add(ifIndex, kind, outcome.RateLimited);
      return 0;
    }
    const st = this.networks[network] as NetworkState;
    let result: Outcome;
    switch (kind) {
      case messageKind.NeighborSolicitation:
        result = this.nd.neighborSolicitation(rx, off, st);
        break;
      case messageKind.EchoRequest:
        result = this.echo.echoRequest(rx, off, st);
        break;
      case messageKind.RouterSolicitation:
        result = this.routerDiscovery.routerSolicitation(rx, off, st);
        break;
      case messageKind.InverseNeighborSolicitation:
        result = this.inverseNd.inverseNeighborSolicitation(rx, off, st);
        break;
      case messageKind.MulticastRouterSolicitation:
        result = this.mrd.multicastRouterSolicitation(rx, off, st);
        break;
      case messageKind.Dhcpv6Solicit:
      case messageKind.Dhcpv6Request:
      case messageKind.Dhcpv6Confirm:
      case messageKind.Dhcpv6Renew:
      case messageKind.Dhcpv6Rebind:
      case messageKind.Dhcpv6Release:
      case messageKind.Dhcpv6Decline:
      case messageKind.Dhcpv6InformationRequest:
      case messageKind.Dhcpv6RelayForward:
        result = this.dhcpv6Answer.dhcpv6Message(rx, off, st, network, ifIndex);
        break;
      default:
        result = outcome.Ignored;
        break;
    }
    c.add(ifIndex, kind, result);
    const reply = this.reply;
    if (reply.held) {
      reply.held = false;
      return 0;
    }
    if (result === outcome.Conflict) {
      c.add(ifIndex, kind, outcome.Answered);
      return reply.length;
    }
    return result === outcome.Answered ? reply.length : 0;
  }

  /** Checksums of frames not vouched for by the kernel are verified (off for offloaded captures). */
  private readonly verifyChecksums: boolean;

  /**
   * The kind of an ICMPv6 message whose first fragment the decoder refused (its type byte is
   * there, so a fragmented echo request counts as one); Undecodable for anything else.
   */
  private firstFragmentKind(rx: Uint8Array): MessageKind {
    const d = this.decoder;
    const ip = d.ipv6;
    if (
      d.ipv6Offset >= 0 &&
      ip.isFragment &&
      ip.fragmentOffset === 0 &&
      d.upperProtocol === IpProtocol.Icmpv6 &&
      d.upperLength > 0
    ) {
      return kindOfIcmpv6(rx[d.upperOffset + Icmpv6Field.Type] as number);
    }
    return messageKind.Undecodable;
  }

  /**
   * The outcome of a frame the decoder refused. A fragment is a fragment whatever else is wrong
   * with it; an ND or Inverse ND message with a code other than 0 failed an RFC validation rule
   * (RFC 4861 §6.1, §7.1; RFC 3122 §4) rather than being malformed.
   */
  private failureOutcome(status: Status): Outcome {
    const d = this.decoder;
    if (status === Status.Unsupported && d.ipv6Offset >= 0 && d.ipv6.isFragment) return outcome.Fragment;
    if (status === Status.Malformed && d.failure.rule === Rule.Code) return outcome.Invalid;
    return statusOutcome(status);
  }

  /**
   * Sends whatever RAs are due at `now` through the sink; returns the time (ms) of the next
   * thing due, or Infinity.
   */
  poll(now: number = this.now()): number {
    return this.advertisements.poll(now);
  }

  /**
   * One round of final RAs (router lifetime 0, RFC 4861 §6.2.5) on every link of every network,
   * and no periodic RAs after it. The caller repeats it up to MAX_FINAL_RTR_ADVERTISEMENTS times.
   * Returns the frames sent.
   */
  sendFinalAdvertisements(): number {
    return this.advertisements.sendFinal();
  }

  /** DHCPv6 replies never sent because their lease commit failed. */
  get commitFailures(): number {
    return this.held.failures;
  }

  /** Replies waiting for a commit that has not started yet. */
  get heldReplies(): number {
    return this.held.waiting;
  }

  /** Resolves when every held reply has been committed and sent (or its commit failed). */
  flush(): Promise<void> {
    return this.held.flush();
  }
}

function kindOfIcmpv6(type: number): MessageKind {
  switch (type) {
    case icmpv6Type.NeighborSolicitation:
      return messageKind.NeighborSolicitation;
    case icmpv6Type.NeighborAdvertisement:
      return messageKind.NeighborAdvertisement;
    case icmpv6Type.RouterSolicitation:
      return messageKind.RouterSolicitation;
    case icmpv6Type.RouterAdvertisement:
      return messageKind.RouterAdvertisement;
    case icmpv6Type.Redirect:
      return messageKind.Redirect;
    case icmpv6Type.EchoRequest:
      return messageKind.EchoRequest;
    case icmpv6Type.EchoReply:
      return messageKind.EchoReply;
    case icmpv6Type.InverseNeighborSolicitation:
      return messageKind.InverseNeighborSolicitation;
    case icmpv6Type.InverseNeighborAdvertisement:
      return messageKind.InverseNeighborAdvertisement;
    case icmpv6Type.MulticastRouterSolicitation:
      return messageKind.MulticastRouterSolicitation;
    case icmpv6Type.MulticastRouterAdvertisement:
      return messageKind.MulticastRouterAdvertisement;
    default:
      return messageKind.Other;
  }
}

export function kindOfDhcpv6(type: number): MessageKind {
  switch (type) {
    case messageType.Solicit:
      return messageKind.Dhcpv6Solicit;
    case messageType.Request:
      return messageKind.Dhcpv6Request;
    case messageType.Confirm:
      return messageKind.Dhcpv6Confirm;
    case messageType.Renew:
      return messageKind.Dhcpv6Renew;
    case messageType.Rebind:
      return messageKind.Dhcpv6Rebind;
    case messageType.Release:
      return messageKind.Dhcpv6Release;
    case messageType.Decline:
      return messageKind.Dhcpv6Decline;
    case messageType.InformationRequest:
      return messageKind.Dhcpv6InformationRequest;
    case messageType.RelayForw:
      return messageKind.Dhcpv6RelayForward;
    default:
      return messageKind.Dhcpv6Other;
  }
}

function statusOutcome(s: Status): Outcome {
  switch (s) {
    case Status.Truncated:
      return outcome.Truncated;
    case Status.BadChecksum:
      return outcome.BadChecksum;
    case Status.Unsupported:
      return outcome.Unsupported;
    default:
      return outcome.Malformed;
  }
}
