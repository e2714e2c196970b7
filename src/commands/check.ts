/**
 * `punt6 check --config FILE`: the configuration checked as `punt6 run` checks it at start and on
 * SIGHUP, with the same code (src/daemon/config-check.ts), and the state it names read without
 * writing anything. Exit 0 and one line saying what the file sets up; or every problem on
 * standard output, one `PATH: reason` a line, and exit 1.
 */

import { formatProblem } from '../config/index.js';
import { checkConfigFile } from '../daemon/config-check.js';
import { defineCommand, parseCommand, UsageError } from './command.js';

interface CheckArgs {
  configPath: string;
}

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

export const checkCommand = defineCommand<CheckArgs>({
  name: 'check',
  synopsis: 'check --config FILE',
  summary: `check a configuration as run and a SIGHUP reload would, and the state it
names (lease journal, server DUID file); exit 0, or every problem and exit 1`,
  details: `options:
  --config FILE   the punt6 configuration

Each problem is one line on standard output, PATH: reason, where PATH is the place in the
file (networks[0].prefixes[1]), FILE:LINE:COLUMN for a YAML syntax error, or the server key
that names an unusable state file or directory (server.stateDirectory, server.leaseFile,
server.duidFile). Nothing is created or written.
`,
  parse: (args) => {
    const { values } = parseCommand(args, { config: { type: 'string' } }, false);
    if (values.config === undefined) throw new UsageError('--config FILE is required');
    return { configPath: values.config };
  },
  run: async (a, io) => {
    const { config, problems } = await checkConfigFile(a.configPath);
    if (config === null) {
      for (const p of problems) io.write(`${formatProblem(p)}\n`);
      io.error(`punt6 check: ${a.configPath}: ${plural(problems.length, 'problem')}\n`);
      return 1;
    }
    const stateful = config.networks.filter((n) => n.dhcpv6.mode === 'stateful').length;
    io.write(
      `${a.configPath}: ok: ${plural(config.interfaces.length, 'interface')}, ${plural(config.networks.length, 'network')} ` +
        `(${stateful} with stateful DHCPv6), ${plural(config.ports.length, 'port')}, state in ${config.server.stateDirectory}\n`,
    );
    return 0;
  },
});
