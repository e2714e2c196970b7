/**
 * What every command shares, so that each parses its own arguments the same way:
 *
 * - `parseCommand` reads the arguments with `node:util`'s `parseArgs` (strict: an unknown option,
 *   a missing value or an unwanted argument is a usage error) and adds `--help` / `-h`.
 * - A usage error, whether from `parseArgs` or from the command's own checks (`UsageError`), is
 *   printed as `punt6 NAME: message`, a blank line and the command's usage, with exit status 2.
 * - `--help` prints the command's usage on standard output, with exit status 0.
 * - `integerOption` is the one reading of an integer option, with its range.
 */

import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line the command cannot run: the message names the argument and what is wrong. */
export class UsageError extends Error {}

/** Thrown by `parseCommand` when `--help` or `-h` is given; `defineCommand` prints the usage. */
class HelpRequested extends Error {}

/** Where a command writes, and the environment its child processes get. */
export interface CommandIo {
  /** Standard output. */
  write: (text: string) => void;
  /** Standard error. */
  error: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Standard error is a terminal: progress may be drawn there. */
  errorIsTerminal?: boolean;
}

export const processIo: CommandIo = {
  write: (t) => process.stdout.write(t),
  error: (t) => process.stderr.write(t),
  env: process.env,
  errorIsTerminal: process.stderr.isTTY === true,
};

/** A command as its file describes it. */
export interface CommandSpec<A> {
  name: string;
  /** The command and its arguments, after `punt6 ` (one line). */
  synopsis: string;
  /** What the command does, in a few lines of at most 76 characters. */
  summary: string;
  /** The rest of the usage: options, subcommands. */
  details: string;
  /** The arguments, checked; throws UsageError (and `parseCommand`'s help request). */
  parse: (args: string[]) => A;
  /** Does the work; resolves with the exit status. May throw UsageError before it has begun. */
  run: (a: A, io: CommandIo) => Promise<number>;
}

/** A command as `punt6` dispatches to it. */
export interface Command {
  name: string;
  synopsis: string;
  summary: string;
  /** What `--help` prints, and a usage error after its message. */
  usage: string;
  main: (args: string[], io?: CommandIo) => Promise<number>;
}

/** `text` with every line but empty ones indented by `n` spaces. */
export function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text.replace(/^(?=.)/gm, pad);
}

export function defineCommand<A>(spec: CommandSpec<A>): Command {
  const usage = `usage: punt6 ${spec.synopsis}\n\n${indent(spec.summary, 2)}\n\n${spec.details}`;
  return {
    name: spec.name,
    synopsis: spec.synopsis,
    summary: spec.summary,
    usage,
    main: async (args, io = processIo) => {
      try {
        return await spec.run(spec.parse(args), io);
      } catch (e) {
        if (e instanceof HelpRequested) {
          io.write(usage);
          return 0;
        }
        if (e instanceof UsageError) {
          io.error(`punt6 ${spec.name}: ${e.message}\n\n${usage}`);
          return 2;
        }
        throw e;
      }
    },
  };
}

type Options = NonNullable<ParseArgsConfig['options']>;

const helpOption = { help: { type: 'boolean', short: 'h', default: false } } as const;

/**
 * `args` read against `options` (plus `--help` / `-h`); positional arguments only where
 * `positionals` says the command takes them. Throws UsageError with `parseArgs`'s message (it
 * names the option or argument), or the help request.
 */
export function parseCommand<O extends Options>(args: string[], options: O, positionals: boolean) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, ...helpOption }, allowPositionals: positionals, strict: true });
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw new UsageError((e as Error).message);
    throw e;
  }
  if ((parsed.values as { help?: boolean }).help === true) throw new HelpRequested();
  return parsed;
}

export interface IntegerRange {
  min: number;
  max: number;
}

/**
 * The integer given to option `name` (`--seed`), `undefined` when it was not given; throws
 * UsageError when the text is not an integer (`Number`'s reading) or is outside `range`.
 */
export function integerOption(text: string | undefined, name: string, range?: IntegerRange): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (range === undefined) {
    if (!Number.isInteger(n)) throw new UsageError(`${name} is an integer`);
  } else if (!Number.isInteger(n) || n < range.min || n > range.max) {
    throw new UsageError(`${name} is an integer in ${range.min}..${range.max}`);
  }
  return n;
}
