/** Every command of `punt6`, in the order `punt6 --help` lists them. */

import { benchCommand } from './bench.js';
import type { Command } from './command.js';
import { doctorCommand } from './doctor.js';
import { checkCommand } from './check.js';
import { decodeCommand } from './decode.js';
import { flowsCommand } from './flows.js';
import { labCommand } from './lab.js';
import { replayCommand } from './replay.js';
import { runCommand } from './run.js';

export const commands: readonly Command[] = [
  decodeCommand,
  replayCommand,
  runCommand,
  checkCommand,
  benchCommand,
  doctorCommand,
  flowsCommand,
  labCommand,
];
