/**
 * The keeper's reload path without OVS: a bridge that takes bundles and counts punt6's rules,
 * nothing more (src/flows/meters.test.ts has the bridge whose meters and rules behave as OVS's).
 */

import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repositoryRoot } from '../../fixtures/paths.js';
import { parseConfig } from '../config/index.js';
import { createLogger } from '../system/logging.js';
import type { DumpedFlow, DumpedMeter, OvsInterface } from './dump.js';
import { FlowKeeper } from './keeper.js';
import { OvsClient } from './ovs.js';
import { changesBundleText, generateRules, ruleChanges } from './rules.js';

const BRIDGE = 'br0';
const labText = await readFile(join(repositoryRoot, 'fixtures', 'config', 'lab.yaml'), 'utf8');
const lab = parseConfig(labText, 'lab.yaml', repositoryRoot);
const changed = parseConfig(
  labText.replace('addresses: [2001:db8:1::102]', 'addresses: [2001:db8:1::102, 2001:db8:1::103]'),
  'lab.yaml',
  repositoryRoot,
);
const bindings = {
  interfaces: new Map([['punt0', 100]]),
  ports: new Map([
    ['vm1', 1],
    ['vm2', 2],
  ]),
};

/** Ports punt0, vm1, vm2; the bundles it was given; as many of punt6's rules as they left. */
class BundleBridge extends OvsClient {
  readonly bundles: string[] = [];
  private rules = 0;

  constructor() {
    super({});
  }

  override async interfaces(): Promise<OvsInterface[]> {
    return [
      ['punt0', 100],
      ['vm1', 1],
      ['vm2', 2],
    ].map(([name, ofport]) => ({ name: name as string, ofport: ofport as number, externalIds: new Map() }));
  }

  override async ownFlows(): Promise<DumpedFlow[]> {
    return [];
  }

  override async allFlows(): Promise<DumpedFlow[]> {
    return [];
  }

  override async meters(): Promise<DumpedMeter[]> {
    return [];
  }

  override async recordedMeters(): Promise<Set<number>> {
    return new Set();
  }

  override async recordMeters(): Promise<void> {}

  override async ownFlowCount(): Promise<number> {
    return this.rules;
  }

  override async ofctl(args: readonly string[], input = ''): Promise<string> {
    if (args.includes('add-flows')) {
      this.bundles.push(input);
      const lines = input.split('\n');
      const adds = lines.filter((l) => l.startsWith('add ')).length;
      const deletes = lines.filter((l) => l.startsWith('delete_strict ')).length;
      this.rules = lines[0]?.startsWith('delete cookie') ? adds : this.rules + adds - deletes;
    }
    return '';
  }
}

test('a reload prepared ahead installs what a reload made after the swap installs', async (t) => {
  const ovs = new BundleBridge();
  const keeper = new FlowKeeper({ bridge: BRIDGE, log: createLogger({ level: 'silent' }), ovs, fullEvery: 1000 });
  // Before a round has found the ports' bindings there is nothing to prepare.
  await keeper.prepare(lab, { sliceMs: 0 });
  t.is(keeper.desired, null);
  await keeper.use(lab);
  t.is(keeper.installs, 1);
  t.is(ovs.bundles.length, 1);

  await keeper.prepare(changed, { sliceMs: 0 });
  t.is(ovs.bundles.length, 1, 'preparing installs nothing');
  t.deepEqual(keeper.desired?.rules, generateRules(lab, bindings).rules, 'nor changes what is kept');
  await keeper.use(changed);
  t.is(keeper.changes, 1);
  t.deepEqual(keeper.desired?.rules, generateRules(changed, bindings).rules);
  t.is(
    ovs.bundles.at(-1),
    changesBundleText(ruleChanges(generateRules(lab, bindings), generateRules(changed, bindings))),
  );

  // A preparation given up (a refused reload) leaves nothing behind: the next round keeps `changed`.
  await keeper.prepare(lab, { sliceMs: 0 });
  keeper.discardPrepared();
  await keeper.round();
  t.is(keeper.changes, 1);
  t.is(ovs.bundles.length, 2);
});
