import test from 'ava';
import fc from 'fast-check';
import type { ErrorObject } from 'ajv';
import { runSteps } from '../system/steps.js';
import { documentPaths } from '../test-support/documents.js';
import { configSchema, schemaErrors, schemaValidator } from './schema.js';

/** The whole document checked at once: what schemaErrors, a port at a time, must list alike. */
const whole = schemaValidator().compile(configSchema);

const shown = (errors: readonly ErrorObject[]): string[] =>
  errors.map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`);

const valid = {
  interfaces: [{ name: 'punt0', network: 'n' }],
  networks: [{ name: 'n', routerMac: '02:00:00:00:00:fe', prefixes: ['2001:db8:1::/64'] }],
  ports: [
    { name: 'a', mac: '02:00:00:00:00:01', network: 'n', addresses: ['2001:db8:1::5'] },
    { name: 'b', mac: '02:00:00:00:00:02', network: 'n', clientDuid: '000300010200' },
  ],
  server: { stateDirectory: 's', rateLimit: { rate: 5 } },
  metrics: ':9464',
  log: { level: 'info' },
};

test('the ports checked one at a time: the errors, and their order, of the whole document checked at once', (t) => {
  const paths = documentPaths(valid);
  const REMOVE = Symbol('remove');
  const anything = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom<unknown>('x', 'fd00::/129', '02:00', -1, 70000, REMOVE),
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: paths.length - 1 }), anything, fc.boolean()), {
        minLength: 1,
        maxLength: 4,
      }),
      (changes) => {
        const doc = structuredClone(valid) as Record<string | number, unknown>;
        for (const [i, value, asNewKey] of changes) {
          let cur = doc;
          const path = paths[i]!;
          for (const seg of path.slice(0, -1)) {
            const next = cur[seg];
            if (next === null || typeof next !== 'object') return;
            cur = next as Record<string | number, unknown>;
          }
          const key = asNewKey ? `extra${i}` : path.at(-1)!;
          if (value === REMOVE) delete cur[key];
          else cur[key] = value;
        }
        whole(doc);
        const expected = shown(whole.errors ?? []);
        const got = shown(runSteps(schemaErrors(doc)));
        if (JSON.stringify(got) !== JSON.stringify(expected))
          throw new Error(`${JSON.stringify(doc)}:\n${got.join('\n')}\nexpected\n${expected.join('\n')}`);
      },
    ),
    { numRuns: 3000 },
  );
  t.deepEqual(runSteps(schemaErrors(valid)), []);
});
