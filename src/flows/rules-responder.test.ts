/**
 * The rules OVS runs and the userspace responder must agree: for random models (networks, a
 * router each, ports with and without addresses, SLAAC on or off) and random Neighbor
 * Solicitations from the VM ports, an NS the rules answer in OVS gets from the responder the same
 * NA (MACs, addresses, flags, target link-layer address), and an NS the rules leave to the bridge
 * is not answered by the responder either. What the rules punt is the responder's to decide.
 */

import test from 'ava';
import fc from 'fast-check';
import { parseConfig, type Punt6Config } from '../config/index.js';
import { openResponder } from '../responder/responder.js';
import { ip6, mac, neighborSolicitation } from '../test-support/frames.js';
import { evaluate, type Frame } from '../test-support/openflow.js';
import { generateRules, type PortBindings } from './rules.js';

interface Model {
  networks: { routerAddresses: number; slaac: boolean; ports: number[] }[];
}

const model: fc.Arbitrary<Model> = fc.record({
  networks: fc.array(
    fc.record({
      routerAddresses: fc.integer({ min: 0, max: 2 }),
      slaac: fc.boolean(),
      // Per port: how many static addresses it has.
      ports: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 5 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
const portMac = (n: number, p: number): string => `02:00:00:${hex2(n)}:${hex2(p)}:01`;
const routerMac = (n: number): string => `02:00:00:${hex2(n)}:ff:fe`;
const staticAddress = (n: number, p: number, a: number): string => `2001:db8:${n}::${(0x100 + p * 4 + a).toString(16)}`;

function configOf(m: Model): Punt6Config {
  const tagged = m.networks.length > 1;
  let y = `interfaces:\n  - name: punt0\n${tagged ? '    vlans:\n' : '    network: net0\n'}`;
  if (tagged) m.networks.forEach((_, n) => (y += `      ${100 + n}: net${n}\n`));
  y += 'networks:\n';
  m.networks.forEach((net, n) => {
    const routers = Array.from({ length: net.routerAddresses }, (_, r) => `2001:db8:${n}::${r + 1}`);
    y += `  - name: net${n}\n    routerMac: ${routerMac(n)}\n    routerAddresses: [${routers.join(', ')}]\n`;
    y += `    prefixes:\n      - prefix: 2001:db8:${n}::/64\n        slaac: ${net.slaac}\n`;
  });
  y += 'ports:\n';
  m.networks.forEach((net, n) =>
    net.ports.forEach((addresses, p) => {
      const list = Array.from({ length: addresses }, (_, a) => staticAddress(n, p, a));
      y += `  - name: n${n}p${p}\n    mac: ${portMac(n, p)}\n    network: net${n}\n    addresses: [${list.join(', ')}]\n`;
    }),
  );
  y += 'server:\n  duid: "00:03:00:01:02:00:00:00:00:fe"\n  stateDirectory: /nonexistent-state\n';
  return parseConfig(y, 'model.yaml');
}

interface Solicitation {
  network: number;
  port: number;
  /** What the NS asks for. */
  target: 'router-link-local' | 'router-address' | 'port-address' | 'own-address' | 'unknown';
  pick: number;
  source: 'link-local' | 'unspecified' | 'static';
  sll: 'own' | 'none' | 'other';
  hopLimit: 255 | 254;
}

const solicitation: fc.Arbitrary<Solicitation> = fc.record({
  network: fc.nat(),
  port: fc.nat(),
  target: fc.constantFrom('router-link-local', 'router-address', 'port-address', 'own-address', 'unknown'),
  pick: fc.nat(),
  // Mostly what a host sends, so that many NS reach the answer rules.
  source: fc.constantFrom('link-local', 'link-local', 'static', 'unspecified'),
  sll: fc.constantFrom('own', 'own', 'own', 'none', 'other'),
  hopLimit: fc.constantFrom(255 as const, 255 as const, 255 as const, 254 as const),
});

/** The solicited-node multicast address of a target (RFC 4291 §2.7.1). */
function solicitedNode(target: Uint8Array): Uint8Array {
  const a = ip6('ff02::1:ff00:0');
  a.set(target.subarray(13, 16), 13);
  return a;
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const macText = (b: Uint8Array): string => [...b].map(hex2).join(':');

test('an NS answered in OVS gets the same NA from the responder; one left to the bridge gets none', async (t) => {
  let answered = 0;
  let bridged = 0;
  await fc.assert(
    fc.asyncProperty(model, fc.array(solicitation, { minLength: 1, maxLength: 20 }), async (m, asks) => {
      const config = configOf(m);
      const bindings: PortBindings = {
        interfaces: new Map([['punt0', 100]]),
        ports: new Map(config.ports.map((p, i) => [p.name, i + 1])),
      };
      const set = generateRules(config, bindings);
      const responder = await openResponder(config, { rateLimit: null, seed: 1, now: () => 1_800_000_000_000 });
      try {
        for (const ask of asks) {
          const n = ask.network % m.networks.length;
          const net = config.networks[n]!;
          const port = net.ports[ask.port % net.ports.length]!;
          const p = m.networks[n]!.ports.indexOf(m.networks[n]!.ports[ask.port % net.ports.length]!);
          const own = port.addresses.map((a) => a.text);
          let target: string;
          switch (ask.target) {
            case 'router-link-local':
              target = net.routerLinkLocal.text;
              break;
            case 'router-address':
              target =
                net.routerAddresses[ask.pick % Math.max(1, net.routerAddresses.length)]?.text ??
                net.routerLinkLocal.text;
              break;
            case 'port-address': {
              const all = net.ports.flatMap((q) => q.addresses.map((a) => a.text));
              target = all[ask.pick % Math.max(1, all.length)] ?? staticAddress(n, 99, 0);
              break;
            }
            case 'own-address':
              target = own[ask.pick % Math.max(1, own.length)] ?? staticAddress(n, 99, 1);
              break;
            default:
              target = `2001:db8:${n}::beef`;
          }
          const linkLocal = `fe80::ff:fe${hex2(n)}:${hex2(p)}01`;
          const source =
            ask.source === 'unspecified' ? '::' : ask.source === 'static' && own.length > 0 ? own[0]! : linkLocal;
          const srcMac = port.mac.text;
          const sll = ask.sll === 'own' ? srcMac : ask.sll === 'other' ? '02:00:00:aa:bb:cc' : undefined;
          const dst = solicitedNode(ip6(target));
          const frame: Frame = {
            in_port: config.ports.indexOf(port) + 1,
            dl_src: srcMac,
            dl_dst: macText(Uint8Array.from([0x33, 0x33, ...dst.subarray(12, 16)])),
            proto: 'icmp6',
            ipv6_src: source,
            ipv6_dst: '',
            nw_ttl: ask.hopLimit,
            icmp_type: 135,
            icmp_code: 0,
            nd_target: target,
            ...(sll === undefined ? {} : { nd_sll: sll }),
          };
          frame.ipv6_dst = [...Array(8)].map((_, i) => ((dst[2 * i]! << 8) | dst[2 * i + 1]!).toString(16)).join(':');
          const out = evaluate(set, frame);
          const inOvs = out.categories.some((c) => c === 'answer-na-router' || c === 'answer-na-port');
          const toBridge = out.actions.length === 1 && out.actions[0] === 'bridge';
          if (!inOvs && !toBridge) continue;
          // The same NS as the punt path would get it: tagged with the network's VLAN.
          const bytes = neighborSolicitation(
            {
              srcMac: mac(srcMac),
              src: ip6(source),
              dst,
              hopLimit: ask.hopLimit,
              ...(net.vlan === null ? {} : { vlan: net.vlan }),
            },
            ip6(target),
            sll === undefined ? [] : [1, 1, ...mac(sll)],
          );
          const d = responder.dispatcher;
          const len = d.handle(bytes, 0, bytes.length, 0);
          const what = `${ask.target} ${target} from ${port.name} (${source}, SLL ${sll ?? 'none'}, hop limit ${ask.hopLimit})`;
          if (toBridge) {
            bridged++;
            t.is(len, 0, `left to the bridge, so not answered by the responder either: ${what}`);
            continue;
          }
          answered++;
          t.true(len > 0, `answered in OVS, so by the responder too: ${what}`);
          if (len === 0) continue;
          const r = d.tx;
          const eth = net.vlan === null ? 14 : 18;
          const f = out.frame;
          t.is(macText(r.subarray(0, 6)), f.dl_dst, `destination MAC: ${what}`);
          t.is(macText(r.subarray(6, 12)), f.dl_src, `source MAC: ${what}`);
          t.is(text(r.subarray(eth + 8, eth + 24)), text(ip6(f.ipv6_src!)), `source address: ${what}`);
          t.is(text(r.subarray(eth + 24, eth + 40)), text(ip6(f.ipv6_dst!)), `destination address: ${what}`);
          const icmp = eth + 40;
          t.is(r[icmp], 136);
          const flags = ((r[icmp + 4]! << 24) | (r[icmp + 5]! << 16)) >>> 0;
          t.is(flags.toString(16), (f.nd_reserved ?? 0).toString(16), `R, S, O flags: ${what}`);
          t.is(text(r.subarray(icmp + 8, icmp + 24)), text(ip6(target)), `target: ${what}`);
          t.is(r[icmp + 24], 2, `a target link-layer address option: ${what}`);
          t.is(macText(r.subarray(icmp + 26, icmp + 32)), f.nd_tll ?? 'none', `target link-layer address: ${what}`);
        }
      } finally {
        await responder.close();
      }
    }),
    { numRuns: 60 },
  );
  t.log(`${answered} NS answered in OVS compared, ${bridged} left to the bridge`);
  t.true(answered > 20 && bridged > 5, 'both kinds were exercised');
});
