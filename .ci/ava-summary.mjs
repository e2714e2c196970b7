// Runs ava with its TAP reporter, passes the output through, and closes with one plain line
// "N passed, N failed, N skipped" that any CI log reader understands. Exit code is ava's.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const child = spawn(process.execPath, ['node_modules/ava/entrypoints/cli.mjs', '--tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let pass = 0;
let fail = 0;
let skip = 0;
let todo = 0;
const rl = createInterface({ input: child.stdout });
rl.on('line', (line) => {
  process.stdout.write(line + '\n');
  let m;
  if ((m = /^# pass (\d+)/.exec(line))) pass = Number(m[1]);
  else if ((m = /^# fail (\d+)/.exec(line))) fail = Number(m[1]);
  else if ((m = /^# skip (\d+)/.exec(line))) skip = Number(m[1]);
  else if ((m = /^# todo (\d+)/.exec(line))) todo = Number(m[1]);
});
child.on('close', (code) => {
  rl.close();
  if (pass + fail + skip === 0 && code === 0) code = 1; // a run that ran nothing is a failure
  process.stdout.write(`\n${pass} passed, ${fail} failed, ${skip + todo} skipped\n`);
  process.exitCode = code ?? 1;
});
