/**
 * Why a file named on the command line (or in the configuration) cannot be used, in the words
 * every command prints after the path: `punt6 replay: out/r.pcap: the directory out does not
 * exist`. Each function returns null when the file can be used, and never creates anything:
 * a command checks its paths first, so that a bad one is refused before anything was written.
 */

import { constants, accessSync, statSync, type Stats } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The reason for a failed file operation, from its error code. */
export function fileErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'no such file (a part of the path is not a directory)';
    default:
      return `cannot use the file (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** Why `path` cannot be read as a file; null when it can. */
export function readProblem(path: string): string | null {
  try {
    if (statSync(path).isDirectory()) return 'is a directory, not a file';
    accessSync(path, constants.R_OK);
    return null;
  } catch (e) {
    return fileErrorReason(e);
  }
}

/**
 * Why no file can be written at `path` (created, or replaced when it exists); null when one
 * can. The directory must exist already: a path given to punt6 never gets directories made.
 */
export function writeProblem(path: string): string | null {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st?.isDirectory()) return 'is a directory, not a file';
    if (st !== undefined) {
      accessSync(path, constants.W_OK);
      return null;
    }
    const dir = dirname(path);
    const parent = statSync(dir, { throwIfNoEntry: false });
    if (parent === undefined) return `the directory ${dir} does not exist`;
    if (!parent.isDirectory()) return `${dir} is not a directory`;
    accessSync(dir, constants.W_OK);
    return null;
  } catch (e) {
    return fileErrorReason(e);
  }
}

/**
 * File systems whose files are not storage but the kernel's interfaces (statfs(2) `f_type`, from
 * linux/magic.h): state written there is not kept, and some of their files block a reader.
 */
const KERNEL_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x62656570, 'configfs'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0x65735543, 'fusectl'],
  [0x42494e4d, 'binfmt_misc'],
  [0xf97cff8c, 'selinuxfs'],
  [0x6e736673, 'nsfs'],
  [0x958458f6, 'hugetlbfs'],
]);

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** The path's status, or undefined when nothing is there; other errors throw. */
async function statIfAny(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * Why `path` cannot hold a state file that punt6 reads and writes (the lease journal, the server
 * DUID file); null when it can: an existing regular file, or a path whose nearest existing
 * ancestor is a directory, on a file system that stores files. Looked at (stat, statfs) without
 * opening anything: opening a FIFO, some devices or some files of /proc never returns, and holds
 * one of libuv's threads for good, so that even the process's exit waits for it.
 */
export async function stateFileProblem(path: string): Promise<string | null> {
  try {
    let at = path;
    let st = await statIfAny(at);
    if (st !== undefined && !st.isFile()) return `is ${kindOf(st)}, not a regular file`;
    while (st === undefined) {
      const parent = dirname(at);
      if (parent === at) return `no directory of ${path} exists`;
      at = parent;
      st = await statIfAny(at);
      if (st !== undefined && !st.isDirectory()) return `${at} is not a directory`;
    }
    const kernel = KERNEL_FILE_SYSTEMS.get(Number((await statfs(at)).type) >>> 0);
    if (kernel !== undefined) return `${at} is on a ${kernel} file system, which does not store files`;
    return null;
  } catch (e) {
    return fileErrorReason(e);
  }
}
