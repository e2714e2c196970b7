/**
 * The child process of the lease store's crash test (leases.test.ts): it opens the lease table,
 * then several concurrent workers, like the handlers of a server, allocate addresses for new
 * clients (now and then releasing an earlier one), wait for the group commit, and only then
 * print what was acknowledged, one line each, as a server would send its Reply:
 *
 *   G <duid hex> <iaid> <address hex>     a granted lease
 *   r <duid hex> <iaid> <address hex>     a release begins (printed before it is committed)
 *   R <duid hex> <iaid> <address hex>     a released lease
 *
 * It runs until it is killed. Usage: node --import=tsx src/test-support/lease-crash-child.ts JOURNAL RUN
 * (RUN, a small integer, keeps the client DUIDs of successive runs apart).
 */

import { fileURLToPath } from 'node:url';
import { toHex } from '../../codecs/bytes.js';
import { LeaseStatus, LeaseTable, LeaseType, type Lease, type LeaseTableOptions } from '../dhcp/leases.js';

/** The table the child and the test both open. Small compaction thresholds, so kills land in compactions too. */
export const crashTableOptions: LeaseTableOptions = {
  pools: [{ networkId: 1, type: LeaseType.Address, first: 'fd00:1::1:0', last: 'fd00:1::1:ffff' }],
  validLifetime: 4_000_000_000,
  preferredLifetime: 3_600,
  compactionMinRecords: 64,
  compactionFactor: 2,
};

/** The fixed clock of the child: the leases never expire while the test runs. */
export const CRASH_NOW = 1_700_000_000_000;

export function crashClientDuid(run: number, n: number): Uint8Array {
  // DUID-EN (type 2), enterprise number 32473 (RFC 5612, documentation), then run and number.
  const duid = new Uint8Array(14);
  const v = new DataView(duid.buffer);
  v.setUint16(0, 2);
  v.setUint32(2, 32473);
  v.setUint32(6, run);
  v.setUint32(10, n);
  return duid;
}

function line(kind: 'G' | 'R' | 'r', lease: Lease): string {
  return `${kind} ${toHex(lease.duid)} ${lease.iaid} ${toHex(lease.address)}\n`;
}

async function main(): Promise<void> {
  const [path, runText] = process.argv.slice(2);
  const run = Number(runText);
  if (path === undefined || !Number.isInteger(run) || run < 0)
    throw new Error('usage: lease-crash-child.ts JOURNAL RUN');
  const table = await LeaseTable.open(path, { ...crashTableOptions, onWarning: (m) => process.stderr.write(`${m}\n`) });
  let next = 0;
  const held: Lease[] = [];
  const worker = async (w: number): Promise<never> => {
    for (let round = 0; ; round++) {
      const acknowledged: string[] = [];
      for (let k = 0; k <= (round + w) % 3; k++) {
        const result = table.allocate(
          { networkId: 1, type: LeaseType.Address, duid: crashClientDuid(run, next++), iaid: w },
          CRASH_NOW,
        );
        if (result.status !== LeaseStatus.Success) throw new Error(`allocation failed with status ${result.status}`);
        held.push(result.lease);
        acknowledged.push(line('G', result.lease));
      }
      if ((round + w) % 4 === 3 && held.length > 8) {
        const victim = held.splice((round * 7919) % held.length, 1)[0] as Lease;
        // Once the release is in the journal the lease may be gone after a crash, acknowledged or not.
        process.stdout.write(line('r', victim));
        const released = table.release({
          type: victim.type,
          duid: victim.duid,
          iaid: victim.iaid,
          address: victim.address,
        });
        if (released.status !== LeaseStatus.Success) throw new Error(`release failed with status ${released.status}`);
        acknowledged.push(line('R', victim));
      }
      await table.commit();
      process.stdout.write(acknowledged.join(''));
    }
  };
  await Promise.all([0, 1, 2, 3].map(worker));
}

// The test imports the options above; only a run as the entry point starts the loop.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
