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

/**
 * The same filter as classic BPF for a packet socket of its own (the ring dataplane), four
 * numbers per instruction: code, jt, jf, k (linux/filter.h). A socket filter sees a received
 * frame after the kernel has moved its 802.1Q tag into the packet's metadata
 * (`skb_vlan_untag` in `__netif_receive_skb_core`), so one untagged test covers tagged frames
 * too; the ring puts the tag back before the dispatcher reads the frame. An accepted frame is
 * kept whole.
 *
 * Offsets are from the Ethernet header: EtherType at 12, IPv6 Next Header at 20, the first byte
 * after the 40-byte IPv6 header at 54.
 */
export function puntSocketFilter(): Int32Array {
  const LDH = 0x28; // BPF_LD | BPF_H | BPF_ABS
  const LDB = 0x30; // BPF_LD | BPF_B | BPF_ABS
  const LDB_IND = 0x50; // BPF_LD | BPF_B | BPF_IND: byte at X + k
  const JEQ = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
  const ADD = 0x04; // BPF_ALU | BPF_ADD | BPF_K
  const LSH = 0x64; // BPF_ALU | BPF_LSH | BPF_K
  const TAX = 0x07; // BPF_MISC | BPF_TAX
  const RET = 0x06; // BPF_RET | BPF_K
  const KEEP_WHOLE = 0x40000;
  type Insn = [code: number, jt: number | string, jf: number | string, k: number];
  // A jump target is a label ('keep', 'drop', 'icmp', 'udp', 'hbh') or 0: the next instruction.
  const prog: [string | null, Insn][] = [
    [null, [LDH, 0, 0, 12]],
    [null, [JEQ, 0, 'drop', 0x86dd]],
    [null, [LDB, 0, 0, 20]],
    [null, [JEQ, 'icmp', 0, 58]],
    [null, [JEQ, 'udp', 0, 17]],
    [null, [JEQ, 'hbh', 'drop', 0]],
    ['icmp', [LDB, 0, 0, 54]],
    ...PUNTED_ICMPV6_TYPES.map((t, i, all): [null, Insn] => [
      null,
      [JEQ, 'keep', i === all.length - 1 ? 'drop' : 0, t],
    ]),
    ['udp', [LDH, 0, 0, 56]],
    [null, [JEQ, 'keep', 'drop', 547]],
    // Hop-by-Hop (Router Alert) then ICMPv6: the type after (Hdr Ext Len + 1) * 8 bytes.
    ['hbh', [LDB, 0, 0, 54]],
    [null, [JEQ, 0, 'drop', 58]],
    [null, [LDB, 0, 0, 55]],
    [null, [ADD, 0, 0, 1]],
    [null, [LSH, 0, 0, 3]],
    [null, [TAX, 0, 0, 0]],
    [null, [LDB_IND, 0, 0, 54]],
    [null, [JEQ, 'keep', 'drop', 152]],
    ['keep', [RET, 0, 0, KEEP_WHOLE]],
    ['drop', [RET, 0, 0, 0]],
  ];
  const at = new Map(prog.flatMap(([label], i) => (label === null ? [] : [[label, i] as const])));
  const out = new Int32Array(prog.length * 4);
  prog.forEach(([, [code, jt, jf, k]], i) => {
    // Jumps are relative to the next instruction.
    const rel = (j: number | string): number => (typeof j === 'number' ? j : (at.get(j) as number) - i - 1);
    out.set([code, rel(jt), rel(jf), k], i * 4);
  });
  return out;
}
