/**
 * `punt6 doctor [--config FILE] [--bridge BR]`: the host checked for what `punt6 run` needs
 * (src/daemon/doctor.ts), each finding printed with its fix. Exit 1 when any finding is a
 * failure, else 0; `--json` prints the findings as one JSON array.
 */

import { diagnose, type DoctorOptions, type Finding, type Severity } from '../daemon/doctor.js';
import { defineCommand, parseCommand, UsageError } from './command.js';
import { flowOptionsOf, meterFlags } from './flows.js';
import { metricsOption } from './run.js';

const label: Record<Severity, string> = { ok: 'ok  ', info: 'info', warn: 'WARN', fail: 'FAIL' };

function findingText(f: Finding): string {
  return `${label[f.severity]}  ${f.check}: ${f.detail}\n` + (f.fix === undefined ? '' : `      fix: ${f.fix}\n`);
}

export const doctorCommand = defineCommand<DoctorOptions & { json: boolean }>({
  name: 'doctor',
  synopsis: 'doctor [--config FILE] [--bridge BR] [options]',
  summary: `check this host for what punt6 run needs: capabilities, the punt interfaces
(up, IPv6 off, checksum offload), the state directory, the metrics port, Open
vSwitch and punt6's rules, Node.js; each finding with its fix`,
  details: `options:
  --config FILE        the configuration punt6 runs with (without it: capabilities, Node.js,
                       and Open vSwitch with --bridge only)
  --bridge BR          the bridge punt6 run --bridge keeps its rules on (default: the bridge
                       of the first punt interface, if any)
  --metrics HOST:PORT  the metrics listener run --metrics gives (default: the configuration's)
  --meter-rate PPS, --meter-burst N, --meter-base N, --table-base N
                       the rule options run or flows uses, to compare the rules in place
  --json               the findings as one JSON array

Each finding is ok, info, WARN (punt6 runs, but something answers wrong or will fail) or FAIL
(punt6 cannot do its job until it is fixed); exit 1 when any is FAIL. Run it as the user punt6
runs as: capabilities and permissions are this process's. It changes nothing.
`,
  parse: (args) => {
    const { values } = parseCommand(
      args,
      {
        config: { type: 'string' },
        bridge: { type: 'string' },
        metrics: { type: 'string' },
        'table-base': { type: 'string' },
        json: { type: 'boolean', default: false },
        ...meterFlags,
      },
      false,
    );
    const metrics = metricsOption(values.metrics);
    if (values.bridge === '') throw new UsageError('--bridge needs a bridge name');
    return {
      configPath: values.config,
      bridge: values.bridge,
      metrics,
      flowOptions: flowOptionsOf(values),
      json: values.json,
    };
  },
  run: async (a, io) => {
    const findings = await diagnose({ ...a, env: io.env });
    if (a.json) io.write(JSON.stringify(findings) + '\n');
    else {
      for (const f of findings) io.write(findingText(f));
      const count = (s: Severity): number => findings.filter((f) => f.severity === s).length;
      io.write(`${findings.length} checks: ${count('fail')} FAIL, ${count('warn')} WARN\n`);
    }
    return findings.some((f) => f.severity === 'fail') ? 1 : 0;
  },
});
