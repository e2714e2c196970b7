/**
 * The rooms of punt6's code and the order of their imports (docs/architecture.md draws them). A
 * file imports from its own room and from rooms of a lower rank only, so every arrow points down:
 *
 *   commands  the command line: one file per command, each parsing its own arguments
 *   control   the control socket of `punt6 run`: its protocol, server and client
 *   daemon    the service behind `punt6 run`: reload, stop, metrics, V8 tuning
 *   lab       `punt6 lab`: a private OVS, VMs as namespaces, real clients
 *   dataplane the live capture and injection, the loop around the dispatcher
 *   flows     the OpenFlow rules punt6 keeps on a bridge
 *   benchmark the in-process benchmarks' loops, and `punt6 bench replay` over captures
 *   responder the dispatcher and its answers, RA timing, counters
 *   dhcp      the DHCPv6 server, the lease table and its journal, the server DUID
 *   capture   pcap and pcapng files read and written, frames described as JSON
 *   config    the YAML configuration: schema, checks, the normalized model
 *   tables    hash tables keyed by bytes (MACs, addresses, DUIDs)
 *   system    processes, files, logging, time limits, work in steps, the libpcap binding
 *   codecs    (the top-level codecs/ folder) packet codecs: pure, no I/O
 *
 * Tests and the test-only room `test-support` (left out of the build) may import any room.
 */

export const Rooms = {
  codecs: 0,
  system: 1,
  tables: 1,
  config: 2,
  capture: 3,
  dhcp: 3,
  responder: 4,
  dataplane: 5,
  flows: 5,
  benchmark: 5,
  daemon: 6,
  lab: 6,
  control: 7,
  commands: 8,
} as const;

export type Room = keyof typeof Rooms;
