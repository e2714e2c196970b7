/**
 * Code tables: one table per family of protocol codes (message types, option codes, status
 * codes...), each row giving a code its name and whatever else the family needs. Everything else
 * is derived from the table, so no second list of the same codes exists:
 *
 * - {@link codesOf}: the constants (`Dhcpv6OptionCode.IaNa === 3`), with each code's literal type;
 * - {@link namesOf} and {@link nameOf}: a code's name, "unknown" for a code not in the table;
 * - {@link rowsOf}: the rows in an array indexed by code, for a lookup without hashing.
 *
 * The derived objects are built once, when the module loads.
 *
 * Hot code reads a table through a module-local binding (`const optionCode = Dhcpv6OptionCode;`
 * after the imports): V8's optimizing compiler folds a module's own constant bindings, and the
 * fields of the constant objects they hold, into the code it makes; an exported or imported
 * binding lives in a module cell, which it reads again at every use, field loads included.
 */

/** What every row of a code table has. */
export interface CodeRow {
  readonly code: number;
  readonly name: string;
}

/** The constants of a table: each key's code. */
export type CodesOf<T extends Record<string, CodeRow>> = { readonly [K in keyof T]: T[K]['code'] };

/**
 * `{ Key: code }` for every row of the table. Built in one step (Object.fromEntries): V8 keeps such
 * an object in fast mode, where a `Code.Key` in hot code is a load at a fixed offset; added one key
 * at a time, a table of more than a dozen codes turns into a dictionary, and every load into a
 * lookup.
 */
export function codesOf<T extends Record<string, CodeRow>>(table: T): CodesOf<T> {
  return Object.fromEntries(Object.entries(table).map(([key, row]) => [key, row.code])) as CodesOf<T>;
}

/** The rows of a table in an array indexed by code (holes where no row has that code). */
export function rowsOf<R extends CodeRow>(table: Record<string, R>): readonly (R | undefined)[] {
  const out: (R | undefined)[] = [];
  for (const row of Object.values(table)) out[row.code] = row;
  return out;
}

/** Each code's name, indexed by code. */
export function namesOf(table: Record<string, CodeRow>): readonly (string | undefined)[] {
  return rowsOf(table).map((row) => row?.name);
}

/** The name of `code` in `names` (from {@link namesOf}), or "unknown". */
export function nameOf(names: readonly (string | undefined)[], code: number): string {
  return (Number.isInteger(code) && code >= 0 ? names[code] : undefined) ?? 'unknown';
}
