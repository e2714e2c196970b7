/**
 * What `punt6 check` checks, and what every start and every reload of `punt6 run` checks before
 * it opens anything, with the same code:
 *
 * 1. the file: YAML, the schema and the semantic checks (src/config/load.ts), every problem as
 *    `PATH: reason` in one `ConfigError`;
 * 2. the state the configuration names (the lease journal when a network is stateful, the server
 *    DUID file when the file gives no DUID), in one `StateError`: each file is a regular file on
 *    a file system that stores files, readable and writable, or it does not exist yet and its
 *    directory exists or can be created (its nearest existing ancestor is a writable directory);
 *    and the control socket's place, when there is one.
 *
 * `punt6 check` also reads the contents of what exists (`readContents`): the journal is scanned
 * as opening it would (`scanJournal`: corruption before the last commit batch, a file that is no
 * journal), the DUID file parsed as `loadOrCreateServerDuid` parses it. `punt6 run` leaves that
 * to the open itself, which reads them anyway. Nothing here creates, writes or opens for writing.
 *
 * The state is looked at only once the file has no problem: its paths come from the normalized
 * configuration.
 */

import { constants } from 'node:fs';
import { access, lstat, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError, loadConfig, problemListText, type ConfigProblem, type Punt6Config } from '../config/index.js';
import { scanJournal, startsLikeJournal } from '../dhcp/journal.js';
import { parseServerDuidFile } from '../dhcp/server-duid.js';
import { duidFileOf, leaseFileOf } from '../responder/responder.js';
import { fileErrorReason, stateFileProblem } from '../system/files.js';
import type { SliceOptions } from '../system/steps.js';

/** The state a valid configuration names cannot be used: every problem as `PATH: reason`. */
export class StateError extends Error {
  readonly source: string;
  readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: readonly ConfigProblem[]) {
    super(problemListText(source, 'the state it names cannot be used', problems));
    this.name = 'StateError';
    this.source = source;
    this.problems = problems;
  }
}

export interface StateCheckOptions {
  /** Read what exists (the journal's records, the DUID file's text), as `punt6 check` does. */
  readContents?: boolean;
}

/** A state file the configuration uses, with the key of the configuration that places it. */
interface StateFile {
  key: string;
  path: string;
  what: 'lease journal' | 'server DUID file';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Why `mode` is not granted on `path` (access(2), which also tells a read-only file system); null when it is. */
async function accessProblem(path: string, mode: number): Promise<string | null> {
  try {
    await access(path, mode);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EROFS' ? 'read-only file system' : fileErrorReason(e);
  }
}

/**
 * Why files cannot be created, renamed and removed in `dir`; null when they can: it is a
 * writable directory, or it does not exist and the nearest ancestor that does is one (`run`
 * makes the directories between, mode 0750).
 */
async function directoryProblem(dir: string): Promise<string | null> {
  let at = dir;
  while (!(await exists(at))) {
    const parent = dirname(at);
    if (parent === at) return 'no directory of it exists';
    at = parent;
  }
  if (!(await stat(at)).isDirectory()) return `${at} is not a directory`;
  const problem = await accessProblem(at, constants.W_OK | constants.X_OK);
  if (problem === null) return null;
  return at === dir ? `not writable: ${problem}` : `cannot be created in ${at}: ${problem}`;
}

async function contentProblem(file: StateFile): Promise<string | null> {
  if (file.what === 'server DUID file') {
    try {
      parseServerDuidFile(await readFile(file.path, 'utf8'), file.path);
      return null;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return message.startsWith(`${file.what} ${file.path}: `)
        ? message.slice(file.what.length + file.path.length + 3)
        : fileErrorReason(e);
    }
  }
  const data = await readFile(file.path);
  const scan = scanJournal(data);
  if (scan.state === 'corrupt') return `the lease journal is corrupt at offset ${scan.badOffset}: ${scan.reason}`;
  if (scan.records === 0 && !startsLikeJournal(data)) return 'not a punt6 lease journal';
  return null;
}

/** Every reason why the state a valid configuration names cannot be used; [] when it can. */
export async function stateProblems(config: Punt6Config, options: StateCheckOptions = {}): Promise<ConfigProblem[]> {
  const files: StateFile[] = [];
  const leaseFile = leaseFileOf(config);
  const duidFile = duidFileOf(config);
  if (leaseFile !== null) files.push({ key: 'server.leaseFile', path: leaseFile, what: 'lease journal' });
  if (duidFile !== null) files.push({ key: 'server.duidFile', path: duidFile, what: 'server DUID file' });
  const problems: ConfigProblem[] = [];
  /** Each directory is judged once, under the first key that needs it. */
  const directories = new Set<string>();
  for (const file of files) {
    const dir = dirname(file.path);
    const dirKey = dir === config.server.stateDirectory ? 'server.stateDirectory' : file.key;
    const present = await exists(file.path);
    const kind = await stateFileProblem(file.path);
    if (kind !== null) {
      // A file that is not there yet has its problem in its directory, told once.
      if (present) problems.push({ path: file.key, reason: `${file.path}: ${kind}` });
      else if (!directories.has(dir)) problems.push({ path: dirKey, reason: `${dir}: ${kind}` });
      directories.add(dir);
      continue;
    }
    // The journal's directory takes its compaction snapshot; a DUID file is written only when missing.
    if ((!present || file.what === 'lease journal') && !directories.has(dir)) {
      directories.add(dir);
      const problem = await directoryProblem(dir);
      if (problem !== null) problems.push({ path: dirKey, reason: `${dir}: ${problem}` });
    }
    if (!present) continue;
    const problem = await accessProblem(file.path, constants.R_OK | constants.W_OK);
    if (problem !== null) {
      problems.push({ path: file.key, reason: `${file.path}: ${problem} (punt6 reads and writes it)` });
      continue;
    }
    if (options.readContents !== true) continue;
    let content: string | null;
    try {
      content = await contentProblem(file);
    } catch (e) {
      content = fileErrorReason(e);
    }
    if (content !== null) problems.push({ path: file.key, reason: `${file.path}: ${content}` });
  }
  if (config.control !== null) problems.push(...(await controlSocketProblems(config.control.socket)));
  return problems;
}

/**
 * Why the control socket cannot be made at `path`: something other than a socket is there (a
 * socket left by a punt6 that ended is replaced at start), or its directory cannot be made.
 */
async function controlSocketProblems(path: string): Promise<ConfigProblem[]> {
  const st = await lstat(path).catch(() => null);
  if (st !== null && !st.isSocket())
    return [
      { path: 'control.socket', reason: `${path}: something else is there (not a socket); punt6 would not replace it` },
    ];
  const dir = dirname(path);
  const problem = await directoryProblem(dir);
  return problem === null ? [] : [{ path: 'control.socket', reason: `${dir}: ${problem}` }];
}

/**
 * The configuration `punt6 run` starts or reloads with: the file read and checked, then its
 * state, in slices when `slices` says so (a reload). Throws `ConfigError` for the file,
 * `StateError` for the state.
 */
export async function loadRunnableConfig(
  path: string,
  options: StateCheckOptions = {},
  slices: SliceOptions = {},
): Promise<Punt6Config> {
  const config = await loadConfig(path, slices);
  const problems = await stateProblems(config, options);
  if (problems.length > 0) throw new StateError(config.source, problems);
  return config;
}

/** What `punt6 check` reports: the configuration when `run` would start with it, and every problem. */
export interface CheckResult {
  config: Punt6Config | null;
  problems: readonly ConfigProblem[];
}

/** Checks a configuration file as `punt6 run` would start with it, and reads its state. */
export async function checkConfigFile(path: string): Promise<CheckResult> {
  try {
    return { config: await loadRunnableConfig(path, { readContents: true }), problems: [] };
  } catch (e) {
    if (e instanceof ConfigError || e instanceof StateError) return { config: null, problems: e.problems };
    throw e;
  }
}
