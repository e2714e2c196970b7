/**
 * A private Open vSwitch: its own ovsdb-server and ovs-vswitchd whose database, sockets, pid
 * files and logs all live in the lab's state directory. Every ovs-* command runs with
 * OVS_RUNDIR / OVS_DBDIR / OVS_LOGDIR pointing there, so no system OVS is ever touched.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, livePid, run, runOk, stopByPidFile, waitFor, type RunResult } from '../system/exec.js';

const SCHEMA_CANDIDATES = [
  '/usr/share/openvswitch/vswitch.ovsschema',
  '/usr/local/share/openvswitch/vswitch.ovsschema',
];

export class PrivateOvs {
  readonly directory: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(directory: string) {
    this.directory = directory;
    this.env = { ...process.env, OVS_RUNDIR: directory, OVS_DBDIR: directory, OVS_LOGDIR: directory };
  }

  get dbSocket(): string {
    return join(this.directory, 'db.sock');
  }
  get ovsdbPidFile(): string {
    return join(this.directory, 'ovsdb-server.pid');
  }
  get vswitchdPidFile(): string {
    return join(this.directory, 'ovs-vswitchd.pid');
  }

  ovsdbPid(): number | null {
    return livePid(this.ovsdbPidFile, 'ovsdb-server');
  }
  vswitchdPid(): number | null {
    return livePid(this.vswitchdPidFile, 'ovs-vswitchd');
  }

  /**
   * Starts ovsdb-server, then ovs-vswitchd; `netns`: ovs-vswitchd runs in that network namespace
   * (a userspace datapath opens the interfaces of the namespace it runs in).
   */
  async start(netns?: string): Promise<void> {
    const schema = SCHEMA_CANDIDATES.find((s) => existsSync(s));
    if (!schema)
      throw new LabError(
        `the OVS schema is missing (looked at ${SCHEMA_CANDIDATES.join(', ')}); install openvswitch-switch`,
      );
    const db = join(this.directory, 'conf.db');
    await runOk('ovsdb-tool', ['create', db, schema], { env: this.env });
    await runOk(
      'ovsdb-server',
      [
        db,
        `--remote=punix:${this.dbSocket}`,
        `--pidfile=${this.ovsdbPidFile}`,
        '--detach',
        '--no-chdir',
        `--log-file=${join(this.directory, 'ovsdb-server.log')}`,
      ],
      { env: this.env },
    );
    await this.vsctl(['--no-wait', 'init']);
    const inNamespace = netns === undefined ? [] : ['netns', 'exec', netns, 'ovs-vswitchd'];
    await runOk(
      netns === undefined ? 'ovs-vswitchd' : 'ip',
      [
        ...inNamespace,
        `unix:${this.dbSocket}`,
        `--pidfile=${this.vswitchdPidFile}`,
        '--detach',
        '--no-chdir',
        `--log-file=${join(this.directory, 'ovs-vswitchd.log')}`,
      ],
      { env: this.env, timeout: 60_000 },
    );
    await waitFor('ovs-vswitchd', 10_000, () => (this.vswitchdPid() === null ? undefined : true));
  }

  /** Stops both daemons by their pid files; returns the names of those that were running. */
  async stop(): Promise<string[]> {
    const stopped: string[] = [];
    if (await stopByPidFile(this.vswitchdPidFile, 'ovs-vswitchd')) stopped.push('ovs-vswitchd');
    if (await stopByPidFile(this.ovsdbPidFile, 'ovsdb-server')) stopped.push('ovsdb-server');
    return stopped;
  }

  vsctl(args: readonly string[]): Promise<string> {
    return runOk('ovs-vsctl', [`--db=unix:${this.dbSocket}`, '--timeout=20', ...args], { env: this.env });
  }

  ofctl(args: readonly string[]): Promise<string> {
    return runOk('ovs-ofctl', args, { env: this.env });
  }

  ofctlRaw(args: readonly string[]): Promise<RunResult> {
    return run('ovs-ofctl', args, { env: this.env });
  }
}
