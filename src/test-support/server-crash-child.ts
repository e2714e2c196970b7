/**
 * The child process of the DHCPv6 server's crash test (server-crash.test.ts): it builds the whole
 * responder with openResponder from a configuration file and a lease journal, then replays a load
 * of fresh clients (distinct DUID-LLs and source MACs) through `dispatcher.handle`, turn after
 * turn: each client sends a Solicit, and a Request for the address it was advertised; now and then
 * an earlier client renews or releases. It prints each Reply the dispatcher actually sends through
 * its sink (that is, after the lease journal's commit), one line each, as soon as it is sent:
 *
 *   G <duid hex> <address hex>     a Request acknowledged: the client holds the address
 *   N <duid hex> <address hex>     a Renew acknowledged
 *   r <duid hex> <address hex>     a Release is about to be handed to the server (printed before)
 *   R <duid hex> <address hex>     a Release acknowledged
 *
 * It runs until it is killed. Usage:
 *   node --import=tsx src/test-support/server-crash-child.ts CONFIG LEASEFILE RUN
 * (RUN, 0-255, keeps the clients of successive runs apart).
 */

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '../../codecs/bytes.js';
import { loadConfig } from '../config/index.js';
import { openResponder } from '../responder/responder.js';
import {
  clientId,
  decodeDhcpv6Reply,
  dhcpv6Frame,
  iaNa,
  innerMessage,
  ipv6,
  message,
  optionOf,
  optionsOf,
  serverId,
} from './dhcp.js';

/** The MAC of client `n` of run `run`: 02:5e:RR:nn:nn:nn (never the router's 02:00:…). */
export function crashClientMac(run: number, n: number): string {
  const b = [0x02, 0x5e, run & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Hex of the DUID-LL of a MAC given as text. */
export function duidLlHex(mac: string): string {
  return `00030001${mac.replaceAll(':', '')}`;
}

const Msg = { Solicit: 1, Advertise: 2, Request: 3, Renew: 5, Reply: 7, Release: 8 } as const;

async function main(): Promise<void> {
  const [configPath, leaseFile, runText] = process.argv.slice(2);
  const run = Number(runText);
  if (configPath === undefined || leaseFile === undefined || !Number.isInteger(run) || run < 0 || run > 255) {
    throw new Error('usage: server-crash-child.ts CONFIG LEASEFILE RUN');
  }
  const config = await loadConfig(configPath);
  /** Transaction id -> what the Reply acknowledges. */
  const pending = new Map<number, { kind: 'G' | 'N' | 'R'; duid: string }>();
  const acknowledged: { mac: string; address: string }[] = [];
  /** Transaction id of a Release -> the address it gives back. */
  const released = new Map<number, string>();
  const responder = await openResponder(config, {
    leaseFile,
    duidFile: join(dirname(leaseFile), 'server-duid'),
    onWarning: (m) => process.stderr.write(`${m}\n`),
    onCommitError: (e) => {
      process.stderr.write(`commit failed: ${String(e)}\n`);
      process.exit(1);
    },
    sink: (_if, frame, off, len) => {
      const m = innerMessage(decodeDhcpv6Reply(frame.slice(off, off + len)).message);
      const p = pending.get(m.transactionId);
      if (p === undefined || m.msgType !== Msg.Reply)
        throw new Error(`unexpected frame sent: type ${m.msgType}, xid ${m.transactionId}`);
      pending.delete(m.transactionId);
      if (p.kind === 'R') {
        process.stdout.write(`R ${p.duid} ${released.get(m.transactionId) ?? ''}\n`);
        return;
      }
      const ia = optionOf(m.options, 'ia-na');
      const addresses = optionsOf(ia.options, 'ia-address').filter((a) => a.validLifetime > 0);
      if (addresses.length !== 1)
        throw new Error(`${p.kind} for ${p.duid}: ${addresses.length} addresses in the Reply`);
      const a = toHex((addresses[0] as { address: Uint8Array }).address);
      // Synchronous on pipes (Linux): once written, the line survives a SIGKILL.
      process.stdout.write(`${p.kind} ${p.duid} ${a}\n`);
      if (p.kind === 'G') acknowledged.push({ mac: macOfDuid(p.duid), address: a });
    },
  });
  const d = responder.dispatcher;
  let xid = (run << 16) & 0xffffff;
  const nextXid = (): number => (xid = (xid + 1) & 0xffffff);
  const handle = (frame: Uint8Array): number => d.handle(frame, 0, frame.length, 0);
  for (let n = 0, turn = 0; ; turn++) {
    const batch = 1 + (turn % 9);
    for (let k = 0; k < batch; k++, n++) {
      const mac = crashClientMac(run, n);
      const solicitXid = nextXid();
      const len = handle(
        dhcpv6Frame({ srcMac: mac, message: message(Msg.Solicit, solicitXid, [clientId(mac), iaNa(1)]) }),
      );
      if (len === 0) throw new Error(`no Advertise for ${mac}: ${responder.dhcpv6.reply.discardReason}`);
      const adv = innerMessage(decodeDhcpv6Reply(d.tx.slice(0, len)).message);
      const offered = optionsOf(optionOf(adv.options, 'ia-na').options, 'ia-address')[0];
      if (adv.msgType !== Msg.Advertise || offered === undefined) throw new Error(`no address advertised to ${mac}`);
      const requestXid = nextXid();
      pending.set(requestXid, { kind: 'G', duid: duidLlHex(mac) });
      const held = handle(
        dhcpv6Frame({
          srcMac: mac,
          message: message(Msg.Request, requestXid, [clientId(mac), serverId, iaNa(1, ipv6(offered.address))]),
        }),
      );
      if (held !== 0) throw new Error('a Request answered before its commit');
    }
    // Now and then an earlier client renews, or releases its address.
    const earlier = acknowledged[(turn * 7919) % Math.max(1, acknowledged.length)];
    if (earlier !== undefined && turn % 3 === 1) {
      const renewXid = nextXid();
      pending.set(renewXid, { kind: 'N', duid: duidLlHex(earlier.mac) });
      handle(
        dhcpv6Frame({
          srcMac: earlier.mac,
          message: message(Msg.Renew, renewXid, [
            clientId(earlier.mac),
            serverId,
            iaNa(1, formatHexAddress(earlier.address)),
          ]),
        }),
      );
    } else if (earlier !== undefined && turn % 5 === 4) {
      acknowledged.splice(acknowledged.indexOf(earlier), 1);
      const releaseXid = nextXid();
      pending.set(releaseXid, { kind: 'R', duid: duidLlHex(earlier.mac) });
      released.set(releaseXid, earlier.address);
      process.stdout.write(`r ${duidLlHex(earlier.mac)} ${earlier.address}\n`);
      handle(
        dhcpv6Frame({
          srcMac: earlier.mac,
          message: message(Msg.Release, releaseXid, [
            clientId(earlier.mac),
            serverId,
            iaNa(1, formatHexAddress(earlier.address)),
          ]),
        }),
      );
    }
    // Let the group commit land and the held Replies go out before the next turn.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function macOfDuid(duidHex: string): string {
  return (duidHex.slice(8).match(/../g) ?? []).join(':');
}

function formatHexAddress(h: string): string {
  return (h.match(/..../g) ?? []).join(':');
}

// The test imports the helpers above; only a run as the entry point starts the load.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
