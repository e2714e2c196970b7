/** Readiness for the service manager: READY=1 only once every punt interface is attached. */

import test from 'ava';
import { emptyStatus, type PortStatus } from '../dataplane/dataplane.js';
import { Readiness } from './readiness.js';

function harness(names: string[]) {
  const ports: PortStatus[] = names.map((n, i) => emptyStatus(i, n));
  const sent: string[][] = [];
  const errors: unknown[] = [];
  const readiness = new Readiness({
    ports: () => ports,
    send: async (a) => {
      sent.push([...a]);
    },
    onError: (e) => errors.push(e),
    everyMs: 5,
  });
  return { ports, sent, errors, readiness };
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('waits for every interface, saying which, then READY=1 once', async (t) => {
  const h = harness(['punt0', 'punt1']);
  h.readiness.announce();
  await tick(20);
  t.deepEqual(h.sent, [['STATUS=waiting for interfaces punt0, punt1']]);
  h.ports[0]!.attached = true;
  await tick(20);
  t.deepEqual(h.sent.at(-1), ['STATUS=waiting for interface punt1']);
  t.false(h.readiness.isReady);
  h.ports[1]!.attached = true;
  await tick(20);
  t.deepEqual(h.sent.at(-1), ['READY=1', 'STATUS=answering on 2 interfaces']);
  t.true(h.readiness.isReady);
  const count = h.sent.length;
  await tick(20);
  t.is(h.sent.length, count, 'nothing more once ready');
  await h.readiness.stopping();
  t.deepEqual(h.sent.at(-1), ['STOPPING=1']);
  t.deepEqual(h.errors, []);
});

test('a stop before the interfaces came: STOPPING=1, never READY=1', async (t) => {
  const h = harness(['punt0']);
  h.readiness.announce();
  await h.readiness.stopping();
  h.ports[0]!.attached = true;
  await tick(20);
  t.deepEqual(h.sent, [['STATUS=waiting for interface punt0'], ['STOPPING=1']]);
});

test('a notification that cannot be sent is reported, and readiness goes on', async (t) => {
  const errors: unknown[] = [];
  const readiness = new Readiness({
    ports: () => [{ ...emptyStatus(0, 'punt0'), attached: true }],
    send: () => Promise.reject(new Error('no systemd-notify')),
    onError: (e) => errors.push(e),
  });
  readiness.announce();
  await tick(5);
  t.true(readiness.isReady);
  t.is((errors[0] as Error).message, 'no systemd-notify');
});
