/** Every command of `punt6`, in the order `punt6 --help` lists them. */

import { benchCommand } from './bench.js';
import type { Command } from './command.js';
import { doctorCommand } from './doctor.js';
import { checkCommand } from './check.js';
import { ctlCommand } from './ctl.js';
import { decodeCommand } from './decode.js';
import { flowsCommand } from './flows.js';
import { labCommand } from './lab.js';
import { leasesCommand } from './leases.js';
import { replayCommand } from './replay.js';
import { runCommand } from './run.js';

export const commands: readonly Command[] = [
  decodeCommand,
  replayCommand,
  runCommand,
  checkCommand,
  leasesCommand,
  ctlCommand,
  benchCommand,
  doctorCommand,
  flowsCommand,
  labCommand,
];
