/**
 * IA handling (RFC 9915 §18.3): the bindings a reply gives each IA_NA and IA_PD of a client
 * message. Solicit and Request are assigned (§18.3.1, §18.3.2, §18.3.9), Renew and Rebind
 * extended (§18.3.4, §18.3.5), Release and Decline given back (§18.3.7, §18.3.8), Confirm checked
 * against the link (§18.3.3).
 *
 * A client that is a configured port gets that port's addresses in its first IA_NA and the port's
 * delegated prefix in its first IA_PD: these static bindings are the controller's and are not
 * journaled. Other IAs are served from the network's pools through the lease table, which
 * journals every change; {@link LeaseChanges} tells the server whether the reply must wait for
 * the journal's commit, or be withheld because the journal cannot take a change.
 */

import { addrEqual, bytesEqual } from '../../codecs/bytes.js';
import { Dhcpv6OptionCode, Dhcpv6StatusCode } from '../../codecs/dhcpv6.js';
import type { PortConfig } from '../config/model.js';
import { ClientMessage } from './intake.js';
import { LeaseStatus, LeaseType, poolCandidate, type Lease, type LeaseTable } from './leases.js';
import { addressOnLink, poolPosition, prefixFits, type ServerNetwork } from './network.js';
import type { ClientIdentity } from './relay.js';
import type { ReplyWriter } from './reply.js';

// Module-local bindings of the hot path (codecs/code-table.ts says why).
const optionCode = Dhcpv6OptionCode;
const statusCode = Dhcpv6StatusCode;
const leaseType = LeaseType;
const leaseStatus = LeaseStatus;

/** The "infinity" lifetime (RFC 9915 §7.7). */
const INFINITY = 0xffffffff;
/** How far past an address already offered in the same Advertise the server looks for another. */
const MAX_OFFER_TRIES = 64;
/** Addresses and prefixes one reply offers at most (two kinds of IA). */
const MAX_OFFERED = 64;

/**
 * The lease side of one message: whether a lease may change, and whether one did. A Reply may
 * announce only changes that are durable, so while the journal's storage fails no lease changes
 * and a message that needs a change gets no answer; a reply that changed a lease waits for the
 * journal's commit.
 */
export class LeaseChanges {
  /** The journal could not take a change when the message arrived. */
  private frozen = false;
  /** A lease changed: the reply waits for the commit. */
  made = false;
  /** A change was needed and refused: the message gets no answer. */
  withheld = false;

  /** Starts a message: the journal's state is taken once, so every IA of it sees the same. */
  begin(leases: LeaseTable | null): void {
    this.frozen = leases !== null && !leases.writable;
    this.made = false;
    this.withheld = false;
  }

  /** Whether a lease may change now; a refusal withholds the reply. */
  mayChange(): boolean {
    if (!this.frozen) return true;
    this.withheld = true;
    return false;
  }
}

/** T1 of an IA (§21.4): the configured value, at most half the shortest preferred lifetime granted. */
function t1Of(net: ServerNetwork, preferred: number): number {
  const t1 = net.config.dhcpv6.t1;
  return preferred !== INFINITY && preferred > 0 ? Math.min(t1, Math.floor(preferred * 0.5)) : t1;
}

/** T2 of an IA (§21.4): the configured value, at most 0.8 of the shortest preferred lifetime granted. */
function t2Of(net: ServerNetwork, preferred: number): number {
  const t2 = net.config.dhcpv6.t2;
  return preferred !== INFINITY && preferred > 0 ? Math.min(t2, Math.floor(preferred * 0.8)) : t2;
}

/** Whether the 16 bytes at b[a] are one of the port's static addresses. */
function isPortAddress(port: PortConfig, b: Uint8Array, a: number): boolean {
  for (const x of port.addresses) if (addrEqual(b, a, x.bytes, 0)) return true;
  return false;
}

export interface IaHandlerOptions {
  leases: LeaseTable | null;
  writer: ReplyWriter;
  changes: LeaseChanges;
  identity: ClientIdentity;
  /** Whole milliseconds since the epoch. */
  now: () => number;
  /** IA_NA options, and IA_PD options, served per Solicit or Request; the rest get a status. */
  iasPerMessage: number;
}

/**
 * Answers the IAs of one client message at a time, writing through the server's reply writer.
 * Each public method starts from the message record, the network and the port it is given.
 */
export class IaHandler {
  /** IAs refused because a message carried more than `iasPerMessage` of their kind. */
  refused = 0;
  private readonly leases: LeaseTable | null;
  private readonly w: ReplyWriter;
  private readonly changes: LeaseChanges;
  private readonly identity: ClientIdentity;
  private readonly now: () => number;
  private readonly iasPerMessage: number;
  /** The message being answered, its network and its port (set when an answer starts). */
  private msg: ClientMessage = new ClientMessage();
  private net: ServerNetwork | null = null;
  private port: PortConfig | null = null;
  /** The client's DUID: a view of the message being answered. */
  private duid: Uint8Array = new Uint8Array(0);
  /** Addresses and prefixes already put in the reply being written (Solicit and Request). */
  private readonly offered: Uint8Array[] = new Array<Uint8Array>(MAX_OFFERED);
  private offeredCount = 0;
  /** Where the candidates past an address already offered are worked out. */
  private readonly candidate = new Uint8Array(16);

  constructor(options: IaHandlerOptions) {
    this.leases = options.leases;
    this.w = options.writer;
    this.changes = options.changes;
    this.identity = options.identity;
    this.now = options.now;
    this.iasPerMessage = options.iasPerMessage;
  }

  private start(msg: ClientMessage, net: ServerNetwork, port: PortConfig | null): void {
    this.msg = msg;
    this.net = net;
    this.port = port;
    this.duid = msg.buf.subarray(msg.clientId, msg.clientId + msg.clientIdLength);
  }

  // ---- Solicit and Request (§18.3.1, §18.3.2): every IA_NA and IA_PD gets bindings or a status ----

  /** `commit`: allocate (Request, Rapid Commit), else propose (Advertise). */
  assign(msg: ClientMessage, net: ServerNetwork, port: PortConfig | null, commit: boolean): void {
    this.start(msg, net, port);
    this.offeredCount = 0;
    const w = this.w;
    const cfg = net.config.dhcpv6;
    for (let i = 0; i < msg.iaNa.count; i++) {
      const iaid = msg.iaNa.iaid[i] as number;
      if (i >= this.iasPerMessage) {
        this.refused++;
        w.iaStatus(optionCode.IaNa, iaid, statusCode.NoAddrsAvail, 'Too many IAs in one message');
      } else if (port === null) {
        this.poolIa(net, leaseType.Address, i, commit);
      } else if (i === 0 && onLinkCount(port, net) > 0) {
        const at = w.openIa(optionCode.IaNa, iaid);
        for (const a of port.addresses)
          if (addressOnLink(net, a.bytes, 0)) w.iaAddress(a.bytes, 0, cfg.preferredLifetime, cfg.validLifetime);
        w.closeIa(at, t1Of(net, cfg.preferredLifetime), t2Of(net, cfg.preferredLifetime));
      } else {
        w.iaStatus(optionCode.IaNa, iaid, statusCode.NoAddrsAvail, 'No addresses for this IA');
      }
    }
    for (let i = 0; i < msg.iaPd.count; i++) {
      const iaid = msg.iaPd.iaid[i] as number;
      const dp = port?.delegatedPrefix ?? null;
      if (i >= this.iasPerMessage) {
        this.refused++;
        w.iaStatus(optionCode.IaPd, iaid, statusCode.NoPrefixAvail, 'Too many IAs in one message');
      } else if (dp !== null && i === 0) {
        const at = w.openIa(optionCode.IaPd, iaid);
        w.iaPrefix(dp.address, 0, dp.length, cfg.preferredLifetime, cfg.validLifetime);
        w.closeIa(at, t1Of(net, cfg.preferredLifetime), t2Of(net, cfg.preferredLifetime));
      } else if (port !== null && (dp !== null || cfg.prefixDelegation.length === 0)) {
        w.iaStatus(optionCode.IaPd, iaid, statusCode.NoPrefixAvail, 'No prefixes for this IA');
      } else {
        this.poolIa(net, leaseType.Prefix, i, commit);
      }
    }
    // Temporary addresses are not offered (RFC 9915 obsoletes IA_TA).
    for (let i = 0; i < msg.iaTa.count; i++)
      w.iaTaStatus(msg.iaTa.iaid[i] as number, statusCode.NoAddrsAvail, 'Temporary addresses are not offered');
  }

  /** IA `i` of its kind from a pool: proposed (Advertise) or allocated (journaled). */
  private poolIa(net: ServerNetwork, type: LeaseType, i: number, commit: boolean): void {
    const msg = this.msg;
    const list = type === leaseType.Address ? msg.iaNa : msg.iaPd;
    const iaid = list.iaid[i] as number;
    const leases = this.leases;
    if (leases === null) return this.noneAvailable(type, iaid);
    // The client's hint: the first address or prefix the IA lists.
    const hint = (list.listed[i] as number) > 0 ? (msg.listed.at[list.first[i] as number] as number) : -1;
    const req = {
      networkId: net.index,
      type,
      duid: this.duid,
      iaid,
      hint: hint < 0 ? undefined : msg.buf.subarray(hint, hint + 16),
      portMac: this.identity.limitMac,
    };
    let lease: Lease | null;
    if (commit) {
      if (!this.changes.mayChange()) return;
      lease = leases.allocate(req, this.now()).lease;
      if (lease) this.changes.made = true;
    } else {
      const existing = leases.lookup(this.duid, iaid, type);
      if (existing && existing.networkId === net.index && existing.expiresAt > this.now()) {
        lease = existing;
      } else {
        lease = leases.propose(req, this.now()).lease;
        // propose() reserves nothing, so two IAs of one Solicit could be offered the same address
        // (the same hint, or the same probe): step past the ones this message offers already.
        for (let tries = 0; lease !== null && this.offeredBefore(lease.address); tries++) {
          if (tries === MAX_OFFER_TRIES) {
            lease = null;
            break;
          }
          poolCandidate(tries === 0 ? lease.address : this.candidate, 1, 128 - lease.prefixLength, this.candidate);
          lease = leases.propose({ ...req, hint: this.candidate }, this.now()).lease;
        }
      }
    }
    if (lease === null) return this.noneAvailable(type, iaid);
    if (this.offeredCount < MAX_OFFERED) this.offered[this.offeredCount++] = lease.address;
    const at = this.w.openIa(type === leaseType.Address ? optionCode.IaNa : optionCode.IaPd, iaid);
    this.leaseEntry(lease);
    this.w.closeIa(at, t1Of(net, lease.preferredLifetime), t2Of(net, lease.preferredLifetime));
  }

  private noneAvailable(type: LeaseType, iaid: number): void {
    if (type === leaseType.Address)
      this.w.iaStatus(optionCode.IaNa, iaid, statusCode.NoAddrsAvail, 'No addresses available');
    else this.w.iaStatus(optionCode.IaPd, iaid, statusCode.NoPrefixAvail, 'No prefixes available');
  }

  private offeredBefore(a: Uint8Array): boolean {
    for (let i = 0; i < this.offeredCount; i++) if (addrEqual(this.offered[i] as Uint8Array, 0, a, 0)) return true;
    return false;
  }

  /** The lease's IA Address or IA Prefix option. */
  private leaseEntry(lease: Lease): void {
    if (lease.type === leaseType.Address)
      this.w.iaAddress(lease.address, 0, lease.preferredLifetime, lease.validLifetime);
    else this.w.iaPrefix(lease.address, 0, lease.prefixLength, lease.preferredLifetime, lease.validLifetime);
  }

  // ---- Renew and Rebind (§18.3.4, §18.3.5) ----

  /**
   * Every IA_NA, then every IA_PD: each address or prefix it lists is confirmed (the port's),
   * extended (a pool binding) or given lifetimes 0; an IA that lists nothing the server knows
   * gets the binding the server holds, else NoBinding.
   */
  extend(msg: ClientMessage, net: ServerNetwork, port: PortConfig | null, rebind: boolean): void {
    this.start(msg, net, port);
    for (let i = 0; i < msg.iaNa.count; i++) this.extendIa(leaseType.Address, i, rebind);
    for (let i = 0; i < msg.iaPd.count; i++) this.extendIa(leaseType.Prefix, i, rebind);
  }

  private extendIa(type: LeaseType, i: number, rebind: boolean): void {
    const msg = this.msg;
    const net = this.net as ServerNetwork;
    const port = this.port;
    const w = this.w;
    const cfg = net.config.dhcpv6;
    const pd = type === leaseType.Prefix;
    const list = pd ? msg.iaPd : msg.iaNa;
    const iaid = list.iaid[i] as number;
    const at = w.openIa(pd ? optionCode.IaPd : optionCode.IaNa, iaid);
    const body = w.p;
    let granted = 0;
    let minPreferred = INFINITY;
    // The client's own view: every address or prefix it lists is confirmed, extended or zeroed.
    const b = msg.buf;
    const first = list.first[i] as number;
    for (let k = first; k < first + (list.listed[i] as number); k++) {
      const a = msg.listed.at[k] as number;
      const plen = msg.listed.prefixLength[k] as number;
      const dp = port?.delegatedPrefix ?? null;
      const isStatic = pd
        ? dp !== null && plen === dp.length && addrEqual(b, a, dp.address, 0)
        : port !== null && isPortAddress(port, b, a);
      if (isStatic) {
        this.listedEntry(type, k, cfg.preferredLifetime, cfg.validLifetime);
        granted++;
        minPreferred = Math.min(minPreferred, cfg.preferredLifetime);
        continue;
      }
      const lease = this.extendPool(type, iaid, b.subarray(a, a + 16), plen);
      if (lease) {
        this.leaseEntry(lease);
        granted++;
        minPreferred = Math.min(minPreferred, lease.preferredLifetime);
      } else if (!rebind || !(pd ? prefixFits(net, b, a, plen) : addressOnLink(net, b, a))) {
        // Renew of a binding the server does not hold, or Rebind of one not for this link: lifetimes 0.
        this.listedEntry(type, k, 0, 0);
      }
    }
    if (granted === 0 && w.p === body) {
      // Nothing listed, or nothing known: the binding the server holds, else NoBinding.
      const preferred = this.heldBinding(type, iaid);
      if (preferred < 0) {
        w.status(statusCode.NoBinding, 'No binding for this IA');
      } else {
        granted = 1;
        minPreferred = preferred;
      }
    }
    w.closeIa(at, granted > 0 ? t1Of(net, minPreferred) : 0, granted > 0 ? t2Of(net, minPreferred) : 0);
  }

  /** Listed entry k (an address or a prefix of the message) with these lifetimes. */
  private listedEntry(type: LeaseType, k: number, preferredLifetime: number, validLifetime: number): void {
    const msg = this.msg;
    const a = msg.listed.at[k] as number;
    if (type === leaseType.Address) this.w.iaAddress(msg.buf, a, preferredLifetime, validLifetime);
    else this.w.iaPrefix(msg.buf, a, msg.listed.prefixLength[k] as number, preferredLifetime, validLifetime);
  }

  /**
   * The bindings of an IA that listed none the server knows: the port's static addresses or
   * delegated prefix, else the pool binding the server holds, extended. Returns the preferred
   * lifetime granted, or -1 when there is none.
   */
  private heldBinding(type: LeaseType, iaid: number): number {
    const net = this.net as ServerNetwork;
    const port = this.port;
    const cfg = net.config.dhcpv6;
    const leases = this.leases;
    const held = leases?.lookup(this.duid, iaid, type);
    if (type === leaseType.Address && port !== null && port.addresses.length > 0) {
      for (const a of port.addresses) this.w.iaAddress(a.bytes, 0, cfg.preferredLifetime, cfg.validLifetime);
      return cfg.preferredLifetime;
    }
    const dp = port?.delegatedPrefix ?? null;
    if (type === leaseType.Prefix && dp !== null) {
      this.w.iaPrefix(dp.address, 0, dp.length, cfg.preferredLifetime, cfg.validLifetime);
      return cfg.preferredLifetime;
    }
    if (held && held.networkId === net.index && leases && this.changes.mayChange()) {
      const r = leases.renew({ type, duid: this.duid, iaid, networkId: net.index }, this.now());
      if (r.lease) {
        this.changes.made = true;
        this.leaseEntry(r.lease);
        return r.lease.preferredLifetime;
      }
    }
    return -1;
  }

  /**
   * Extends the pool binding of this address (or prefix). A binding the server does not know
   * (lost, or never made) is made again when the address is free and a position of this link's
   * pools, so the client keeps its address (§18.3.4, §18.3.5 allow it); else null.
   */
  private extendPool(type: LeaseType, iaid: number, address: Uint8Array, prefixLength: number): Lease | null {
    const net = this.net as ServerNetwork;
    const leases = this.leases;
    if (leases === null || !this.changes.mayChange()) return null;
    const duid = this.duid;
    const r = leases.renew({ type, duid, iaid, address, networkId: net.index }, this.now());
    if (r.lease) {
      this.changes.made = true;
      return r.lease;
    }
    if (r.status !== leaseStatus.NoBinding) return null;
    // Held by another client: no binding.
    if (leases.lookupAddress(address) !== undefined) return null;
    // The IA holds another binding on this link: keep it (allocate() would hand that one back
    // instead of the address named, and giving it up would end the client's real binding).
    const own = leases.lookup(duid, iaid, type);
    if (own !== undefined && own.networkId === net.index) return null;
    // Only a free position of this link's pools can be granted again.
    if (leases.quarantined(address) !== undefined || !poolPosition(net, type, address, prefixLength)) return null;
    const a = leases.allocate(
      { networkId: net.index, type, duid, iaid, hint: address, portMac: this.identity.limitMac },
      this.now(),
    );
    if (a.lease && bytesEqual(a.lease.address, 0, address, 0, 16)) {
      this.changes.made = true;
      return a.lease;
    }
    if (a.lease) {
      // allocate() chose another address: give that one up again at once.
      leases.release({ type, duid, iaid, address: a.lease.address });
      this.changes.made = true;
    }
    return null;
  }

  // ---- Release and Decline (§18.3.7, §18.3.8) ----

  /** Every IA_NA, then every IA_PD, ends the bindings it lists; NoBinding for those it cannot. */
  giveBack(msg: ClientMessage, net: ServerNetwork, port: PortConfig | null, decline: boolean): void {
    this.start(msg, net, port);
    for (let i = 0; i < msg.iaNa.count; i++) this.giveBackIa(leaseType.Address, i, decline);
    for (let i = 0; i < msg.iaPd.count; i++) this.giveBackIa(leaseType.Prefix, i, decline);
    // The top-level status, after the IAs that had no binding.
    this.w.status(statusCode.Success, decline ? 'Decline received' : 'Release received');
  }

  private giveBackIa(type: LeaseType, i: number, decline: boolean): void {
    const msg = this.msg;
    const net = this.net as ServerNetwork;
    const port = this.port;
    const leases = this.leases;
    const list = type === leaseType.Address ? msg.iaNa : msg.iaPd;
    const iaid = list.iaid[i] as number;
    const listed = list.listed[i] as number;
    const first = list.first[i] as number;
    let known = 0;
    for (let k = first; k < first + listed; k++) {
      const a = msg.listed.at[k] as number;
      if (port !== null && this.isStatic(port, type, a)) {
        known++;
        continue;
      }
      if (leases === null || !this.changes.mayChange()) continue;
      const req = { type, duid: this.duid, iaid, address: msg.buf.subarray(a, a + 16), networkId: net.index };
      const r = decline ? leases.decline(req, this.now()) : leases.release(req);
      if (r.status === leaseStatus.Success) {
        known++;
        this.changes.made = true;
      }
    }
    if (listed === 0 || known < listed) {
      const code = type === leaseType.Address ? optionCode.IaNa : optionCode.IaPd;
      this.w.iaStatus(code, iaid, statusCode.NoBinding, 'No binding for this IA');
    }
  }

  /** Whether the address or prefix at b[a] of the message is the port's own (a static binding). */
  private isStatic(port: PortConfig, type: LeaseType, a: number): boolean {
    const b = this.msg.buf;
    if (type === leaseType.Address) return isPortAddress(port, b, a);
    return port.delegatedPrefix !== null && addrEqual(b, a, port.delegatedPrefix.address, 0);
  }
}

// ---- Confirm (§18.3.3) ----

/** Whether every address the IA_NAs of a Confirm list is on the network's link. */
export function confirmOnLink(msg: ClientMessage, net: ServerNetwork): boolean {
  const listed = msg.listed;
  for (let i = 0; i < msg.iaNa.count; i++) {
    const first = msg.iaNa.first[i] as number;
    for (let k = first; k < first + (msg.iaNa.listed[i] as number); k++)
      if (!addressOnLink(net, msg.buf, listed.at[k] as number)) return false;
  }
  return true;
}

/** How many of the port's static addresses are on the network's link. */
function onLinkCount(port: PortConfig, net: ServerNetwork): number {
  let n = 0;
  for (const a of port.addresses) if (addressOnLink(net, a.bytes, 0)) n++;
  return n;
}
