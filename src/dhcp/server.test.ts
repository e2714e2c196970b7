/**
 * The DHCPv6 server (RFC 9915) behind the dispatcher, as `punt6` runs it: a responder built by
 * openResponder from fixtures/config/peers.yaml (the kea-dhcp6 peer of the fixture captures, same
 * server DUID, pools and times) answers every client request of the DHCPv6 fixtures, and each
 * answer is decoded with the codecs and checked field by field, and against what kea answered in
 * the same capture. Then the rules the fixtures do not reach: Confirm, Rebind and Renew of
 * unknown bindings, Decline, Rapid Commit, several IAs, the ORO, ports' static bindings, SOL_MAX_RT
 * and INF_MAX_RT; and the hold-for-commit of replies that change leases, with group commit.
 * Every reply frame is also dissected by tshark.
 */

import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { fromHex, parseIpv6, toHex } from '../../codecs/bytes.js';
import {
  Dhcpv6OptionCode,
  Dhcpv6StatusCode,
  type Dhcpv6MessageRepr,
  type Dhcpv6OptionRepr,
} from '../../codecs/dhcpv6.js';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { loadCaptureFile } from '../capture/reader.js';
import type { Punt6Config } from '../config/index.js';
import { MessageKind, Outcome } from '../responder/counters.js';
import { fixtureConfig, onCi, tsharkAvailable, tsharkCheck } from '../test-support/responder.js';
import { LeaseType } from './leases.js';
import {
  CLIENT_LL,
  CLIENT_MAC,
  clientId,
  codesOf,
  decodeDhcpv6Reply,
  dhcpv6Frame,
  duidOf,
  iaNa,
  iaPd,
  innerMessage,
  ipv6,
  message,
  countingFs,
  openServerWith,
  openTestResponder,
  optionOf,
  optionsOf,
  oro,
  PORT_MAC,
  peersVariant,
  relayForw,
  ROUTER_LL,
  ROUTER_MAC,
  SERVER_DUID_HEX,
  serverId,
  STATUS_OK,
  type Dhcpv6Reply,
  type TestResponder,
} from '../test-support/dhcp.js';

const peers = await fixtureConfig('peers');
const CLIENT_DUID_HEX = '00030001020000000001';
const POOL_FIRST = parseIpv6('2001:db8:1::100');
const POOL_LAST = parseIpv6('2001:db8:1::1ff');
const T = { t1: 5, t2: 8, preferred: 20, valid: 30 };

const Msg = {
  Solicit: 1,
  Advertise: 2,
  Request: 3,
  Confirm: 4,
  Renew: 5,
  Rebind: 6,
  Reply: 7,
  Release: 8,
  Decline: 9,
  InformationRequest: 11,
  RelayForw: 12,
  RelayRepl: 13,
} as const;

interface CapturedExchange {
  /** Capture time (ms). */
  at: number;
  frame: Uint8Array;
}

async function capture(name: string): Promise<CapturedExchange[]> {
  const c = await loadCaptureFile(join(fixturesDirectory, `${name}.pcap`));
  return c.frames.map((f) => ({
    at: f.seconds * 1000 + Math.floor(f.microseconds / 1000),
    frame: Uint8Array.from(f.data),
  }));
}

function frameAt(frames: CapturedExchange[], i: number): CapturedExchange {
  const f = frames[i];
  if (f === undefined) throw new Error(`no frame ${i}`);
  return f;
}

function inPool(a: Uint8Array): boolean {
  return toHex(a) >= toHex(POOL_FIRST) && toHex(a) <= toHex(POOL_LAST);
}

/** An answer and how it left the dispatcher. */
interface Answer {
  reply: Dhcpv6Reply;
  /** Written by handle() itself (true), or sent through the sink after the commit (false). */
  immediate: boolean;
}

async function ask(r: TestResponder, frame: Uint8Array, at?: number): Promise<Answer | undefined> {
  if (at !== undefined) r.clock.now = at;
  const { reply, immediate } = await r.exchange(frame);
  return reply === undefined ? undefined : { reply: decodeDhcpv6Reply(reply), immediate };
}

async function mustAsk(t: ExecutionContext, r: TestResponder, frame: Uint8Array, at?: number): Promise<Answer> {
  const a = await ask(r, frame, at);
  if (a === undefined) {
    t.fail(`no reply (discarded: ${r.server.reply.discardReason})`);
    throw new Error('no reply');
  }
  return a;
}

/** Framing of a direct answer to the client: RFC 9915 §7.2, from the router's link-local address. */
function assertClientFraming(t: ExecutionContext, r: Dhcpv6Reply, clientMac = CLIENT_MAC, clientLl = CLIENT_LL): void {
  t.is(r.status, STATUS_OK, 'UDP checksum and DHCPv6 validation');
  t.is(r.ethDst, clientMac);
  t.is(r.ethSrc, ROUTER_MAC);
  t.is(r.src, ROUTER_LL);
  t.is(r.dst, clientLl);
  t.is(r.srcPort, 547);
  t.is(r.dstPort, 546);
}

/** The shape of a message to compare with kea's: option kinds (sorted), IA times and lifetimes. */
function shape(options: readonly Dhcpv6OptionRepr[]): unknown[] {
  const out = options.map((o): unknown => {
    switch (o.kind) {
      case 'ia-na':
      case 'ia-pd':
        return { kind: o.kind, iaid: o.iaid, t1: o.t1, t2: o.t2, options: shape(o.options) };
      case 'ia-address':
      case 'ia-prefix':
        return { kind: o.kind, preferred: o.preferredLifetime, valid: o.validLifetime };
      case 'status-code':
        return { kind: o.kind, statusCode: o.statusCode };
      default:
        return { kind: o.kind };
    }
  });
  return out.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function keaAnswer(frames: CapturedExchange[], i: number): Dhcpv6Reply {
  return decodeDhcpv6Reply(frameAt(frames, i).frame);
}

function assertIds(t: ExecutionContext, options: readonly Dhcpv6OptionRepr[], client = CLIENT_DUID_HEX): void {
  t.is(duidOf(optionOf(options, 'server-id')), SERVER_DUID_HEX, 'our Server ID');
  t.is(duidOf(optionOf(options, 'client-id')), client, 'the Client ID echoed');
}

function assertDnsAndDomains(t: ExecutionContext, options: readonly Dhcpv6OptionRepr[]): void {
  t.deepEqual(optionOf(options, 'dns-servers').addresses.map(ipv6), ['2001:db8:1::53', '2001:db8:1::54']);
  t.deepEqual(optionOf(options, 'domain-search-list').names, ['example.com.', 'lab.example.net.']);
}

/** Every reply of every fixture exchange, for tshark. */
const allReplies: Uint8Array[] = [];

// ---- Fixtures: dhclient against kea, answered by punt6 ----

async function stateful(t: ExecutionContext): Promise<Dhcpv6Reply[]> {
  const frames = await capture('dhclient-stateful');
  const r = await openTestResponder(peers);
  try {
    const replies: Dhcpv6Reply[] = [];
    // Solicit -> Advertise: proposed, not journaled, so answered at once.
    const solicit = frameAt(frames, 0);
    const adv = await mustAsk(t, r, solicit.frame, solicit.at);
    t.true(adv.immediate, 'an Advertise changes no lease and is written by handle()');
    replies.push(adv.reply);
    assertClientFraming(t, adv.reply);
    t.is(adv.reply.hopLimit, 64);
    const a = innerMessage(adv.reply.message);
    t.is(a.msgType, Msg.Advertise);
    t.is(a.transactionId, 0x1fe363);
    assertIds(t, a.options);
    const na = optionOf(a.options, 'ia-na');
    t.is(na.iaid, 1);
    t.is(na.t1, T.t1);
    t.is(na.t2, T.t2);
    const advertised = optionOf(na.options, 'ia-address');
    t.true(inPool(advertised.address), `${ipv6(advertised.address)} in 2001:db8:1::100-1ff`);
    t.is(advertised.preferredLifetime, T.preferred);
    t.is(advertised.validLifetime, T.valid);
    assertDnsAndDomains(t, a.options);
    t.deepEqual(
      shape(a.options),
      shape(innerMessage(keaAnswer(frames, 1).message).options),
      'same options, times and lifetimes as kea',
    );
    t.is(r.leases.counts().addresses, 0, 'an Advertise binds nothing');

    // Request (hint 2001:db8:1::100, kea's offer) -> Reply with it, after the commit.
    const request = frameAt(frames, 2);
    const rep = await mustAsk(t, r, request.frame, request.at);
    t.false(rep.immediate, 'a Reply that binds waits for the journal');
    replies.push(rep.reply);
    assertClientFraming(t, rep.reply);
    const m = innerMessage(rep.reply.message);
    t.is(m.msgType, Msg.Reply);
    t.is(m.transactionId, 0xed7501);
    assertIds(t, m.options);
    const bound = optionOf(optionOf(m.options, 'ia-na').options, 'ia-address');
    t.is(ipv6(bound.address), '2001:db8:1::100', "the client's hint");
    t.deepEqual(shape(m.options), shape(innerMessage(keaAnswer(frames, 3).message).options), 'same as kea');
    t.deepEqual(
      m.options,
      innerMessage(keaAnswer(frames, 3).message)
        .options.slice()
        .sort((x, y) => order(x) - order(y)),
      'byte for byte the options kea sent, ours in our order',
    );
    const lease = r.leases.lookup(fromHex(CLIENT_DUID_HEX), 1, LeaseType.Address);
    t.is(lease === undefined ? '' : ipv6(lease.address), '2001:db8:1::100');
    t.is(lease?.expiresAt, request.at + T.valid * 1000);

    // Renew -> the same address, lifetimes from now.
    const renew = frameAt(frames, 4);
    const ren = await mustAsk(t, r, renew.frame, renew.at);
    t.false(ren.immediate);
    replies.push(ren.reply);
    assertClientFraming(t, ren.reply);
    const rm = innerMessage(ren.reply.message);
    t.is(rm.msgType, Msg.Reply);
    t.is(rm.transactionId, 0x3e8e14);
    assertIds(t, rm.options);
    const renewed = optionOf(optionOf(rm.options, 'ia-na').options, 'ia-address');
    t.is(ipv6(renewed.address), '2001:db8:1::100');
    t.deepEqual(shape(rm.options), shape(innerMessage(keaAnswer(frames, 5).message).options), 'same as kea');
    t.is(
      r.leases.lookup(fromHex(CLIENT_DUID_HEX), 1, LeaseType.Address)?.expiresAt,
      renew.at + T.valid * 1000,
      'extended',
    );

    // Release -> Success, the lease gone.
    const release = frameAt(frames, 6);
    const rel = await mustAsk(t, r, release.frame, release.at);
    t.false(rel.immediate);
    replies.push(rel.reply);
    assertClientFraming(t, rel.reply);
    const lm = innerMessage(rel.reply.message);
    t.is(lm.msgType, Msg.Reply);
    t.is(lm.transactionId, 0x5402e1);
    assertIds(t, lm.options);
    t.is(optionOf(lm.options, 'status-code').statusCode, Dhcpv6StatusCode.Success);
    // kea adds the released IA with Success; RFC 9915 §18.3.7 lists IAs only for NoBinding.
    t.deepEqual(optionsOf(lm.options, 'ia-na'), []);
    t.is(r.leases.lookup(fromHex(CLIENT_DUID_HEX), 1, LeaseType.Address), undefined);
    t.is(r.leases.lookupAddress(parseIpv6('2001:db8:1::100')), undefined);
    t.is(r.dispatcher.counters.total(MessageKind.Dhcpv6Solicit, Outcome.Answered), 1);
    t.is(r.dispatcher.counters.total(MessageKind.Dhcpv6Request, Outcome.Answered), 1);
    t.is(r.dispatcher.counters.total(MessageKind.Dhcpv6Renew, Outcome.Answered), 1);
    t.is(r.dispatcher.counters.total(MessageKind.Dhcpv6Release, Outcome.Answered), 1);
    // The server's own frames in the capture (kea's answers) are not answered.
    for (const i of [1, 3, 5, 7]) t.is(await ask(r, frameAt(frames, i).frame), undefined);
    return replies;
  } finally {
    await r.close();
  }
}

/** Our option order: Server ID, Client ID, IAs, configuration options. */
function order(o: Dhcpv6OptionRepr): number {
  const i = ['server-id', 'client-id', 'ia-na', 'ia-pd', 'dns-servers', 'domain-search-list'].indexOf(o.kind);
  return i < 0 ? 99 : i;
}

test('dhclient-stateful: Advertise, Reply, Renew, Release as RFC 9915 requires and as kea answered', async (t) => {
  allReplies.push(...(await stateful(t)).map((r) => r.bytes));
});

async function prefixDelegation(t: ExecutionContext): Promise<Dhcpv6Reply[]> {
  const frames = await capture('dhclient-pd');
  const r = await openTestResponder(peers);
  try {
    const replies: Dhcpv6Reply[] = [];
    const adv = await mustAsk(t, r, frameAt(frames, 0).frame, frameAt(frames, 0).at);
    t.true(adv.immediate);
    replies.push(adv.reply);
    assertClientFraming(t, adv.reply);
    const a = innerMessage(adv.reply.message);
    t.is(a.msgType, Msg.Advertise);
    t.is(a.transactionId, 0xafeb7e);
    assertIds(t, a.options);
    const pd = optionOf(a.options, 'ia-pd');
    t.is(pd.iaid, 1);
    t.is(pd.t1, T.t1);
    t.is(pd.t2, T.t2);
    const offered = optionOf(pd.options, 'ia-prefix');
    t.is(offered.prefixLength, 56);
    t.is(toHex(offered.prefix).slice(0, 6), '20010d', '2001:db8::/32');
    t.is(offered.prefix[4], 0x01, 'inside 2001:db8:100::/40');
    t.is(toHex(offered.prefix, 7), '000000000000000000', 'a /56: nothing after its 7th byte');
    t.is(offered.preferredLifetime, T.preferred);
    t.is(offered.validLifetime, T.valid);
    assertDnsAndDomains(t, a.options);
    t.deepEqual(shape(a.options), shape(innerMessage(keaAnswer(frames, 1).message).options), 'same as kea');

    const rep = await mustAsk(t, r, frameAt(frames, 2).frame, frameAt(frames, 2).at);
    t.false(rep.immediate);
    replies.push(rep.reply);
    assertClientFraming(t, rep.reply);
    const m = innerMessage(rep.reply.message);
    t.is(m.msgType, Msg.Reply);
    t.is(m.transactionId, 0x07a375);
    assertIds(t, m.options);
    const delegated = optionOf(optionOf(m.options, 'ia-pd').options, 'ia-prefix');
    t.is(`${ipv6(delegated.prefix)}/${delegated.prefixLength}`, '2001:db8:100::/56', "the client's hint");
    t.deepEqual(shape(m.options), shape(innerMessage(keaAnswer(frames, 3).message).options), 'same as kea');
    const lease = r.leases.lookup(fromHex(CLIENT_DUID_HEX), 1, LeaseType.Prefix);
    t.is(lease === undefined ? '' : `${ipv6(lease.address)}/${lease.prefixLength}`, '2001:db8:100::/56');

    const rel = await mustAsk(t, r, frameAt(frames, 4).frame, frameAt(frames, 4).at);
    replies.push(rel.reply);
    const lm = innerMessage(rel.reply.message);
    t.is(lm.msgType, Msg.Reply);
    t.is(lm.transactionId, 0xa757f9);
    t.is(optionOf(lm.options, 'status-code').statusCode, Dhcpv6StatusCode.Success);
    t.deepEqual(optionsOf(lm.options, 'ia-pd'), []);
    // dhclient's Release names no IA here: nothing is released (kea released nothing either).
    t.deepEqual(
      codesOf(decodeDhcpv6Reply(frameAt(frames, 4).frame).message.options).filter((k) => k === 'ia-pd'),
      [],
    );
    t.deepEqual(shape(lm.options), shape(innerMessage(keaAnswer(frames, 5).message).options), 'same as kea');
    t.not(r.leases.lookup(fromHex(CLIENT_DUID_HEX), 1, LeaseType.Prefix), undefined);
    return replies;
  } finally {
    await r.close();
  }
}

test('dhclient-pd: a /56 from 2001:db8:100::/40 advertised, bound to the hint, released', async (t) => {
  allReplies.push(...(await prefixDelegation(t)).map((r) => r.bytes));
});

async function stateless(t: ExecutionContext, config: Punt6Config): Promise<Dhcpv6Reply[]> {
  const frames = await capture('dhclient-stateless');
  const r = await openTestResponder(config);
  try {
    const rep = await mustAsk(t, r, frameAt(frames, 0).frame);
    t.true(rep.immediate, 'an Information-request changes no lease');
    assertClientFraming(t, rep.reply);
    const m = innerMessage(rep.reply.message);
    t.is(m.msgType, Msg.Reply);
    t.is(m.transactionId, 0x7b23c6);
    assertIds(t, m.options);
    assertDnsAndDomains(t, m.options);
    t.is(optionOf(m.options, 'information-refresh-time').seconds, 86_400);
    t.deepEqual(optionsOf(m.options, 'ia-na'), []);
    // kea sent the same, without an Information Refresh Time (RFC 9915 §21.23: the server MAY).
    const kea = innerMessage(keaAnswer(frames, 1).message).options;
    t.deepEqual(shape(m.options.filter((o) => o.kind !== 'information-refresh-time')), shape(kea));
    return [rep.reply];
  } finally {
    await r.close();
  }
}

test('dhclient-stateless: Information-request -> DNS servers, domain list, Information Refresh Time', async (t) => {
  allReplies.push(...(await stateless(t, peers)).map((r) => r.bytes));
});

test('dhclient-stateless on a stateless network (no lease store on that network needed)', async (t) => {
  const config = peersVariant((d) => {
    d.networks[0].dhcpv6 = { mode: 'stateless', informationRefreshTime: 86_400 };
    // A second, stateful network keeps a lease table, which the test responder expects.
    d.interfaces.push({ name: 'punt1', network: 'other' });
    d.networks.push({
      name: 'other',
      routerMac: '02:00:00:00:00:03',
      prefixes: [{ prefix: '2001:db8:9::/64' }],
      dhcpv6: { mode: 'stateful', addressPools: ['2001:db8:9::100-2001:db8:9::1ff'] },
    });
  });
  allReplies.push(...(await stateless(t, config)).map((r) => r.bytes));
});

/** The relay fixture's Relay-forw frames (1, 5, 9) answered with Relay-repl to the relay. */
async function relayed(t: ExecutionContext): Promise<Dhcpv6Reply[]> {
  const frames = await capture('dhcp6-relay');
  const r = await openTestResponder(peers);
  try {
    const replies: Dhcpv6Reply[] = [];
    const expected = [
      { i: 1, type: Msg.Advertise, xid: 0xc350f2, immediate: true },
      { i: 5, type: Msg.Reply, xid: 0x06bfc1, immediate: false },
      { i: 9, type: Msg.Reply, xid: 0x2f5406, immediate: false },
    ];
    // The client's own multicast frames and the relayed answers between relay and client are
    // on another link: the client frames are answered too (same link in this configuration)
    // but are not what this test looks at.
    for (const e of expected) {
      const f = frameAt(frames, e.i);
      const forw = decodeDhcpv6Reply(f.frame);
      const a = await mustAsk(t, r, f.frame, f.at);
      t.is(a.immediate, e.immediate);
      replies.push(a.reply);
      const rep = a.reply;
      t.is(rep.status, STATUS_OK);
      t.is(rep.ethDst, '02:00:00:00:00:04', "the relay's MAC");
      t.is(rep.ethSrc, ROUTER_MAC);
      t.is(rep.dst, 'fd00:2::1', "the relay's address");
      t.is(rep.src, 'fd00:2::2', 'the address the relay sent to');
      t.is(rep.srcPort, 547);
      t.is(rep.dstPort, 547, 'Relay-repl to the server port (RFC 9915 §7.2)');
      const relay = rep.message;
      if (relay.kind !== 'relay' || forw.message.kind !== 'relay') throw new Error('not a relay message');
      t.is(relay.msgType, Msg.RelayRepl);
      t.is(relay.hopCount, forw.message.hopCount);
      t.is(ipv6(relay.linkAddress), '2001:db8:1::1');
      t.is(ipv6(relay.peerAddress), CLIENT_LL);
      t.deepEqual(optionsOf(relay.options, 'interface-id'), [], 'no Interface-ID when the relay sent none');
      const inner = innerMessage(relay);
      t.is(inner.msgType, e.type);
      t.is(inner.transactionId, e.xid);
      assertIds(t, inner.options);
      const kea = decodeDhcpv6Reply(frameAt(frames, e.i + 1).frame);
      // kea lists a released IA with Success; RFC 9915 §18.3.7 lists IAs only for NoBinding.
      const keaInner = innerMessage(kea.message).options.filter((o) => e.i !== 9 || o.kind !== 'ia-na');
      t.deepEqual(shape(inner.options), shape(keaInner), 'same inner answer as kea');
      if (kea.message.kind === 'relay') {
        t.is(relay.hopCount, kea.message.hopCount);
        t.deepEqual(relay.linkAddress, kea.message.linkAddress);
        t.deepEqual(relay.peerAddress, kea.message.peerAddress);
      }
      if (e.type === Msg.Advertise) {
        const addr = optionOf(optionOf(inner.options, 'ia-na').options, 'ia-address');
        t.true(inPool(addr.address));
      }
    }
    t.is(r.leases.counts().addresses, 0, 'released at the end');
    return replies;
  } finally {
    await r.close();
  }
}

test('dhcp6-relay: Relay-repl with hop count, link and peer copied, to the relay at port 547', async (t) => {
  allReplies.push(...(await relayed(t)).map((r) => r.bytes));
});

test("relayed twice with Interface-IDs: both echoed, nesting kept, the client found by a trusted relay's option 79", async (t) => {
  const r = await openTestResponder(peersVariant((d) => (d.networks[0].dhcpv6.trustedRelays = ['fd00:2::/112'])));
  try {
    const solicit = message(Msg.Solicit, 0x123456, [clientId('02:00:00:00:00:77'), oro(23), iaNa(7)]);
    const inner = relayForw(solicit, {
      hopCount: 0,
      linkAddress: '2001:db8:1::1',
      peerAddress: 'fe80::77',
      options: [
        { kind: 'interface-id', interfaceId: Uint8Array.from([0x65, 0x74, 0x68, 0x31]) },
        // Option 79 from a trusted relay: the client's MAC is the static port's, so it gets the port's addresses.
        { kind: 'client-link-layer-address', hardwareType: 1, address: fromHex('020000000011') },
      ],
    });
    const outer = relayForw(inner, {
      hopCount: 1,
      linkAddress: '::',
      peerAddress: 'fd00:2::1',
      options: [{ kind: 'interface-id', interfaceId: Uint8Array.from([9, 8, 7]) }],
    });
    const frame = dhcpv6Frame({
      srcMac: '02:00:00:00:00:05',
      src: 'fd00:2::5',
      dst: 'fd00::2',
      srcPort: 547,
      hopLimit: 64,
      message: outer,
    });
    const a = await mustAsk(t, r, frame);
    t.true(a.immediate);
    allReplies.push(a.reply.bytes);
    t.is(a.reply.ethDst, '02:00:00:00:00:05');
    t.is(a.reply.dst, 'fd00:2::5');
    t.is(a.reply.src, 'fd00::2');
    t.is(a.reply.dstPort, 547);
    const o = a.reply.message;
    if (o.kind !== 'relay') throw new Error('not a relay');
    t.is(o.msgType, Msg.RelayRepl);
    t.is(o.hopCount, 1);
    t.is(ipv6(o.linkAddress), '::');
    t.is(ipv6(o.peerAddress), 'fd00:2::1');
    t.deepEqual([...optionOf(o.options, 'interface-id').interfaceId], [9, 8, 7]);
    const i = optionOf(o.options, 'relay-message').message;
    if (i.kind !== 'relay') throw new Error('inner not a relay');
    t.is(i.msgType, Msg.RelayRepl);
    t.is(i.hopCount, 0);
    t.is(ipv6(i.linkAddress), '2001:db8:1::1');
    t.is(ipv6(i.peerAddress), 'fe80::77');
    t.deepEqual([...optionOf(i.options, 'interface-id').interfaceId], [0x65, 0x74, 0x68, 0x31]);
    t.deepEqual(optionsOf(i.options, 'client-link-layer-address'), [], 'option 79 is not echoed');
    const m = innerMessage(o);
    t.is(m.msgType, Msg.Advertise);
    t.is(m.transactionId, 0x123456);
    assertIds(t, m.options, toHex(fromHex('0003000102000000' + '0077')));
    const na = optionOf(m.options, 'ia-na');
    t.is(na.iaid, 7);
    t.deepEqual(
      optionsOf(na.options, 'ia-address').map((x) => ipv6(x.address)),
      ['fd00::11', '2001:db8:1::11'],
      "the port's addresses",
    );
    t.deepEqual(optionOf(m.options, 'dns-servers').addresses.map(ipv6), ['2001:db8:1::53', '2001:db8:1::54']);
    t.deepEqual(optionsOf(m.options, 'domain-search-list'), [], 'not asked for');
  } finally {
    await r.close();
  }
});

// After every test: all the replies they collected, fixtures and the rest alike.
test.after('every reply frame is dissected by tshark without malformed or checksum warnings', (t) => {
  if (!tsharkAvailable()) {
    if (onCi) t.fail('tshark is required under CI=true');
    t.log('SKIPPED: tshark is not installed; reply frames not dissected');
    return;
  }
  const frames = allReplies;
  t.true(frames.length >= 80, `${frames.length} replies collected`);
  const v = tsharkCheck(frames);
  t.is(v.packets, frames.length);
  t.deepEqual(v.problems, []);
  t.regex(v.text, /DHCPv6\s*\n\s*Message type: Advertise \(2\)/);
  t.regex(v.text, /Message type: Relay-reply \(13\)/);
  t.regex(v.text, /IA Prefix\s*\n/);
});

// ---- Rules the fixtures do not reach (RFC 9915 §18.3) ----

const ORO_DNS = oro(Dhcpv6OptionCode.DnsServers, Dhcpv6OptionCode.DomainSearchList);

/** A client message from `mac` (frame source and DUID-LL) to ff02::1:2. */
function clientFrame(type: number, xid: number, options: Dhcpv6OptionRepr[], mac = CLIENT_MAC): Uint8Array {
  return dhcpv6Frame({ srcMac: mac, message: message(type, xid, options) });
}

function addressesOf(ia: { options: Dhcpv6OptionRepr[] }): string[] {
  return optionsOf(ia.options, 'ia-address').map((a) => `${ipv6(a.address)} ${a.preferredLifetime}/${a.validLifetime}`);
}

function statusOf(options: readonly Dhcpv6OptionRepr[]): number {
  return optionOf(options, 'status-code').statusCode;
}

async function reply(
  t: ExecutionContext,
  r: TestResponder,
  frame: Uint8Array,
): Promise<{ m: ReturnType<typeof innerMessage>; immediate: boolean; reply: Dhcpv6Reply }> {
  const a = await mustAsk(t, r, frame);
  allReplies.push(a.reply.bytes);
  t.is(a.reply.status, STATUS_OK);
  return { m: innerMessage(a.reply.message), immediate: a.immediate, reply: a.reply };
}

/** Solicit + Request for `mac`'s DUID-LL with one IA_NA; returns the bound address. */
async function bind(t: ExecutionContext, r: TestResponder, mac: string, iaid = 1, hint?: string): Promise<string> {
  const ia = hint === undefined ? iaNa(iaid) : iaNa(iaid, hint);
  const { m } = await reply(t, r, clientFrame(Msg.Request, 0x100, [clientId(mac), serverId, ia], mac));
  const addrs = optionsOf(optionOf(m.options, 'ia-na').options, 'ia-address');
  const first = addrs[0];
  if (first === undefined) throw new Error('nothing bound');
  return ipv6(first.address);
}

test('Confirm: Success when every address is on the link, NotOnLink otherwise; no lease change', async (t) => {
  const r = await openTestResponder(peers);
  try {
    const ok = await reply(t, r, clientFrame(Msg.Confirm, 0xc1, [clientId(), iaNa(1, '2001:db8:1::150', 'fd00::99')]));
    t.true(ok.immediate);
    t.is(ok.m.msgType, Msg.Reply);
    t.is(ok.m.transactionId, 0xc1);
    assertIds(t, ok.m.options);
    t.is(statusOf(ok.m.options), Dhcpv6StatusCode.Success);
    t.deepEqual(optionsOf(ok.m.options, 'ia-na'), [], 'a Confirm Reply carries no IA');
    const bad = await reply(
      t,
      r,
      clientFrame(Msg.Confirm, 0xc2, [clientId(), iaNa(1, '2001:db8:1::150'), iaNa(2, '2001:db8:99::1')]),
    );
    t.is(bad.m.msgType, Msg.Reply);
    t.is(statusOf(bad.m.options), Dhcpv6StatusCode.NotOnLink);
    t.is(r.leases.counts().addresses, 0);
  } finally {
    await r.close();
  }
});

test('Rebind of a binding the server does not know: re-created when free and on the link, lifetimes 0 off the link', async (t) => {
  const r = await openTestResponder(peers);
  try {
    const start = r.clock.now;
    const on = await reply(t, r, clientFrame(Msg.Rebind, 0xb1, [clientId(), iaNa(4, '2001:db8:1::180')]));
    t.false(on.immediate, 're-created: sent after the commit');
    t.is(on.m.msgType, Msg.Reply);
    assertIds(t, on.m.options);
    const na = optionOf(on.m.options, 'ia-na');
    t.is(na.iaid, 4);
    t.is(na.t1, T.t1);
    t.is(na.t2, T.t2);
    t.deepEqual(addressesOf(na), ['2001:db8:1::180 20/30']);
    t.is(r.leases.lookupAddress(parseIpv6('2001:db8:1::180'))?.expiresAt, start + T.valid * 1000);

    const off = await reply(
      t,
      r,
      clientFrame(Msg.Rebind, 0xb2, [clientId('02:00:00:00:00:21'), iaNa(1, '2001:db8:99::5')], '02:00:00:00:00:21'),
    );
    const offNa = optionOf(off.m.options, 'ia-na');
    t.deepEqual(addressesOf(offNa), ['2001:db8:99::5 0/0'], 'not on this link: lifetimes 0 (§18.3.5)');
    t.is(offNa.t1, 0);
    t.is(offNa.t2, 0);
    t.is(r.leases.lookupAddress(parseIpv6('2001:db8:99::5')), undefined);

    // Held by another client: not taken over.
    const taken = await reply(
      t,
      r,
      clientFrame(Msg.Rebind, 0xb3, [clientId('02:00:00:00:00:22'), iaNa(1, '2001:db8:1::180')], '02:00:00:00:00:22'),
    );
    const takenNa = optionOf(taken.m.options, 'ia-na');
    t.deepEqual(addressesOf(takenNa), []);
    t.is(statusOf(takenNa.options), Dhcpv6StatusCode.NoBinding);
    t.is(r.leases.lookupAddress(parseIpv6('2001:db8:1::180'))?.iaid, 4, "still the first client's");
  } finally {
    await r.close();
  }
});

test('Renew: extended when held; NoBinding for an unknown IA; lifetimes 0 for addresses not held', async (t) => {
  const r = await openTestResponder(peers);
  try {
    const mine = await bind(t, r, CLIENT_MAC, 1);
    r.clock.now += 10_000;
    const ok = await reply(t, r, clientFrame(Msg.Renew, 0xa1, [clientId(), serverId, iaNa(1, mine)]));
    t.false(ok.immediate);
    t.deepEqual(addressesOf(optionOf(ok.m.options, 'ia-na')), [`${mine} 20/30`]);
    t.is(r.leases.lookupAddress(parseIpv6(mine))?.expiresAt, r.clock.now + T.valid * 1000);

    // An IA the server has no binding for, naming no address: NoBinding.
    const none = await reply(t, r, clientFrame(Msg.Renew, 0xa2, [clientId(), serverId, iaNa(9)]));
    const noneNa = optionOf(none.m.options, 'ia-na');
    t.is(noneNa.iaid, 9);
    t.is(noneNa.t1, 0);
    t.is(noneNa.t2, 0);
    t.deepEqual(addressesOf(noneNa), []);
    t.is(statusOf(noneNa.options), Dhcpv6StatusCode.NoBinding);

    // Another client's address, and an address off the link: lifetimes 0, nothing changed.
    const other = '02:00:00:00:00:31';
    const theirs = await reply(
      t,
      r,
      clientFrame(Msg.Renew, 0xa3, [clientId(other), serverId, iaNa(1, mine), iaNa(2, '2001:db8:99::9')], other),
    );
    const [a, b] = optionsOf(theirs.m.options, 'ia-na');
    t.deepEqual(a === undefined ? [] : addressesOf(a), [`${mine} 0/0`]);
    t.deepEqual(b === undefined ? [] : addressesOf(b), ['2001:db8:99::9 0/0']);
    t.is(r.leases.lookupAddress(parseIpv6(mine))?.duid.length, 10);
    t.is(toHex(r.leases.lookupAddress(parseIpv6(mine))?.duid ?? new Uint8Array()), CLIENT_DUID_HEX, 'still ours');
    t.is(r.leases.lookupClient(fromHex('0003000102000000' + '0031')).length, 0);

    // The client names an address it does not hold while its IA holds another one: its own
    // binding is kept, the other address gets lifetimes 0.
    const wrong = await reply(t, r, clientFrame(Msg.Renew, 0xa4, [clientId(), serverId, iaNa(1, '2001:db8:1::1fe')]));
    t.deepEqual(addressesOf(optionOf(wrong.m.options, 'ia-na')), ['2001:db8:1::1fe 0/0']);
    t.is(
      r.leases.lookup(fromHex(CLIENT_DUID_HEX), 1, LeaseType.Address)?.address.join(),
      parseIpv6(mine).join(),
      'the binding it holds is kept',
    );
    t.is(r.leases.lookupAddress(parseIpv6('2001:db8:1::1fe')), undefined);
  } finally {
    await r.close();
  }
});

test('Decline: Success, the address set aside and not handed out again', async (t) => {
  const r = await openTestResponder(peers);
  try {
    const x = await bind(t, r, CLIENT_MAC, 1, '2001:db8:1::1a0');
    t.is(x, '2001:db8:1::1a0');
    const d = await reply(t, r, clientFrame(Msg.Decline, 0xd1, [clientId(), serverId, iaNa(1, x)]));
    t.false(d.immediate);
    t.is(d.m.msgType, Msg.Reply);
    assertIds(t, d.m.options);
    t.is(statusOf(d.m.options), Dhcpv6StatusCode.Success);
    t.deepEqual(optionsOf(d.m.options, 'ia-na'), []);
    t.is(r.leases.lookupAddress(parseIpv6(x)), undefined);
    t.not(r.leases.quarantined(parseIpv6(x)), undefined, 'quarantined');
    // Others asking for it get another address, in an Advertise and in a Reply.
    const other = '02:00:00:00:00:41';
    const adv = await reply(t, r, clientFrame(Msg.Solicit, 0xd2, [clientId(other), iaNa(1, x)], other));
    const offered = optionsOf(optionOf(adv.m.options, 'ia-na').options, 'ia-address').map((a) => ipv6(a.address));
    t.is(offered.length, 1);
    t.false(offered.includes(x));
    t.not(await bind(t, r, other, 1, x), x);
    t.not(await bind(t, r, CLIENT_MAC, 1, x), x, 'not even to the client that declined it');
    // Declining what one does not hold: NoBinding for that IA.
    const nb = await reply(
      t,
      r,
      clientFrame(
        Msg.Decline,
        0xd3,
        [clientId('02:00:00:00:00:42'), serverId, iaNa(3, '2001:db8:1::1a1')],
        '02:00:00:00:00:42',
      ),
    );
    const ia = optionOf(nb.m.options, 'ia-na');
    t.is(ia.iaid, 3);
    t.is(statusOf(ia.options), Dhcpv6StatusCode.NoBinding);
    t.is(statusOf(nb.m.options), Dhcpv6StatusCode.Success);
  } finally {
    await r.close();
  }
});

test('Rapid Commit: Reply with Rapid Commit after the commit when allowed, Advertise otherwise', async (t) => {
  const solicit = clientFrame(Msg.Solicit, 0x77, [clientId(), { kind: 'rapid-commit' }, ORO_DNS, iaNa(1)]);
  const allowed = await openTestResponder(peersVariant((d) => (d.networks[0].dhcpv6.rapidCommit = true)));
  try {
    const rc = await reply(t, allowed, solicit);
    t.false(rc.immediate, 'it binds: sent after the commit');
    t.is(rc.m.msgType, Msg.Reply);
    t.is(rc.m.transactionId, 0x77);
    assertIds(t, rc.m.options);
    t.deepEqual(optionsOf(rc.m.options, 'rapid-commit'), [{ kind: 'rapid-commit' }]);
    const a = optionOf(optionOf(rc.m.options, 'ia-na').options, 'ia-address');
    t.true(inPool(a.address));
    t.is(allowed.leases.lookupAddress(a.address)?.iaid, 1, 'bound');
    // Without the option in the Solicit: an Advertise.
    const plain = await reply(
      t,
      allowed,
      clientFrame(Msg.Solicit, 0x78, [clientId('02:00:00:00:00:51'), iaNa(1)], '02:00:00:00:00:51'),
    );
    t.is(plain.m.msgType, Msg.Advertise);
    t.deepEqual(optionsOf(plain.m.options, 'rapid-commit'), []);
  } finally {
    await allowed.close();
  }
  const refused = await openTestResponder(peersVariant((d) => (d.networks[0].dhcpv6.rapidCommit = false)));
  try {
    const adv = await reply(t, refused, solicit);
    t.true(adv.immediate);
    t.is(adv.m.msgType, Msg.Advertise);
    t.deepEqual(optionsOf(adv.m.options, 'rapid-commit'), []);
    t.is(refused.leases.counts().addresses, 0);
  } finally {
    await refused.close();
  }
});

test('several IA_NA in one Solicit and one Request: one distinct address each, even with the same hint', async (t) => {
  const r = await openTestResponder(peers);
  try {
    const ias = [iaNa(1, '2001:db8:1::150'), iaNa(2, '2001:db8:1::150'), iaNa(3), iaNa(4)];
    for (const type of [Msg.Solicit, Msg.Request]) {
      const options = type === Msg.Request ? [clientId(), serverId, ...ias] : [clientId(), ...ias];
      const { m } = await reply(t, r, clientFrame(type, 0x44, options));
      const got = optionsOf(m.options, 'ia-na');
      t.deepEqual(
        got.map((ia) => ia.iaid),
        [1, 2, 3, 4],
      );
      const addrs = got.map((ia) => optionOf(ia.options, 'ia-address').address);
      t.is(new Set(addrs.map(ipv6)).size, 4, `${addrs.map(ipv6).join(' ')}: distinct`);
      t.true(addrs.every(inPool));
      t.is(ipv6(addrs[0] as Uint8Array), '2001:db8:1::150', 'the first gets the hint');
      for (const ia of got) {
        t.is(ia.t1, T.t1);
        t.is(ia.t2, T.t2);
      }
    }
    t.is(r.leases.lookupClient(fromHex(CLIENT_DUID_HEX)).length, 4);
    // The same for IA_PD: two IAs hinting at one prefix get two prefixes.
    const pd = await reply(
      t,
      r,
      clientFrame(Msg.Solicit, 0x45, [clientId(), iaPd(1, '2001:db8:100::/56'), iaPd(2, '2001:db8:100::/56')]),
    );
    const prefixes = optionsOf(pd.m.options, 'ia-pd')
      .map((ia) => optionOf(ia.options, 'ia-prefix'))
      .map((x) => `${ipv6(x.prefix)}/${x.prefixLength}`);
    t.deepEqual(prefixes, ['2001:db8:100::/56', '2001:db8:100:100::/56']);
  } finally {
    await r.close();
  }
});

test('the ORO is honoured: configuration options only when asked for', async (t) => {
  const r = await openTestResponder(peers);
  try {
    const none = await reply(t, r, clientFrame(Msg.Solicit, 1, [clientId(), iaNa(1)]));
    t.deepEqual(codesOf(none.m.options), ['server-id', 'client-id', 'ia-na']);
    const dns = await reply(t, r, clientFrame(Msg.Solicit, 2, [clientId(), oro(Dhcpv6OptionCode.DnsServers), iaNa(1)]));
    t.deepEqual(codesOf(dns.m.options), ['server-id', 'client-id', 'ia-na', 'dns-servers']);
    const info = await reply(
      t,
      r,
      clientFrame(Msg.InformationRequest, 3, [clientId(), oro(Dhcpv6OptionCode.DomainSearchList)]),
    );
    t.deepEqual(codesOf(info.m.options), ['server-id', 'client-id', 'domain-search-list', 'information-refresh-time']);
    // Information-request without Client ID is allowed (§16): answered without one.
    const anon = await reply(t, r, dhcpv6Frame({ message: message(Msg.InformationRequest, 4, [ORO_DNS]) }));
    t.deepEqual(codesOf(anon.m.options), [
      'server-id',
      'dns-servers',
      'domain-search-list',
      'information-refresh-time',
    ]);
  } finally {
    await r.close();
  }
});

test('NTP servers (RFC 5908): one server-address sub-option each, when asked for', async (t) => {
  const config = peersVariant((d) => (d.networks[0].dhcpv6.ntpServers = ['2001:db8:b::123', '2001:db8:b::124']));
  const r = await openTestResponder(config);
  try {
    const asked = await reply(
      t,
      r,
      clientFrame(Msg.InformationRequest, 1, [clientId(), oro(Dhcpv6OptionCode.NtpServer)]),
    );
    t.deepEqual(codesOf(asked.m.options), ['server-id', 'client-id', 'ntp-server', 'information-refresh-time']);
    const ntp = optionOf(asked.m.options, 'ntp-server');
    t.deepEqual(
      ntp.suboptions.map((o) => (o.kind === 'server-address' ? ipv6(o.address) : o.kind)),
      ['2001:db8:b::123', '2001:db8:b::124'],
    );
    const solicit = await reply(
      t,
      r,
      clientFrame(Msg.Solicit, 2, [clientId(), oro(Dhcpv6OptionCode.NtpServer), iaNa(1)]),
    );
    t.deepEqual(codesOf(solicit.m.options), ['server-id', 'client-id', 'ia-na', 'ntp-server']);
    const none = await reply(
      t,
      r,
      clientFrame(Msg.InformationRequest, 3, [clientId(), oro(Dhcpv6OptionCode.DnsServers)]),
    );
    t.false(codesOf(none.m.options).includes('ntp-server'), 'not asked for');
  } finally {
    await r.close();
  }
});

test("a port (frame MAC; trusted relay's option 79 or configured DUID) gets its static addresses and delegated prefix, not journaled", async (t) => {
  const config = peersVariant((d) => {
    d.ports[0].clientDuid = '00:02:00:00:ab:cd:01:02';
    d.networks[0].dhcpv6.trustedRelays = ['fd00::99'];
  });
  const r = await openTestResponder(config);
  try {
    const expectStatic = (m: ReturnType<typeof innerMessage>): void => {
      const na = optionOf(m.options, 'ia-na');
      t.deepEqual(addressesOf(na), ['fd00::11 20/30', '2001:db8:1::11 20/30']);
      t.is(na.t1, T.t1);
      t.is(na.t2, T.t2);
      const pd = optionOf(m.options, 'ia-pd');
      const p = optionOf(pd.options, 'ia-prefix');
      t.is(
        `${ipv6(p.prefix)}/${p.prefixLength} ${p.preferredLifetime}/${p.validLifetime}`,
        '2001:db8:200:1100::/56 20/30',
      );
    };
    const configuredDuid: Dhcpv6OptionRepr = {
      kind: 'client-id',
      duid: { kind: 'en', enterpriseNumber: 0xabcd, identifier: Uint8Array.from([1, 2]) },
    };
    const relay = (inner: Dhcpv6MessageRepr, option79: string | null): Uint8Array =>
      dhcpv6Frame({
        srcMac: '02:00:00:00:00:99',
        src: 'fd00::99',
        dst: 'fd00::2',
        srcPort: 547,
        hopLimit: 64,
        message: relayForw(inner, {
          linkAddress: '::',
          peerAddress: 'fe80::63',
          options:
            option79 === null
              ? []
              : [{ kind: 'client-link-layer-address', hardwareType: 1, address: fromHex(option79) }],
        }),
      });
    const cases: { name: string; frame: (type: number, options: Dhcpv6OptionRepr[]) => Uint8Array }[] = [
      {
        name: 'frame source MAC',
        frame: (type, o) =>
          clientFrame(
            type,
            0x55,
            [
              { kind: 'client-id', duid: { kind: 'en', enterpriseNumber: 32473, identifier: Uint8Array.from([1]) } },
              ...o,
            ],
            PORT_MAC,
          ),
      },
      {
        name: "trusted relay's option 79",
        frame: (type, o) => relay(message(type, 0x55, [clientId('02:00:00:00:00:63'), ...o]), '020000000011'),
      },
      {
        name: 'configured DUID through a trusted relay',
        frame: (type, o) => relay(message(type, 0x55, [configuredDuid, ...o]), null),
      },
    ];
    for (const c of cases) {
      for (const type of [Msg.Solicit, Msg.Request]) {
        const options = [...(type === Msg.Request ? [serverId] : []), ORO_DNS, iaNa(1), iaPd(1)];
        const res = await reply(t, r, c.frame(type, options));
        t.true(res.immediate, `${c.name}: static bindings are the controller's, nothing to commit`);
        t.is(res.m.msgType, type === Msg.Solicit ? Msg.Advertise : Msg.Reply);
        expectStatic(res.m);
      }
    }
    t.deepEqual(r.leases.counts().addresses + r.leases.counts().prefixes, 0, 'nothing journaled');
    // Renew of the static addresses: extended, still not journaled.
    const ren = await reply(
      t,
      r,
      clientFrame(
        Msg.Renew,
        0x56,
        [clientId(PORT_MAC), serverId, iaNa(1, 'fd00::11', '2001:db8:1::11'), iaPd(1, '2001:db8:200:1100::/56')],
        PORT_MAC,
      ),
    );
    t.true(ren.immediate);
    expectStatic(ren.m);
  } finally {
    await r.close();
  }
});

test("a VM cannot claim another port's bindings by what it writes: DUID-LL(T), a configured DUID, option 79 of a relay it sends itself", async (t) => {
  const config = peersVariant((d) => {
    d.ports[0].clientDuid = '00:02:00:00:ab:cd:01:02';
    d.networks[0].dhcpv6.trustedRelays = ['fd00::99'];
  });
  const r = await openTestResponder(config);
  const VM = '02:00:00:00:00:66';
  try {
    const claims: { name: string; frame: (options: Dhcpv6OptionRepr[]) => Uint8Array }[] = [
      {
        name: "DUID-LL with the port's MAC",
        frame: (o) => clientFrame(Msg.Solicit, 0x70, [clientId(PORT_MAC), ...o], VM),
      },
      {
        name: "DUID-LLT with the port's MAC",
        frame: (o) =>
          clientFrame(
            Msg.Solicit,
            0x71,
            [
              {
                kind: 'client-id',
                duid: { kind: 'llt', hardwareType: 1, time: 1, linkLayerAddress: fromHex('020000000011') },
              },
              ...o,
            ],
            VM,
          ),
      },
      {
        name: "the port's configured DUID",
        frame: (o) =>
          clientFrame(
            Msg.Solicit,
            0x72,
            [
              {
                kind: 'client-id',
                duid: { kind: 'en', enterpriseNumber: 0xabcd, identifier: Uint8Array.from([1, 2]) },
              },
              ...o,
            ],
            VM,
          ),
      },
      {
        name: 'option 79 in a Relay-forw from an untrusted source',
        frame: (o) =>
          dhcpv6Frame({
            srcMac: VM,
            src: 'fd00::66',
            dst: 'fd00::2',
            srcPort: 547,
            hopLimit: 64,
            message: relayForw(message(Msg.Solicit, 0x73, [clientId(VM), ...o]), {
              linkAddress: '::',
              peerAddress: 'fe80::66',
              options: [{ kind: 'client-link-layer-address', hardwareType: 1, address: fromHex('020000000011') }],
            }),
          }),
      },
    ];
    for (const c of claims) {
      const res = await reply(t, r, c.frame([ORO_DNS, iaNa(1), iaPd(1)]));
      const m = innerMessage(res.reply.message);
      const na = addressesOf(optionOf(m.options, 'ia-na'));
      t.false(
        na.some((a) => a.startsWith('fd00::11') || a.startsWith('2001:db8:1::11')),
        `${c.name}: ${na.join(', ')}`,
      );
      t.true(
        na.every((a) => a.startsWith('2001:db8:1::1')),
        `${c.name}: a pool address instead`,
      );
      const prefixes = optionsOf(optionOf(m.options, 'ia-pd').options, 'ia-prefix').map((p) => ipv6(p.prefix));
      t.false(prefixes.includes('2001:db8:200:1100::'), `${c.name}: not the port's delegated prefix`);
    }
  } finally {
    await r.close();
  }
});

test("pools never hand out a port's static address or prefix", async (t) => {
  // The configuration refuses a port address or delegated prefix inside a pool...
  const error = t.throws(() =>
    peersVariant((d) => {
      d.networks[0].dhcpv6.addressPools = ['2001:db8:1::10-2001:db8:1::12'];
      d.networks[0].dhcpv6.prefixDelegation = [{ prefix: '2001:db8:200:1000::/55', delegatedLength: 56 }];
    }),
  );
  t.regex(error?.message ?? '', /2001:db8:1::11.*inside address pool/);
  // ...and should such a pool reach the server anyway, the lease table keeps the port's
  // address and prefix out of it: pools of three addresses and two prefixes, one of each the port's.
  const config = peersVariant();
  const dhcpv6 = config.networks[0]?.dhcpv6 as unknown as { addressPools: unknown[]; prefixDelegation: unknown[] };
  dhcpv6.addressPools = [
    { text: '2001:db8:1::10-2001:db8:1::12', first: parseIpv6('2001:db8:1::10'), last: parseIpv6('2001:db8:1::12') },
  ];
  dhcpv6.prefixDelegation = [
    {
      prefix: { text: '2001:db8:200:1000::/55', address: parseIpv6('2001:db8:200:1000::'), length: 55 },
      delegatedLength: 56,
    },
  ];
  const r = await openTestResponder(config);
  try {
    const got: string[] = [];
    const prefixes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const mac = `02:00:00:00:01:${(0x10 + i).toString(16)}`;
      for (const type of [Msg.Solicit, Msg.Request]) {
        const options = [
          clientId(mac),
          ...(type === Msg.Request ? [serverId] : []),
          iaNa(1, '2001:db8:1::11'),
          iaPd(1, '2001:db8:200:1100::/56'),
        ];
        const { m } = await reply(t, r, clientFrame(type, 0x60 + i, options, mac));
        const na = optionOf(m.options, 'ia-na');
        const pd = optionOf(m.options, 'ia-pd');
        const a = optionsOf(na.options, 'ia-address').map((x) => ipv6(x.address));
        const p = optionsOf(pd.options, 'ia-prefix').map((x) => `${ipv6(x.prefix)}/${x.prefixLength}`);
        t.false(a.includes('2001:db8:1::11'), `${a.join()}`);
        t.false(p.includes('2001:db8:200:1100::/56'), `${p.join()}`);
        if (type === Msg.Request) {
          got.push(...a);
          prefixes.push(...p);
          if (a.length === 0) t.is(statusOf(na.options), Dhcpv6StatusCode.NoAddrsAvail);
          if (p.length === 0) t.is(statusOf(pd.options), Dhcpv6StatusCode.NoPrefixAvail);
        }
      }
      // Rebind naming the port's address or prefix: not re-created for another client.
      const rb = await reply(
        t,
        r,
        clientFrame(
          Msg.Rebind,
          0x70 + i,
          [clientId(mac), iaNa(5, '2001:db8:1::11'), iaPd(5, '2001:db8:200:1100::/56')],
          mac,
        ),
      );
      t.deepEqual(addressesOf(optionOf(rb.m.options, 'ia-na')), []);
      t.deepEqual(optionsOf(optionOf(rb.m.options, 'ia-pd').options, 'ia-prefix'), []);
    }
    t.deepEqual(got.sort(), ['2001:db8:1::10', '2001:db8:1::12']);
    t.deepEqual(prefixes, ['2001:db8:200:1000::/56']);
    t.is(r.leases.lookupAddress(parseIpv6('2001:db8:1::11')), undefined);
    t.is(r.leases.lookupAddress(parseIpv6('2001:db8:200:1100::')), undefined);
    // The port itself still gets them.
    const port = await reply(
      t,
      r,
      clientFrame(Msg.Request, 0x80, [clientId(PORT_MAC), serverId, iaNa(1), iaPd(1)], PORT_MAC),
    );
    t.deepEqual(addressesOf(optionOf(port.m.options, 'ia-na')), ['fd00::11 20/30', '2001:db8:1::11 20/30']);
  } finally {
    await r.close();
  }
});

test('SOL_MAX_RT and INF_MAX_RT: sent when asked for and configured', async (t) => {
  const ask82 = oro(Dhcpv6OptionCode.SolMaxRt, Dhcpv6OptionCode.InfMaxRt);
  const configured = await openServerWith(peers, { solMaxRt: 3600, infMaxRt: 7200 });
  try {
    const adv = await reply(t, configured, clientFrame(Msg.Solicit, 1, [clientId(), ask82, iaNa(1)]));
    t.deepEqual(optionsOf(adv.m.options, 'sol-max-rt'), [{ kind: 'sol-max-rt', seconds: 3600 }]);
    t.deepEqual(optionsOf(adv.m.options, 'inf-max-rt'), [], 'INF_MAX_RT belongs in Information-request replies');
    const info = await reply(t, configured, clientFrame(Msg.InformationRequest, 2, [clientId(), ask82]));
    t.deepEqual(optionsOf(info.m.options, 'inf-max-rt'), [{ kind: 'inf-max-rt', seconds: 7200 }]);
    const notAsked = await reply(t, configured, clientFrame(Msg.Solicit, 3, [clientId(), ORO_DNS, iaNa(1)]));
    t.deepEqual(optionsOf(notAsked.m.options, 'sol-max-rt'), []);
    const notAskedInfo = await reply(t, configured, clientFrame(Msg.InformationRequest, 4, [clientId(), ORO_DNS]));
    t.deepEqual(optionsOf(notAskedInfo.m.options, 'inf-max-rt'), []);
  } finally {
    await configured.close();
  }
  const plain = await openServerWith(peers, {});
  try {
    const adv = await reply(t, plain, clientFrame(Msg.Solicit, 1, [clientId(), ask82, iaNa(1)]));
    t.deepEqual(optionsOf(adv.m.options, 'sol-max-rt'), [], 'not configured');
    const info = await reply(t, plain, clientFrame(Msg.InformationRequest, 2, [clientId(), ask82]));
    t.deepEqual(optionsOf(info.m.options, 'inf-max-rt'), []);
  } finally {
    await plain.close();
  }
});

test('SOL_MAX_RT and INF_MAX_RT from the configuration (dhcpv6.solMaxRt / infMaxRt), through openResponder', async (t) => {
  const ask = oro(Dhcpv6OptionCode.SolMaxRt, Dhcpv6OptionCode.InfMaxRt);
  const config = peersVariant((doc) => {
    doc.networks[0].dhcpv6.solMaxRt = 1800;
    doc.networks[0].dhcpv6.infMaxRt = 900;
  });
  t.is(config.networks[0]?.dhcpv6.solMaxRt, 1800);
  const r = await openTestResponder(config);
  try {
    const adv = await reply(t, r, clientFrame(Msg.Solicit, 1, [clientId(), ask, iaNa(1)]));
    t.deepEqual(optionsOf(adv.m.options, 'sol-max-rt'), [{ kind: 'sol-max-rt', seconds: 1800 }]);
    const info = await reply(t, r, clientFrame(Msg.InformationRequest, 2, [clientId(), ask]));
    t.deepEqual(optionsOf(info.m.options, 'inf-max-rt'), [{ kind: 'inf-max-rt', seconds: 900 }]);
  } finally {
    await r.close();
  }
});

// ---- Hold for commit (dispatcher) ----

test('replies that change leases leave through the sink only after the journal commit; one fsync for a turn of requests', async (t) => {
  const { fs, syncs } = countingFs();
  const r = await openServerWith(peers, {}, { fs });
  try {
    const d = r.dispatcher;
    // An Advertise changes nothing: written by handle(), nothing held.
    const adv = clientFrame(Msg.Solicit, 1, [clientId(), iaNa(1)]);
    t.true(d.handle(adv, 0, adv.length, 0) > 0);
    t.is(d.heldReplies, 0);
    const before = r.leases.journalStats();
    const syncsBefore = syncs.count;
    const n = 25;
    const frames = Array.from({ length: n }, (_, i) => {
      const mac = `02:00:00:00:02:${(i + 0x10).toString(16)}`;
      return { mac, frame: clientFrame(Msg.Request, 0x1000 + i, [clientId(mac), serverId, iaNa(1)], mac) };
    });
    for (const f of frames) t.is(d.handle(f.frame, 0, f.frame.length, 0), 0, 'held: handle() returns 0');
    t.is(d.heldReplies, n);
    t.is(r.sent.length, 0, 'nothing sent before the commit');
    t.is(r.leases.counts().addresses, n, 'bound in memory');
    t.is(d.counters.total(MessageKind.Dhcpv6Request, Outcome.Answered), n);
    await d.flush();
    t.is(d.heldReplies, 0);
    t.is(r.sent.length, n);
    const after = r.leases.journalStats();
    t.is(after.fsyncs - before.fsyncs, 1, 'one fsync for the whole turn (journal stats)');
    t.is(syncs.count - syncsBefore, 1, 'one fsync for the whole turn (file system)');
    t.is(after.commits - before.commits, 1);
    const seen = new Set<string>();
    r.sent.forEach((bytes, i) => {
      const f = frames[i];
      if (f === undefined) throw new Error('more replies than requests');
      const rep = decodeDhcpv6Reply(bytes);
      t.is(rep.status, STATUS_OK);
      t.is(rep.ethDst, f.mac);
      t.is(rep.src, ROUTER_LL);
      t.is(rep.dstPort, 546);
      const m = innerMessage(rep.message);
      t.is(m.msgType, Msg.Reply);
      t.is(m.transactionId, 0x1000 + i, 'in the order received');
      const a = ipv6(optionOf(optionOf(m.options, 'ia-na').options, 'ia-address').address);
      t.false(seen.has(a));
      seen.add(a);
      t.is(
        toHex(r.leases.lookupAddress(parseIpv6(a))?.duid ?? new Uint8Array()),
        '00030001' + f.mac.replaceAll(':', ''),
      );
    });
    allReplies.push(...r.sent);
    // The next turn gets its own commit.
    const more = clientFrame(
      Msg.Request,
      0x2000,
      [clientId('02:00:00:00:03:01'), serverId, iaNa(1)],
      '02:00:00:00:03:01',
    );
    t.is(d.handle(more, 0, more.length, 0), 0);
    await d.flush();
    t.is(r.sent.length, n + 1);
    t.is(syncs.count - syncsBefore, 2);
  } finally {
    await r.close();
  }
});

test('a failed commit sends none of the replies it held, and says so', async (t) => {
  const { fs, syncs } = countingFs();
  const errors: number[] = [];
  const r = await openServerWith(peers, {}, { fs, onCommitError: (_e, n) => errors.push(n) });
  try {
    syncs.fail = true;
    for (let i = 0; i < 3; i++) {
      const mac = `02:00:00:00:04:0${i}`;
      const f = clientFrame(Msg.Request, 0x300 + i, [clientId(mac), serverId, iaNa(1)], mac);
      t.is(r.dispatcher.handle(f, 0, f.length, 0), 0);
    }
    await r.dispatcher.flush();
    t.is(r.sent.length, 0, 'no Reply for a binding that may not be on disk');
    t.is(r.dispatcher.commitFailures, 3);
    t.deepEqual(errors, [3]);
    // Replies that change nothing still go out.
    const adv = clientFrame(Msg.Solicit, 0x310, [clientId(), iaNa(1)]);
    t.true(r.dispatcher.handle(adv, 0, adv.length, 0) > 0);
  } finally {
    await r.close();
  }
});

test('while lease storage fails, replies that change leases are withheld and no lease changes; the rest is answered; a retry recovers', async (t) => {
  const { fs, syncs } = countingFs();
  const r = await openServerWith(peers, {}, { fs });
  const request = (i: number): Uint8Array => {
    const mac = `02:00:00:00:05:0${i}`;
    return clientFrame(Msg.Request, 0x400 + i, [clientId(mac), serverId, iaNa(1)], mac);
  };
  try {
    syncs.fail = true;
    t.is(r.dispatcher.handle(request(1), 0, request(1).length, 0), 0);
    await r.dispatcher.flush();
    t.false(r.leases.writable, 'the failed fsync put the journal into its failing state');
    const before = r.leases.counts().addresses;
    // A pool client's Request, Renew, Release: no answer, no change, counted by reason.
    for (const f of [
      request(2),
      clientFrame(Msg.Renew, 0x420, [clientId(), serverId, iaNa(1, '2001:db8:1::150')]),
      clientFrame(Msg.Release, 0x421, [clientId(), serverId, iaNa(1, '2001:db8:1::150')]),
    ]) {
      t.is(r.dispatcher.handle(f, 0, f.length, 0), 0);
      t.is(r.server.reply.discardReason, 'the lease journal cannot make a change durable (storage failing)');
    }
    await r.dispatcher.flush();
    t.is(r.leases.counts().addresses, before);
    t.is(r.sent.length, 0);
    // A port's static binding needs no journal; an Advertise and an Information-request neither.
    const port = clientFrame(Msg.Request, 0x430, [clientId(PORT_MAC), serverId, iaNa(1)], PORT_MAC);
    t.true(r.dispatcher.handle(port, 0, port.length, 0) > 0);
    const adv = clientFrame(Msg.Solicit, 0x431, [clientId(), iaNa(1)]);
    t.true(r.dispatcher.handle(adv, 0, adv.length, 0) > 0);
    const info = clientFrame(Msg.InformationRequest, 0x432, [clientId()]);
    t.true(r.dispatcher.handle(info, 0, info.length, 0) > 0);
    // Space is back: the retry writes what was kept, and Requests are answered again.
    syncs.fail = false;
    t.true(await r.leases.journal.retryNow());
    t.true(r.leases.writable);
    const again = await r.exchange(request(3));
    t.truthy(again.reply);
    t.false(again.immediate);
  } finally {
    await r.close();
  }
});

test('one client cannot take the pool: IAs per message, addresses per client and per port are limited, each refused IA says NoAddrsAvail', async (t) => {
  // The 256-address pool of peers.yaml, the default limits (8 IAs per message, 8 addresses per client, 64 per port).
  const r = await openTestResponder(peers);
  try {
    const mac = '02:00:00:00:06:01';
    let held = 0;
    for (let round = 0; round < 8; round++) {
      const ias = Array.from({ length: 32 }, (_, i) => iaNa(round * 32 + i + 1));
      const res = await reply(
        t,
        r,
        clientFrame(Msg.Solicit, 0x600 + round, [clientId(mac), { kind: 'rapid-commit' }, ...ias], mac),
      );
      const nas = optionsOf(res.m.options, 'ia-na');
      t.is(nas.length, 32, 'every IA is answered');
      for (const na of nas) {
        const addresses = optionsOf(na.options, 'ia-address');
        if (addresses.length > 0) held++;
        else t.is(optionOf(na.options, 'status-code').statusCode, Dhcpv6StatusCode.NoAddrsAvail);
      }
    }
    t.is(held, 8, 'eight rapid-commit Solicits of 32 IAs each bind eight addresses');
    t.is(r.leases.counts().addresses, 8);
    t.is(r.server.iasRefused, 8 * 24);
    t.is(r.leases.refusals.client, 8 * 8 - 8);
    // Many DUIDs behind one MAC: the port's limit.
    let portHeld = 0;
    for (let n = 0; n < 80; n++) {
      const duidMac = `02:00:00:07:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
      const res = await reply(
        t,
        r,
        clientFrame(Msg.Solicit, 0x700 + n, [clientId(duidMac), { kind: 'rapid-commit' }, iaNa(1)], mac),
      );
      if (optionsOf(optionOf(res.m.options, 'ia-na').options, 'ia-address').length > 0) portHeld++;
    }
    t.is(portHeld, 64 - 8, 'the port holds 64 in all');
    t.is(r.leases.refusals.port, 80 - portHeld);
    // Another port is not affected.
    const other = await reply(
      t,
      r,
      clientFrame(
        Msg.Solicit,
        0x800,
        [clientId('02:00:00:00:06:02'), { kind: 'rapid-commit' }, iaNa(1)],
        '02:00:00:00:06:02',
      ),
    );
    t.is(optionsOf(optionOf(other.m.options, 'ia-na').options, 'ia-address').length, 1);
  } finally {
    await r.close();
  }
});
