#!/usr/bin/env node
/**
 * The `punt6` command line.
 */

import { decodeCommand } from './decode.js';
import { replayCommand } from './replay.js';
import { flowsMain } from './flows.js';
import { labMain } from './lab.js';
import { runMain } from './run.js';
import { tuneV8 } from '../daemon/v8-tuning.js';

const usage = `usage: punt6 <command> [options]

commands:
  decode FILE...   print every frame of pcap/pcapng captures as JSON lines
      --summary              one line per frame instead of JSON
      --no-verify-checksums  accept bad checksums (captures with offloaded checksums)
      --filter EXPR          a BPF filter applied while reading
  replay --config FILE IN.pcap [--out OUT.pcap]
                   answer every frame of a capture as the punt path would; print a table
                   per message kind (seen, answered, dropped by reason)
      --interface NAME       the punt interface the frames arrive on (default: the first)
      --clock capture|wall   time from the capture's timestamps (default) or the real clock
      --leases FILE          the lease journal (default: a fresh temporary one)
      --seed N               seed of the RA timing jitter (default 1)
      --periodic-ras         also send periodic unsolicited RAs as the capture's time passes
      --no-verify-checksums  accept bad checksums
  run --config FILE
                   the live punt path: attach to the configured punt interfaces, answer NDP,
                   echo and DHCPv6, send RAs; SIGHUP reloads the configuration, SIGTERM/SIGINT
                   send final RAs and stop (docs/operations.md)
      --metrics HOST:PORT    Prometheus metrics on http://HOST:PORT/metrics (overrides the file)
      --log-level LEVEL      fatal, error, warn, info, debug, trace or silent (overrides the file)
      --bridge BR            keep punt6's OpenFlow rules on this OVS bridge: installed at start
                             and reload, re-installed within seconds when they go missing
      --meter-rate PPS       with --bridge: packets per second each VM port may punt
      --meter-burst N        with --bridge: the meter's burst
      --meter-base N         with --bridge: meter id of the first VM port (default 60000)
  flows --config FILE [--bridge BR] [--dry-run] [--stats]
                   install punt6's OpenFlow rules on an OVS bridge (offload, punt, guard,
                   meters; docs/flows.md), print them, or print their counters
  lab up|status|down
                   a self-contained lab (private Open vSwitch, a punt port, VMs as namespaces,
                   real clients) around punt6; see docs/lab.md and 'punt6 lab --help'
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'decode':
      return decodeCommand.main(rest);
    case 'replay':
      return replayCommand.main(rest);
    case 'run':
      // run reports its own usage errors, but not yet those of parseArgs.
      try {
        return await runMain(rest);
      } catch (e) {
        if (!(e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw e;
        process.stderr.write(`punt6: ${(e as Error).message}\n\n${usage}`);
        return 2;
      }
    case 'lab':
      return labMain(rest);
    case 'flows':
      return flowsMain(rest);
    case undefined:
      process.stderr.write(usage);
      return 2;
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(usage);
      return 0;
    default:
      process.stderr.write(`punt6: unknown command: ${command}\n\n${usage}`);
      return 2;
  }
}

// `punt6 decode x.pcap | head`: a closed pipe ends the output quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// Inlining budgets for the punt path (src/daemon/v8-tuning.ts), before any hot code is optimized.
tuneV8();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`punt6: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
