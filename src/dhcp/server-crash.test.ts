/**
 * Crash safety of the DHCPv6 server as a whole: a child process serving DHCPv6 from a replayed
 * load (src/test-support/server-crash-child.ts: openResponder, then Solicit + Request for many fresh
 * clients through dispatcher.handle, some Renews and Releases) is killed with SIGKILL mid-run;
 * after restart every lease it had acknowledged is present and no address is given twice.
 *
 * The child prints each Reply the moment its sink sends it (after the journal commit). Several
 * runs on the same journal, killed after different numbers of acknowledgements and delays; after
 * each kill the lease table is reopened from the journal and checked against everything
 * acknowledged so far. Correctness only: nothing here measures time.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { fromHex, toHex } from '../../codecs/bytes.js';
import { repositoryRoot } from '../../fixtures/paths.js';
import { loadConfig } from '../config/index.js';
import { poolsOf, staticBindingsOf } from '../responder/responder.js';
import { LeaseTable, LeaseType } from './leases.js';

const childPath = fileURLToPath(new URL('../test-support/server-crash-child.ts', import.meta.url));

function configYaml(stateDirectory: string): string {
  return `
interfaces:
  - name: punt0
    network: lab
networks:
  - name: lab
    routerMac: 02:00:00:00:00:02
    prefixes:
      - prefix: 2001:db8:1::/64
    dhcpv6:
      mode: stateful
      preferredLifetime: 43200
      validLifetime: 86400
      addressPools: [2001:db8:1::1000-2001:db8:1::ffff]
server:
  duid: "00:03:00:01:02:00:00:00:00:02"
  stateDirectory: ${JSON.stringify(stateDirectory)}
`;
}

interface Line {
  kind: 'G' | 'N' | 'r' | 'R';
  duid: string;
  address: string;
}

/** Runs the child until `acks` Replies were printed, waits `delayMs` more, kills it with SIGKILL. */
function runAndKill(
  config: string,
  leaseFile: string,
  run: number,
  acks: number,
  delayMs: number,
): Promise<{ lines: Line[]; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', childPath, config, leaseFile, String(run)], {
      cwd: repositoryRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    let seen = 0;
    let killing = false;
    const kill = (): void => {
      if (!killing) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    };
    // A child that never acknowledges enough is killed too (the assertions then fail).
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      seen += (chunk.match(/^[GNR] /gm) ?? []).length;
      if (seen >= acks) kill();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      const lines: Line[] = [];
      // A line cut by the kill (no newline yet) was never completely acknowledged: dropped.
      for (const text of out.split('\n').slice(0, -1)) {
        const [kind, duid, address] = text.split(' ');
        if (
          (kind === 'G' || kind === 'N' || kind === 'r' || kind === 'R') &&
          duid !== undefined &&
          address !== undefined
        )
          lines.push({ kind, duid, address });
        else reject(new Error(`unexpected line from the child: ${text}`));
      }
      resolve({ lines, signal, stderr });
    });
  });
}

test('SIGKILL mid-run: every acknowledged lease survives with its address, and no address is given twice', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'punt6-server-crash-'));
  try {
    const configPath = join(dir, 'punt6.yaml');
    await writeFile(configPath, configYaml(join(dir, 'state')));
    const config = await loadConfig(configPath);
    const leaseFile = join(dir, 'state', 'leases.journal');
    /** Client DUID -> the address acknowledged to it and still held (not released). */
    const held = new Map<string, string>();
    /** Address -> the client that holds it, by what was acknowledged. */
    const holder = new Map<string, string>();
    /** Releases begun but not acknowledged when the child died: the lease may be either way. */
    const uncertain = new Set<string>();
    /** Clients whose Release was acknowledged (they never ask again). */
    const releasedAcked = new Set<string>();
    const plan = [
      { acks: 1, delayMs: 0 },
      { acks: 40, delayMs: 3 },
      { acks: 150, delayMs: 0 },
      { acks: 400, delayMs: 25 },
      { acks: 90, delayMs: 1 },
    ];
    let total = 0;
    for (const [run, step] of plan.entries()) {
      const { lines, signal, stderr } = await runAndKill(configPath, leaseFile, run, step.acks, step.delayMs);
      t.is(signal, 'SIGKILL', `run ${run} ended by the kill, not by itself: ${stderr}`);
      const acked = lines.filter((l) => l.kind !== 'r').length;
      t.true(acked >= step.acks, `run ${run}: ${acked} acknowledgements before the kill`);
      total += acked;
      for (const l of lines) {
        switch (l.kind) {
          case 'G': {
            const other = holder.get(l.address);
            t.true(
              other === undefined || other === l.duid,
              `${l.address} acknowledged to ${l.duid} while ${other} holds it`,
            );
            t.false(held.has(l.duid), `${l.duid} acknowledged twice`);
            held.set(l.duid, l.address);
            holder.set(l.address, l.duid);
            break;
          }
          case 'N':
            t.is(held.get(l.duid), l.address, `renewed ${l.duid} keeps its address`);
            break;
          case 'r':
            uncertain.add(l.duid);
            break;
          case 'R':
            t.is(held.get(l.duid), l.address);
            held.delete(l.duid);
            holder.delete(l.address);
            uncertain.delete(l.duid);
            releasedAcked.add(l.duid);
            break;
        }
      }
      // Restart: the lease table from the same journal.
      const table = await LeaseTable.open(leaseFile, {
        pools: poolsOf(config),
        staticBindings: staticBindingsOf(config),
        onWarning: (m) => t.log(`journal: ${m}`),
      });
      try {
        let missing = 0;
        for (const [duid, address] of held) {
          const lease = table.lookup(fromHex(duid), 1, LeaseType.Address);
          if (uncertain.has(duid) && lease === undefined) continue;
          if (lease === undefined || toHex(lease.address) !== address) missing++;
        }
        t.is(missing, 0, `run ${run}: every acknowledged lease present with the same address (${held.size} held)`);
        let kept = 0;
        for (const duid of releasedAcked) if (table.lookup(fromHex(duid), 1, LeaseType.Address) !== undefined) kept++;
        t.is(kept, 0, `run ${run}: acknowledged releases are gone (${releasedAcked.size})`);
        const seenAddresses = new Set<string>();
        let twice = 0;
        for (const lease of table.leases()) {
          const key = toHex(lease.address);
          if (seenAddresses.has(key)) twice++;
          seenAddresses.add(key);
          const h = holder.get(toHex(lease.address));
          // A lease the table holds is either acknowledged to this client, or granted to a client
          // that never got its Reply (the kill came between the commit and the send).
          if (h !== undefined)
            t.is(toHex(lease.duid), h, `${toHex(lease.address)} held by the client it was acknowledged to`);
        }
        t.is(twice, 0, 'no address held by two clients');
        for (const [duid] of held) {
          if (!uncertain.has(duid)) t.is(table.lookupClient(fromHex(duid)).length, 1, `${duid}: one lease`);
        }
        // A release begun but not acknowledged when the child died: the journal decides whether
        // the client still holds its address, and the next run starts from that.
        for (const duid of uncertain) {
          if (table.lookup(fromHex(duid), 1, LeaseType.Address) !== undefined) continue;
          const address = held.get(duid);
          held.delete(duid);
          if (address !== undefined) holder.delete(address);
        }
      } finally {
        await table.close();
      }
      uncertain.clear();
    }
    t.log(`${total} acknowledgements over ${plan.length} runs, ${held.size} leases held at the end`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
