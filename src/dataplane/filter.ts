/**
 * The BPF filter of a punt interface: only the frames punt6 answers reach userspace.
 *
 * - ICMPv6 right after the IPv6 header: Echo Request (128), Router Solicitation (133), Neighbor
 *   Solicitation (135), Inverse ND Solicitation (141), Multicast Router Solicitation (152);
 * - ICMPv6 behind one Hop-by-Hop Options header (Router Alert), for MRD solicitations;
 * - UDP to port 547 (DHCPv6 server and relay agent port);
 *
 * each untagged and behind one 802.1Q tag (a trunk punt port). The untagged part comes first: in
 * libpcap the `vlan` keyword shifts the offsets for the rest of the expression.
 *
 * The live filter is the body alone, without `inbound`: libpcap on Linux runs the filter in
 * userland over the first ring block after installing it, where the `inbound` test (a Linux
 * packet-type extension) rejects the frame, so the first frame after an attach would be lost.
 * punt6's own injected replies do not come back without it: Linux does not hand a packet socket
 * the frames it sent itself, and the dispatcher drops any frame from one of punt6's MACs.
 */

/** ICMPv6 types punt6 answers. */
export const PUNTED_ICMPV6_TYPES = [128, 133, 135, 141, 152] as const;

export function puntFilterBody(): string {
  const types = PUNTED_ICMPV6_TYPES.map((t) => `ip6[40] == ${t}`).join(' or ');
  const one = [
    `(icmp6 and (${types}))`,
    // Next header 0 (Hop-by-Hop), its next header 58 (ICMPv6), the type after its (len+1)*8 bytes.
    `(ip6 and ip6[6] == 0 and ip6[40] == 58 and ip6[40 + (ip6[41] + 1) * 8] == 152)`,
    `(ip6 and udp dst port 547)`,
  ].join(' or ');
  return `(${one}) or (vlan and (${one}))`;
}

/** The filter of a live punt interface (see above for why it is the body alone). */
export function puntCaptureFilter(): string {
  return puntFilterBody();
}
