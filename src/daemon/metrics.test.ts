import test from 'ava';
import type { FlowStats } from '../flows/stats.js';
import { Punt6Metrics, PORT_LABEL_LIMIT } from './metrics.js';

/** Flow counters of `ports` VM ports: every port's RS punted once, its meter dropping twice. */
function stats(ports: number): FlowStats {
  const names = Array.from({ length: ports }, (_, i) => `vm${i}`);
  return {
    categories: [
      { category: 'punt-rs', kind: 'punted', packets: ports, byPort: new Map(names.map((n) => [n, 1])) },
      { category: 'answer-na-router', kind: 'answered', packets: 5, byPort: new Map([['*', 5]]) },
    ],
    unknownRules: 0,
    meters: names.map((port, i) => ({ port, id: 60000 + i, packetsIn: 3, dropped: 2 })),
  };
}

function metricsOf(ports: number): Punt6Metrics {
  return new Punt6Metrics({
    responder: () => null,
    ports: () => [],
    nextRaDue: () => Infinity,
    droppedWhileReloading: () => 0,
    sendFailures: () => 0,
    flows: async () => stats(ports),
  });
}

const series = (text: string, name: string): string[] => text.split('\n').filter((l) => l.startsWith(`${name}{`));

test('flow metrics: a series per VM port up to the limit, one per category above it', async (t) => {
  const few = await metricsOf(3).text();
  t.deepEqual(series(few, 'punt6_flow_packets_total'), [
    'punt6_flow_packets_total{category="punt-rs",kind="punted",port="vm0"} 1',
    'punt6_flow_packets_total{category="punt-rs",kind="punted",port="vm1"} 1',
    'punt6_flow_packets_total{category="punt-rs",kind="punted",port="vm2"} 1',
    'punt6_flow_packets_total{category="answer-na-router",kind="answered",port="*"} 5',
  ]);
  t.is(series(few, 'punt6_flow_meter_dropped_total').length, 3);

  const many = await metricsOf(PORT_LABEL_LIMIT + 1).text();
  t.deepEqual(series(many, 'punt6_flow_packets_total'), [
    `punt6_flow_packets_total{category="punt-rs",kind="punted",port="*"} ${PORT_LABEL_LIMIT + 1}`,
    'punt6_flow_packets_total{category="answer-na-router",kind="answered",port="*"} 5',
  ]);
  t.deepEqual(series(many, 'punt6_flow_meter_dropped_total'), [
    `punt6_flow_meter_dropped_total{port="*"} ${2 * (PORT_LABEL_LIMIT + 1)}`,
  ]);
});
