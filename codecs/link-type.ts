/**
 * Capture link types (https://www.tcpdump.org/linktypes.html) that the frame decoder reads:
 * Ethernet (1); Null/loopback (0, a 4-byte host-order address family); Raw IP (101) and IPv6
 * (229), where the packet starts with the IP header; Linux cooked SLL (113).
 */

export const LinkType = {
  Null: 0,
  Ethernet: 1,
  Raw: 101,
  /** OpenBSD loopback: like Null, the address family in network byte order. */
  Loop: 108,
  LinuxSll: 113,
  Ipv6: 229,
  /** Linux cooked v2 (`tcpdump -i any` with libpcap >= 1.10): protocol at offset 0, 20-byte header. */
  LinuxSll2: 276,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

/** Maps the `pcap` package's link-type string to a LinkType number (-1 when not known). */
export function linkTypeFromPcapName(name: string): number {
  switch (name) {
    case 'LINKTYPE_ETHERNET':
      return LinkType.Ethernet;
    case 'LINKTYPE_NULL':
      return LinkType.Null;
    case 'LINKTYPE_RAW':
      return LinkType.Raw;
    case 'LINKTYPE_LINUX_SLL':
      return LinkType.LinuxSll;
    case 'LINKTYPE_LINUX_SLL2':
      return LinkType.LinuxSll2;
    case 'LINKTYPE_LOOP':
      return LinkType.Loop;
    default: {
      const m = /^Unknown linktype (\d+)$/.exec(name);
      return m ? Number(m[1]) : -1;
    }
  }
}
