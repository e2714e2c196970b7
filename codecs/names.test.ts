import test from 'ava';
import { kebabCase, namesFromKeys } from './names.js';

test('a name is its key in kebab case', (t) => {
  t.is(kebabCase('EchoRequest'), 'echo-request');
  t.is(kebabCase('MulticastListenerReportV2'), 'multicast-listener-report-v2');
  t.is(kebabCase('Pref64'), 'pref64');
  t.is(kebabCase('Mtu'), 'mtu');
});

test('namesFromKeys maps each code of a table to its name', (t) => {
  const names = namesFromKeys({ SourceLinkLayerAddress: 1, Rdnss: 25 } as const);
  t.deepEqual(
    [...names],
    [
      [1, 'source-link-layer-address'],
      [25, 'rdnss'],
    ],
  );
});
