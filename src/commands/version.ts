/**
 * `punt6 --version`: the version of the package punt6 runs from, read from its package.json (the
 * nearest one above this file whose name is punt6: the checkout when run from the sources, the
 * installed package when run from dist/), and the Node.js that runs it.
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's version, or `unknown` when no punt6 package.json is found above this file. */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'punt6' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here, or not one to read: look further up.
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/** What `punt6 --version` prints: `punt6 VERSION (Node.js vX.Y.Z)`. */
export function versionLine(): string {
  return `punt6 ${packageVersion()} (Node.js ${process.version})\n`;
}
