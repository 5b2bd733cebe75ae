import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/cli/command.js';
import { parseAssignments } from '../src/cli/values.js';
import { UsageError } from '../src/cli/cli-errors.js';
import { parseBuckets } from '../src/cli/serve-command.js';
import { cli, command } from './support/cli-in-process.js';

describe('cli', () => {
  it('takes negative numbers as values, positional or after an option', () => {
    expect(parseCommand(command('var set'), ['t', '-1', '-s', 'a']).args).toEqual({ name: 't', value: '-1' });
    expect(parseCommand(command('var set'), ['-s', 'a', 't', '-0.5']).args).toEqual({ name: 't', value: '-0.5' });
    // A float's -Infinity, written as Infinity is; and `-`, which reads stdin.
    expect(parseCommand(command('var set'), ['t', '-Infinity', '-s', 'a']).args).toEqual({
      name: 't',
      value: '-Infinity',
    });
    expect(parseCommand(command('var set'), ['t', '-', '-s', 'a']).args).toEqual({ name: 't', value: '-' });
    expect(() => parseCommand(command('var set'), ['t', '-Infinityx', '-s', 'a'])).toThrow(UsageError);
    expect(
      parseCommand(command('var define'), ['n', 'integer', '-3', '--constraints', '{"min":-5}']).values.constraints,
    ).toBe('{"min":-5}');
    expect(parseCommand(command('var set'), ['t', '1', '--expected-version', '-2']).values['expected-version']).toBe(
      '-2',
    );
    expect(
      parseCommand(command('module create'), ['qa', '--bind', 'temperature=t', '--bind', 'maxTokens=m']).values.bind,
    ).toEqual(['temperature=t', 'maxTokens=m']);
  });

  // Found by mutation: the `--` guard and the option-type checks could go with every test passing.
  it("reads every word after '--' as an argument, and a negative number after a flag as the value", () => {
    // The way the refusal of `var set name -x` tells to give it; a negative number there must not move again.
    expect(parseCommand(command('var set'), ['t', '-s', 'a', '--', '-5']).args).toEqual({ name: 't', value: '-5' });
    expect(parseCommand(command('var set'), ['t', '-s', 'a', '--', '-x']).args).toEqual({ name: 't', value: '-x' });
    // A flag takes no value: the number after it is the command's argument, not `--json=-1`.
    const flagged = parseCommand(command('var set'), ['t', '--json', '-1', '-s', 'a']);
    expect([flagged.args, flagged.values.json]).toEqual([{ name: 't', value: '-1' }, true]);
    // Only a value given twice is refused (the last would win unseen); a flag given twice is the same flag.
    expect(parseCommand(command('var set'), ['t', '1', '--json', '--json', '-s', 'a']).values.json).toBe(true);
  });

  it('reads key=value pairs as own fields, whatever the key, the value up to the end', () => {
    const fields = parseAssignments(['__proto__=x', 'q=a=b'], '--input', ['module', 'call']);
    expect(Object.keys(fields)).toEqual(['__proto__', 'q']);
    expect(fields).toEqual(JSON.parse('{"__proto__":"x","q":"a=b"}'));
  });

  it('reads serve --buckets as vars,sessions (modules stays <prefix>_modules) or vars,sessions,modules', async () => {
    const serve = command('serve');
    const buckets = (...argv: string[]) => {
      const parsed = parseCommand(serve, argv);
      return parseBuckets(String(parsed.values.buckets), serve.path);
    };
    // Two names: no modules bucket is given, so the node keeps its documented default.
    expect(buckets('--buckets', 'v, s')).toEqual({ variablesBucket: 'v', sessionsBucket: 's' });
    expect(buckets('--buckets', 'v,s,m')).toEqual({ variablesBucket: 'v', sessionsBucket: 's', modulesBucket: 'm' });
    expect((await cli('serve', '--help')).stdout).toMatch(
      /with two names the\s+modules bucket is still <prefix>_modules/,
    );
    // Two names and the default modules bucket of the prefix are one bucket.
    expect(() => parseBuckets('v,staging_modules', serve.path, 'staging')).toThrow(
      "--buckets uses bucket 'staging_modules' for both sessions and modules: each needs a bucket of its own",
    );
  });
});
