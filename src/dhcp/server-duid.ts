/**
 * The DHCPv6 server's own DUID (RFC 9915 §11), the content of its Server Identifier option. A
 * client remembers it and names it in Request, Renew and Release, so it must not change when the
 * server restarts (RFC 9915 §11: "the DUID ... SHOULD NOT change over time"): it is generated once
 * and kept in a small file.
 *
 * The file holds the DUID as lower-case hex on one line, e.g.
 * `000100012e4f3a10020000000001` (DUID-LLT: type 1, hardware type 1, time, MAC). Only the bytes
 * matter; surrounding white space is ignored. A file that exists but does not hold a valid DUID
 * is an error, never silently replaced: a new DUID would orphan every client's binding.
 */

import { dirname } from 'node:path';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { fromHex, toHex } from '../../codecs/bytes.js';
import { DUID_TIME_EPOCH, DuidView, HardwareType, duidLength, emitDuid, type DuidRepr } from '../../codecs/duid.js';
import { Status } from '../../codecs/status.js';

export interface ServerDuidOptions {
  /** 'llt' (DUID-LLT, the default, RFC 9915 §11.2) or 'll' (DUID-LL, §11.4). */
  type?: 'llt' | 'll';
  /** Creation time for a DUID-LLT, ms since the epoch (default: now). */
  now?: number;
}

/** The DUID-LLT or DUID-LL for an Ethernet MAC; `now` in ms since the epoch. */
export function makeServerDuid(mac: Uint8Array, type: 'llt' | 'll', now: number): Uint8Array {
  if (mac.length !== 6) throw new RangeError('server DUID: the MAC must be 6 bytes');
  const repr: DuidRepr =
    type === 'llt'
      ? {
          kind: 'llt',
          hardwareType: HardwareType.Ethernet,
          // Seconds since 2000-01-01T00:00:00Z, modulo 2^32 (RFC 9915 §11.2).
          time: (Math.floor(now / 1000) - DUID_TIME_EPOCH) >>> 0,
          linkLayerAddress: mac,
        }
      : { kind: 'll', hardwareType: HardwareType.Ethernet, linkLayerAddress: mac };
  const out = new Uint8Array(duidLength(repr));
  emitDuid(repr, out, 0);
  return out;
}

/** The DUID in the file's text, or throws naming the file and the reason. */
export function parseServerDuidFile(text: string, path: string): Uint8Array {
  const hex = text.trim().toLowerCase();
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) throw new Error(`server DUID file ${path}: not a hex string of whole bytes`);
  const duid = fromHex(hex);
  const view = new DuidView().wrap(duid, 0, duid.length);
  if (view.check() !== Status.Ok) throw new Error(`server DUID file ${path}: ${view.errorReason}`);
  return duid;
}

function isNotFound(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENOENT';
}

/**
 * Returns the server DUID kept at `path`, creating it from `mac` the first time. Creation is
 * atomic and durable: the DUID is written to `path.tmp`, fsynced, renamed to `path`, and the
 * directory fsynced, so a crash leaves either no file or the whole DUID. An existing file is read
 * and checked, and wins over `mac` (the DUID stays the same when the interface changes).
 */
export async function loadOrCreateServerDuid(
  path: string,
  mac: Uint8Array,
  options: ServerDuidOptions = {},
): Promise<Uint8Array> {
  try {
    return parseServerDuidFile(await readFile(path, 'utf8'), path);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const duid = makeServerDuid(mac, options.type ?? 'llt', options.now ?? Date.now());
  const tmp = path + '.tmp';
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(toHex(duid) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return duid;
}
