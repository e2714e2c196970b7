/**
 * `punt6 run --config FILE [--metrics HOST:PORT] [--log-level LEVEL] [--bridge BR ...]`: the live
 * punt path (src/daemon/service.ts) until a signal ends it. Signals:
 *
 * - SIGHUP: reload the configuration (`Punt6Service.reload`); a failure of the preparation leaves
 *   the running configuration answering.
 * - SIGTERM, SIGINT: stop (`Punt6Service.stop`), then exit 0.
 *
 * A start that fails exits 1 at once, whatever the capture still holds. Under systemd
 * (`NOTIFY_SOCKET` set), readiness is told once every punt interface is attached
 * (src/daemon/readiness.ts).
 */

import { ConfigError, formatProblem, LogLevels, type LogLevel } from '../config/index.js';
import { parseHostPort } from '../config/addr.js';
import { DefaultFlowOptions } from '../flows/rules.js';
import { createLogger } from '../system/logging.js';
import { StateError } from '../daemon/config-check.js';
import { Readiness, systemdNotify } from '../daemon/readiness.js';
import { ControlServer } from '../control/server.js';
import { Punt6Service, type ServiceOptions } from '../daemon/service.js';
import { defineCommand, parseCommand, UsageError, type CommandIo } from './command.js';
import { flowOptionsOf, meterFlags } from './flows.js';

/** What the command line sets of the service's options. */
type RunArgs = Required<Pick<ServiceOptions, 'configPath' | 'flowOptions'>> &
  Pick<ServiceOptions, 'metrics' | 'logLevel' | 'bridge'>;

export const runCommand = defineCommand<RunArgs>({
  name: 'run',
  synopsis: 'run --config FILE [--metrics HOST:PORT] [--log-level LEVEL] [--bridge BR [options]]',
  summary: `the live punt path: attach to the configured punt interfaces, answer NDP,
echo and DHCPv6, send RAs; SIGHUP reloads the configuration, SIGTERM/SIGINT
send final RAs and stop (docs/operations.md)`,
  details: `options:
  --config FILE          the punt6 configuration
  --metrics HOST:PORT    Prometheus metrics on http://HOST:PORT/metrics (overrides the file)
  --log-level LEVEL      ${LogLevels.join(', ')} (overrides the file)
  --bridge BR            keep punt6's OpenFlow rules on this OVS bridge: installed at start
                         and reload, re-installed within seconds when they go missing
  --meter-rate PPS       with --bridge: packets per second each VM port may punt
  --meter-burst N        with --bridge: the meter's burst
  --meter-base N         with --bridge: meter id of the first VM port (default ${DefaultFlowOptions.meterBase})
`,
  parse: (args) => {
    const { values } = parseCommand(
      args,
      {
        config: { type: 'string' },
        metrics: { type: 'string' },
        'log-level': { type: 'string' },
        bridge: { type: 'string' },
        ...meterFlags,
      },
      false,
    );
    if (values.config === undefined) throw new UsageError('--config FILE is required');
    const metrics = metricsOption(values.metrics);
    const level = values['log-level'];
    if (level !== undefined && !(LogLevels as readonly string[]).includes(level)) {
      throw new UsageError(`--log-level is one of ${LogLevels.join(', ')}`);
    }
    const flowOptions = flowOptionsOf(values);
    if (
      values.bridge === undefined &&
      (values['meter-rate'] !== undefined || values['meter-burst'] !== undefined || values['meter-base'] !== undefined)
    ) {
      throw new UsageError('--meter-rate, --meter-burst and --meter-base go with --bridge');
    }
    return {
      configPath: values.config,
      metrics,
      logLevel: level as LogLevel | undefined,
      bridge: values.bridge,
      flowOptions,
    };
  },
  run: runService,
});

/** The listener `--metrics HOST:PORT` names; throws UsageError when it is not HOST:PORT. */
export function metricsOption(text: string | undefined): { host: string; port: number } | undefined {
  if (text === undefined) return undefined;
  const hp = parseHostPort(text);
  if (hp === null) throw new UsageError(`--metrics ${text}: not HOST:PORT (like [::1]:9464, 127.0.0.1:9464 or :9464)`);
  return { host: hp.host, port: hp.port };
}

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

/** Runs the punt path until a signal stops it; resolves with the exit status. */
async function runService(a: RunArgs, io: CommandIo): Promise<number> {
  const startedAt = Date.now();
  const logger = createLogger({ level: a.logLevel ?? 'info' });
  const service = new Punt6Service({ ...a, logger });
  try {
    await service.start();
  } catch (e) {
    if (e instanceof ConfigError) {
      logger.fatal(
        { config: a.configPath, problems: e.problems.map((p) => `${p.path}: ${p.reason}`) },
        'invalid configuration',
      );
      io.error(`punt6 run: ${e.message}\n`);
    } else {
      const problems = e instanceof StateError ? e.problems.map(formatProblem) : undefined;
      logger.fatal({ err: e, problems }, 'cannot start');
      io.error(`punt6 run: ${(e as Error).message}\n`);
    }
    // Whatever the start captured before it failed is closed, but may still hold the process.
    endProcessSoon(1);
    return 1;
  }

  let control: ControlServer | null = null;
  const controlConfig = service.config.control;
  if (controlConfig !== null) {
    control = new ControlServer({
      service,
      configPath: a.configPath,
      startedAt,
      onFatal: (e) => {
        logger.fatal({ err: e }, 'reload failed while switching configurations; stopping');
        process.kill(process.pid, 'SIGTERM');
      },
    });
    try {
      await control.listen(controlConfig.socket, controlConfig.mode);
      logger.info({ socket: controlConfig.socket, mode: controlConfig.mode.toString(8) }, 'control socket listening');
    } catch (e) {
      logger.fatal({ err: e }, 'cannot start');
      io.error(`punt6 run: ${(e as Error).message}\n`);
      await service.stop('cannot start');
      endProcessSoon(1);
      return 1;
    }
  }

  // Under systemd (Type=notify): READY=1 once every punt interface is attached.
  const readiness =
    io.env['NOTIFY_SOCKET'] === undefined
      ? null
      : new Readiness({
          ports: () => service.dataplane.status(),
          send: systemdNotify(io.env),
          onError: (e) => logger.warn({ err: e }, 'cannot notify the service manager'),
        });
  readiness?.announce();

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'already stopping');
        return;
      }
      stopping = true;
      void readiness?.stopping();
      const closed = control?.close() ?? Promise.resolve();
      closed
        .then(() => service.stop(signal))
        .then(
          () => finish(0),
          (e: unknown) => {
            logger.error({ err: e }, 'stop failed');
            finish(1);
          },
        );
    };
    const onHup = (): void => {
      logger.info({ config: a.configPath }, 'SIGHUP: reloading the configuration');
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
