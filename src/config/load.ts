/**
 * Reading a configuration: YAML text → document (syntax errors as `FILE:LINE:COLUMN: reason`) →
 * JSON Schema (schema.ts) and semantic checks (check.ts), both always run so that one pass lists
 * every problem → the normalized model (normalize.ts). Any problem throws one `ConfigError`; there
 * is no partially loaded configuration.
 *
 * The YAML most files are written in is read by yaml-subset.ts, the rest (and every text with a
 * syntax error) by the `yaml` package; both give the same document. The whole reading is a
 * `Steps` (src/system/steps.ts): `parseConfig` runs it at once, `loadConfig` in slices, so that
 * a reload reads a file of tens of thousands of ports while the running configuration answers.
 * A text the subset does not take is read by the `yaml` package in one piece.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileErrorReason } from '../system/files.js';
import { runInSlices, runSteps, type SliceOptions, type Steps } from '../system/steps.js';
import { LineCounter, parseDocument, visit } from 'yaml';
import { checkSemantics } from './check.js';
import { ConfigError, formatPath, ProblemList, type ConfigProblem } from './error.js';
import type { Punt6Config } from './model.js';
import { normalize, type RawConfig } from './normalize.js';
import { checkSchema } from './schema.js';
import { readYamlSubset } from './yaml-subset.js';

/** `Flow sequence … must end with a ] at line 3, column 1:\n\n…` → the sentence before the position. */
function yamlReason(message: string): string {
  const at = message.search(/ at line \d+, column \d+/);
  return (at < 0 ? message.split('\n')[0]! : message.slice(0, at)).trim();
}

/** Parses YAML 1.2 (core schema: `yes`/`no` are strings, `02:00:…` is not a base-60 number). */
function* readYaml(text: string, source: string): Steps<unknown> {
  const subset = yield* readYamlSubset(text);
  return subset === undefined ? parseYaml(text, source) : subset.value;
}

/** The `yaml` package's reading, with its syntax errors as problems. */
function parseYaml(text: string, source: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, version: '1.2', lineCounter });
  const problems: ConfigProblem[] = doc.errors.map((e) => {
    const pos = e.linePos?.[0];
    return { path: pos === undefined ? source : `${source}:${pos.line}:${pos.col}`, reason: yamlReason(e.message) };
  });
  // An alias without its anchor is not a parse error in `yaml`; find each one with its place.
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        const at = node.range == null ? undefined : lineCounter.linePos(node.range[0]);
        problems.push({
          path: at === undefined ? source : `${source}:${at.line}:${at.col}`,
          reason: `unknown alias *${node.source} (the anchor &${node.source} must come before it)`,
        });
      }
    },
  });
  if (problems.length > 0) throw new ConfigError(source, problems);
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    // Alias expansion beyond maxAliasCount ("billion laughs") and similar document-wide failures.
    throw new ConfigError(source, [{ path: source, reason: e instanceof Error ? e.message : String(e) }]);
  }
}

/** Reads, validates and normalizes a configuration given as text, in steps. */
function* configSteps(text: string, source: string, baseDirectory: string): Steps<Punt6Config> {
  const doc = yield* readYaml(text, source);
  yield;
  const problems = new ProblemList();
  const shapeOk = yield* checkSchema(doc, problems);
  yield;
  yield* checkSemantics(doc, problems);
  if (!shapeOk || problems.items.length > 0) {
    throw new ConfigError(
      source,
      problems.items.map((p) => ({ path: formatPath(p.segments), reason: p.reason })),
    );
  }
  yield;
  return yield* normalize(doc as RawConfig, source, baseDirectory);
}

/**
 * Parses, validates and normalizes a configuration given as text.
 *
 * @param source the name used in messages (normally the file path)
 * @param baseDirectory resolves a relative `server.stateDirectory`; default: the current directory
 * @throws ConfigError listing every problem
 */
export function parseConfig(text: string, source: string, baseDirectory: string = process.cwd()): Punt6Config {
  return runSteps(configSteps(text, source, baseDirectory));
}

/**
 * Reads and parses a configuration file, in slices (`slices`: their length, and a signal that
 * gives the reading up); a relative `server.stateDirectory` is taken relative to the file's
 * directory.
 *
 * @throws ConfigError for a file that cannot be read, as well as for every problem in it
 */
export async function loadConfig(path: string, slices: SliceOptions = {}): Promise<Punt6Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [{ path, reason: fileErrorReason(e) }], 'cannot read the configuration');
  }
  return runInSlices(configSteps(text, path, dirname(resolve(path))), slices);
}
