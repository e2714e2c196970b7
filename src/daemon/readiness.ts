/**
 * Readiness for a service manager, as sd_notify(3) describes it: when `NOTIFY_SOCKET` is set
 * (systemd's Type=notify, docs/punt6.service), `punt6 run` says READY=1 once every punt
 * interface of its configuration is attached, STATUS= what it waits for meanwhile, and
 * STOPPING=1 when it stops. Node cannot send on a Unix datagram socket itself, so the messages
 * go through `systemd-notify`, which waits until the manager has taken each one (the unit sets
 * NotifyAccess=all, since the sender is a child of punt6).
 */

import type { PortStatus } from '../dataplane/dataplane.js';
import { run } from '../system/exec.js';

/** Sends one notification: `KEY=VALUE` assignments; rejects when it could not be sent. */
export type NotifySender = (assignments: readonly string[]) => Promise<void>;

/** The sender through `systemd-notify`, with `env` (it reads NOTIFY_SOCKET there). */
export function systemdNotify(env: NodeJS.ProcessEnv): NotifySender {
  return async (assignments) => {
    const r = await run('systemd-notify', [...assignments], { env, timeout: 10_000 });
    if (r.code !== 0) throw new Error(`${r.command} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  };
}

export interface ReadinessOptions {
  /** The ports and whether each is attached (the dataplane's status). */
  ports: () => readonly PortStatus[];
  send: NotifySender;
  /** Told when a notification could not be sent. */
  onError: (e: unknown) => void;
  /** How often the ports are looked at until all are attached, ms (default 100). */
  everyMs?: number;
}

/** What `punt6 run` tells the service manager; `announce()` once started, `stopping()` at the stop. */
export class Readiness {
  private readonly o: ReadinessOptions;
  private timer: NodeJS.Timeout | null = null;
  private waitingFor = '';
  private ready = false;
  private finished = false;

  constructor(o: ReadinessOptions) {
    this.o = o;
  }

  /** Whether READY=1 was sent. */
  get isReady(): boolean {
    return this.ready;
  }

  /** Looks at the ports now and then until every one is attached, then says READY=1. */
  announce(): void {
    if (this.finished) return;
    const missing = this.o
      .ports()
      .filter((p) => !p.attached)
      .map((p) => p.name);
    if (missing.length === 0) {
      this.ready = true;
      const n = this.o.ports().length;
      this.send(['READY=1', `STATUS=answering on ${n} interface${n === 1 ? '' : 's'}`]);
      return;
    }
    const waiting = missing.join(', ');
    if (waiting !== this.waitingFor) {
      this.waitingFor = waiting;
      this.send([`STATUS=waiting for interface${missing.length === 1 ? '' : 's'} ${waiting}`]);
    }
    this.timer = setTimeout(() => this.announce(), this.o.everyMs ?? 100);
  }

  /** Says STOPPING=1 and looks at the ports no more; resolves once the message is sent. */
  async stopping(): Promise<void> {
    this.finished = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.o.send(['STOPPING=1']).catch(this.o.onError);
  }

  private send(assignments: readonly string[]): void {
    this.o.send(assignments).catch(this.o.onError);
  }
}
