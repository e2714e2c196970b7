/**
 * A fast reader for the YAML that configurations are written in: block mappings and sequences
 * (a sequence entry may open a mapping on its own line, `- name: vm1`), flow sequences of
 * scalars on one line (`[2001:db8::1, 2001:db8::2]`), flow mappings on one line whose values are
 * scalars or such sequences (`{ mode: stateful, addressPools: [2001:db8::/112] }`), plain,
 * single- and double-quoted scalars (the double-quoted ones without escapes), comments and blank
 * lines, ASCII only.
 *
 * It gives exactly what the `yaml` package gives for the same text (YAML 1.2, core schema) or
 * nothing at all: any other construct (anchors, aliases, tags, block scalars, nested flow
 * mappings, multi-line scalars or collections, escapes, tabs, document markers, a duplicate key,
 * a key that is not a plain word or number), and any text that might be an error, makes it
 * decline, and the caller
 * reads the text with the `yaml` package, which also words the syntax errors. So this reader
 * never decides what a text means on its own: it only skips building a document tree for the
 * texts it is sure about (src/config/yaml-subset.test.ts compares both on generated texts).
 *
 * It is a `Steps` (src/system/steps.ts): it yields every few entries, so a reload reads a large
 * file in slices.
 */

import type { Steps } from '../system/steps.js';

/** Thrown inside the reader when the text leaves the subset; never escapes it. */
class Decline {}
const DECLINE = new Decline();

/** Entries read between two yields. */
const ENTRIES_PER_STEP = 16;

/** The characters the reader looks for, by their codes. */
const Char = {
  Space: 0x20,
  Quote: 0x22,
  Hash: 0x23,
  Apostrophe: 0x27,
  Comma: 0x2c,
  Dash: 0x2d,
  Colon: 0x3a,
  OpenBracket: 0x5b,
  CloseBracket: 0x5d,
  OpenBrace: 0x7b,
  CloseBrace: 0x7d,
} as const;

/** Anything but printable ASCII and line feeds leaves the subset (tabs, CR, control, non-ASCII). */
const OUTSIDE = /[^\n\x20-\x7e]/;

/**
 * The first characters a plain scalar may not start with here: YAML's indicators (YAML 1.2
 * §5.3); `-` is let through when a non-space follows it (`-1`).
 */
const INDICATOR_FIRST = new Set([...'?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));

// The core schema's resolution of plain scalars (YAML 1.2 §10.3.2), as the `yaml` package has it.
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_SPECIAL = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** A plain scalar's value under the core schema. */
export function coreScalar(s: string): unknown {
  const c = s.charCodeAt(0);
  // Only these first characters can start a null, a boolean or a number.
  if (!(c === 0x7e || c === 0x6e || c === 0x4e || c === 0x74 || c === 0x54 || c === 0x66 || c === 0x46)) {
    if (!(c === 0x2b || c === Char.Dash || c === 0x2e || (c >= 0x30 && c <= 0x39)) && s !== '') return s;
  }
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return c === 0x74 || c === 0x54;
  if (INT_OCT.test(s)) return parseInt(s.substring(2), 8);
  if (INT.test(s)) return parseInt(s, 10);
  if (INT_HEX.test(s)) return parseInt(s.substring(2), 16);
  if (FLOAT_SPECIAL.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? -Infinity : Infinity;
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return parseFloat(s);
  return s;
}

/** Keys that are words but resolve to null or a boolean. */
const RESERVED_KEYS = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE']);

const isKeyChar = (c: number): boolean =>
  (c >= 0x61 && c <= 0x7a) ||
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x30 && c <= 0x39) ||
  c === 0x5f ||
  c === Char.Dash ||
  c === 0x2e;

class Reader {
  private readonly text: string;
  private readonly length: number;
  /** The current content line: its indentation, where its content starts and ends (its `\n`). */
  private indent = -1;
  private start = 0;
  private end = 0;
  /** Where the line after the current one begins. */
  private next = 0;
  private entries = 0;
  /** The last key keyEnd() read. */
  private key = '';

  constructor(text: string) {
    this.text = text;
    this.length = text.length;
  }

  *document(): Steps<unknown> {
    this.advance(0);
    if (this.indent !== 0) throw DECLINE;
    const value = yield* this.mapping(0, this.start);
    if (!this.atEnd()) throw DECLINE;
    return value;
  }

  private atEnd(): boolean {
    return this.indent === -1;
  }

  /** Moves to the first line at or after `from` that is neither blank nor only a comment. */
  private advance(from: number): void {
    const t = this.text;
    let p = from;
    while (p < this.length) {
      let e = t.indexOf('\n', p);
      if (e < 0) e = this.length;
      let s = p;
      while (s < e && t.charCodeAt(s) === Char.Space) s++;
      if (s < e && t.charCodeAt(s) !== Char.Hash) {
        this.indent = s - p;
        this.start = s;
        this.end = e;
        this.next = e + 1;
        return;
      }
      p = e + 1;
    }
    this.indent = -1;
    this.start = this.end = this.next = this.length;
  }

  /** Whether the current line is a sequence entry: `-` then a space or the end of the line. */
  private isEntry(): boolean {
    const s = this.start;
    return this.text.charCodeAt(s) === Char.Dash && (s + 1 === this.end || this.text.charCodeAt(s + 1) === Char.Space);
  }

  /**
   * The colon of a mapping key starting at p (`KEY:` then a space or the line's end), or -1;
   * the key, as the property name the `yaml` package makes of it, is left in `key`.
   */
  private keyEnd(p: number): number {
    const t = this.text;
    const c = t.charCodeAt(p);
    let q: number;
    if (c === Char.Quote || c === Char.Apostrophe) {
      const quoted = this.quoted(p);
      q = quoted.after;
      this.key = quoted.value;
    } else {
      q = p;
      while (q < this.end && isKeyChar(t.charCodeAt(q))) q++;
      if (q === p) return -1;
      this.key = t.slice(p, q);
    }
    if (t.charCodeAt(q) !== Char.Colon || !(q + 1 === this.end || t.charCodeAt(q + 1) === Char.Space)) return -1;
    // YAML 1.2 §7.4.2: an implicit key is at most 1024 characters.
    if (q - p > 1024) throw DECLINE;
    if (c !== Char.Quote && c !== Char.Apostrophe) this.key = plainKey(this.key);
    if (this.key === '__proto__') throw DECLINE;
    return q;
  }

  /** A block mapping whose keys sit at column `indent`; its first key starts at `first`. */
  private *mapping(indent: number, first: number): Steps<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    let at = first;
    for (;;) {
      const q = this.keyEnd(at);
      if (q < 0) throw DECLINE;
      const key = this.key;
      if (Object.hasOwn(out, key)) throw DECLINE;
      out[key] = yield* this.value(q + 1, indent, true);
      if (++this.entries % ENTRIES_PER_STEP === 0) yield;
      if (this.indent < indent) return out;
      if (this.indent > indent || this.isEntry()) throw DECLINE;
      at = this.start;
    }
  }

  /** A block sequence whose dashes sit at column `indent` (the current line is its first entry). */
  private *sequence(indent: number): Steps<unknown[]> {
    const t = this.text;
    const out: unknown[] = [];
    for (;;) {
      let p = this.start + 1;
      while (p < this.end && t.charCodeAt(p) === Char.Space) p++;
      if (p < this.end && t.charCodeAt(p) !== Char.Hash && this.keyEnd(p) >= 0) {
        // `- key: value`: a mapping whose keys sit at the column of this first key.
        out.push(yield* this.mapping(p - this.start + this.indent, p));
      } else {
        out.push(yield* this.value(this.start + 1, indent, false));
      }
      if (++this.entries % ENTRIES_PER_STEP === 0) yield;
      if (this.indent < indent) return out;
      if (this.indent > indent) throw DECLINE;
      // A line at this column that is no entry ends the sequence (it is its parent's next key).
      if (!this.isEntry()) return out;
    }
  }

  /**
   * The value after a key's colon or an entry's dash at `p` (on the current line): a scalar or
   * a flow sequence on the line, or a block node on the next lines, more indented than `indent`
   * (or, for a key's value, a sequence at `indent` itself). Moves past what it read.
   */
  private *value(p: number, indent: number, sequenceAtIndent: boolean): Steps<unknown> {
    const t = this.text;
    let s = p;
    while (s < this.end && t.charCodeAt(s) === Char.Space) s++;
    if (s < this.end && t.charCodeAt(s) !== Char.Hash) {
      // Something follows on the line: it needs the space before it.
      if (s === p) throw DECLINE;
      const v = this.inline(s);
      this.advance(this.next);
      return v;
    }
    this.advance(this.next);
    if (this.indent > indent) return this.isEntry() ? yield* this.sequence(this.indent) : yield* this.block();
    if (this.indent === indent && sequenceAtIndent && this.isEntry()) return yield* this.sequence(indent);
    return null;
  }

  /** A more indented block node that is not a sequence: a mapping. */
  private *block(): Steps<unknown> {
    return yield* this.mapping(this.indent, this.start);
  }

  /** A scalar or a flow sequence starting at s and filling the rest of the line (comment aside). */
  private inline(s: number): unknown {
    const t = this.text;
    const c = t.charCodeAt(s);
    let value: unknown;
    let after: number;
    if (c === Char.OpenBracket) {
      const items: unknown[] = [];
      after = this.flowSequence(s + 1, items);
      value = items;
    } else if (c === Char.OpenBrace) {
      const entries: Record<string, unknown> = {};
      after = this.flowMapping(s + 1, entries);
      value = entries;
    } else if (c === Char.Quote || c === Char.Apostrophe) {
      const q = this.quoted(s);
      value = q.value;
      after = q.after;
    } else {
      // A plain scalar ends at a comment (a space and #) or at the line's end.
      let e = s;
      while (e < this.end && !(t.charCodeAt(e) === Char.Hash && t.charCodeAt(e - 1) === Char.Space)) e++;
      while (t.charCodeAt(e - 1) === Char.Space) e--;
      return plain(t.slice(s, e), false);
    }
    while (after < this.end && t.charCodeAt(after) === Char.Space) after++;
    if (after < this.end && !(t.charCodeAt(after) === Char.Hash && t.charCodeAt(after - 1) === Char.Space))
      throw DECLINE;
    return value;
  }

  /** A flow sequence's items from p (after `[`) to its `]` on the same line; returns past the `]`. */
  private flowSequence(p: number, items: unknown[]): number {
    let s = this.skipSpaces(p);
    if (this.text.charCodeAt(s) === Char.CloseBracket) return s + 1;
    for (;;) {
      const e = this.flowScalar(s, Char.CloseBracket);
      items.push(this.scalar);
      const next = this.flowNext(e, Char.CloseBracket);
      if (next < 0) return ~next;
      s = next;
    }
  }

  /**
   * A flow mapping's entries from p (after `{`) to its `}` on the same line, each `KEY: VALUE`
   * with a scalar or a flow sequence as value; returns past the `}`.
   */
  private flowMapping(p: number, out: Record<string, unknown>): number {
    const t = this.text;
    let s = this.skipSpaces(p);
    if (t.charCodeAt(s) === Char.CloseBrace) return s + 1;
    for (;;) {
      const q = s < this.end ? this.keyEnd(s) : -1;
      if (q < 0) throw DECLINE;
      const key = this.key;
      if (Object.hasOwn(out, key)) throw DECLINE;
      const v = this.skipSpaces(q + 1);
      if (v >= this.end) throw DECLINE;
      let e: number;
      if (t.charCodeAt(v) === Char.OpenBracket) {
        const items: unknown[] = [];
        e = this.flowSequence(v + 1, items);
        out[key] = items;
      } else {
        e = this.flowScalar(v, Char.CloseBrace);
        out[key] = this.scalar;
      }
      const next = this.flowNext(e, Char.CloseBrace);
      if (next < 0) return ~next;
      s = next;
    }
  }

  /** The value of the last scalar flowScalar() read. */
  private scalar: unknown = null;

  /** A quoted or plain scalar in a flow collection closed by `close`, at s; returns where it ends. */
  private flowScalar(s: number, close: number): number {
    const t = this.text;
    if (s >= this.end) throw DECLINE;
    const c = t.charCodeAt(s);
    if (c === Char.Quote || c === Char.Apostrophe) {
      const q = this.quoted(s);
      this.scalar = q.value;
      return q.after;
    }
    let e = s;
    while (e < this.end) {
      const x = t.charCodeAt(e);
      if (x === Char.Comma || x === close) break;
      e++;
    }
    let v = e;
    while (t.charCodeAt(v - 1) === Char.Space) v--;
    this.scalar = plain(t.slice(s, v), true);
    return e;
  }

  /**
   * After an entry of a flow collection, at e: the start of the next entry after its comma, or
   * ~(past the closing character) at the end of the collection.
   */
  private flowNext(e: number, close: number): number {
    const t = this.text;
    const at = this.skipSpaces(e);
    if (at >= this.end) throw DECLINE;
    const x = t.charCodeAt(at);
    if (x === close) return ~(at + 1);
    if (x !== Char.Comma) throw DECLINE;
    const s = this.skipSpaces(at + 1);
    // A trailing comma, or an empty entry, is left to the full parser.
    if (t.charCodeAt(s) === close || t.charCodeAt(s) === Char.Comma) throw DECLINE;
    return s;
  }

  private skipSpaces(p: number): number {
    let s = p;
    while (s < this.end && this.text.charCodeAt(s) === Char.Space) s++;
    return s;
  }

  /** A quoted scalar on one line at s: double quotes without escapes, or single quotes (`''` is one). */
  private quoted(s: number): { value: string; after: number } {
    const t = this.text;
    const quote = t.charCodeAt(s);
    if (quote === Char.Quote) {
      const e = t.indexOf('"', s + 1);
      if (e < 0 || e >= this.end) throw DECLINE;
      const value = t.slice(s + 1, e);
      if (value.includes('\\')) throw DECLINE;
      return { value, after: e + 1 };
    }
    let value = '';
    let from = s + 1;
    for (;;) {
      const e = t.indexOf("'", from);
      if (e < 0 || e >= this.end) throw DECLINE;
      value += t.slice(from, e);
      if (t.charCodeAt(e + 1) !== Char.Apostrophe) return { value, after: e + 1 };
      value += "'";
      from = e + 2;
    }
  }
}

/** A plain key as the `yaml` package makes it a property name: words as they are, integers as numbers. */
function plainKey(k: string): string {
  const c = k.charCodeAt(0);
  if (c >= 0x30 && c <= 0x39) {
    // An integer key becomes the number's text: only a canonical one reads the same.
    if (!/^(?:0|[1-9][0-9]{0,14})$/.test(k)) throw DECLINE;
    return k;
  }
  if (c === Char.Dash || c === 0x2e || RESERVED_KEYS.has(k)) throw DECLINE;
  return k;
}

/** A plain scalar's text (trimmed) in block or flow context, or a decline. */
function plain(s: string, flow: boolean): unknown {
  if (s === '') throw DECLINE;
  const c = s.charCodeAt(0);
  if (INDICATOR_FIRST.has(c)) throw DECLINE;
  if (c === Char.Dash && (s.length === 1 || s.charCodeAt(1) === Char.Space)) throw DECLINE;
  // `: ` or a last `:` would make it a key; ` #` a comment; in flow context a bracket or brace ends it.
  if (s.includes(': ') || s.charCodeAt(s.length - 1) === Char.Colon || s.includes(' #')) throw DECLINE;
  if (flow && /[[\]{}]/.test(s)) throw DECLINE;
  return coreScalar(s);
}

/** The document, when the text is in the subset; undefined when the full parser must read it. */
export function* readYamlSubset(text: string): Steps<{ value: unknown } | undefined> {
  if (OUTSIDE.test(text)) return undefined;
  try {
    return { value: yield* new Reader(text).document() };
  } catch (e) {
    if (e === DECLINE) return undefined;
    throw e;
  }
}
