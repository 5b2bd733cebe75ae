import { describe, expect, it } from 'vitest';
import { processIo } from '../src/cli/cli.js';
import { parseCommand } from '../src/cli/command.js';
import {
  assertNumbersReadAsWritten,
  looksLikeBrokenJson,
  needsVariableType,
  parseCount,
  parseMs,
  parseValue,
  valueText,
  withTypedValue,
} from '../src/cli/values.js';
import { UsageError } from '../src/cli/cli-errors.js';
import { ValidationError, VariableNotFoundError } from '../src/errors.js';
import { cli, command } from './support/cli-in-process.js';

describe('cli', () => {
  it('reads a value as JSON when it parses and as the text otherwise', () => {
    const parse = (text: string, type = 'json') => parseValue(text, type, ['var', 'set']);
    expect([parse('0.7'), parse('true'), parse('[1,2]'), parse('{"a":1}'), parse('null')]).toEqual([
      0.7,
      true,
      [1, 2],
      { a: 1 },
      null,
    ]);
    expect([parse('terse'), parse('hello world'), parse('"42"'), parse('{name} says hi', 'string')]).toEqual([
      'terse',
      'hello world',
      '42',
      '{name} says hi',
    ]);
  });

  it('refuses text that opens like JSON and does not parse, unless the variable holds text', () => {
    for (const type of ['json', 'list', 'tensor', 'embedding', 'integer']) {
      expect(() => parseValue('{"retries":4,}', type, ['var', 'set'])).toThrow(UsageError);
    }
    expect(() => parseValue(' [1, 2', 'list', ['var', 'set'])).toThrow(
      /the value for a list variable is not valid JSON/,
    );
    expect(() => parseValue('[1, 2', 'embedding', ['var', 'set'])).toThrow(
      /the value for an embedding variable is not valid JSON/,
    );
    for (const type of ['string', 'choice', 'module'])
      expect(parseValue('[draft', type, ['var', 'set'])).toBe('[draft');
    expect([looksLikeBrokenJson('{"a":1,}'), looksLikeBrokenJson('{"a":1}'), looksLikeBrokenJson('terse')]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('reads a number written .5 or -.5 as that number, unless the variable holds text', () => {
    const parse = (text: string, type: string) => parseValue(text, type, ['var', 'define']);
    expect([parse('-.5', 'float'), parse('.5', 'float'), parse('.25e1', 'json'), parse(' -.5', 'integer')]).toEqual([
      -0.5, 0.5, 2.5, -0.5,
    ]);
    expect([parse('.5', 'string'), parse('-.5', 'choice'), parse('.x', 'float')]).toEqual(['.5', '-.5', '.x']);
    // `var set` knows no type until it asks: it asks for exactly these values and for broken JSON.
    expect(['.5', '-.5', '{"a":', '0.5', 'terse', '"x"'].map(needsVariableType)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(parseCommand(command('var define'), ['neg', 'float', '-.5', '-s', 'a']).args.value).toBe('-.5');
  });

  it("reads a value given as '-' from stdin less one trailing newline, and refuses it where there is no stdin", async () => {
    const piped = (input: string | Uint8Array) => ({
      out: () => {},
      err: () => {},
      env: {},
      readInput: async () => (typeof input === 'string' ? new TextEncoder().encode(input) : input),
    });
    const path = ['var', 'set'];
    expect(await valueText('-', piped('0.7\n'), path)).toBe('0.7');
    expect(await valueText('-', piped('two lines\r\n\r\n'), path)).toBe('two lines\r\n');
    expect(await valueText('-', piped(''), path)).toBe('');
    // A byte order mark (Windows editors write one) is no part of the value; bytes that are not UTF-8 are refused.
    expect(await valueText('-', piped('\uFEFF{"q":"why?"}'), path)).toBe('{"q":"why?"}');
    await expect(valueText('-', piped(new Uint8Array([0x30, 0xff, 0x0a])), path)).rejects.toThrow(
      "the value '-' is read from stdin, and stdin is not UTF-8 text",
    );
    // Only a lone dash reads stdin.
    expect(await valueText('-5', piped('7'), path)).toBe('-5');
    expect(await valueText('"-"', piped('7'), path)).toBe('"-"');
    // A terminal on stdin is no input: a read would wait, silent, for Ctrl-D.
    const stdin = process.stdin as { isTTY?: boolean | undefined };
    const wasTty = stdin.isTTY;
    stdin.isTTY = true;
    try {
      expect(processIo().readInput).toBeUndefined();
    } finally {
      stdin.isTTY = wasTty;
    }
    const run = await cli('var', 'set', 'x', '-', '-s', 'a', '--nats', 'nats://127.0.0.1:1');
    expect([run.code, run.stderr]).toEqual([
      2,
      "tether: usage: the value '-' is read from stdin: pipe or redirect it there (< file) (see: tether var set --help)\n",
    ]);
    // The JSON options that read stdin say which of them did.
    const nats = ['-s', 'a', '--nats', 'nats://127.0.0.1:1'];
    const [spec, inputs] = await Promise.all([
      cli('module', 'create', 'qa', '--spec', '-', ...nats),
      cli('module', 'call', 'qa', '--inputs', '-', ...nats),
    ]);
    expect([spec.code, spec.stderr, inputs.code, inputs.stderr]).toEqual([
      2,
      "tether: usage: --spec '-' is read from stdin: pipe or redirect it there (< file) (see: tether module create --help)\n",
      2,
      "tether: usage: --inputs '-' is read from stdin: pipe or redirect it there (< file) (see: tether module call --help)\n",
    ]);
  });

  it('names a refused value as typed when its JSON form shows it otherwise', () => {
    const refusal = new ValidationError('ver: must be a string, got 2', {
      variable: 'ver',
      details: { constraint: 'type' },
    });
    const named = withTypedValue(refusal, '2.0', 2) as ValidationError;
    expect(named).toBeInstanceOf(ValidationError);
    expect(named.message).toBe(
      `ver: must be a string, got 2 (typed '2.0', read as JSON; to store it as text, quote it: '"2.0"')`,
    );
    expect([named.variable, named.details, named.cause]).toEqual(['ver', refusal.details, refusal]);
    const range = new ValidationError('t: value 2.5 is above maximum 2', { details: { constraint: 'max' } });
    expect((withTypedValue(range, '2.50', 2.5) as Error).message).toBe(
      "t: value 2.5 is above maximum 2 (typed '2.50', read as JSON)",
    );
    // Refused as not a string, a value shown as typed still gets the hint: `123` is text to whoever typed it.
    const number = new ValidationError('s: must be a string, got 123', {
      variable: 's',
      details: { constraint: 'type' },
    });
    expect((withTypedValue(number, '123', 123) as Error).message).toBe(
      `s: must be a string, got 123 (typed '123', read as JSON; to store it as text, quote it: '"123"')`,
    );
    expect((withTypedValue(number, 'true', true) as Error).message).toMatch(/quote it: '"true"'\)$/);
    // Text that quoting would change (a `"` or `\` is read as JSON escapes, a `'` ends the shell's quotes): --text.
    const object = new ValidationError('s: must be a string, got an object', { details: { constraint: 'type' } });
    for (const typed of ['{"a":1}', '["a\\\\b"]', `{"it's":1}`])
      expect((withTypedValue(object, typed, JSON.parse(typed)) as Error).message).toBe(
        `s: must be a string, got an object (typed '${typed}', read as JSON; to store it as text, give --text)`,
      );
    // A value read from stdin, or too long to repeat (a file), is not repeated: the line stays one short line.
    const document = JSON.stringify({ text: 'x'.repeat(200) });
    for (const piped of [true, false])
      expect((withTypedValue(object, document, JSON.parse(document), piped) as Error).message).toBe(
        `s: must be a string, got an object (read ${piped ? 'from stdin ' : ''}as JSON; to store it as text, give --text)`,
      );
    // The longest text repeated is 80 characters, one more is not (found by mutation: the edge was not held).
    const typed = (length: number) => `[${' '.repeat(length - 3)}1]`;
    const list = new ValidationError('l: must be a string, got a list', { details: { constraint: 'type' } });
    expect((withTypedValue(list, typed(80), [1]) as Error).message).toContain(`typed '${typed(80)}'`);
    expect((withTypedValue(list, typed(81), [1]) as Error).message).toBe(
      'l: must be a string, got a list (read as JSON; to store it as text, give --text)',
    );
    expect((withTypedValue(range, '2.50\n', 2.5, true) as Error).message).toBe(
      't: value 2.5 is above maximum 2 (read from stdin as JSON)',
    );
    // Shown as typed already, or not a refusal of the value: left as it is.
    expect(withTypedValue(range, '2.5', 2.5)).toBe(range);
    const missing = new VariableNotFoundError('s', 'ver');
    expect(withTypedValue(missing, '2.0', 2)).toBe(missing);
    // A value taken as the text it is was not read as JSON: its refusal says nothing of JSON (found by mutation).
    const choice = new ValidationError('style: must be one of terse, verbose, got "loud"', {
      details: { constraint: 'choices' },
    });
    expect(withTypedValue(choice, 'loud', 'loud')).toBe(choice);
  });
});

describe('cli values and version', () => {
  it('refuses a number that overflows to Infinity (exit 2) before connecting; the text Infinity still stores it', async () => {
    const nowhere = ['-s', 'a', '--nats', 'nats://127.0.0.1:1'];
    const set = await cli('var', 'set', 'temperature', '1e400', ...nowhere);
    expect([set.code, set.stdout]).toEqual([2, '']);
    expect(set.stderr).toBe(
      "tether: usage: temperature: the number '1e400' is too large and would be read as Infinity; to store " +
        `Infinity, write Infinity, or quote it for text: '"1e400"' (see: tether var set --help)\n`,
    );
    const defined = await cli('var', 'define', 'low', 'float', '-1e400', ...nowhere);
    expect([defined.code, defined.stderr]).toEqual([
      2,
      "tether: usage: low: the number '-1e400' is too large and would be read as -Infinity; to store -Infinity, " +
        `write '"-Infinity"', or quote it for text: '"-1e400"' (see: tether var define --help)\n`,
    ]);
    // Only a number misread: a large finite number, the text Infinity (how a float is given it), a quoted number, a
    // zero written long, a float's digits past its precision, an integer past 2^53 that a double holds, pass.
    for (const text of [
      '1e308',
      'Infinity',
      '"-Infinity"',
      '"1e400"',
      'terse',
      '0.000e-500',
      '0.1000000000000000055511',
      '9007199254740994',
      '{"id":"12345678901234567890"}',
    ])
      expect(() => assertNumbersReadAsWritten(text, 't', ['var', 'set']), text).not.toThrow();
  });

  // Found by mutation: a count refused at its minimum (`--limit 1`) or its maximum passed every test.
  it('takes a whole number option at either end of its range, and refuses one past either (exit 2)', () => {
    const path = ['var', 'history'];
    expect([parseCount('1', '--limit', path, 1), parseMs('1', '--timeout', path)]).toEqual([1, 1]);
    expect(parseMs(String(2 ** 31 - 1), '--timeout', path)).toBe(2 ** 31 - 1);
    expect(parseCount(String(Number.MAX_SAFE_INTEGER), '--expected-version', path, 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => parseCount('0', '--limit', path, 1)).toThrow('--limit must be a whole number from 1 to ');
    expect(() => parseMs(String(2 ** 31), '--timeout', path)).toThrow(
      `--timeout must be a whole number from 1 to ${2 ** 31 - 1}, got '${2 ** 31}'`,
    );
  });

  // Found by a review: strings were skipped by a regular expression, which overflowed its stack on megabytes.
  it('checks the numbers of a value of megabytes (stdin takes any length), strings of escapes too', () => {
    const long = JSON.stringify({ doc: 'x'.repeat(12_000_000), quotes: '"'.repeat(2_000_000), n: 1 });
    expect(() => assertNumbersReadAsWritten(long, 'doc', ['var', 'set'])).not.toThrow();
    const misread = JSON.stringify({ doc: 'x'.repeat(12_000_000) }).replace(/}$/, ',"n":1e-400}');
    expect(() => assertNumbersReadAsWritten(misread, 'doc', ['var', 'set'])).toThrow("the number '1e-400'");
    // A number inside a string after an escaped quote is still the string's (found by mutation: a walk that took `\"`
    // as the string's end read `1e400` as a number and refused the value).
    expect(() => assertNumbersReadAsWritten('{"note":"say \\"1e400\\" twice"}', 'n', ['var', 'set'])).not.toThrow();
  });

  // Found by a review: a number too small, or an integer past 2^53, was stored as another number (exit 0), and one too
  // large inside a list or object was left to the node.
  it('refuses any number of a value that a double reads as another (exit 2), inside a list or object too', async () => {
    const nowhere = ['-s', 'a', '--nats', 'nats://127.0.0.1:1'];
    const cases: [string, string, string][] = [
      ['f', '1e-400', "the number '1e-400' is too small and would be read as 0"],
      ['f', '-.5e-400', "the number '-.5e-400' is too small and would be read as 0"],
      [
        'cfg',
        '{"channel":12345678901234567890}',
        "the number '12345678901234567890' has more digits than a double holds and would be read as 12345678901234567000",
      ],
      ['ids', '[1, 1e400]', "the number '1e400' is too large and would be read as Infinity"],
    ];
    for (const [name, text, said] of cases) {
      const set = await cli('var', 'set', name, text, ...nowhere);
      expect([set.code, set.stdout], text).toEqual([2, '']);
      expect(set.stderr, text).toContain(`tether: usage: ${name}: ${said}; quote it to keep it as written: `);
    }
  });

  // Found by an audit: --inputs, --spec and --constraints were read with JSON.parse alone, so an id past 2^53 reached
  // the module as another number (exit 0), and 1e400 reached the node as Infinity, refused with no word of the typo.
  it('refuses a number a double reads as another in the JSON options too (exit 2), before connecting', async () => {
    const nowhere = ['-s', 'a', '--nats', 'nats://127.0.0.1:1'];
    const id =
      "the number '12345678901234567890' has more digits than a double holds and would be read as 12345678901234567000";
    const cases: [string[], string][] = [
      [['module', 'call', 'qa', '--inputs', '{"question":"q","user":12345678901234567890}'], `--inputs: ${id}`],
      [
        ['module', 'create', 'qa', '--spec', '{"signature":"q:string -> a:string","type":"Predict","maxTokens":1e400}'],
        "--spec: the number '1e400' is too large and would be read as Infinity",
      ],
      [['var', 'define', 'n', 'integer', '5', '--constraints', '{"min":12345678901234567890}'], `--constraints: ${id}`],
      [
        ['var', 'define', 'f', 'float', '0.5', '--constraints', '{"min":1e-400}'],
        "--constraints: the number '1e-400' is too small and would be read as 0",
      ],
    ];
    for (const [args, said] of cases) {
      const run = await cli(...args, ...nowhere);
      expect([run.code, run.stdout], args.join(' ')).toEqual([2, '']);
      expect(run.stderr, args.join(' ')).toContain(`tether: usage: ${said}; quote it to keep it as written: `);
    }
  });
});
