import test from 'ava';
import { parseMac } from '../../codecs/bytes.js';
import { MessageKind, Outcome } from './counters.js';
import { MacTable, SenderRateLimiter } from './rate-limiter.js';
import { fixtureConfig, fixtureFrames, harness } from '../test-support/responder.js';

test('MacTable: every MAC finds its value, others -1, at any offset', (t) => {
  const macs = Array.from({ length: 300 }, (_, i) =>
    parseMac(`02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`),
  );
  const table = new MacTable(macs.map((mac, value) => ({ mac, value })));
  macs.forEach((mac, i) => {
    const b = new Uint8Array(20);
    b.set(mac, 7);
    t.is(table.lookup(b, 7), i);
  });
  t.is(table.lookup(parseMac('02:00:00:00:ff:ff'), 0), -1);
  t.is(new MacTable([]).lookup(parseMac('02:00:00:00:00:01'), 0), -1);
});

test('a bucket admits its burst, then refills at its rate; senders do not share buckets', (t) => {
  const a = parseMac('02:00:00:00:00:01');
  const b = parseMac('02:00:00:00:00:02');
  const unknown = parseMac('02:99:00:00:00:01');
  const l = new SenderRateLimiter([a, b], 1, { rate: 10, burst: 5 });
  let admitted = 0;
  for (let i = 0; i < 20; i++) if (l.admit(a, 0, 0, 1000)) admitted++;
  t.is(admitted, 5, 'the burst');
  t.true(l.admit(b, 0, 0, 1000), 'another port: its own bucket');
  t.true(l.admit(unknown, 0, 0, 1000), 'an unknown MAC: a shared bucket of its own');
  t.false(l.admit(a, 0, 0, 1050), 'half a token after 50 ms');
  t.true(l.admit(a, 0, 0, 1100), 'one token after 100 ms at 10/s');
  t.false(l.admit(a, 0, 0, 1100));
  t.throws(() => new SenderRateLimiter([], 1, { rate: 0, burst: 1 }), { instanceOf: RangeError });
});

test("the dispatcher: one sender's flood is rate-limited and counted, another sender is still answered", async (t) => {
  const config = await fixtureConfig('peers');
  const h = harness(config);
  const ns = (await fixtureFrames('ndisc6-ns-na'))[0] as Uint8Array; // from 02:00:00:00:00:01 for fd00::2
  const burst = config.server.rateLimit.burst;
  let answered = 0;
  for (let i = 0; i < burst + 100; i++) if (h.handle(ns) !== undefined) answered++;
  t.is(answered, burst, 'the flooding sender: its burst, no more (the clock stands still)');
  const c = h.dispatcher.counters;
  t.is(c.get(0, MessageKind.NeighborSolicitation, Outcome.RateLimited), 100);
  // Another VM (the static port's MAC) is answered at once.
  const other = Uint8Array.from(ns);
  other.set(parseMac('02:00:00:00:00:11'), 6);
  t.truthy(h.handle(other));
  // A second later the flooder has `rate` tokens again.
  h.clock.now += 1000;
  answered = 0;
  for (let i = 0; i < config.server.rateLimit.rate + 50; i++) if (h.handle(ns) !== undefined) answered++;
  t.is(answered, config.server.rateLimit.rate);
});
