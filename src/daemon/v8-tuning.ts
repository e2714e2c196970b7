/**
 * V8 inlining budgets for the punt path.
 *
 * A frame crosses a deep chain of small functions: the frame decoder, one view per layer, the
 * ICMPv6 validator, the option walk, the checksum, the dispatcher's handler and its reply writer.
 * TurboFan stops inlining into a function once the bytecode it has inlined there passes a budget
 * (`--max-inlined-bytecode-size-cumulative`, 920 bytes by default, and a hard cap,
 * `--max-inlined-bytecode-size-absolute`, 4600), when a callee is larger than
 * `--max-inlined-bytecode-size` (460), or when a call site is taken less often than
 * `--min-inlining-frequency` (0.15) times per call of the function being compiled. With the
 * defaults the chain stays a chain of calls; with the budgets below it compiles into a few large
 * functions (docs/bench.md, "V8 inlining budgets", compares the two).
 *
 * The frequency floor matters once the dispatcher has seen every kind of message, as a sidecar
 * does: each handler is then taken for a fraction of the frames, and the helpers inside it fall
 * below 0.15 and stay calls; with the floor at 0.01 they are inlined too. The cost is machine
 * code size and compile time, paid once by a long-lived sidecar.
 *
 * `punt6` (every command) and the in-process benchmarks apply them at start, before any hot
 * code is optimized. They change nothing but which calls are inlined: no semantics, no limits.
 */

import { setFlagsFromString } from 'node:v8';

export const V8_INLINING_FLAGS: readonly string[] = [
  '--max-inlined-bytecode-size=1000',
  '--max-inlined-bytecode-size-cumulative=20000',
  '--max-inlined-bytecode-size-absolute=20000',
  '--min-inlining-frequency=0.01',
];

/**
 * Applies the budgets to this process (unless PUNT6_V8_DEFAULTS=1 asks for V8's own, to compare);
 * returns the flags applied.
 */
export function tuneV8(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  if (env.PUNT6_V8_DEFAULTS === '1') return [];
  for (const f of V8_INLINING_FLAGS) setFlagsFromString(f);
  return V8_INLINING_FLAGS;
}
