/**
 * `punt6 run --config FILE [--metrics HOST:PORT] [--log-level LEVEL] [--bridge BR ...]`: the live
 * punt path (src/daemon/service.ts) until a signal ends it. Signals:
 *
 * - SIGHUP: reload the configuration (`Punt6Service.reload`); a failure of the preparation leaves
 *   the running configuration answering.
 * - SIGTERM, SIGINT: stop (`Punt6Service.stop`), then exit 0.
 *
 * A start that fails exits 1 at once, whatever the capture still holds.
 */

import { parseArgs } from 'node:util';
import { ConfigError, LogLevels, type LogLevel } from '../config/index.js';
import { parseHostPort } from '../config/addr.js';
import type { FlowOptions } from '../flows/rules.js';
import { createLogger } from '../system/logging.js';
import { Punt6Service } from '../daemon/service.js';
import { flowOptionsOf, UsageProblem } from './flows.js';

export const runUsage = `usage: punt6 run --config FILE [--metrics HOST:PORT] [--log-level LEVEL] [--bridge BR [--meter-rate PPS] [--meter-burst N] [--meter-base N]]`;

/**
 * Ends the process with `code` shortly, once everything is closed and the log written. The pcap
 * package frees a closed live capture only when one more frame arrives on it (pcap_breakloop
 * has no effect in non-blocking mode), so its poll handle would keep the process alive. The
 * timer does not: a process with nothing else left exits at once, with the exit code the
 * command line sets.
 */
function endProcessSoon(code: number): void {
  setTimeout(() => process.exit(code), 200).unref();
}

/** The `punt6 run` command; resolves with the exit status once stopped (or failed to start). */
export async function runMain(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      metrics: { type: 'string' },
      'log-level': { type: 'string' },
      bridge: { type: 'string' },
      'meter-rate': { type: 'string' },
      'meter-burst': { type: 'string' },
      'meter-base': { type: 'string' },
    },
  });
  const usageError = (message: string): number => {
    process.stderr.write(`punt6 run: ${message}\n${runUsage}\n`);
    return 2;
  };
  if (positionals.length > 0) return usageError(`unexpected argument ${positionals[0]}`);
  if (values.config === undefined) return usageError('--config FILE is required');
  let metrics: { host: string; port: number } | undefined;
  if (values.metrics !== undefined) {
    const hp = parseHostPort(values.metrics);
    if (hp === null)
      return usageError(`--metrics ${values.metrics}: not HOST:PORT (like [::1]:9464, 127.0.0.1:9464 or :9464)`);
    metrics = { host: hp.host, port: hp.port };
  }
  const level = values['log-level'];
  if (level !== undefined && !(LogLevels as readonly string[]).includes(level)) {
    return usageError(`--log-level is one of ${LogLevels.join(', ')}`);
  }
  let flowOptions: FlowOptions;
  try {
    flowOptions = flowOptionsOf(values);
  } catch (e) {
    if (e instanceof UsageProblem) return usageError(e.message);
    throw e;
  }
  if (
    values.bridge === undefined &&
    (values['meter-rate'] !== undefined || values['meter-burst'] !== undefined || values['meter-base'] !== undefined)
  ) {
    return usageError('--meter-rate, --meter-burst and --meter-base go with --bridge');
  }
  const logger = createLogger({ level: (level as LogLevel | undefined) ?? 'info' });
  const service = new Punt6Service({
    configPath: values.config,
    logger,
    metrics,
    logLevel: level as LogLevel | undefined,
    bridge: values.bridge,
    flowOptions,
  });
  try {
    await service.start();
  } catch (e) {
    if (e instanceof ConfigError) {
      logger.fatal(
        { config: values.config, problems: e.problems.map((p) => `${p.path}: ${p.reason}`) },
        'invalid configuration',
      );
      process.stderr.write(`punt6 run: ${e.message}\n`);
    } else {
      logger.fatal({ err: e }, 'cannot start');
      process.stderr.write(`punt6 run: ${(e as Error).message}\n`);
    }
    // Whatever the start captured before it failed is closed, but may still hold the process.
    endProcessSoon(1);
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'already stopping');
        return;
      }
      stopping = true;
      service.stop(signal).then(
        () => finish(0),
        (e: unknown) => {
          logger.error({ err: e }, 'stop failed');
          finish(1);
        },
      );
    };
    const onHup = (): void => {
      logger.info({ config: values.config }, 'SIGHUP: reloading the configuration');
      service.reload().catch((e: unknown) => {
        // Every failure of the preparation leaves the old configuration answering; a throw from
        // the swap itself leaves the punt path in an unknown state: stop.
        logger.fatal({ err: e }, 'reload failed while switching configurations; stopping');
        onStop('SIGTERM');
      });
    };
    const finish = (code: number): void => {
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      process.off('SIGHUP', onHup);
      endProcessSoon(code);
      resolve(code);
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', onHup);
  });
}
