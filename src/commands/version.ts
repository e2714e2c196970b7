/** `punt6 --version`: the version of the package punt6 runs from, and the Node.js that runs it. */

import { packageInfo } from '../system/package.js';

/** The package's version, or `unknown` when no punt6 package.json is found above this file. */
export function packageVersion(): string {
  return packageInfo().version;
}

/** What `punt6 --version` prints: `punt6 VERSION (Node.js vX.Y.Z)`. */
export function versionLine(): string {
  return `punt6 ${packageVersion()} (Node.js ${process.version})\n`;
}
