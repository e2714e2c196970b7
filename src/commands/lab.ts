/**
 * `punt6 lab up | status | down [--state DIR] [--config FILE] [--metrics-port N] [--vms N]`.
 */

import { ConfigError } from '../config/index.js';
import { LabError } from '../system/exec.js';
import { defaultLabOptions, labDown, labStatus, labUp, type LabOptions } from '../lab/lab.js';
import { DEFAULT_METRICS_PORT, DEFAULT_STATE_DIRECTORY, MAX_LAB_VMS } from '../lab/plan.js';
import { defineCommand, integerOption, parseCommand, UsageError } from './command.js';

const subcommands = { up: labUp, status: labStatus, down: labDown } as const;

type Subcommand = keyof typeof subcommands;

interface LabArgs {
  subcommand: Subcommand;
  options: LabOptions;
}

export const labCommand = defineCommand<LabArgs>({
  name: 'lab',
  synopsis: 'lab up|status|down [options]',
  summary: `build, show or remove a self-contained lab around punt6: a private Open
vSwitch, a punt port, VMs as namespaces, real clients (docs/lab.md)`,
  details: `  up       build the lab (private Open vSwitch, punt port, one namespace per configured port),
           start punt6, run the real clients in every namespace and print what they got;
           exit 0 when every check passed. The lab stays up.
  status   the lab's daemons, namespaces, flows with packet counts and punt6's counters
  down     stop the lab's daemons and remove its namespaces, links and state directory

options:
  --state DIR          the lab's state directory (default ${DEFAULT_STATE_DIRECTORY})
  --config FILE        the punt6 configuration (up; default fixtures/config/lab.yaml)
  --metrics-port N     punt6's metrics port on [::1] (up; default ${DEFAULT_METRICS_PORT})
  --vms N              (up) N VMs on the network of the configuration's first port instead of
                       its ports: vm1 … vmN, one address each (1..${MAX_LAB_VMS})
`,
  parse: (args) => {
    const { values, positionals } = parseCommand(
      args,
      {
        state: { type: 'string' },
        config: { type: 'string' },
        'metrics-port': { type: 'string' },
        vms: { type: 'string' },
      },
      true,
    );
    const options = defaultLabOptions();
    if (values.state !== undefined) options.stateDirectory = values.state;
    if (values.config !== undefined) options.configPath = values.config;
    options.metricsPort =
      integerOption(values['metrics-port'], '--metrics-port', { min: 1, max: 65535 }) ?? options.metricsPort;
    const vms = integerOption(values.vms, '--vms', { min: 1, max: MAX_LAB_VMS });
    if (vms !== undefined) options.vms = vms;
    const [subcommand, ...extra] = positionals;
    if (subcommand === undefined) throw new UsageError('a subcommand is required: up, status or down');
    if (!Object.hasOwn(subcommands, subcommand)) throw new UsageError(`unknown subcommand ${subcommand}`);
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]} after ${subcommand}`);
    return { subcommand: subcommand as Subcommand, options };
  },
  run: async (a, io) => {
    try {
      return (await subcommands[a.subcommand](a.options)) ? 0 : 1;
    } catch (e) {
      if (e instanceof LabError || e instanceof ConfigError) {
        io.error(`punt6 lab ${a.subcommand}: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
});
