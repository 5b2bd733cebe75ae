import { describe, expect, it } from 'vitest';
import { errorLines } from './support/cli-runners.js';
import { useCliNode } from './support/cli-node.js';

const { tether, inProcess } = useCliNode();

describe('cli', () => {
  it('refuses a JSON typo for a json variable (exit 2, value unchanged) and stores brace text in a string', async () => {
    const s = ['--session', 'cli-typo'];
    await inProcess(['var', 'define', 'cfg', 'json', '{"retries":3}', ...s]);
    await inProcess(['var', 'define', 'greeting', 'string', 'hi', ...s]);
    const [typo, brokenDefine, template] = await Promise.all([
      inProcess(['var', 'set', 'cfg', '{"retries":4,}', ...s]),
      inProcess(['var', 'define', 'dims', 'list', '[1, 2', ...s]),
      inProcess(['var', 'set', 'greeting', '{name} says hi', ...s]),
    ]);
    expect(typo.code).toBe(2);
    expect(errorLines(typo)).toHaveLength(1);
    expect(typo.stderr).toMatch(/^tether: usage: the value for a json variable is not valid JSON: .*var set --help/);
    expect(brokenDefine.code).toBe(2);
    expect([template.code, template.stderr]).toEqual([0, '']);
    const [cfg, greeting, dims] = await Promise.all([
      inProcess(['var', 'get', 'cfg', ...s]),
      inProcess(['var', 'get', 'greeting', ...s]),
      inProcess(['var', 'get', 'dims', ...s]),
    ]);
    expect([cfg.stdout, greeting.stdout, dims.code]).toEqual(['{"retries":3}\n', '"{name} says hi"\n', 1]);
  });

  it('var define of a name already defined is already_exists (exit 1), the variable as it was', async () => {
    const s = ['--session', 'cli-define-twice'];
    expect((await inProcess(['var', 'define', 'temp', 'float', '0.7', ...s])).code).toBe(0);
    const again = await inProcess(['var', 'define', 'temp', 'integer', '3', ...s]);
    expect([again.code, again.stdout, again.stderr]).toEqual([
      1,
      '',
      "tether: already_exists: variable 'temp' already exists\n",
    ]);
    const record = await inProcess(['var', 'get', 'temp', '--json', ...s]);
    expect(JSON.parse(record.stdout)).toMatchObject({ type: 'float', value: 0.7, version: 1 });
  });

  // Found by mutation: printing the value alone for --json too passed every test.
  it('var get prints the value as JSON, and with --json the whole record', async () => {
    const s = ['--session', 'cli-get-json'];
    expect((await inProcess(['var', 'define', 'temp', 'float', '0.7', ...s])).code).toBe(0);
    const [value, record] = await Promise.all([
      inProcess(['var', 'get', 'temp', ...s]),
      inProcess(['var', 'get', 'temp', '--json', ...s]),
    ]);
    expect([value.code, value.stdout, value.stderr]).toEqual([0, '0.7\n', '']);
    expect([record.code, record.stderr, record.stdout.split('\n').length]).toEqual([0, '', 2]);
    expect(JSON.parse(record.stdout)).toMatchObject({ name: 'temp', type: 'float', value: 0.7, version: 1 });
  });

  it('reads .5 as a number and names a refused value as it was typed', async () => {
    const s = ['--session', 'cli-typed'];
    const [defined, text] = await Promise.all([
      inProcess(['var', 'define', 'neg', 'float', '-.5', ...s]),
      inProcess(['var', 'define', 'ver', 'string', '.5', ...s]),
    ]);
    expect([defined.code, defined.stdout, defined.stderr]).toEqual([0, 'neg = -0.5  (float, v1)\n', '']);
    expect([text.code, text.stdout]).toEqual([0, 'ver = ".5"  (string, v1)\n']);
    const [set, refused] = await Promise.all([
      inProcess(['var', 'set', 'neg', '.25', ...s]),
      inProcess(['var', 'set', 'ver', '2.0', ...s]),
    ]);
    expect([set.code, set.stdout]).toEqual([0, 'neg = 0.25  (float, v2)\n']);
    // Bare, as Infinity is written: not read as an option.
    const infinite = await inProcess(['var', 'set', 'neg', '-Infinity', ...s]);
    expect([infinite.code, infinite.stdout]).toEqual([0, 'neg = "-Infinity"  (float, v3)\n']);
    expect([refused.code, refused.stderr]).toEqual([
      1,
      `tether: validation_failed: ver: must be a string, got 2 (typed '2.0', read as JSON; to store it as text, quote it: '"2.0"')\n`,
    ]);
  });

  it("reads a value given as '-' from stdin, past the 128 KiB one argument may hold, less one trailing newline", async () => {
    const s = ['--session', 'cli-stdin'];
    // 210,000 characters, lines of them: more than one argument may hold (spawning with it fails with E2BIG).
    const prompt = 'You are terse.\n'.repeat(15_000);
    const defined = await tether(['var', 'define', 'prompt', 'string', '-', ...s, '--json'], prompt);
    expect([defined.code, defined.stderr]).toEqual([0, '']);
    expect(JSON.parse(defined.stdout)).toMatchObject({ value: prompt.slice(0, -1), version: 1 });
    // Read as typed: JSON when it parses, and `echo 0.7 |` gives 0.7 with its newline.
    const [number, dash] = await Promise.all([
      tether(['var', 'define', 'temperature', 'float', '-', ...s], '0.7\n'),
      tether(['var', 'define', 'marker', 'string', '"-"', ...s]),
    ]);
    expect([number.code, number.stdout]).toEqual([0, 'temperature = 0.7  (float, v1)\n']);
    expect([dash.code, dash.stdout]).toEqual([0, 'marker = "-"  (string, v1)\n']);
    const set = await tether(['var', 'set', 'prompt', '-', ...s, '--json'], 'Be brief.\n\n');
    expect(JSON.parse(set.stdout)).toMatchObject({ value: 'Be brief.\n', version: 2 });
    // A JSON document piped into a string variable, kept as the text it is with --text; and text like a number.
    const schema = '{\n  "type": "object"\n}\n';
    const [document, digits] = await Promise.all([
      tether(['var', 'define', 'schema_doc', 'string', '-', '--text', ...s, '--json'], schema),
      inProcess(['var', 'define', 'release', 'string', '1.10', '--text', ...s]),
    ]);
    expect(JSON.parse(document.stdout)).toMatchObject({ value: schema.slice(0, -1) });
    expect(digits.stdout).toBe('release = "1.10"  (string, v1)\n');
    expect((await inProcess(['var', 'set', 'release', '1e400', '--text', ...s])).stdout).toBe(
      'release = "1e400"  (string, v2)\n',
    );
    // Without it, the document is JSON, which a string variable refuses, and the refusal does not repeat it.
    const parsed = await tether(['var', 'set', 'schema_doc', '-', ...s], schema);
    expect([parsed.code, errorLines(parsed)]).toEqual([
      1,
      [
        'tether: validation_failed: schema_doc: must be a string, got an object (read from stdin as JSON; to store it ' +
          'as text, give --text)',
      ],
    ]);
    const refused = await tether(['var', 'set', 'temperature', '-', ...s], '{"oops"\n');
    expect([refused.code, errorLines(refused)]).toEqual([
      2,
      [expect.stringMatching(/^tether: usage: the value for a float variable is not valid JSON/)],
    ]);
  });
});
