/**
 * The names of a family of codes, taken from the family's one `as const` table (ICMPv6 types, NDP
 * option types, IP protocols…): the name of a code is its key in kebab case (`EchoRequest` ->
 * `echo-request`, `Pref64` -> `pref64`), so a code and its name are written once, side by side.
 * Built once per table when its module loads; edges only read the names (JSON, the CLI).
 *
 * The tables themselves stay object literals: the hot path reads their constants per packet, and
 * a literal keeps the fast properties the optimizing compiler folds into constants, where an
 * object built key by key grows past V8's fast-property limit into a dictionary.
 */

/** `NeighborSolicitation` -> `neighbor-solicitation`, `MulticastListenerReportV2` -> `multicast-listener-report-v2`. */
export function kebabCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** Code -> name for every entry of a table of codes. */
export function namesFromKeys(table: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  return new Map(Object.entries(table).map(([key, code]) => [code, kebabCase(key)]));
}
