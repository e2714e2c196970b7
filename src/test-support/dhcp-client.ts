/**
 * DHCPv6 pool clients for the end-to-end tests, run inside the VM's namespace:
 *
 *     node --import=tsx src/test-support/dhcp-client.ts IFACE FIRST COUNT [WAIT_MS]
 *
 * Clients FIRST to FIRST+COUNT-1, each with a MAC (and DUID-LL) of its own that no port of the
 * configuration has, so each gets an address from a pool: all Solicit at once, then each that got
 * an Advertise sends a Request for the advertised address. Frames are injected and captured with
 * libpcap (promiscuous: the replies go to the clients' own MACs). Every message is sent twice at
 * most, WAIT_MS apart (default 1000). One JSON line per client on standard output:
 * `{"client":N,"duid":"hex","advertised":"addr"|null,"replied":"addr"|null}`, where `replied` is
 * the address of a Reply that grants it (valid lifetime above 0), or null when none came.
 *
 * Test code only: nothing in src/ imports it.
 */

import { formatIpv6, formatMac } from '../../codecs/bytes.js';
import type { Dhcpv6OptionRepr } from '../../codecs/dhcpv6.js';
import type { DuidRepr } from '../../codecs/duid.js';
import { loadPcap } from '../system/pcap.js';
import { clientId, decodeDhcpv6Reply, dhcpv6Frame, duidHex, duidLl, innerMessage, message, optionsOf } from './dhcp.js';

const MessageType = { Solicit: 1, Advertise: 2, Request: 3, Reply: 7 } as const;

interface Client {
  n: number;
  mac: string;
  linkLocal: string;
  transactionId: number;
  serverId: DuidRepr | null;
  advertised: Uint8Array | null;
  replied: Uint8Array | null;
}

function clientOf(n: number): Client {
  const hi = (n >> 8) & 0xff;
  const lo = n & 0xff;
  const mac = formatMac(Uint8Array.from([2, 0, 0, 0xb0, hi, lo]), 0);
  return {
    n,
    mac,
    linkLocal: `fe80::b0:${n.toString(16)}`,
    transactionId: (n * 7919) & 0xffffff,
    serverId: null,
    advertised: null,
    replied: null,
  };
}

/** The first address of the message's IA_NA with a valid lifetime above 0, or null. */
function grantedAddress(options: readonly Dhcpv6OptionRepr[]): Uint8Array | null {
  for (const ia of optionsOf(options, 'ia-na')) {
    for (const a of optionsOf(ia.options, 'ia-address')) if (a.validLifetime > 0) return a.address;
  }
  return null;
}

const [iface, firstText, countText, waitText] = process.argv.slice(2);
if (iface === undefined || firstText === undefined || countText === undefined) {
  process.stderr.write('usage: dhcp-client.ts IFACE FIRST COUNT [WAIT_MS]\n');
  process.exit(2);
}
const first = Number(firstText);
const count = Number(countText);
const waitMs = Number(waitText ?? 1000);
const clients = Array.from({ length: count }, (_, i) => clientOf(first + i));
const byTransaction = new Map(clients.map((c) => [c.transactionId, c]));

const capture = loadPcap().createSession(iface, { filter: 'ip6 and udp dst port 546', buffer_timeout: 0 });
capture.on('packet', (raw: { buf: Buffer; header: Buffer }) => {
  const caplen = raw.header.readUInt32LE(8);
  let reply;
  try {
    reply = decodeDhcpv6Reply(Uint8Array.from(raw.buf.subarray(0, caplen)));
  } catch {
    return;
  }
  const m = innerMessage(reply.message);
  const c = byTransaction.get(m.transactionId);
  if (c === undefined) return;
  if (m.msgType === MessageType.Advertise && c.advertised === null) {
    const server = optionsOf(m.options, 'server-id')[0];
    c.advertised = grantedAddress(m.options);
    c.serverId = server?.duid ?? null;
  } else if (m.msgType === MessageType.Reply && c.replied === null) {
    c.replied = grantedAddress(m.options);
  }
});

function send(c: Client, msgType: number, options: Dhcpv6OptionRepr[]): void {
  const frame = dhcpv6Frame({
    srcMac: c.mac,
    src: c.linkLocal,
    message: message(msgType, c.transactionId, [clientId(c.mac), { kind: 'elapsed-time', elapsedTime: 0 }, ...options]),
  });
  capture.inject(Buffer.from(frame));
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends to every client that `pending` selects, twice at most, waiting `waitMs` after each round. */
async function rounds(pending: (c: Client) => boolean, sendOne: (c: Client) => void): Promise<void> {
  for (let round = 0; round < 2; round++) {
    const left = clients.filter(pending);
    if (left.length === 0) return;
    for (const c of left) sendOne(c);
    const end = Date.now() + waitMs;
    while (Date.now() < end && clients.some(pending)) await pause(20);
  }
}

await rounds(
  (c) => c.advertised === null,
  (c) => send(c, MessageType.Solicit, [{ kind: 'ia-na', iaid: 1, t1: 0, t2: 0, options: [] }]),
);
await rounds(
  (c) => c.advertised !== null && c.serverId !== null && c.replied === null,
  (c) =>
    send(c, MessageType.Request, [
      { kind: 'server-id', duid: c.serverId as DuidRepr },
      {
        kind: 'ia-na',
        iaid: 1,
        t1: 0,
        t2: 0,
        options: [
          {
            kind: 'ia-address',
            address: c.advertised as Uint8Array,
            preferredLifetime: 0,
            validLifetime: 0,
            options: [],
          },
        ],
      },
    ]),
);
for (const c of clients) {
  process.stdout.write(
    JSON.stringify({
      client: c.n,
      duid: duidHex(duidLl(c.mac)),
      advertised: c.advertised && formatIpv6(c.advertised, 0),
      replied: c.replied && formatIpv6(c.replied, 0),
    }) + '\n',
  );
}
capture.close();
process.exit(0);
