import test from 'ava';
import { execFileSync } from 'node:child_process';
import { tuneV8, V8_INLINING_FLAGS } from './v8-tuning.js';

test("every inlining flag is one this Node's V8 knows (a rename would be ignored silently)", (t) => {
  const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8', maxBuffer: 16 << 20 });
  for (const f of V8_INLINING_FLAGS) {
    const name = (f.split('=')[0] as string).replace(/^--/, '');
    t.true(known.includes(`--${name} (`), `${name} in node --v8-options`);
  }
});

test('the flags take effect when given to a process, and PUNT6_V8_DEFAULTS=1 leaves V8 alone', (t) => {
  t.deepEqual(tuneV8({ PUNT6_V8_DEFAULTS: '1' }), []);
  t.deepEqual(tuneV8({}), V8_INLINING_FLAGS);
  // The same flags on a command line are accepted (a bad value would make node exit non-zero).
  const out = execFileSync(process.execPath, [...V8_INLINING_FLAGS, '-e', 'console.log("ok")'], { encoding: 'utf8' });
  t.is(out.trim(), 'ok');
});
