/**
 * The one error a bad configuration produces: `ConfigError`, listing every problem found as
 * `path: reason`, where `path` is the dotted/bracket form of the place in the file
 * (`networks[0].prefixes[1]`) or, for YAML syntax errors, `FILE:LINE:COLUMN`.
 */

export interface ConfigProblem {
  readonly path: string;
  readonly reason: string;
}

/** A path inside the document: map keys and list indexes. */
export type PathSegment = string | number;

export class ConfigError extends Error {
  /** The file name (or the name given to `parseConfig`). */
  readonly source: string;
  readonly problems: readonly ConfigProblem[];

  /** `heading` starts the message: `FILE: invalid configuration, 2 problems:` then one line per problem. */
  constructor(source: string, problems: readonly ConfigProblem[], heading = 'invalid configuration') {
    super(problemListText(source, heading, problems));
    this.name = 'ConfigError';
    this.source = source;
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.path}: ${p.reason}`;
}

/** `SOURCE: HEADING, N problems:` then each problem on its own indented line. */
export function problemListText(source: string, heading: string, problems: readonly ConfigProblem[]): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return `${source}: ${heading}, ${count}:\n` + problems.map((p) => `  ${formatProblem(p)}`).join('\n');
}

/** The root of the document, when a problem concerns the whole file. */
export const ROOT_PATH = '(top level)';

/** `['networks', 0, 'prefixes', 1]` → `networks[0].prefixes[1]`; keys that are not plain words are quoted. */
export function formatPath(segments: readonly PathSegment[]): string {
  let s = '';
  for (const seg of segments) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) s += s === '' ? seg : `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s === '' ? ROOT_PATH : s;
}

/** Collects problems with structured paths, for the schema and the semantic checks. */
export class ProblemList {
  readonly items: { readonly segments: readonly PathSegment[]; readonly reason: string }[] = [];

  add(segments: readonly PathSegment[], reason: string): void {
    this.items.push({ segments, reason });
  }
}
