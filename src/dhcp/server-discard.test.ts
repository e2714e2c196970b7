/**
 * Messages the DHCPv6 server must not answer (RFC 9915 §16, §18.3, §19), one table row each:
 * the frame, the counter it lands in (message kind and outcome) and, for messages the server
 * itself discards, the reason it counts. For every row: handle() writes nothing, nothing is held
 * for a commit, nothing reaches the sink, and no lease changes.
 *
 * Frames are built with the codecs; every one of them is a valid frame (checksums filled), so
 * that each row breaks exactly one rule.
 */

import test from 'ava';
import { Dhcpv6OptionCode, type Dhcpv6MessageRepr } from '../../codecs/dhcpv6.js';
import { MessageKind, messageKindNames, Outcome, outcomeNames } from '../responder/counters.js';
import { fixtureConfig } from '../test-support/responder.js';
import { DiscardReason, type Dhcpv6Request } from './server.js';
import {
  clientId,
  decodeDhcpv6Reply,
  dhcpv6Frame,
  iaNa,
  iaPd,
  innerMessage,
  message,
  messageBytes,
  openTestResponder,
  oro,
  otherServerId,
  peersVariant,
  relayForw,
  ROUTER_MAC,
  serverId,
  type Dhcpv6FrameSpec,
  type TestResponder,
} from '../test-support/dhcp.js';

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
  Reconfigure: 10,
  InformationRequest: 11,
  RelayForw: 12,
  RelayRepl: 13,
} as const;

const kindOf: Record<number, MessageKind> = {
  [Msg.Solicit]: MessageKind.Dhcpv6Solicit,
  [Msg.Request]: MessageKind.Dhcpv6Request,
  [Msg.Confirm]: MessageKind.Dhcpv6Confirm,
  [Msg.Renew]: MessageKind.Dhcpv6Renew,
  [Msg.Rebind]: MessageKind.Dhcpv6Rebind,
  [Msg.Release]: MessageKind.Dhcpv6Release,
  [Msg.Decline]: MessageKind.Dhcpv6Decline,
  [Msg.InformationRequest]: MessageKind.Dhcpv6InformationRequest,
  [Msg.RelayForw]: MessageKind.Dhcpv6RelayForward,
};

const peers = await fixtureConfig('peers');
const stateful = await openTestResponder(peers);
/** The lab network with DHCPv6 off; a second, stateful network keeps a lease table. */
const withSecond = (mode: 'off' | 'stateless') =>
  peersVariant((d) => {
    d.networks[0].dhcpv6 = { mode };
    d.interfaces.push({ name: 'punt1', network: 'other' });
    d.networks.push({
      name: 'other',
      routerMac: '02:00:00:00:00:03',
      prefixes: [{ prefix: '2001:db8:9::/64' }],
      dhcpv6: { mode: 'stateful', addressPools: ['2001:db8:9::100-2001:db8:9::1ff'] },
    });
  });
const off = await openTestResponder(withSecond('off'));
const stateless = await openTestResponder(withSecond('stateless'));
test.after.always(async () => {
  await Promise.all([stateful.close(), off.close(), stateless.close()]);
});

const UNICAST = { dst: 'fe80::ff:fe00:2', dstMac: ROUTER_MAC };
const UNICAST_GLOBAL = { dst: 'fd00::2', dstMac: ROUTER_MAC };

interface Row {
  name: string;
  responder?: TestResponder;
  frame: Uint8Array;
  kind: MessageKind;
  outcome: Outcome;
  /** The server's reason, for Outcome.Discarded. */
  reason?: DiscardReason;
}

function frame(
  type: number,
  options: Parameters<typeof message>[2],
  spec: Omit<Dhcpv6FrameSpec, 'message'> = {},
): Uint8Array {
  return dhcpv6Frame({ ...spec, message: message(type, 0xabcdef, options) });
}

function discarded(
  name: string,
  type: number,
  options: Parameters<typeof message>[2],
  reason: DiscardReason,
  spec: Omit<Dhcpv6FrameSpec, 'message'> = {},
  responder?: TestResponder,
): Row {
  return {
    name,
    responder,
    frame: frame(type, options, spec),
    kind: kindOf[type] as MessageKind,
    outcome: Outcome.Discarded,
    reason,
  };
}

/** `n` Relay-forw messages around `inner`, outermost first. */
function nest(inner: Dhcpv6MessageRepr, n: number): Dhcpv6MessageRepr {
  let m = inner;
  for (let i = n - 1; i >= 0; i--)
    m = relayForw(m, {
      hopCount: i,
      linkAddress: i === n - 1 ? '2001:db8:1::1' : '::',
      peerAddress: i === n - 1 ? 'fe80::1' : `fd00:2::${i + 1}`,
    });
  return m;
}

const RELAY = {
  srcMac: '02:00:00:00:00:04',
  src: 'fd00:2::1',
  dst: 'fd00::2',
  dstMac: ROUTER_MAC,
  srcPort: 547,
  hopLimit: 64,
};
const ia = iaNa(1, '2001:db8:1::150');

const rows: Row[] = [
  // §16: Solicit, Confirm, Rebind: Client ID, no Server ID, multicast.
  discarded('Solicit with a Server ID', Msg.Solicit, [clientId(), serverId, iaNa(1)], DiscardReason.UnexpectedServerId),
  discarded('Confirm with a Server ID', Msg.Confirm, [clientId(), serverId, ia], DiscardReason.UnexpectedServerId),
  discarded('Rebind with a Server ID', Msg.Rebind, [clientId(), serverId, ia], DiscardReason.UnexpectedServerId),
  discarded('Solicit without Client ID', Msg.Solicit, [iaNa(1)], DiscardReason.MissingClientId),
  discarded('Confirm without Client ID', Msg.Confirm, [ia], DiscardReason.MissingClientId),
  discarded('Rebind without Client ID', Msg.Rebind, [ia], DiscardReason.MissingClientId),
  discarded(
    'Solicit to a unicast link-local address',
    Msg.Solicit,
    [clientId(), iaNa(1)],
    DiscardReason.Unicast,
    UNICAST,
  ),
  discarded(
    'Solicit to a unicast global address',
    Msg.Solicit,
    [clientId(), iaNa(1)],
    DiscardReason.Unicast,
    UNICAST_GLOBAL,
  ),
  discarded('Confirm to a unicast address', Msg.Confirm, [clientId(), ia], DiscardReason.Unicast, UNICAST),
  discarded('Rebind to a unicast address', Msg.Rebind, [clientId(), ia], DiscardReason.Unicast, UNICAST),
  discarded(
    'Information-request to a unicast address',
    Msg.InformationRequest,
    [clientId(), oro(23)],
    DiscardReason.Unicast,
    UNICAST,
  ),
  // §16: Request, Renew, Release, Decline: Client ID and our Server ID.
  ...([Msg.Request, Msg.Renew, Msg.Release, Msg.Decline] as const).flatMap((type) => {
    const n = messageKindNames[kindOf[type] as number];
    return [
      discarded(`${n} without Server ID`, type, [clientId(), ia], DiscardReason.MissingServerId),
      discarded(`${n} with another server's ID`, type, [clientId(), otherServerId, ia], DiscardReason.OtherServer),
      discarded(`${n} without Client ID`, type, [serverId, ia], DiscardReason.MissingClientId),
      discarded(`${n} by unicast without Server ID`, type, [clientId(), ia], DiscardReason.MissingServerId, UNICAST),
    ];
  }),
  // §16: Information-request: no IA, Server ID absent or ours.
  discarded(
    'Information-request with an IA_NA',
    Msg.InformationRequest,
    [clientId(), oro(23), iaNa(1)],
    DiscardReason.IaInInformationRequest,
  ),
  discarded(
    'Information-request with an IA_PD',
    Msg.InformationRequest,
    [clientId(), oro(23), iaPd(1)],
    DiscardReason.IaInInformationRequest,
  ),
  discarded(
    'Information-request with an IA_TA',
    Msg.InformationRequest,
    [clientId(), { kind: 'ia-ta', iaid: 1, options: [] }],
    DiscardReason.IaInInformationRequest,
  ),
  discarded(
    "Information-request with another server's ID",
    Msg.InformationRequest,
    [clientId(), otherServerId],
    DiscardReason.OtherServer,
  ),
  // §18.3.3: a Confirm without addresses.
  discarded('Confirm without IA', Msg.Confirm, [clientId()], DiscardReason.NoAddressesToConfirm),
  discarded(
    'Confirm with an IA_NA without addresses',
    Msg.Confirm,
    [clientId(), iaNa(1)],
    DiscardReason.NoAddressesToConfirm,
  ),
  discarded(
    'Confirm with an IA_PD only',
    Msg.Confirm,
    [clientId(), iaPd(1, '2001:db8:100::/56')],
    DiscardReason.NoAddressesToConfirm,
  ),
  // Server messages from a VM (a rogue server, or a reflection): not answered.
  ...([Msg.Advertise, Msg.Reply, Msg.Reconfigure] as const).flatMap((type): Row[] => [
    {
      name: `message type ${type} to port 547`,
      frame: frame(type, [clientId(), serverId]),
      kind: MessageKind.Dhcpv6Other,
      outcome: Outcome.Ignored,
    },
    {
      name: `message type ${type} to port 546`,
      frame: frame(type, [clientId(), serverId], {
        dst: 'fe80::ff:fe00:9',
        dstMac: '02:00:00:00:00:09',
        srcPort: 547,
        dstPort: 546,
      }),
      kind: MessageKind.Dhcpv6Other,
      outcome: Outcome.Ignored,
    },
  ]),
  {
    name: 'a Relay-repl from a VM',
    frame: dhcpv6Frame({
      ...RELAY,
      message: {
        ...(relayForw(message(Msg.Advertise, 1, [clientId(), serverId])) as Extract<
          Dhcpv6MessageRepr,
          { kind: 'relay' }
        >),
        msgType: Msg.RelayRepl,
      },
    }),
    kind: MessageKind.Dhcpv6Other,
    outcome: Outcome.Ignored,
  },
  {
    name: 'a Relay-forw carrying an Advertise',
    frame: dhcpv6Frame({
      ...RELAY,
      message: relayForw(message(Msg.Advertise, 1, [clientId(), serverId]), { linkAddress: '2001:db8:1::1' }),
    }),
    kind: MessageKind.Dhcpv6RelayForward,
    outcome: Outcome.Discarded,
    reason: DiscardReason.NotClientMessage,
  },
  {
    name: 'a Solicit from the unspecified address',
    frame: frame(Msg.Solicit, [clientId(), iaNa(1)], { src: '::' }),
    kind: MessageKind.Dhcpv6Solicit,
    outcome: Outcome.Invalid,
  },
  {
    name: 'an Information-request from a multicast address',
    frame: frame(Msg.InformationRequest, [clientId()], { src: 'ff02::1' }),
    kind: MessageKind.Dhcpv6InformationRequest,
    outcome: Outcome.Invalid,
  },
  {
    name: 'a Solicit to the client port 546',
    frame: frame(Msg.Solicit, [clientId(), iaNa(1)], { dstPort: 546 }),
    kind: MessageKind.Dhcpv6Solicit,
    outcome: Outcome.Ignored,
  },
  // DHCPv6 off on the network; stateless network and stateful requests.
  ...([Msg.Solicit, Msg.InformationRequest] as const).map((type) =>
    discarded(
      `${messageKindNames[kindOf[type] as number]} on a network with DHCPv6 off`,
      type,
      [clientId(), ...(type === Msg.Solicit ? [iaNa(1)] : [])],
      DiscardReason.ServiceOff,
      {},
      off,
    ),
  ),
  discarded(
    'Request on a network with DHCPv6 off',
    Msg.Request,
    [clientId(), serverId, ia],
    DiscardReason.ServiceOff,
    {},
    off,
  ),
  discarded(
    'Solicit on a stateless network',
    Msg.Solicit,
    [clientId(), iaNa(1)],
    DiscardReason.NotStateful,
    {},
    stateless,
  ),
  discarded(
    'Solicit for a prefix on a stateless network',
    Msg.Solicit,
    [clientId(), iaPd(1)],
    DiscardReason.NotStateful,
    {},
    stateless,
  ),
  discarded(
    'Request on a stateless network',
    Msg.Request,
    [clientId(), serverId, ia],
    DiscardReason.NotStateful,
    {},
    stateless,
  ),
  discarded('Confirm on a stateless network', Msg.Confirm, [clientId(), ia], DiscardReason.NotStateful, {}, stateless),
  discarded(
    'Renew on a stateless network',
    Msg.Renew,
    [clientId(), serverId, ia],
    DiscardReason.NotStateful,
    {},
    stateless,
  ),
  discarded('Rebind on a stateless network', Msg.Rebind, [clientId(), ia], DiscardReason.NotStateful, {}, stateless),
  discarded(
    'Release on a stateless network',
    Msg.Release,
    [clientId(), serverId, ia],
    DiscardReason.NotStateful,
    {},
    stateless,
  ),
  discarded(
    'Decline on a stateless network',
    Msg.Decline,
    [clientId(), serverId, ia],
    DiscardReason.NotStateful,
    {},
    stateless,
  ),
  {
    name: 'a relayed Solicit from a link on a network with DHCPv6 off',
    responder: off,
    frame: dhcpv6Frame({
      ...RELAY,
      message: relayForw(message(Msg.Solicit, 1, [clientId(), iaNa(1)]), { linkAddress: '2001:db8:1::1' }),
    }),
    kind: MessageKind.Dhcpv6RelayForward,
    outcome: Outcome.Discarded,
    reason: DiscardReason.ServiceOff,
  },
  // §19: relays.
  {
    name: 'a Relay-forw without a Relay Message',
    frame: dhcpv6Frame({
      ...RELAY,
      message: {
        kind: 'relay',
        msgType: Msg.RelayForw,
        hopCount: 0,
        linkAddress: new Uint8Array(16),
        peerAddress: new Uint8Array(16),
        options: [{ kind: 'interface-id', interfaceId: Uint8Array.from([1]) }],
      },
    }),
    kind: MessageKind.Dhcpv6RelayForward,
    outcome: Outcome.Discarded,
    reason: DiscardReason.RelayWithoutMessage,
  },
  {
    name: 'a Relay-forw from a link of no configured network',
    frame: dhcpv6Frame({
      ...RELAY,
      message: relayForw(message(Msg.Solicit, 1, [clientId(), iaNa(1)]), { linkAddress: '2001:db8:77::1' }),
    }),
    kind: MessageKind.Dhcpv6RelayForward,
    outcome: Outcome.Discarded,
    reason: DiscardReason.NoNetwork,
  },
  {
    name: 'a relayed Solicit with a Server ID',
    frame: dhcpv6Frame({
      ...RELAY,
      message: relayForw(message(Msg.Solicit, 1, [clientId(), serverId, iaNa(1)]), { linkAddress: '2001:db8:1::1' }),
    }),
    kind: MessageKind.Dhcpv6RelayForward,
    outcome: Outcome.Discarded,
    reason: DiscardReason.UnexpectedServerId,
  },
  {
    name: 'relayed 33 times (the codec refuses more than 32 relays as malformed)',
    frame: dhcpv6Frame({ ...RELAY, message: nest(message(Msg.Solicit, 1, [clientId(), iaNa(1)]), 33) }),
    kind: MessageKind.Dhcpv6RelayForward,
    outcome: Outcome.Malformed,
  },
];

for (const row of rows) {
  test(`not answered: ${row.name}`, (t) => {
    const r = row.responder ?? stateful;
    const d = r.dispatcher;
    const counted = d.counters.total(row.kind, row.outcome);
    const seen = d.counters.seen(row.kind);
    const reasons = new Map(r.server.discards);
    const leases = r.leases.counts();
    const sent = r.sent.length;
    const held = d.heldReplies;
    const n = d.handle(row.frame, 0, row.frame.length, 0);
    t.is(n, 0, 'no reply');
    t.is(d.heldReplies, held, 'nothing held for a commit');
    t.is(r.sent.length, sent, 'nothing sent');
    t.is(
      d.counters.total(row.kind, row.outcome) - counted,
      1,
      `counted as ${messageKindNames[row.kind]}/${outcomeNames[row.outcome]}`,
    );
    t.is(d.counters.seen(row.kind) - seen, 1, 'counted once');
    const changed = [...r.server.discards]
      .filter(([k, v]) => (reasons.get(k) ?? 0) !== v)
      .map(([k, v]) => [k, v - (reasons.get(k) ?? 0)]);
    if (row.outcome === Outcome.Discarded) {
      t.deepEqual(changed, [[row.reason, 1]], 'the server counted the reason');
      t.is<string, string>(r.server.reply.discardReason, row.reason ?? '');
    } else {
      t.deepEqual(changed, [], 'never reached the server');
    }
    t.deepEqual(r.leases.counts(), leases, 'no lease changed');
  });
}

// The rules above, inverted: the same messages sent as RFC 9915 allows are answered.
test('the rows above are answered once the one broken rule is mended', (t) => {
  const answered = (name: string, f: Uint8Array, r: TestResponder = stateful): void => {
    const n = r.dispatcher.handle(f, 0, f.length, 0);
    const held = r.dispatcher.heldReplies > 0;
    t.true(n > 0 || held, `${name}: answered`);
  };
  answered('Solicit', frame(Msg.Solicit, [clientId(), iaNa(1)]));
  answered('Confirm', frame(Msg.Confirm, [clientId(), ia]));
  answered('Information-request to ff02::1:2', frame(Msg.InformationRequest, [clientId(), oro(23)]));
  answered('Information-request with our Server ID', frame(Msg.InformationRequest, [clientId(), serverId]));
  answered(
    'Request by unicast (RFC 9915: accepted)',
    frame(Msg.Request, [clientId('02:00:00:00:00:a1'), serverId, iaNa(1)], {
      ...UNICAST_GLOBAL,
      srcMac: '02:00:00:00:00:a1',
    }),
  );
  answered('Renew by unicast', frame(Msg.Renew, [clientId(), serverId, ia], UNICAST));
  answered(
    'Information-request on a stateless network',
    frame(Msg.InformationRequest, [clientId(), oro(23)]),
    stateless,
  );
  answered(
    'relayed Solicit (relays send unicast)',
    dhcpv6Frame({
      ...RELAY,
      message: relayForw(message(Msg.Solicit, 1, [clientId(), iaNa(1)]), { linkAddress: '2001:db8:1::1' }),
    }),
  );
});

test('relayed 32 times: answered with 32 nested Relay-repl', (t) => {
  const f = dhcpv6Frame({
    ...RELAY,
    message: nest(message(Msg.Solicit, 0x32, [clientId(), oro(Dhcpv6OptionCode.DnsServers), iaNa(1)]), 32),
  });
  const n = stateful.dispatcher.handle(f, 0, f.length, 0);
  t.true(n > 0);
  const rep = decodeDhcpv6Reply(stateful.dispatcher.tx.slice(0, n));
  let m = rep.message;
  let depth = 0;
  while (m.kind === 'relay') {
    t.is(m.msgType, Msg.RelayRepl);
    t.is(m.hopCount, depth);
    depth++;
    const inner = m.options.find((o) => o.kind === 'relay-message');
    if (inner?.kind !== 'relay-message') throw new Error('no Relay Message');
    m = inner.message;
  }
  t.is(depth, 32);
  t.is(innerMessage(rep.message).msgType, Msg.Advertise);
  t.is(innerMessage(rep.message).transactionId, 0x32);
});

test('the server itself refuses more than 32 relays (for callers that skip the codec)', (t) => {
  const bytes = messageBytes(nest(message(Msg.Solicit, 1, [clientId(), iaNa(1)]), 33));
  const req: Dhcpv6Request = {
    buf: bytes,
    off: 0,
    len: bytes.length,
    network: 0,
    mac: new Uint8Array(6),
    macOff: 0,
    unicast: true,
    source: new Uint8Array(16),
    sourceOff: 0,
  };
  const before = stateful.server.discards.get(DiscardReason.RelayTooDeep) ?? 0;
  const out = new Uint8Array(65536);
  const reply = stateful.server.handle(req, out, 0);
  t.is(reply.length, 0);
  t.is(reply.discardReason, DiscardReason.RelayTooDeep);
  t.is((stateful.server.discards.get(DiscardReason.RelayTooDeep) ?? 0) - before, 1);
  t.false(reply.awaitsCommit);
});
