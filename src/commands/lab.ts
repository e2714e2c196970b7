/**
 * `punt6 lab up | status | down [--state DIR] [--config FILE] [--metrics-port N]`.
 */

import { parseArgs } from 'node:util';
import { ConfigError } from '../config/index.js';
import { LabError } from '../system/exec.js';
import { defaultLabOptions, labDown, labStatus, labUp } from '../lab/lab.js';

export const labUsage = `usage: punt6 lab up|status|down [options]

  up       build the lab (private Open vSwitch, punt port, one namespace per configured port),
           start punt6, run the real clients in every namespace and print what they got;
           exit 0 when every check passed. The lab stays up.
  status   the lab's daemons, namespaces, flows with packet counts and punt6's counters
  down     stop the lab's daemons and remove its namespaces, links and state directory

options:
  --state DIR          the lab's state directory (default /run/punt6-lab)
  --config FILE        the punt6 configuration (up; default fixtures/config/lab.yaml)
  --metrics-port N     punt6's metrics port on [::1] (up; default 9660)
`;

export async function labMain(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        state: { type: 'string' },
        config: { type: 'string' },
        'metrics-port': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`punt6 lab: ${(e as Error).message}\n\n${labUsage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(labUsage);
    return 0;
  }
  const options = defaultLabOptions();
  if (values.state !== undefined) options.stateDirectory = values.state;
  if (values.config !== undefined) options.configPath = values.config;
  if (values['metrics-port'] !== undefined) {
    const port = Number(values['metrics-port']);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      process.stderr.write(`punt6 lab: --metrics-port is a port number (1..65535)\n`);
      return 2;
    }
    options.metricsPort = port;
  }
  const [sub, ...extra] = positionals;
  if (extra.length > 0 || sub === undefined) {
    process.stderr.write(labUsage);
    return 2;
  }
  try {
    switch (sub) {
      case 'up':
        return (await labUp(options)) ? 0 : 1;
      case 'status':
        return (await labStatus(options)) ? 0 : 1;
      case 'down':
        return (await labDown(options)) ? 0 : 1;
      default:
        process.stderr.write(`punt6 lab: unknown subcommand ${sub}\n\n${labUsage}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof LabError || e instanceof ConfigError) {
      process.stderr.write(`punt6 lab ${sub}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
