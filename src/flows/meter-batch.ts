/**
 * Meters changed in one batch over a bridge's OpenFlow management socket, the unix socket that
 * `ovs-ofctl` itself talks to: one connection, a HELLO each way (the version both speak, 1.3 to
 * 1.5), every OFPT_METER_MOD written at once, then one BARRIER_REQUEST. ovs-vswitchd handles the
 * messages of a connection in order and answers the barrier only after all of them, so when the
 * BARRIER_REPLY arrives every change has taken effect except those it answered with an ERROR,
 * which carries the failed message's xid: change i is sent with xid FIRST_XID + i.
 *
 * Where the socket is, as `ovs-ofctl BRIDGE` finds it: `$OVS_RUNDIR/BRIDGE.mgmt`, with the
 * rundir OVS was built with when OVS_RUNDIR is unset or empty (Debian's: /var/run/openvswitch).
 */

import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Status } from '../../codecs/status.js';
import {
  describeError,
  emitBarrierRequest,
  emitEchoReply,
  emitHello,
  emitMeterMod,
  HELLO_LENGTH,
  METER_VERSIONS_BITMAP,
  MeterCommand,
  MeterFlag,
  meterModLength,
  negotiateVersion,
  nextMessageLength,
  OFP_HEADER_LENGTH,
  OfMessageView,
  OfType,
  type MeterModRepr,
} from './openflow.js';
import type { MeterSpec } from './rules.js';

/** One meter to add or modify (as its MeterSpec says) or delete. */
export type MeterChange =
  | { readonly command: 'add' | 'modify'; readonly meter: MeterSpec }
  | { readonly command: 'delete'; readonly id: number };

/** A change the switch refused, and its reason (`OFPMMFC_METER_EXISTS: a meter with this id exists already`). */
export interface MeterFailure {
  readonly change: MeterChange;
  readonly reason: string;
}

/** The rundir of Debian's (and most distributions') Open vSwitch build, where OVS_RUNDIR is unset. */
export const DEFAULT_OVS_RUNDIR = '/var/run/openvswitch';

/** The bridge's management socket, where `ovs-ofctl BRIDGE` looks for it. */
export function managementSocket(bridge: string, env: NodeJS.ProcessEnv): string {
  const rundir = env['OVS_RUNDIR'];
  return join(rundir === undefined || rundir === '' ? DEFAULT_OVS_RUNDIR : rundir, `${bridge}.mgmt`);
}

/**
 * The METER_MOD of a change, exactly what `meterArgument()` gives `ovs-ofctl`: packets per
 * second, a burst size, statistics, one drop band.
 */
export function meterModOf(change: MeterChange): MeterModRepr {
  if (change.command === 'delete') return { command: MeterCommand.Delete, meterId: change.id, flags: 0, band: null };
  return {
    command: change.command === 'add' ? MeterCommand.Add : MeterCommand.Modify,
    meterId: change.meter.id,
    flags: MeterFlag.Pktps | MeterFlag.Burst | MeterFlag.Stats,
    band: { rate: change.meter.rate, burstSize: change.meter.burst },
  };
}

const HELLO_XID = 1;
/** The xid of the first change; the barrier follows the last one. */
export const FIRST_XID = 2;

/** Every change's METER_MOD (xids from FIRST_XID), then the BARRIER_REQUEST, in one buffer. */
export function encodeMeterBatch(changes: readonly MeterChange[], version: number): Uint8Array {
  const mods = changes.map(meterModOf);
  let length = OFP_HEADER_LENGTH;
  for (const m of mods) length += meterModLength(m);
  const b = new Uint8Array(length);
  let o = 0;
  mods.forEach((m, i) => (o += emitMeterMod(m, version, FIRST_XID + i, b, o)));
  emitBarrierRequest(version, FIRST_XID + mods.length, b, o);
  return b;
}

/** The batch could not be sent, or its outcome is unknown; `code` is the socket's error code, if any. */
export class MeterSocketError extends Error {
  readonly code: string | undefined;

  constructor(message: string, code?: string) {
    super(message);
    this.name = 'MeterSocketError';
    this.code = code;
  }
}

/**
 * Sends the changes to the management socket at `path` and resolves, once the switch answered
 * the barrier, with the changes it refused. Rejects with a MeterSocketError when the socket is
 * not there (code ENOENT) or refuses the connection, when the switch speaks no version with
 * meters, fails the connection, closes it, or does not answer within `timeoutMs`: then an
 * unknown part of the batch may have taken effect.
 */
export function sendMeterBatch(
  path: string,
  changes: readonly MeterChange[],
  timeoutMs = 30_000,
): Promise<MeterFailure[]> {
  return new Promise((resolve, reject) => {
    const failures: MeterFailure[] = [];
    const barrierXid = FIRST_XID + changes.length;
    const view = new OfMessageView();
    let pending = new Uint8Array(0);
    let sent = false;
    let done = false;
    const socket = createConnection({ path });
    const finish = (error: MeterSocketError | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error === null) {
        socket.end();
        resolve(failures);
      } else {
        socket.destroy();
        reject(error);
      }
    };
    const timer = setTimeout(
      () => finish(new MeterSocketError(`no answer to the barrier within ${timeoutMs} ms${unknown()}`)),
      timeoutMs,
    );
    const unknown = (): string =>
      sent ? `; some of the ${changes.length} meter changes may have taken effect` : '; no meter was changed';

    socket.on('connect', () => {
      const hello = new Uint8Array(HELLO_LENGTH);
      emitHello(METER_VERSIONS_BITMAP, HELLO_XID, hello, 0);
      socket.write(hello);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => finish(new MeterSocketError(e.message + unknown(), e.code)));
    socket.on('close', () => finish(new MeterSocketError(`the switch closed the connection${unknown()}`)));
    socket.on('data', (chunk: Buffer) => {
      const joined = new Uint8Array(pending.length + chunk.length);
      joined.set(pending, 0);
      joined.set(chunk, pending.length);
      let o = 0;
      for (;;) {
        const n = nextMessageLength(joined, o, joined.length);
        if (n === 0) break;
        if (n < 0 || view.wrap(joined, o, n).check() !== Status.Ok) {
          finish(new MeterSocketError(`the switch sent a malformed OpenFlow message${unknown()}`));
          return;
        }
        o += n;
        const answer = handle(view);
        if (answer !== null) {
          finish(answer === 'done' ? null : new MeterSocketError(answer + unknown()));
          return;
        }
      }
      pending = joined.slice(o);
    });

    /** What one message from the switch means: null to go on, 'done' at the barrier, else an error. */
    function handle(m: OfMessageView): string | 'done' | null {
      switch (m.type) {
        case OfType.Hello: {
          if (sent) return null;
          const version = negotiateVersion(METER_VERSIONS_BITMAP, m);
          if (version < 0)
            return `the switch speaks no OpenFlow version with meters (1.3 to 1.5); its HELLO says version ${m.version}`;
          socket.write(encodeMeterBatch(changes, version));
          sent = true;
          return null;
        }
        case OfType.EchoRequest: {
          const reply = new Uint8Array(m.length);
          emitEchoReply(m, reply, 0);
          socket.write(reply);
          return null;
        }
        case OfType.Error: {
          const i = m.xid - FIRST_XID;
          const change = i >= 0 && i < changes.length ? changes[i] : undefined;
          const reason = describeError(m.errorType, m.errorCode);
          if (change === undefined) return `the switch failed the connection: ${reason}`;
          failures.push({ change, reason });
          return null;
        }
        case OfType.BarrierReply:
          return m.xid === barrierXid ? 'done' : null;
        default:
          // Anything else (an asynchronous message) says nothing about the batch.
          return null;
      }
    }
  });
}
