#!/usr/bin/env node
/**
 * The `punt6` command line: dispatches to the command named first. Each command parses its own
 * arguments in its own file (`command.ts` says how); this file prints only the overall usage.
 */

import { indent } from './command.js';
import { commands } from './commands.js';
import { versionLine } from './version.js';
import { tuneV8 } from '../daemon/v8-tuning.js';

const usage = `usage: punt6 <command> [options]
       punt6 --version

commands:
${commands.map((c) => `  ${c.synopsis}\n${indent(c.summary, 6)}\n`).join('')}
'punt6 <command> --help' describes the command's options.
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  switch (name) {
    case undefined:
      process.stderr.write(usage);
      return 2;
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(usage);
      return 0;
    case '-V':
    case '--version':
      process.stdout.write(versionLine());
      return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`punt6: unknown command: ${name}\n\n${usage}`);
    return 2;
  }
  return command.main(rest);
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
