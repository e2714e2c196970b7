/**
 * A classic BPF interpreter for the instructions punt6's socket filter uses (linux/filter.h):
 * loads of a byte or half-word at a constant or at X + k, jumps on equality, add, left shift,
 * A -> X, return a constant. A load past the frame ends the program with 0, as the kernel's does.
 * Returns what the program returns: 0 drops, anything else keeps that many bytes.
 */
export function runSocketFilter(prog: Int32Array, frame: Uint8Array): number {
  let a = 0;
  let x = 0;
  const load = (at: number, size: number): number | null => {
    if (at < 0 || at + size > frame.length) return null;
    return size === 1 ? (frame[at] as number) : ((frame[at] as number) << 8) | (frame[at + 1] as number);
  };
  for (let pc = 0; pc * 4 < prog.length; pc++) {
    const code = prog[pc * 4] as number;
    const jt = prog[pc * 4 + 1] as number;
    const jf = prog[pc * 4 + 2] as number;
    const k = (prog[pc * 4 + 3] as number) >>> 0;
    let v: number | null;
    switch (code) {
      case 0x28:
        v = load(k, 2);
        if (v === null) return 0;
        a = v;
        break;
      case 0x30:
        v = load(k, 1);
        if (v === null) return 0;
        a = v;
        break;
      case 0x50:
        v = load(x + k, 1);
        if (v === null) return 0;
        a = v;
        break;
      case 0x15:
        pc += a === k ? jt : jf;
        break;
      case 0x04:
        a = (a + k) >>> 0;
        break;
      case 0x64:
        a = (a << k) >>> 0;
        break;
      case 0x07:
        x = a;
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`instruction ${pc}: code 0x${code.toString(16)} not interpreted`);
    }
  }
  throw new Error('the program ran off its end');
}
