/**
 * punt6's own package.json: the nearest one above this file whose name is punt6 (the checkout
 * when run from the sources, the installed package when run from dist/).
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  /** `unknown` when no punt6 package.json is found. */
  version: string;
  /** The `engines.node` range, e.g. `>=20.19`, or null. */
  nodeRange: string | null;
}

let cached: PackageInfo | null = null;

export function packageInfo(): PackageInfo {
  if (cached !== null) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
        engines?: { node?: unknown };
      };
      if (pkg.name === 'punt6' && typeof pkg.version === 'string') {
        cached = { version: pkg.version, nodeRange: typeof pkg.engines?.node === 'string' ? pkg.engines.node : null };
        return cached;
      }
    } catch {
      // No package.json here, or not one to read: look further up.
    }
    const parent = dirname(dir);
    if (parent === dir) return (cached = { version: 'unknown', nodeRange: null });
    dir = parent;
  }
}

/**
 * Whether `version` (`20.19.2`) satisfies a range of the form `>=MAJOR[.MINOR[.PATCH]]`, the only
 * form punt6's package.json uses; null for any other form.
 */
export function satisfiesMinimum(version: string, range: string): boolean | null {
  const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (m === null) return null;
  const want = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  const have = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const h = have[i] ?? 0;
    const w = want[i] as number;
    if (h !== w) return h > w;
  }
  return true;
}
