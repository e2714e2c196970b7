/**
 * The fast-path dispatcher: given one frame that reached the punt path, write the answer the
 * RFCs require into a preallocated transmit buffer and return its length (0 = no reply).
 *
 * Built once from the runtime model: per network an address table (router and port addresses,
 * keyed by the 16 address bytes) with a prebuilt NA for each address (na-templates.ts), per
 * interface a VLAN -> network table, per network its RA template. Both answers to a solicitation
 * are a native copy of their template, patched for the requester. `handle(rx, off, len, ifIndex)` decodes with one reused FrameDecoder and switches on
 * numbers (ICMPv6 type, DHCPv6 message type). Counters per port, kind and outcome are slots of a
 * Float64Array. The NS, RS and echo paths allocate nothing.
 *
 * Replies go to the requester's MAC from the frame and keep its VLAN tag; frames from a
 * multicast/broadcast source MAC or from punt6's own MACs are ignored.
 *
 * Answers that are sent later (rate-limited multicast RAs, periodic RAs, DHCPv6 replies that
 * wait for their lease to be journaled) go through the `FrameSink` given at construction.
 */

import {
  copyAddr,
  copyBytes,
  isMacMulticast,
  isMulticast,
  isSolicitedNode,
  isUnspecified,
} from '../../codecs/bytes.js';
import { fillUpperLayer, fold, pseudoHeaderSum } from '../../codecs/checksum.js';
import { Dhcpv6MessageType } from '../../codecs/dhcpv6.js';
import { NO_VLAN } from '../../codecs/ethernet.js';
import { FrameDecoder } from '../../codecs/frame.js';
import { Icmpv6Type } from '../../codecs/icmpv6.js';
import { emitIpv6Fixed, IpProtocol } from '../../codecs/ipv6.js';
import { NeighborAdvertisementFlag } from '../../codecs/ndp.js';
import { emitLinkLayerAddressOption, NdpOptionType } from '../../codecs/ndp-options.js';
import { Layer, Status } from '../../codecs/status.js';
import { fillUdpChecksum, UdpPort } from '../../codecs/udp.js';
import type { Dhcpv6Request, Dhcpv6Server } from '../dhcp/server.js';
import { MacTable } from '../tables/mac-table.js';
import { DEFAULT_RATE_LIMIT, SenderRateLimiter, type RateLimit } from './rate-limiter.js';
import { AddressTable } from '../tables/address-table.js';
import { NeighborAdvertisementTemplates } from './na-templates.js';
import { Counters, MessageKind, Outcome } from './counters.js';
import { copyAddressWords, copyMacWords, copySumWords, copyWords, wordView } from '../../codecs/word-view.js';
import { Random, RouterAdvertiser } from './router-advertiser.js';
import type { Runtime, RuntimeNetwork } from './runtime.js';
import { runSteps, type Steps } from '../system/steps.js';

/** Where frames produced outside `handle()` go: the interface index and the bytes. */
export type FrameSink = (ifIndex: number, frame: Uint8Array, off: number, len: number) => void;

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
 * it answers for and their NAs; the ports by MAC; the per-sender buckets. They grow with the
 * ports, so they are built in steps (src/system/steps.ts) of a few addresses or one table:
 * a reload builds them while the running dispatcher answers.
 */
export interface DispatcherTables {
  readonly networks: NetworkState[];
  readonly portByMac: MacTable;
  readonly portMacs: MacWords[];
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
  const random = new Random(options.seed);
  const networks: NetworkState[] = [];
  for (const net of runtime.networks) {
    // Every address punt6 answers for on this network: the router's, then the ports' (proxy
    // ND, answered with the port's MAC). An address listed twice keeps its last entry.
    const entries: { address: Uint8Array; owner: number; mac: Uint8Array }[] = [
      net.routerLinkLocal,
      ...net.routerAddresses,
    ].map((address) => ({ address, owner: ROUTER_OWNER, mac: net.routerMac }));
    for (let i = 0; i < runtime.ports.length; i++) {
      if ((i & 255) === 255) yield;
      const p = runtime.ports[i] as (typeof runtime.ports)[number];
      if (p.network === net.index)
        for (const address of p.addresses) entries.push({ address, owner: p.index + 1, mac: p.mac });
    }
    const owned = new AddressTable(entries.length);
    const owners = new Int32Array(entries.length);
    const advertisements = new NeighborAdvertisementTemplates(entries.length);
    for (let i = 0; i < entries.length; i++) {
      if ((i & 7) === 7) yield;
      const e = entries[i] as (typeof entries)[number];
      owned.set(e.address, 0, i);
      owners[i] = e.owner;
      advertisements.set(i, e.address, e.mac, e.owner === ROUTER_OWNER);
    }
    const ll = net.routerLinkLocal;
    networks.push({
      net,
      routerMac: macWords(net.routerMac),
      routerLinkLocal: new DataView(ll.buffer, ll.byteOffset, 16),
      owned,
      owners,
      advertisements,
      ra: net.ra ? new RouterAdvertiser(net, net.ra, random) : undefined,
      links: [],
    });
    yield;
  }
  const portByMac = new MacTable(runtime.ports.map((p) => ({ mac: p.mac, value: p.index })));
  yield;
  const portMacs: MacWords[] = [];
  for (let i = 0; i < runtime.ports.length; i++) {
    if ((i & 255) === 255) yield;
    portMacs.push(macWords((runtime.ports[i] as (typeof runtime.ports)[number]).mac));
  }
  return { networks, portByMac, portMacs, limiter };
}

/** A reply held back until the lease journal has made its bindings durable. */
interface HeldReply {
  ifIndex: number;
  frame: Uint8Array;
}

const ALL_NODES = Uint8Array.from([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const ALL_NODES_MAC = Uint8Array.from([0x33, 0x33, 0, 0, 0, 1]);
/** The same as two words, for word stores: 33:33:00:00 and 00:01. */
const ALL_NODES_MAC_HIGH = 0x33330000;
const ALL_NODES_MAC_LOW = 0x0001;
const ALL_NODES_WORDS = new DataView(ALL_NODES.buffer, ALL_NODES.byteOffset, 16);
const ALL_SNOOPERS = Uint8Array.from([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x6a]);
/** 33:33 + the low 32 bits of ff02::6a (RFC 2464 §7). */
const ALL_SNOOPERS_MAC = Uint8Array.from([0x33, 0x33, 0, 0, 0, 0x6a]);
const ROUTER_OWNER = 0;
const TX_SIZE = 65536 + 64;
const ETHERTYPE_IPV6 = 0x86dd;

/**
 * A MAC as two words, made once from the configuration: bytes 0-3 and bytes 4-5. Replies write
 * punt6's MACs (Ethernet source, Target Link-Layer Address option) from these with two word
 * stores instead of six byte loads and stores.
 */
export type MacWords = Uint32Array;

function macWords(mac: Uint8Array): MacWords {
  const v = new DataView(mac.buffer, mac.byteOffset, 6);
  return Uint32Array.of(v.getUint32(0), v.getUint16(4));
}

export interface NetworkState {
  net: RuntimeNetwork;
  routerMac: MacWords;
  /** The router's link-local address, for word copies (a view of its own, made once). */
  routerLinkLocal: DataView;
  /** Address -> its entry: the index into `owners` and `advertisements`. */
  owned: AddressTable;
  /** Per entry: 0 for the router, port index + 1 for a port. */
  owners: Int32Array;
  /** Per entry: the NA answering an NS for that address (na-templates.ts). */
  advertisements: NeighborAdvertisementTemplates;
  ra: RouterAdvertiser | undefined;
  /** (interface, vlan) pairs this network is reachable on, for multicast RAs. */
  links: { ifIndex: number; vlan: number }[];
}

const NO_BYTES = new Uint8Array(0);

export class Dispatcher {
  readonly runtime: Runtime;
  readonly decoder = new FrameDecoder();
  readonly counters: Counters;
  /** The transmit buffer: handle() writes its reply at offset 0. */
  readonly tx = new Uint8Array(TX_SIZE);
  /** Word access to tx (codecs/word-view.ts), made once. */
  private readonly txWords = new DataView(this.tx.buffer, this.tx.byteOffset, this.tx.byteLength);
  private readonly scratch = new Uint8Array(TX_SIZE);
  private readonly networks: NetworkState[];
  /** Per interface: 4096 VLAN slots (+1 for untagged at index 4096) -> network index or -1. */
  private readonly vlanMap: Int16Array[];
  /** MAC (as a 48-bit number) -> port index. */
  private readonly portByMac: MacTable;
  /** punt6's own MACs (the networks' router MACs). */
  private readonly ownMacs: MacTable;
  /** Per port index: its MAC as words, for proxy answers. */
  private readonly portMacs: MacWords[];
  private readonly sink: FrameSink;
  readonly now: () => number;
  private stopped = false;
  readonly dhcpv6: Dhcpv6Server | undefined;
  private readonly onCommitError: (error: unknown, replies: number) => void;
  /** punt6's own per-sender token bucket, or null. */
  readonly limiter: SenderRateLimiter | null;
  /** The DHCPv6 message being handled and where it came from; one record, refilled per message. */
  private readonly dhcpv6Request: Dhcpv6Request = {
    buf: NO_BYTES,
    off: 0,
    len: 0,
    network: 0,
    mac: NO_BYTES,
    macOff: 0,
    unicast: false,
    source: NO_BYTES,
    sourceOff: 0,
  };
  /** Replies waiting for the next journal commit, and the commits in flight. */
  private held: HeldReply[] = [];
  private readonly commits = new Set<Promise<void>>();
  /** DHCPv6 replies never sent because their lease commit failed. */
  commitFailures = 0;
  /** Set by a handler whose reply goes out later (after a commit) instead of from handle(). */
  private replyHeld = false;

  constructor(runtime: Runtime, options: DispatcherOptions = {}) {
    this.runtime = runtime;
    this.sink = options.sink ?? (() => {});
    this.now = options.now ?? Date.now;
    this.decoder.verifyChecksums = options.verifyChecksums ?? true;
    // An echo request's checksum is verified while it is copied into the reply (echoRequest).
    this.decoder.deferEchoRequestChecksum = true;
    this.dhcpv6 = options.dhcpv6;
    this.onCommitError = options.onCommitError ?? (() => {});
    const tables = options.tables ?? runSteps(dispatcherTables(runtime, options));
    this.limiter = tables.limiter;
    this.counters = new Counters(runtime.interfaces.length);
    this.networks = tables.networks;
    this.ownMacs = new MacTable(runtime.networks.map((n) => ({ mac: n.routerMac, value: n.index })));
    this.portByMac = tables.portByMac;
    this.portMacs = tables.portMacs;
    this.vlanMap = runtime.interfaces.map((itf) => {
      const m = new Int16Array(4097).fill(-1);
      if (itf.untaggedNetwork >= 0) {
        m[4096] = itf.untaggedNetwork;
        this.networks[itf.untaggedNetwork]?.links.push({ ifIndex: itf.index, vlan: NO_VLAN });
      }
      for (const [vid, n] of itf.vlanNetworks) {
        m[vid] = n;
        this.networks[n]?.links.push({ ifIndex: itf.index, vlan: vid });
      }
      return m;
    });
  }

  /** Starts periodic RAs. */
  start(): void {
    const now = this.now();
    for (const n of this.networks) n.ra?.start(now);
  }

  /** The network a frame on this interface and VLAN belongs to, or -1. */
  networkOf(ifIndex: number, vlan: number): number {
    const m = this.vlanMap[ifIndex];
    if (m === undefined) return -1;
    return m[vlan === NO_VLAN ? 4096 : vlan] as number;
  }

  /**
   * Handles one received frame; returns the number of reply bytes written at tx[0] (0: none).
   */
  handle(rx: Uint8Array, off: number, len: number, ifIndex: number): number {
    const c = this.counters;
    if (len < 14 || off < 0 || off + len > rx.length) {
      c.add(ifIndex, MessageKind.Malformed, Outcome.Truncated);
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
    if (status !== Status.Ok) {
      c.add(ifIndex, kind, this.failureOutcome(status));
      return 0;
    }
    if (isMacMulticast(rx, off + 6) || this.ownMacs.lookup(rx, off + 6) >= 0) {
      c.add(ifIndex, kind, Outcome.BadSource);
      return 0;
    }
    const network = this.networkOf(ifIndex, d.vlanId);
    if (network < 0) {
      c.add(ifIndex, kind, Outcome.NoService);
      return 0;
    }
    if (d.ipv6.isFragment) {
      c.add(ifIndex, kind, Outcome.Fragment);
      return 0;
    }
    // One sender's flood must not starve the others (the second line behind the OVS meter).
    if (this.limiter !== null && !this.limiter.admit(rx, off + 6, ifIndex, this.now())) {
      c.add(ifIndex, kind, Outcome.RateLimited);
      return 0;
    }
    const st = this.networks[network] as NetworkState;
    let outcome: Outcome;
    switch (kind) {
      case MessageKind.NeighborSolicit:
        outcome = this.neighborSolicit(rx, off, st);
        break;
      case MessageKind.EchoRequest:
        outcome = this.echoRequest(rx, off, st);
        break;
      case MessageKind.RouterSolicit:
        outcome = this.routerSolicit(rx, off, st);
        break;
      case MessageKind.InverseSolicit:
        outcome = this.inverseSolicit(rx, off, st);
        break;
      case MessageKind.MrdSolicit:
        outcome = this.mrdSolicit(rx, off, st);
        break;
      case MessageKind.DhcpSolicit:
      case MessageKind.DhcpRequest:
      case MessageKind.DhcpConfirm:
      case MessageKind.DhcpRenew:
      case MessageKind.DhcpRebind:
      case MessageKind.DhcpRelease:
      case MessageKind.DhcpDecline:
      case MessageKind.DhcpInformationRequest:
      case MessageKind.DhcpRelayForward:
        outcome = this.dhcpv6Message(rx, off, st, network, ifIndex);
        break;
      default:
        outcome = Outcome.Ignored;
        break;
    }
    c.add(ifIndex, kind, outcome);
    if (this.replyHeld) {
      this.replyHeld = false;
      return 0;
    }
    if (outcome === Outcome.Conflict) {
      c.add(ifIndex, kind, Outcome.Answered);
      return this.replyLength;
    }
    return outcome === Outcome.Answered ? this.replyLength : 0;
  }

  /** Length of the reply the last handler wrote. */
  private replyLength = 0;

  /**
   * The kind of an ICMPv6 message whose first fragment the decoder refused (its type byte is
   * there, so a fragmented echo request counts as one); Malformed for anything else.
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
      return kindOfIcmpv6(rx[d.upperOffset] as number);
    }
    return MessageKind.Malformed;
  }

  /**
   * The outcome of a frame the decoder refused. A fragment is a fragment whatever else is wrong
   * with it; an ND, Inverse ND or MRD message whose only fault is a code other than 0 failed an
   * RFC validation rule (RFC 4861 §6.1, §7.1; RFC 3122 §4) rather than being malformed.
   */
  private failureOutcome(status: Status): Outcome {
    const d = this.decoder;
    if (status === Status.Unsupported && d.ipv6Offset >= 0 && d.ipv6.isFragment) return Outcome.Fragment;
    const f = d.failure;
    if (
      status === Status.Malformed &&
      (f.layer === Layer.Ndp || f.layer === Layer.InverseNd) &&
      d.icmpv6Type >= 0 &&
      f.offset === d.upperOffset + 1
    ) {
      return Outcome.Invalid;
    }
    return statusOutcome(status);
  }

  // ---- Reply framing ----

  /**
   * Writes the Ethernet header of a reply to the requester (destination: the frame's source
   * MAC, the frame's VLAN tag kept) into tx; returns the offset of the IPv6 header.
   */
  private replyEthernet(rx: Uint8Array, off: number, srcMac: MacWords): number {
    copyMacWords(wordView(rx), off + 6, this.txWords, 0);
    return this.replyEthernetTail(rx, off, srcMac);
  }

  /**
   * The same for a reply sent to a multicast group on the requester's link (destination: the
   * group's 33:33 MAC, RFC 2464 §7).
   */
  private replyEthernetTo(dstMac: Uint8Array, rx: Uint8Array, off: number, srcMac: MacWords): number {
    copyBytes(dstMac, 0, this.tx, 0, 6);
    return this.replyEthernetTail(rx, off, srcMac);
  }

  private replyEthernetTail(rx: Uint8Array, off: number, srcMac: MacWords): number {
    const tw = this.txWords;
    tw.setUint32(6, srcMac[0] as number);
    tw.setUint16(10, srcMac[1] as number);
    if (this.decoder.ethernet.hasVlan) {
      copyMacWords(wordView(rx), off + 12, tw, 12); // TPID, TCI, EtherType
      return 18;
    }
    tw.setUint16(12, ETHERTYPE_IPV6);
    return 14;
  }

  // ---- Neighbor Discovery (RFC 4861 §7.1.1, §7.2.3, §7.2.4; proxy answers for ports) ----

  private neighborSolicit(rx: Uint8Array, off: number, st: NetworkState): Outcome {
    const d = this.decoder;
    const ip = d.ipv6;
    const m = d.upperOffset; // ICMPv6 message; validateIcmpv6 proved len >= 24 and options sane
    const target = m + 8;
    const srcUnspecified = isUnspecified(rx, ip.sourceOffset);
    if (ip.hopLimit !== 255 || rx[m + 1] !== 0 || isMulticast(rx, target)) return Outcome.Invalid;
    // From ::, only to a solicited-node group and without a Source Link-Layer Address option.
    if (
      srcUnspecified &&
      (!isSolicitedNode(rx, ip.destinationOffset) ||
        this.findOption(rx, m + 24, m + d.upperLength, NdpOptionType.SourceLinkLayerAddress) >= 0)
    ) {
      return Outcome.Invalid;
    }
    const entry = st.owned.lookup(rx, target);
    if (entry < 0) return Outcome.NotOurs;
    const owner = st.owners[entry] as number;
    if (owner !== ROUTER_OWNER) {
      const port = this.runtime.ports[owner - 1];
      if (port === undefined) return Outcome.NotOurs;
      // An NS from the port for its own address: its own DAD or a check of its own; stay quiet.
      if (this.portByMac.lookup(rx, off + 6) === port.index) return Outcome.OwnAddress;
    }
    this.replyLength = this.writeNeighborAdvertisement(
      rx,
      off,
      st.advertisements,
      entry,
      srcUnspecified ? -1 : ip.sourceOffset,
    );
    // A DAD probe for an address punt6 answers for is a conflict, answered all the same (defended).
    return srcUnspecified ? Outcome.Conflict : Outcome.Answered;
  }

  /**
   * The NA for entry `entry` (its prebuilt frame, na-templates.ts) into tx, patched for the NS:
   * to its sender (rx[dstOff]) with S set, or for a DAD probe (dstOff -1) to all-nodes with S
   * clear, in an Ethernet frame to the all-nodes group MAC, since a host filters by MAC before it
   * looks at the IPv6 destination (RFC 4861 §7.2.4). The NS's VLAN tag is kept. Only the
   * destination's words are summed here: the template's sum holds the rest. Returns the length.
   */
  private writeNeighborAdvertisement(
    rx: Uint8Array,
    off: number,
    na: NeighborAdvertisementTemplates,
    entry: number,
    dstOff: number,
  ): number {
    const tagged = this.decoder.ethernet.hasVlan;
    const len = na.copy(this.tx, entry, tagged);
    const tw = this.txWords;
    const rw = wordView(rx);
    const ipOff = tagged ? 18 : 14;
    // The tag's TCI (priority, DEI, VLAN id) as the NS had it; the template holds the TPID.
    if (tagged) tw.setUint16(14, rw.getUint16(off + 14));
    let sum = na.sums[entry] as number;
    if (dstOff < 0) {
      tw.setUint32(0, ALL_NODES_MAC_HIGH);
      tw.setUint16(4, ALL_NODES_MAC_LOW);
      sum += copyAddressWords(ALL_NODES_WORDS, 0, tw, ipOff + 24);
    } else {
      copyMacWords(rw, off + 6, tw, 0);
      sum += copyAddressWords(rw, dstOff, tw, ipOff + 24) + (NeighborAdvertisementFlag.Solicited << 8);
      const t = this.tx;
      t[ipOff + 44] = (t[ipOff + 44] as number) | NeighborAdvertisementFlag.Solicited;
    }
    tw.setUint16(ipOff + 42, 0xffff - fold(sum));
    return len;
  }

  /** Offset of the first option of `type` in [p, end), or -1 (options already validated). */
  private findOption(rx: Uint8Array, p: number, end: number, type: number): number {
    while (p + 2 <= end) {
      const l = (rx[p + 1] as number) * 8;
      if (l === 0) return -1;
      if (rx[p] === type) return p;
      p += l;
    }
    return -1;
  }

  // ---- ICMPv6 echo (RFC 4443 §4) ----

  private echoRequest(rx: Uint8Array, off: number, st: NetworkState): Outcome {
    const d = this.decoder;
    const ip = d.ipv6;
    if (rx[d.upperOffset + 1] !== 0 || d.upperLength < 8) return Outcome.Invalid;
    // The reply goes to the request's source (RFC 4443 §4.2): never to :: or a group.
    if (isUnspecified(rx, ip.sourceOffset) || isMulticast(rx, ip.sourceOffset)) return Outcome.Invalid;
    const entry = st.owned.lookup(rx, ip.destinationOffset);
    if (entry < 0 || st.owners[entry] !== ROUTER_OWNER) return Outcome.NotOurs;
    const t = this.tx;
    const tw = this.txWords;
    const rw = wordView(rx);
    const ipOff = this.replyEthernet(rx, off, st.routerMac);
    const len = d.upperLength;
    emitIpv6Fixed(t, ipOff, len, IpProtocol.Icmpv6, st.net.hopLimit);
    const dstSum = copyAddressWords(rw, ip.destinationOffset, tw, ipOff + 8);
    const srcSum = copyAddressWords(rw, ip.sourceOffset, tw, ipOff + 24);
    const icmp = ipOff + 40;
    if (d.checksumDeferred) {
      // The decoder left this request's checksum to us: verify it over the bytes as they are
      // copied into the reply (one pass). Nothing is sent when it fails. The pseudo-header's
      // addresses were summed as they were copied, unless a Routing header names another
      // final destination.
      const sum = copySumWords(rw, d.upperOffset, tw, icmp, len);
      const pseudo =
        ip.checksumDestinationOffset === ip.destinationOffset
          ? srcSum + dstSum + len + IpProtocol.Icmpv6
          : pseudoHeaderSum(rx, ip.sourceOffset, ip.checksumDestinationOffset, len, IpProtocol.Icmpv6);
      if (fold(pseudo + sum) !== 0xffff) return Outcome.BadChecksum;
      t[icmp] = Icmpv6Type.EchoReply;
      // The reply differs from the verified request only in the type byte (the swapped
      // addresses sum the same): update the checksum for that word (RFC 1624 eqn. 3,
      // HC' = ~(~HC + ~m + m'), with m = 128<<8, m' = 129<<8; the code is 0).
      const hc = rw.getUint16(d.upperOffset + 2);
      tw.setUint16(
        icmp + 2,
        0xffff - fold(0xffff - hc + (0xffff - (Icmpv6Type.EchoRequest << 8)) + (Icmpv6Type.EchoReply << 8)),
      );
    } else {
      // Checksums not verified (offloaded captures): the reply's computed whole.
      copyWords(rw, d.upperOffset, tw, icmp, len);
      t[icmp] = Icmpv6Type.EchoReply;
      fillUpperLayer(t, ipOff + 8, ipOff + 24, IpProtocol.Icmpv6, icmp, len, icmp + 2);
    }
    this.replyLength = icmp + len;
    return Outcome.Answered;
  }

  // ---- Router Solicitation -> Router Advertisement (RFC 4861 §6.1.1, §6.2.6; RFC 7772) ----

  private routerSolicit(rx: Uint8Array, off: number, st: NetworkState): Outcome {
    const d = this.decoder;
    const ip = d.ipv6;
    const m = d.upperOffset;
    if (ip.hopLimit !== 255 || rx[m + 1] !== 0) return Outcome.Invalid;
    const srcUnspecified = isUnspecified(rx, ip.sourceOffset);
    if (srcUnspecified && this.findOption(rx, m + 8, m + d.upperLength, NdpOptionType.SourceLinkLayerAddress) >= 0)
      return Outcome.Invalid;
    const ra = st.ra;
    if (ra === undefined) return Outcome.NoService;
    if (srcUnspecified) {
      // After the final RAs no multicast RA goes out any more (poll() sends nothing).
      if (this.stopped) return Outcome.NoService;
      ra.scheduleMulticastAnswer(this.now());
      return Outcome.Deferred;
    }
    const t = this.tx;
    const ipOff = this.replyEthernet(rx, off, st.routerMac);
    const len = ra.message.length;
    emitIpv6Fixed(t, ipOff, len, IpProtocol.Icmpv6, 255);
    copyAddressWords(st.routerLinkLocal, 0, this.txWords, ipOff + 8);
    copyAddressWords(wordView(rx), ip.sourceOffset, this.txWords, ipOff + 24);
    // Once the final RAs (router lifetime 0) are out, an answer must not make this router a
    // default router again (RFC 4861 §6.2.5): it carries router lifetime 0 as well.
    ra.writeMessage(t, ipOff + 40, rx, ip.sourceOffset, this.stopped ? 0 : -1);
    this.replyLength = ipOff + 40 + len;
    return Outcome.Answered;
  }

  /**
   * Sends whatever RAs are due at `now` through the sink; returns the time (ms) of the next
   * thing due, or Infinity.
   */
  poll(now: number = this.now()): number {
    let next = Infinity;
    for (const st of this.networks) {
      const ra = st.ra;
      if (ra === undefined) continue;
      if (!this.stopped && ra.takeDue(now)) this.sendMulticastRa(st, -1);
      next = Math.min(next, ra.nextDue());
    }
    return this.stopped ? Infinity : next;
  }

  /**
   * One round of final RAs (router lifetime 0, RFC 4861 §6.2.5) on every link of every network,
   * and no periodic RAs after it. The caller repeats it up to MAX_FINAL_RTR_ADVERTISEMENTS times.
   * Returns the frames sent.
   */
  sendFinalAdvertisements(): number {
    this.stopped = true;
    let frames = 0;
    for (const st of this.networks) if (st.ra) frames += this.sendMulticastRa(st, 0);
    return frames;
  }

  /** Multicast RA (to ff02::1) on every interface/VLAN of the network; returns frames sent. */
  private sendMulticastRa(st: NetworkState, routerLifetime: number): number {
    const ra = st.ra as RouterAdvertiser;
    const b = this.scratch;
    let sent = 0;
    for (const link of st.links) {
      let ipOff: number;
      copyBytes(ALL_NODES_MAC, 0, b, 0, 6);
      copyBytes(st.net.routerMac, 0, b, 6, 6);
      if (link.vlan === NO_VLAN) {
        b[12] = 0x86;
        b[13] = 0xdd;
        ipOff = 14;
      } else {
        b[12] = 0x81;
        b[13] = 0x00;
        b[14] = (link.vlan >>> 8) & 0x0f;
        b[15] = link.vlan & 0xff;
        b[16] = 0x86;
        b[17] = 0xdd;
        ipOff = 18;
      }
      const len = ra.message.length;
      emitIpv6Fixed(b, ipOff, len, IpProtocol.Icmpv6, 255);
      copyAddr(st.net.routerLinkLocal, 0, b, ipOff + 8);
      copyAddr(ALL_NODES, 0, b, ipOff + 24);
      ra.writeMessage(b, ipOff + 40, ALL_NODES, 0, routerLifetime);
      this.sink(link.ifIndex, b, 0, ipOff + 40 + len);
      sent++;
    }
    return sent;
  }

  // ---- DHCPv6 (RFC 9915): framing here, the protocol in src/dhcp/server.ts ----

  private dhcpv6Message(rx: Uint8Array, off: number, st: NetworkState, network: number, ifIndex: number): Outcome {
    const server = this.dhcpv6;
    if (server === undefined) return Outcome.NoService;
    const d = this.decoder;
    const ip = d.ipv6;
    if (d.udp.destinationPort !== UdpPort.Dhcpv6Server) return Outcome.Ignored;
    // The answer goes back to the source address: clients use their link-local address and
    // relays a unicast one (RFC 9915 §7.2, §19.1); there is nowhere to answer :: or a group.
    if (isUnspecified(rx, ip.sourceOffset) || isMulticast(rx, ip.sourceOffset)) return Outcome.Invalid;
    const relayed = rx[d.dhcpv6Offset] === Dhcpv6MessageType.RelayForw;
    const unicast = !isMulticast(rx, ip.destinationOffset);
    const t = this.tx;
    const ipOff = this.replyEthernet(rx, off, st.routerMac);
    const udp = ipOff + 40;
    const msg = udp + 8;
    const req = this.dhcpv6Request;
    req.buf = rx;
    req.off = d.dhcpv6Offset;
    req.len = d.dhcpv6Length;
    req.network = network;
    req.mac = rx;
    req.macOff = off + 6;
    req.unicast = unicast;
    req.source = rx;
    req.sourceOff = ip.sourceOffset;
    const reply = server.handle(req, t, msg);
    const n = reply.length;
    if (n === 0) return Outcome.Discarded;
    const udpLength = 8 + n;
    emitIpv6Fixed(t, ipOff, udpLength, IpProtocol.Udp, st.net.hopLimit);
    // From the address a unicast request (a relay's, or a client's Request/Renew) was sent to;
    // answers to multicast requests come from the router's link-local address.
    const rw = wordView(rx);
    copyAddressWords(unicast ? rw : st.routerLinkLocal, unicast ? ip.destinationOffset : 0, this.txWords, ipOff + 8);
    copyAddressWords(rw, ip.sourceOffset, this.txWords, ipOff + 24);
    t[udp] = UdpPort.Dhcpv6Server >>> 8;
    t[udp + 1] = UdpPort.Dhcpv6Server & 0xff;
    const dport = relayed ? UdpPort.Dhcpv6Server : UdpPort.Dhcpv6Client;
    t[udp + 2] = dport >>> 8;
    t[udp + 3] = dport & 0xff;
    t[udp + 4] = udpLength >>> 8;
    t[udp + 5] = udpLength & 0xff;
    fillUdpChecksum(t, ipOff + 8, ipOff + 24, udp);
    this.replyLength = msg + n;
    if (reply.awaitsCommit) {
      this.holdReply(ifIndex, this.replyLength);
      this.replyHeld = true;
    }
    return Outcome.Answered;
  }

  /**
   * Keeps a copy of the reply in tx until the lease journal's next commit (group commit: every
   * reply held in the same turn of the event loop waits for one fsync), then sends it.
   */
  private holdReply(ifIndex: number, len: number): void {
    this.held.push({ ifIndex, frame: this.tx.slice(0, len) });
    if (this.held.length === 1) queueMicrotask(() => this.commitHeld());
  }

  private commitHeld(): void {
    const batch = this.held;
    if (batch.length === 0) return;
    this.held = [];
    const leases = this.dhcpv6?.leases;
    const committed = leases ? leases.commit() : Promise.resolve();
    const p = committed.then(
      () => {
        for (const r of batch) this.sink(r.ifIndex, r.frame, 0, r.frame.length);
      },
      (e: unknown) => {
        this.commitFailures += batch.length;
        this.onCommitError(e, batch.length);
      },
    );
    this.commits.add(p);
    void p.finally(() => this.commits.delete(p));
  }

  /** Replies waiting for a commit that has not started yet. */
  get heldReplies(): number {
    return this.held.length;
  }

  /** Resolves when every held reply has been committed and sent (or its commit failed). */
  async flush(): Promise<void> {
    for (;;) {
      if (this.held.length > 0) this.commitHeld();
      if (this.commits.size === 0) return;
      await Promise.all([...this.commits]);
    }
  }

  // ---- Inverse ND (RFC 3122 §4): who has this MAC? -> the port's addresses ----

  private inverseSolicit(rx: Uint8Array, off: number, st: NetworkState): Outcome {
    const d = this.decoder;
    const ip = d.ipv6;
    const m = d.upperOffset;
    if (ip.hopLimit !== 255 || rx[m + 1] !== 0) return Outcome.Invalid;
    // The advertisement goes to the solicitation's source (RFC 3122 §2.2): a unicast address.
    if (isUnspecified(rx, ip.sourceOffset) || isMulticast(rx, ip.sourceOffset)) return Outcome.Invalid;
    const end = m + d.upperLength;
    const slla = this.findOption(rx, m + 8, end, NdpOptionType.SourceLinkLayerAddress);
    const tlla = this.findOption(rx, m + 8, end, NdpOptionType.TargetLinkLayerAddress);
    if (slla < 0 || tlla < 0 || rx[tlla + 1] !== 1) return Outcome.Invalid;
    // Not ports[-1]: a negative index is a slow, megamorphic property lookup in V8.
    const portIndex = this.portByMac.lookup(rx, tlla + 2);
    const port = portIndex < 0 ? undefined : this.runtime.ports[portIndex];
    if (port === undefined || port.network !== st.net.index || port.addresses.length === 0) return Outcome.NotOurs;
    const t = this.tx;
    const ipOff = this.replyEthernet(rx, off, this.portMacs[port.index] as MacWords);
    const icmp = ipOff + 40;
    // Fixed part: type 142, code 0, checksum, reserved (RFC 3122 §3.2).
    t[icmp] = Icmpv6Type.InverseNeighborAdvertisement;
    t[icmp + 1] = 0;
    t[icmp + 2] = 0;
    t[icmp + 3] = 0;
    t[icmp + 4] = 0;
    t[icmp + 5] = 0;
    t[icmp + 6] = 0;
    t[icmp + 7] = 0;
    let p = icmp + 8;
    p += emitLinkLayerAddressOption(NdpOptionType.SourceLinkLayerAddress, port.mac, 0, t, p);
    p += emitLinkLayerAddressOption(NdpOptionType.TargetLinkLayerAddress, port.mac, 0, t, p);
    // Target Address List (type 10, RFC 3122 §3.1): 8-byte header + 16 per address.
    const n = port.addresses.length;
    t[p] = NdpOptionType.TargetAddressList;
    t[p + 1] = 1 + 2 * n;
    for (let i = 2; i < 8; i++) t[p + i] = 0;
    for (let i = 0; i < n; i++) copyAddr(port.addresses[i] as Uint8Array, 0, t, p + 8 + 16 * i);
    p += 8 + 16 * n;
    const len = p - icmp;
    emitIpv6Fixed(t, ipOff, len, IpProtocol.Icmpv6, 255);
    copyAddr(port.addresses[0] as Uint8Array, 0, t, ipOff + 8);
    copyAddr(rx, ip.sourceOffset, t, ipOff + 24);
    fillUpperLayer(t, ipOff + 8, ipOff + 24, IpProtocol.Icmpv6, icmp, len, icmp + 2);
    this.replyLength = p;
    return Outcome.Answered;
  }

  // ---- Multicast Router Discovery (RFC 4286 §3, §4) ----

  /**
   * A Solicitation (sent with hop limit 1) is answered with an Advertisement to All-Snoopers
   * (ff02::6a), hop limit 1, carrying a Hop-by-Hop Router Alert option (RFC 4286 §2; RFC 2711
   * value 0, as MLD uses), on the requester's link.
   */
  private mrdSolicit(rx: Uint8Array, off: number, st: NetworkState): Outcome {
    const d = this.decoder;
    if (!st.net.mrd) return Outcome.NoService;
    if (d.ipv6.hopLimit !== 1 || rx[d.upperOffset + 1] !== 0) return Outcome.Invalid;
    const t = this.tx;
    const ipOff = this.replyEthernetTo(ALL_SNOOPERS_MAC, rx, off, st.routerMac);
    emitIpv6Fixed(t, ipOff, 16, IpProtocol.HopByHop, 1);
    copyAddressWords(st.routerLinkLocal, 0, this.txWords, ipOff + 8);
    copyAddr(ALL_SNOOPERS, 0, t, ipOff + 24);
    const hbh = ipOff + 40;
    t[hbh] = IpProtocol.Icmpv6;
    t[hbh + 1] = 0;
    t[hbh + 2] = 5; // Router Alert
    t[hbh + 3] = 2;
    t[hbh + 4] = 0;
    t[hbh + 5] = 0;
    t[hbh + 6] = 1; // PadN, no data
    t[hbh + 7] = 0;
    const icmp = hbh + 8;
    t[icmp] = Icmpv6Type.MulticastRouterAdvertisement;
    t[icmp + 1] = st.net.mrdAdvertisementInterval & 0xff;
    t[icmp + 2] = 0;
    t[icmp + 3] = 0;
    t[icmp + 4] = (st.net.mrdQueryInterval >>> 8) & 0xff;
    t[icmp + 5] = st.net.mrdQueryInterval & 0xff;
    t[icmp + 6] = (st.net.mrdRobustness >>> 8) & 0xff;
    t[icmp + 7] = st.net.mrdRobustness & 0xff;
    fillUpperLayer(t, ipOff + 8, ipOff + 24, IpProtocol.Icmpv6, icmp, 8, icmp + 2);
    this.replyLength = icmp + 8;
    return Outcome.Answered;
  }
}

function kindOfIcmpv6(type: number): MessageKind {
  switch (type) {
    case 135:
      return MessageKind.NeighborSolicit;
    case 136:
      return MessageKind.NeighborAdvert;
    case 133:
      return MessageKind.RouterSolicit;
    case 134:
      return MessageKind.RouterAdvert;
    case 137:
      return MessageKind.Redirect;
    case 128:
      return MessageKind.EchoRequest;
    case 129:
      return MessageKind.EchoReply;
    case 141:
      return MessageKind.InverseSolicit;
    case 142:
      return MessageKind.InverseAdvert;
    case 152:
      return MessageKind.MrdSolicit;
    case 151:
      return MessageKind.MrdAdvert;
    default:
      return MessageKind.Other;
  }
}

export function kindOfDhcpv6(type: number): MessageKind {
  switch (type) {
    case 1:
      return MessageKind.DhcpSolicit;
    case 3:
      return MessageKind.DhcpRequest;
    case 4:
      return MessageKind.DhcpConfirm;
    case 5:
      return MessageKind.DhcpRenew;
    case 6:
      return MessageKind.DhcpRebind;
    case 8:
      return MessageKind.DhcpRelease;
    case 9:
      return MessageKind.DhcpDecline;
    case 11:
      return MessageKind.DhcpInformationRequest;
    case 12:
      return MessageKind.DhcpRelayForward;
    default:
      return MessageKind.DhcpOther;
  }
}

function statusOutcome(s: Status): Outcome {
  switch (s) {
    case Status.Truncated:
      return Outcome.Truncated;
    case Status.BadChecksum:
      return Outcome.BadChecksum;
    case Status.Unsupported:
      return Outcome.Unsupported;
    default:
      return Outcome.Malformed;
  }
}
