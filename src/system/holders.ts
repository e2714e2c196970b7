/**
 * Which processes hold a file open for writing, as fuser(1) finds them: every /proc/PID/fd/N
 * that links to the file's path and whose fdinfo says it was opened to write. Readers (which
 * open it read-only) are not holders. A process holds its descriptors until it ends, however it ends, so nothing
 * is left behind to go stale (as a lock file would after a crash) and nothing needs writing
 * (a full disk does not stop it).
 *
 * Two processes that each open the file first and look second cannot both find nobody: the one
 * that looks last sees the other's descriptor. What it cannot see: processes of other users when
 * this one is not root (their /proc/PID/fd is not readable; they are counted as `unknown`), and
 * processes of another PID namespace that shares the file system.
 */

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { realpath } from 'node:fs/promises';

export interface Holders {
  /** Processes other than this one with the file open for writing. */
  pids: number[];
  /** Processes whose descriptors could not be read (another user's, without root). */
  unknown: number;
}

/** Whether descriptor `fd` of process `pid` is open for writing (the access mode in its fdinfo flags). */
function openForWriting(pid: string, fd: string): boolean {
  try {
    const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
    // O_ACCMODE: 0 O_RDONLY, 1 O_WRONLY, 2 O_RDWR. Unreadable: counted as a writer, to be safe.
    return m === null || (Number.parseInt(m[1] as string, 8) & 3) !== 0;
  } catch {
    return true;
  }
}

/** Processes looked at between two turns of the event loop: /proc is read synchronously. */
const PROCESSES_PER_TURN = 16;

/**
 * The processes other than this one that hold `path` open for writing (its real path, links
 * resolved).
 * /proc answers from memory, so each process is read synchronously (an asynchronous read per
 * descriptor costs a thread-pool round trip each); the event loop gets a turn between every few
 * processes, so a running punt path is not held up.
 */
export async function processesHolding(path: string): Promise<Holders> {
  const target = await realpath(path);
  const out: Holders = { pids: [], unknown: 0 };
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid);
  } catch {
    return out;
  }
  for (const [i, entry] of entries.entries()) {
    if (i > 0 && i % PROCESSES_PER_TURN === 0) await new Promise((r) => setImmediate(r));
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch (e) {
      // EACCES: another user's process; ENOENT: it ended meanwhile.
      if ((e as NodeJS.ErrnoException).code === 'EACCES') out.unknown++;
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link === target && openForWriting(entry, fd)) {
        out.pids.push(Number(entry));
        break;
      }
    }
  }
  return out;
}
