/**
 * The `pcap` package's native binding (libpcap), loaded once, for the capture-file reader and the
 * live dataplane.
 */

import { createRequire } from 'node:module';

export type PcapModule = typeof import('pcap');
const require = createRequire(import.meta.url);
let pcapModule: PcapModule | undefined;

/** Loads the native binding once, with its IPv4-only warning silenced. */
export function loadPcap(): PcapModule {
  if (pcapModule === undefined) {
    const m = require('pcap') as PcapModule & { warningHandler: (x: string) => void };
    m.warningHandler = () => {};
    pcapModule = m;
  }
  return pcapModule;
}
