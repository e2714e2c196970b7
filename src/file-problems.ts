/**
 * Why a file named on the command line (or in the configuration) cannot be used, in the words
 * every command prints after the path: `punt6 replay: out/r.pcap: the directory out does not
 * exist`. Each function returns null when the file can be used, and never creates anything:
 * a command checks its paths first, so that a bad one is refused before anything was written.
 */

import { constants, accessSync, statSync } from 'node:fs';
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
