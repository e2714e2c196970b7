/**
 * Router Advertisement timing and framing (RFC 4861 §6.2.4 periodic RAs, §6.2.5 final RAs,
 * §6.2.6 answers to RS from ::), driven through Dispatcher.poll() with an injected clock and
 * seed, plus the RA template's checksum. Every multicast RA sent here is dissected by tshark.
 */

import test, { type ExecutionContext } from 'ava';
import { parseIpv6 } from '../../codecs/bytes.js';
import { fillUpperLayer } from '../../codecs/checksum.js';
import { Icmpv6Type } from '../../codecs/icmpv6.js';
import { IpProtocol } from '../../codecs/ipv6.js';
import { emitRouterAdvertisement, parseRouterAdvertisement, routerAdvertisementLength } from '../../codecs/ndp.js';
import type { Punt6Config } from '../config/index.js';
import { buildRuntime } from './from-config.js';
import {
  MAX_FINAL_RTR_ADVERTISEMENTS,
  MAX_INITIAL_RTR_ADVERT_INTERVAL_MS,
  MAX_RA_DELAY_TIME_MS,
  MIN_DELAY_BETWEEN_RAS_MS,
  Random,
  RouterAdvertiser,
} from './router-advertiser.js';
import {
  configFromYaml,
  decodeReply,
  fixtureConfig,
  fixtureFrames,
  harness,
  mutate,
  onCi,
  STATUS_OK,
  tsharkAvailable,
  tsharkCheck,
  type Harness,
  type SentFrame,
} from '../test-support/responder.js';

const peers = await fixtureConfig('peers');
const trunk = await fixtureConfig('trunk');
const rdisc6 = await fixtureFrames('rdisc6-rs-ra');
/** rdisc6's RS with its source cleared: an RS from :: (no SLLA), which asks for a multicast RA. */
const rsFromUnspecified = mutate(rdisc6[0]!, (b, l) => void b.fill(0, l.ipv6 + 8, l.ipv6 + 24));

function network(ra: string): Punt6Config {
  return configFromYaml(
    [
      'interfaces: [{ name: p0, network: n }]',
      'networks:',
      '  - name: n',
      '    routerMac: "02:00:00:00:00:02"',
      '    prefixes: [fd00::/64]',
      `    ra: ${ra}`,
    ].join('\n'),
  );
}

/** Every multicast RA sent by the tests of this file (the same frame once). */
const allSent = new Set<Uint8Array>();

/** Polls at exactly the times poll() asks for until `count` frames went out (or `until`). */
function run(h: Harness, count: number, until = Infinity): SentFrame[] {
  for (let guard = 0; h.sent.length < count && guard < 100_000; guard++) {
    const next = h.dispatcher.poll(h.clock.now);
    if (h.sent.length >= count || next === Infinity || next > until) break;
    h.clock.now = Math.max(h.clock.now, next);
  }
  for (const s of h.sent) allSent.add(s.frame);
  return h.sent;
}

function intervals(sent: SentFrame[]): number[] {
  return sent.slice(1).map((s, i) => s.at - sent[i]!.at);
}

/** A multicast RA as sent: all-nodes, from the router, checksum right; returns its router lifetime. */
function checkMulticastRa(t: ExecutionContext, frame: Uint8Array, mac: string, linkLocal: string, vlan = -1): number {
  const r = decodeReply(frame);
  t.is(r.status, STATUS_OK);
  t.true(r.checksumOk);
  t.is(r.ethDst, '33:33:00:00:00:01');
  t.is(r.ethSrc, mac);
  t.is(r.vlan, vlan);
  t.is(r.src, linkLocal);
  t.is(r.dst, 'ff02::1');
  t.is(r.hopLimit, 255);
  t.is(r.nextHeader, IpProtocol.Icmpv6);
  t.is(r.type, Icmpv6Type.RouterAdvertisement);
  return parseRouterAdvertisement(r.bytes, r.icmpv6, r.icmpv6Length).routerLifetime;
}

// ---- §6.2.4 periodic RAs ----

test('periodic RAs: first within 0.5 s of start, the next 3 at most 16 s apart, then uniform in [Min, Max]RtrAdvInterval', (t) => {
  const h = harness(network('{ maxInterval: 30 }'), { seed: 42 }); // MinRtrAdvInterval 9.9 s
  const t0 = h.clock.now;
  h.dispatcher.start();
  const sent = run(h, 400);
  t.is(sent.length, 400);
  t.true(sent[0]!.at >= t0 && sent[0]!.at < t0 + MAX_RA_DELAY_TIME_MS, `first after ${sent[0]!.at - t0} ms`);
  const iv = intervals(sent);
  for (const [i, v] of iv.slice(0, 3).entries())
    t.true(v >= 9900 && v <= MAX_INITIAL_RTR_ADVERT_INTERVAL_MS, `initial interval ${i + 1}: ${v} ms`);
  const later = iv.slice(3);
  t.true(
    later.every((v) => v >= 9900 && v <= 30_000),
    `later intervals within [9900, 30000]: ${Math.min(...later)}..${Math.max(...later)}`,
  );
  // Uniform over the range, not pinned to one value (deterministic: fixed seed).
  t.true(Math.min(...later) < 9900 + 2000 && Math.max(...later) > 30_000 - 2000, 'covers the range');
  const mean = later.reduce((a, b) => a + b, 0) / later.length;
  t.true(Math.abs(mean - (9900 + 30_000) / 2) < 1500, `mean ${mean}`);
  for (const s of sent.slice(0, 5))
    t.is(checkMulticastRa(t, s.frame, '02:00:00:00:00:02', 'fe80::ff:fe00:2'), 90, 'router lifetime 3 × 30 s');
});

test('periodic RAs with the default MaxRtrAdvInterval 600: the first 3 intervals are cut to 16 s', (t) => {
  const h = harness(peers, { seed: 3 });
  h.dispatcher.start();
  const iv = intervals(run(h, 6));
  t.deepEqual(iv.slice(0, 3), [16_000, 16_000, 16_000]);
  t.true(
    iv.slice(3).every((v) => v >= 198_000 && v <= 600_000),
    iv.join(','),
  );
});

test('the schedule is a function of the seed', (t) => {
  const times = (seed: number): number[] => {
    const h = harness(network('{ maxInterval: 30 }'), { seed });
    h.dispatcher.start();
    return run(h, 12).map((s) => s.at);
  };
  t.deepEqual(times(5), times(5));
  t.notDeepEqual(times(5), times(6));
});

test('unsolicited: false sends no periodic RA but still answers an RS from ::', (t) => {
  const h = harness(network('{ unsolicited: false }'));
  h.dispatcher.start();
  t.is(h.dispatcher.poll(h.clock.now), Infinity);
  h.clock.now += 3_600_000;
  t.is(h.dispatcher.poll(h.clock.now), Infinity);
  t.is(h.sent.length, 0);
  t.is(h.handle(rsFromUnspecified), undefined);
  const sent = run(h, 1);
  t.is(sent.length, 1);
  t.is(h.dispatcher.poll(h.clock.now + 3_600_000), Infinity, 'and no periodic RA after it');
});

test("trunk: periodic RAs go out on each network's own VLAN from its own router", (t) => {
  const h = harness(trunk, { seed: 9 });
  h.dispatcher.start();
  const sent = run(h, 8);
  const blue = sent.filter((s) => decodeReply(s.frame).vlan === 100);
  const green = sent.filter((s) => decodeReply(s.frame).vlan === 200);
  t.is(blue.length + green.length, sent.length);
  t.true(blue.length >= 2 && green.length >= 2);
  for (const s of blue) t.is(checkMulticastRa(t, s.frame, '02:00:00:00:01:fe', 'fe80::ff:fe00:1fe', 100), 1800);
  for (const s of green) t.is(checkMulticastRa(t, s.frame, '02:00:00:00:02:fe', 'fe80::ff:fe00:2fe', 200), 180);
});

// ---- §6.2.6 answers to RS from :: ----

test('RS from ::: one multicast RA within MAX_RA_DELAY_TIME, and a burst of RS gets one RA', (t) => {
  const h = harness(peers, { seed: 11 });
  const t0 = h.clock.now;
  for (let i = 0; i < 20; i++) {
    h.clock.now = t0 + i * 10;
    t.is(h.handle(rsFromUnspecified), undefined);
  }
  h.clock.now = t0;
  const sent = run(h, 2, t0 + 10_000);
  t.is(sent.length, 1);
  t.true(sent[0]!.at >= t0 && sent[0]!.at < t0 + MAX_RA_DELAY_TIME_MS);
  t.is(checkMulticastRa(t, sent[0]!.frame, '02:00:00:00:00:02', 'fe80::ff:fe00:2'), 1800);
});

test('RS from :: within 3 s of a multicast RA: sent MIN_DELAY_BETWEEN_RAS plus the random delay after it', (t) => {
  const h = harness(peers, { seed: 12 });
  h.handle(rsFromUnspecified);
  const first = run(h, 1)[0]!.at;
  h.clock.now = first + 1000;
  h.handle(rsFromUnspecified);
  const second = run(h, 2)[1]!.at;
  t.true(
    second >= first + MIN_DELAY_BETWEEN_RAS_MS && second < first + MIN_DELAY_BETWEEN_RAS_MS + MAX_RA_DELAY_TIME_MS,
    `${second - first} ms after the first`,
  );
});

test('a stream of RS from :: (every 100 ms for 60 s): at most one multicast RA per 3 s, every RS answered within 3.5 s', (t) => {
  const h = harness(peers, { seed: 13 });
  const t0 = h.clock.now;
  const rsTimes: number[] = [];
  for (let now = t0; now < t0 + 60_000; now += 100) {
    h.clock.now = now;
    h.dispatcher.poll(now);
    h.handle(rsFromUnspecified);
    rsTimes.push(now);
  }
  h.clock.now = t0 + 60_000;
  run(h, Infinity, t0 + 70_000);
  const at = h.sent.map((s) => s.at);
  // Spacing of 3 to 3.5 s over the 60.5 s the answers can span: 18 to 21 RAs.
  t.true(at.length >= 18 && at.length <= 21, `${at.length} RAs`);
  for (const v of intervals(h.sent)) t.true(v >= MIN_DELAY_BETWEEN_RAS_MS, `interval ${v}`);
  for (const r of rsTimes)
    t.true(
      at.some((a) => a >= r && a < r + MIN_DELAY_BETWEEN_RAS_MS + MAX_RA_DELAY_TIME_MS),
      `RS at +${r - t0} answered`,
    );
});

test('a solicited multicast RA resets the periodic timer (§6.2.6)', (t) => {
  const h = harness(network('{ maxInterval: 30 }'), { seed: 14 });
  h.dispatcher.start();
  run(h, 5); // past the initial RAs
  const last = h.sent[4]!.at;
  h.clock.now = last + 5000;
  h.handle(rsFromUnspecified);
  run(h, 7);
  const [solicited, periodic] = [h.sent[5]!.at, h.sent[6]!.at];
  t.true(
    solicited >= last + 5000 && solicited < last + 5000 + MAX_RA_DELAY_TIME_MS,
    `solicited RA ${solicited - last} ms after the last periodic one`,
  );
  t.true(
    periodic - solicited >= 9900 && periodic - solicited <= 30_000,
    `next periodic ${periodic - solicited} ms after the solicited one`,
  );
});

// ---- §6.2.5 final RAs ----

test('final RAs: router lifetime 0 on every link, MAX_FINAL_RTR_ADVERTISEMENTS rounds, nothing periodic after', (t) => {
  const h = harness(trunk, { seed: 15 });
  h.dispatcher.start();
  run(h, 4);
  h.sent.length = 0;
  for (let i = 0; i < MAX_FINAL_RTR_ADVERTISEMENTS; i++)
    t.is(h.dispatcher.sendFinalAdvertisements(), 2, 'one per network');
  t.is(h.sent.length, 2 * MAX_FINAL_RTR_ADVERTISEMENTS);
  for (const s of h.sent) {
    allSent.add(s.frame);
    const vlan = decodeReply(s.frame).vlan;
    const [mac, ll] =
      vlan === 100 ? ['02:00:00:00:01:fe', 'fe80::ff:fe00:1fe'] : ['02:00:00:00:02:fe', 'fe80::ff:fe00:2fe'];
    t.is(checkMulticastRa(t, s.frame, mac, ll, vlan), 0);
  }
  h.sent.length = 0;
  t.is(h.dispatcher.poll(h.clock.now + 86_400_000), Infinity);
  t.is(h.sent.length, 0);
});

test('final RAs keep every other field of the RA', (t) => {
  const h = harness(peers);
  h.dispatcher.sendFinalAdvertisements();
  const final = decodeReply(h.sent[0]!.frame);
  const unicast = decodeReply(h.handle(rdisc6[0]!)!);
  const a = parseRouterAdvertisement(final.bytes, final.icmpv6, final.icmpv6Length);
  const b = parseRouterAdvertisement(unicast.bytes, unicast.icmpv6, unicast.icmpv6Length);
  t.deepEqual({ ...a, routerLifetime: 1 }, { ...b, routerLifetime: 1 });
  t.is(a.routerLifetime, 0);
});

// ---- The template's checksum ----

test('writeMessage: the checksum is finished right for any destination and router lifetime', (t) => {
  const runtime = buildRuntime(trunk);
  for (const net of runtime.networks) {
    const settings = net.ra!;
    const ra = new RouterAdvertiser(net, settings, new Random(1));
    const len = routerAdvertisementLength(settings.advertisement);
    t.is(ra.message.length, len);
    for (const dst of ['ff02::1', 'fe80::1', 'fe80::ffff:ffff:ffff:ffff', '2001:db8::1', '::']) {
      for (const lifetime of [-1, 0, 1, 65535]) {
        const d = parseIpv6(dst);
        const got = new Uint8Array(32 + len);
        t.is(ra.writeMessage(got, 32, d, 0, lifetime), len);
        // Reference: the Repr emitted, lifetime set, checksum over a real pseudo-header.
        const ref = new Uint8Array(32 + len);
        ref.set(net.routerLinkLocal, 0);
        ref.set(d, 16);
        emitRouterAdvertisement(
          {
            ...settings.advertisement,
            routerLifetime: lifetime < 0 ? settings.advertisement.routerLifetime : lifetime,
          },
          ref,
          32,
        );
        fillUpperLayer(ref, 0, 16, IpProtocol.Icmpv6, 32, len, 34);
        t.deepEqual(got.subarray(32), ref.subarray(32), `${net.name} to ${dst}, lifetime ${lifetime}`);
      }
    }
  }
});

test('Random: the same seed gives the same draws in [0, 1); small seeds do not start near 0', (t) => {
  const a = new Random(1);
  const b = new Random(1);
  const draws = Array.from({ length: 1000 }, () => a.next());
  t.deepEqual(
    draws,
    Array.from({ length: 1000 }, () => b.next()),
  );
  t.true(draws.every((x) => x >= 0 && x < 1));
  const firsts = Array.from({ length: 100 }, (_, s) => new Random(s + 1).next());
  t.true(firsts.filter((x) => x < 0.01).length < 10, 'first draws of seeds 1..100 spread over [0, 1)');
});

test.after.always(
  'every multicast RA dissects in tshark without malformed packets, bad checksums or expert errors',
  (t) => {
    if (!tsharkAvailable()) {
      const reason = 'tshark is not installed';
      if (onCi) throw new Error(`CI=true but ${reason}`);
      process.stderr.write(
        `SKIPPED tshark check of ${allSent.size} RAs: ${reason} (set CI=true to make this a failure)\n`,
      );
      t.log(`SKIPPED: ${reason}`);
      return;
    }
    // An evenly spaced sample of at most 300 (the timing tests send many of the same shape).
    const every = [...allSent];
    const step = Math.max(1, Math.ceil(every.length / 300));
    const frames = every.filter((_, i) => i % step === 0);
    if (frames.length === 0) throw new Error('no RAs were collected');
    const v = tsharkCheck(frames);
    if (v.packets !== frames.length) throw new Error(`tshark dissected ${v.packets} of ${frames.length} RAs`);
    if (v.problems.length > 0) throw new Error(`tshark reports:\n${v.problems.join('\n')}`);
  },
);
