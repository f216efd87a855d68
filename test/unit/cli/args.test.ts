// The CLI's argument parser (lib/cli/args.ts).
import assert from 'node:assert/strict';
import { parseArgs, type CommandSpec } from '../../../lib/cli/args.js';

describe('cli: repeated options and a variadic positional', function () {
  const spec: CommandSpec = {
    name: 't',
    summary: '',
    positionals: [
      { name: 'first', description: '' },
      { name: 'rest', description: '', variadic: true },
    ],
    options: { item: { type: 'integer', description: '', multiple: true }, one: { type: 'string', description: '' } },
    run: async () => {},
  };
  it('collects every value in order, [] when never given; still refuses a plain option twice', function () {
    assert.deepEqual(parseArgs(spec, ['a', 'b', '--item', '1', 'c', '--item=2']).options.item, [1, 2]);
    assert.deepEqual(parseArgs(spec, ['a', 'b', 'c']).positionals, ['a', 'b', 'c']);
    assert.deepEqual(parseArgs(spec, ['a', 'b']).options.item, []);
    assert.throws(() => parseArgs(spec, ['a']), /missing REST/);
    assert.throws(() => parseArgs(spec, ['a', 'b', '--one', 'x', '--one', 'y']), /--one given twice/);
    assert.throws(() => parseArgs(spec, ['a', 'b', '--item', 'x']), /--item expects an integer/);
  });
});
