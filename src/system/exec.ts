/**
 * Running the lab's commands: one-shot commands with their output captured, background daemons
 * with a log file and a pid file, and stopping them again by the pid they wrote.
 */

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';

export interface RunResult {
  command: string;
  code: number;
  stdout: string;
  stderr: string;
}

export class LabError extends Error {}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Milliseconds; the command is killed after it (default 30 s). */
  timeout?: number;
  input?: string;
}

/** Runs a command to its end; never throws for a non-zero exit (see `runOk`). */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const command = [file, ...args].join(' ');
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ command, code: 127, stdout, stderr: stderr + e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        command,
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderr: signal ? `${stderr}(killed by ${signal})` : stderr,
      });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a command that exits without reading its input
      child.stdin.end(options.input);
    }
  });
}

/** Runs a command and throws a `LabError` naming it and its stderr when it fails. */
export async function runOk(file: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const r = await run(file, args, options);
  if (r.code !== 0) throw new LabError(`${r.command} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Runs a command inside a network namespace. */
export function runIn(ns: string, file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, file, ...args], options);
}

export async function runInOk(
  ns: string,
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  return runOk('ip', ['netns', 'exec', ns, file, ...args], options);
}

/**
 * Starts a process in the background, detached from this one, its stdout and stderr appended to
 * `logFile`, its pid written to `pidFile`. Returns the pid.
 */
export function startDaemon(
  file: string,
  args: readonly string[],
  logFile: string,
  pidFile: string,
  env?: NodeJS.ProcessEnv,
): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', fd, fd], env: env ?? process.env });
    if (child.pid === undefined) throw new LabError(`cannot start ${file}`);
    child.unref();
    writeFileSync(pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The pid in a pid file, or null when the file is missing or holds no number. */
export function readPid(pidFile: string): number | null {
  if (!existsSync(pidFile)) return null;
  const n = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  return Number.isInteger(n) && n > 1 ? n : null;
}

/** The command line of a running process, or null when it is gone (a zombie counts as gone). */
export function processCommandLine(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return null;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return null;
  }
}

/**
 * The pid of a pid file when that process still runs and its command line contains `expect`
 * (a stale pid file whose number was reused by another program gives null).
 */
export function livePid(pidFile: string, expect: string): number | null {
  const pid = readPid(pidFile);
  if (pid === null) return null;
  const cmd = processCommandLine(pid);
  return cmd !== null && cmd.includes(expect) ? pid : null;
}

/** Sends SIGTERM, waits up to `graceMs` for the process to end, then sends SIGKILL. */
export async function stopProcess(pid: number, graceMs = 5_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (processCommandLine(pid) === null) return;
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 40 && processCommandLine(pid) !== null; i++) await sleep(50);
}

/** Stops the process a pid file names, when it runs and is the expected program. */
export async function stopByPidFile(pidFile: string, expect: string, graceMs = 5_000): Promise<boolean> {
  const pid = livePid(pidFile, expect);
  if (pid === null) return false;
  await stopProcess(pid, graceMs);
  return true;
}

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new LabError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Whether a program is on PATH (or an absolute path that exists). */
export function haveCommand(name: string): boolean {
  if (name.includes('/')) return existsSync(name);
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => d !== '' && existsSync(`${d}/${name}`));
}
