/** The parsing every command shares: `parseCommand` over `parseArgs`, and `integerOption`. */

import test from 'ava';
import { integerOption, parseCommand, UsageError } from './command.js';

test('parseCommand: the options, the positionals where the command takes them', (t) => {
  const options = { name: { type: 'string' }, loud: { type: 'boolean', default: false } } as const;
  const p = parseCommand(['--name', 'x', 'a', '--', '--b'], options, true);
  t.deepEqual({ ...p.values }, { name: 'x', loud: false, help: false });
  t.deepEqual(p.positionals, ['a', '--b']);
  t.throws(() => parseCommand(['a'], options, false), { instanceOf: UsageError, message: /Unexpected argument 'a'/ });
});

test('integerOption: absent, an integer, in its range or not', (t) => {
  t.is(integerOption(undefined, '--n'), undefined);
  t.is(integerOption('-7', '--n'), -7);
  t.is(integerOption('65535', '--port', { min: 1, max: 65535 }), 65535);
  t.throws(() => integerOption('1.5', '--n'), { instanceOf: UsageError, message: '--n is an integer' });
  t.throws(() => integerOption('0', '--port', { min: 1, max: 65535 }), {
    instanceOf: UsageError,
    message: '--port is an integer in 1..65535',
  });
  t.throws(() => integerOption('many', '--port', { min: 1, max: 65535 }), { message: /1\.\.65535/ });
});
