/**
 * Configuration documents in tests: every place in a document (map keys and list indexes, the
 * root first), for the property tests that put any value at any place.
 */

export type DocumentPath = (string | number)[];

export function documentPaths(doc: unknown): DocumentPath[] {
  const paths: DocumentPath[] = [];
  const walk = (v: unknown, p: DocumentPath): void => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(doc, []);
  return paths;
}
