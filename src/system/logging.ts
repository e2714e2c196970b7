/**
 * The log of `punt6 run`: pino, one JSON object a line on standard output (pino-pretty's
 * human-readable lines when standard output is a terminal). Writes are synchronous, so the last
 * lines before an exit are not lost.
 *
 * One line per notable event (start, interface attached or lost, reload, stop), never one per
 * packet at the default level `info`.
 */

import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
export type { Logger };

export const LogLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LogLevels)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** Human-readable output (default: when standard output is a terminal). */
  pretty?: boolean;
  /** Where JSON lines go (default: standard output). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(o: LoggerOptions): Logger {
  const options = { level: o.level, base: { name: 'punt6' } };
  const human = o.pretty ?? process.stdout.isTTY === true;
  if (human && o.destination === undefined) {
    return pino(
      options,
      pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' }),
    );
  }
  return pino(options, o.destination ?? pino.destination({ fd: 1, sync: true }));
}
