/**
 * Test helpers for the DHCPv6 server: client frames built with the codecs (Ethernet, optional
 * 802.1Q tag, IPv6, UDP with its checksum filled, a DHCPv6 message from its Repr), a responder
 * opened on a fresh journal whose sink records every frame, one request/answer exchange that
 * also waits for the lease commit, and replies decoded into plain values with the codecs.
 *
 * Test code only: nothing in src/ or codecs/ imports it.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { readFileSync } from 'node:fs';
import { formatIpv6, formatMac, fromHex, parseIpv6, parseMac, toHex, u16 } from '../../codecs/bytes.js';
import { emitEthernet, NO_VLAN } from '../../codecs/ethernet.js';
import {
  emitDhcpv6Message,
  dhcpv6MessageLength,
  parseDhcpv6Message,
  type Dhcpv6MessageRepr,
  type Dhcpv6OptionRepr,
} from '../../codecs/dhcpv6.js';
import type { DuidRepr } from '../../codecs/duid.js';
import { FrameDecoder } from '../../codecs/frame.js';
import { emitIpv6Fixed, IpProtocol } from '../../codecs/ipv6.js';
import { Status } from '../../codecs/status.js';
import { emitUdpHeader, fillUdpChecksum, UdpPort } from '../../codecs/udp.js';
import { fixturesDirectory } from '../../fixtures/paths.js';
import { parseConfig, type Punt6Config } from '../config/index.js';
import { Dispatcher } from '../responder/dispatcher.js';
import { buildRuntime } from '../responder/from-config.js';
import { openResponder, poolsOf, staticBindingsOf, type Responder } from '../responder/responder.js';
import {
  encodeRecord,
  LeaseType,
  nodeJournalFs,
  RECORD_LENGTH,
  RecordKind,
  type JournalFs,
  type LeaseRecord,
} from '../dhcp/journal.js';
import { LeaseTable } from '../dhcp/leases.js';
import { Dhcpv6Server, type Dhcpv6ServerOptions } from '../dhcp/server.js';

export const CLIENT_MAC = '02:00:00:00:00:01';
export const ROUTER_MAC = '02:00:00:00:00:02';
export const PORT_MAC = '02:00:00:00:00:11';
export const CLIENT_LL = 'fe80::ff:fe00:1';
export const ROUTER_LL = 'fe80::ff:fe00:2';
export const ALL_DHCP = 'ff02::1:2';
/** The server DUID of fixtures/config/peers.yaml (and of the kea peer in the captures). */
export const SERVER_DUID_HEX = '00030001020000000002';

// ---- Configurations ----

const peersText = readFileSync(join(fixturesDirectory, 'config', 'peers.yaml'), 'utf8');

/** The parsed YAML document of fixtures/config/peers.yaml, to change and turn into a configuration. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests change it freely, breaking its shape on purpose
export type YamlDocument = any;

/**
 * fixtures/config/peers.yaml changed by `edit` (given the YAML document as plain data), as a
 * configuration (state directory: the temporary directory).
 */
export function peersVariant(edit: (doc: YamlDocument) => void = () => {}): Punt6Config {
  const doc: YamlDocument = parseYaml(peersText);
  edit(doc);
  return parseConfig(stringifyYaml(doc), 'test.yaml', tmpdir());
}

// ---- Messages ----

export function duidLl(mac: string): DuidRepr {
  return { kind: 'll', hardwareType: 1, linkLayerAddress: parseMac(mac) };
}

export function duidHex(r: DuidRepr): string {
  const b = new Uint8Array(200);
  const n = emitDhcpv6Message(
    { kind: 'message', msgType: 1, transactionId: 0, options: [{ kind: 'client-id', duid: r }] },
    b,
    0,
  );
  return toHex(b, 8, n - 8);
}

export const serverId: Dhcpv6OptionRepr = {
  kind: 'server-id',
  duid: { kind: 'll', hardwareType: 1, linkLayerAddress: parseMac(ROUTER_MAC) },
};
export const otherServerId: Dhcpv6OptionRepr = {
  kind: 'server-id',
  duid: { kind: 'll', hardwareType: 1, linkLayerAddress: parseMac('02:00:00:00:00:99') },
};

export function clientId(mac: string = CLIENT_MAC): Dhcpv6OptionRepr {
  return { kind: 'client-id', duid: duidLl(mac) };
}

export function oro(...codes: number[]): Dhcpv6OptionRepr {
  return { kind: 'option-request', codes };
}

export function iaNa(iaid: number, ...addresses: string[]): Dhcpv6OptionRepr {
  return {
    kind: 'ia-na',
    iaid,
    t1: 0,
    t2: 0,
    options: addresses.map((a) => ({
      kind: 'ia-address',
      address: parseIpv6(a),
      preferredLifetime: 0,
      validLifetime: 0,
      options: [],
    })),
  };
}

/** An IA_PD; prefixes as "2001:db8::/56". */
export function iaPd(iaid: number, ...prefixes: string[]): Dhcpv6OptionRepr {
  return {
    kind: 'ia-pd',
    iaid,
    t1: 0,
    t2: 0,
    options: prefixes.map((p) => {
      const [a, l] = p.split('/');
      return {
        kind: 'ia-prefix',
        preferredLifetime: 0,
        validLifetime: 0,
        prefixLength: Number(l),
        prefix: parseIpv6(a as string),
        options: [],
      };
    }),
  };
}

export function message(msgType: number, transactionId: number, options: Dhcpv6OptionRepr[]): Dhcpv6MessageRepr {
  return { kind: 'message', msgType, transactionId, options };
}

export function relayForw(
  inner: Dhcpv6MessageRepr,
  o: { hopCount?: number; linkAddress?: string; peerAddress?: string; options?: Dhcpv6OptionRepr[] } = {},
): Dhcpv6MessageRepr {
  return {
    kind: 'relay',
    msgType: 12,
    hopCount: o.hopCount ?? 0,
    linkAddress: parseIpv6(o.linkAddress ?? '::'),
    peerAddress: parseIpv6(o.peerAddress ?? CLIENT_LL),
    options: [...(o.options ?? []), { kind: 'relay-message', message: inner }],
  };
}

export function messageBytes(r: Dhcpv6MessageRepr): Uint8Array {
  const b = new Uint8Array(dhcpv6MessageLength(r));
  emitDhcpv6Message(r, b, 0);
  return b;
}

// ---- Frames ----

export interface Dhcpv6FrameSpec {
  srcMac?: string;
  dstMac?: string;
  vlan?: number;
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  hopLimit?: number;
  /** The DHCPv6 message (a Repr, or its bytes as they are). */
  message: Dhcpv6MessageRepr | Uint8Array;
}

/**
 * An Ethernet frame carrying one UDP datagram with the message; defaults: from the client
 * (02:00:00:00:00:01, fe80::ff:fe00:1, port 546) to All_DHCP_Relay_Agents_and_Servers (ff02::1:2,
 * 33:33:00:01:00:02, port 547). The UDP checksum is filled.
 */
export function dhcpv6Frame(s: Dhcpv6FrameSpec): Uint8Array {
  const payload = s.message instanceof Uint8Array ? s.message : messageBytes(s.message);
  const dst = s.dst ?? ALL_DHCP;
  const dstBytes = parseIpv6(dst);
  // A group's MAC is 33:33 and the group's low 32 bits (RFC 2464 §7).
  const dstMac =
    s.dstMac ??
    (dstBytes[0] === 0xff ? formatMac(Uint8Array.from([0x33, 0x33, ...dstBytes.subarray(12, 16)]), 0) : ROUTER_MAC);
  const ethLen = s.vlan === undefined ? 14 : 18;
  const b = new Uint8Array(ethLen + 40 + 8 + payload.length);
  emitEthernet(
    {
      destination: parseMac(dstMac),
      source: parseMac(s.srcMac ?? CLIENT_MAC),
      etherType: 0x86dd,
      vlanId: s.vlan ?? NO_VLAN,
      vlanPcp: 0,
    },
    b,
    0,
  );
  const ip = ethLen;
  emitIpv6Fixed(b, ip, 8 + payload.length, IpProtocol.Udp, s.hopLimit ?? 1);
  parseIpv6(s.src ?? CLIENT_LL, b, ip + 8);
  b.set(dstBytes, ip + 24);
  const udp = ip + 40;
  emitUdpHeader(
    {
      sourcePort: s.srcPort ?? UdpPort.Dhcpv6Client,
      destinationPort: s.dstPort ?? UdpPort.Dhcpv6Server,
      payloadLength: payload.length,
    },
    b,
    udp,
  );
  b.set(payload, udp + 8);
  fillUdpChecksum(b, ip + 8, ip + 24, udp);
  return b;
}

// ---- Replies ----

/** A DHCPv6 reply frame as plain values. */
export interface Dhcpv6Reply {
  /** FrameDecoder status with checksum verification on (Status.Ok = 0). */
  status: number;
  ethDst: string;
  ethSrc: string;
  vlan: number;
  hopLimit: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  message: Dhcpv6MessageRepr;
  bytes: Uint8Array;
}

export function decodeDhcpv6Reply(bytes: Uint8Array): Dhcpv6Reply {
  const d = new FrameDecoder();
  const status = d.decode(bytes, 0, bytes.length);
  if (d.ipv6Offset < 0 || d.dhcpv6Type < 0) throw new Error(`not a DHCPv6 frame (status ${status})`);
  const ip = d.ipv6Offset;
  const udp = ip + 40;
  return {
    status,
    ethDst: formatMac(bytes, 0),
    ethSrc: formatMac(bytes, 6),
    vlan: d.vlanId,
    hopLimit: bytes[ip + 7] as number,
    src: formatIpv6(bytes, ip + 8),
    dst: formatIpv6(bytes, ip + 24),
    srcPort: u16(bytes, udp),
    dstPort: u16(bytes, udp + 2),
    message: parseDhcpv6Message(bytes, d.dhcpv6Offset, d.dhcpv6Length),
    bytes,
  };
}

export const STATUS_OK = Status.Ok;

type OptionOfKind<K extends Dhcpv6OptionRepr['kind']> = Extract<Dhcpv6OptionRepr, { kind: K }>;

/** Every option of `kind` in a list. */
export function optionsOf<K extends Dhcpv6OptionRepr['kind']>(
  options: readonly Dhcpv6OptionRepr[],
  kind: K,
): OptionOfKind<K>[] {
  return options.filter((o): o is OptionOfKind<K> => o.kind === kind);
}

/** The one option of `kind` (throws when absent or repeated). */
export function optionOf<K extends Dhcpv6OptionRepr['kind']>(
  options: readonly Dhcpv6OptionRepr[],
  kind: K,
): OptionOfKind<K> {
  const found = optionsOf(options, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} option, found ${found.length}`);
  return found[0] as OptionOfKind<K>;
}

/** The client/server message of a reply, unwrapping Relay-repl messages. */
export function innerMessage(m: Dhcpv6MessageRepr): Extract<Dhcpv6MessageRepr, { kind: 'message' }> {
  let cur = m;
  while (cur.kind === 'relay') cur = optionOf(cur.options, 'relay-message').message;
  return cur;
}

/** The option codes of a message, in order. */
export function codesOf(options: readonly Dhcpv6OptionRepr[]): string[] {
  return options.map((o) => o.kind);
}

export function ipv6(b: Uint8Array): string {
  return formatIpv6(b, 0);
}

export function duidOf(option: Dhcpv6OptionRepr | undefined): string {
  if (option === undefined || (option.kind !== 'client-id' && option.kind !== 'server-id'))
    throw new Error('not a DUID option');
  return duidHex(option.duid);
}

// ---- A responder under test ----

export interface TestResponder {
  responder: Responder;
  dispatcher: Dispatcher;
  server: Dhcpv6Server;
  leases: LeaseTable;
  /** Every frame the sink received (copies), in order. */
  sent: Uint8Array[];
  clock: { now: number };
  leaseFile: string;
  /**
   * Hands one frame to the dispatcher; the reply written by handle() or, for a reply held for
   * its lease commit, the one the sink got after flush(). Undefined: no reply. `immediate` tells
   * which way it came.
   */
  exchange(frame: Uint8Array, ifIndex?: number): Promise<{ reply: Uint8Array | undefined; immediate: boolean }>;
  close(): Promise<void>;
}

function testResponder(
  responder: Responder,
  sent: Uint8Array[],
  clock: { now: number },
  leaseFile: string,
  dir: string,
): TestResponder {
  if (responder.leases === null) throw new Error('test responder: no stateful network');
  const dispatcher = responder.dispatcher;
  return {
    responder,
    dispatcher,
    server: responder.dhcpv6,
    leases: responder.leases,
    sent,
    clock,
    leaseFile,
    async exchange(frame, ifIndex = 0) {
      const before = sent.length;
      const n = dispatcher.handle(frame, 0, frame.length, ifIndex);
      if (n > 0) return { reply: dispatcher.tx.slice(0, n), immediate: true };
      await dispatcher.flush();
      if (sent.length > before + 1) throw new Error(`${sent.length - before} frames sent for one request`);
      return { reply: sent[before], immediate: false };
    },
    async close() {
      await responder.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A responder from `config` (openResponder) on a journal in a fresh temporary directory. */
export async function openTestResponder(config: Punt6Config, start = 1_800_000_000_000): Promise<TestResponder> {
  const dir = await mkdtemp(join(tmpdir(), 'punt6-dhcp-'));
  const clock = { now: start };
  const sent: Uint8Array[] = [];
  const leaseFile = join(dir, 'leases.journal');
  const responder = await openResponder(config, {
    leaseFile,
    duidFile: join(dir, 'server-duid'),
    now: () => clock.now,
    seed: 1,
    sink: (_if, frame, off, len) => sent.push(frame.slice(off, off + len)),
  });
  return testResponder(responder, sent, clock, leaseFile, dir);
}

/**
 * A dispatcher with a DHCPv6 server built from `config` and `options` (for server settings that
 * openResponder does not take from the configuration, such as SOL_MAX_RT), on a fresh journal.
 */
export async function openServerWith(
  config: Punt6Config,
  options: Partial<Dhcpv6ServerOptions>,
  extra: { fs?: JournalFs; onCommitError?: (error: unknown, replies: number) => void; start?: number } = {},
): Promise<TestResponder> {
  const start = extra.start ?? 1_800_000_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'punt6-dhcp-'));
  const clock = { now: start };
  const sent: Uint8Array[] = [];
  const leaseFile = join(dir, 'leases.journal');
  const leases = await LeaseTable.open(leaseFile, {
    pools: poolsOf(config),
    staticBindings: staticBindingsOf(config),
    fs: extra.fs,
  });
  const server = new Dhcpv6Server({
    networks: config.networks,
    serverDuid: config.server.duid ?? fromHex(SERVER_DUID_HEX),
    leases,
    now: () => clock.now,
    ...options,
  });
  const dispatcher = new Dispatcher(buildRuntime(config), {
    now: () => clock.now,
    seed: 1,
    dhcpv6: server,
    sink: (_if, frame, off, len) => sent.push(frame.slice(off, off + len)),
    onCommitError: extra.onCommitError,
  });
  const responder: Responder = {
    config,
    dispatcher,
    dhcpv6: server,
    leases,
    leaseFile,
    duidFile: null,
    async close() {
      await dispatcher.flush();
      await leases.close().catch(() => undefined);
    },
  };
  return testResponder(responder, sent, clock, leaseFile, dir);
}

/**
 * The real file system with a counter of fsyncs of journal files, and a switch that makes every
 * later fsync fail (as a full or failing disk would).
 */
export function countingFs(): { fs: JournalFs; syncs: { count: number; fail: boolean } } {
  const syncs = { count: 0, fail: false };
  const fs: JournalFs = {
    ...nodeJournalFs,
    async open(path, flags) {
      const fh = await nodeJournalFs.open(path, flags);
      return {
        write: (buffer, offset, length, position) => fh.write(buffer, offset, length, position),
        sync: async () => {
          syncs.count++;
          if (syncs.fail) throw Object.assign(new Error('EIO: simulated fsync failure'), { code: 'EIO' });
          await fh.sync();
        },
        truncate: (length) => fh.truncate(length),
        close: () => fh.close(),
      };
    },
  };
  return { fs, syncs };
}

/** A Grant of 2001:db8:1::1000 + n to a client of its own, as the journal stores it. */
export function journalGrant(n: number): LeaseRecord {
  return {
    kind: RecordKind.Grant,
    leaseType: LeaseType.Address,
    prefixLength: 128,
    address: parseIpv6(`2001:db8:1::${(0x1000 + n).toString(16)}`),
    iaid: 1,
    duid: Uint8Array.from([0, 3, 0, 1, 2, 0, 0, 0, 0xa0, n]),
    validLifetime: 60,
    preferredLifetime: 30,
    expiresAt: Date.now() + 60_000,
    networkId: 0,
  };
}

/**
 * A journal corrupt in the middle: a good record, a bad one, then a good record of a later
 * commit batch, so the bad record cannot be a torn last batch and must never be cut off.
 */
export function corruptJournal(): Buffer {
  const journal = Buffer.alloc(3 * RECORD_LENGTH);
  encodeRecord(journalGrant(1), 1, 0, 1, journal, 0);
  journal.fill(0x5a, RECORD_LENGTH, 2 * RECORD_LENGTH);
  encodeRecord(journalGrant(3), 3, 0, 1, journal, 2 * RECORD_LENGTH);
  return journal;
}
