import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../generators/args.js';

const OPTIONS = { store: { type: 'string' }, yes: { type: 'boolean', short: 'y' } } as const;
const problem = (argv: string[], positionals = true, command?: string): string => {
  try {
    parseCommandArgs(argv, OPTIONS, positionals, command);
  } catch (err) {
    return (err as Error).message;
  }
  return 'parsed';
};

describe('command-line errors, from the error code and the tokens', () => {
  it.each([
    [['--frobnicate'], 'unknown option --frobnicate (see --help)'],
    [['-x'], 'unknown option -x (see --help)'],
    [['--store'], '--store: a value is required'],
    [['--store', '--yes'], '--store: a value is required (for a value starting with "-", write --store=VALUE)'],
    [['--yes=1'], '--yes: takes no value'],
  ])('%j -> %s', (argv, want) => {
    expect(problem(argv)).toBe(want);
  });

  it('a value starting with "-" is fine written inline', () => {
    expect(parseCommandArgs(['--store=-x'], OPTIONS, true).values.store).toBe('-x');
  });

  it('names the command and refuses positionals where there are none', () => {
    expect(problem(['--nope'], true, 'check')).toBe('check: unknown option --nope (see --help)');
    expect(problem(['dir'], false, '__render')).toBe('__render: unexpected argument "dir"');
  });
});
