/**
 * `tether var export` and `var import` against a real node: a session's variables to a file and into another
 * session, all or nothing, with `--replace` and `--updated-by`, and every refusal as one line with its exit code.
 */
import { describe, expect, it } from 'vitest';
import { errorLines } from './support/cli-runners.js';
import { useCliNode } from './support/cli-node.js';

const { tether, inProcess } = useCliNode();

/** The records `var export` printed for `session`, parsed. */
async function exported(session: string): Promise<Record<string, unknown>[]> {
  const run = await inProcess(['var', 'export', '-s', session]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(run.stdout) as Record<string, unknown>[];
}

describe('tether var export | var import', () => {
  it('copies a session into another, all or nothing, and replaces only when asked', async () => {
    const from = ['-s', 'transfer-from'];
    for (const define of [
      ['var', 'define', 'temperature', 'float', '0.7', '--constraints', '{"min":0,"max":2}', ...from],
      ['var', 'define', 'limits', 'json', '{"tokens":512}', '--description', 'per call', ...from],
      ['var', 'define', 'ratio', 'float', '"NaN"', ...from],
    ])
      expect((await inProcess(define)).code).toBe(0);
    const records = await exported('transfer-from');
    expect(records.map((record) => record.name)).toEqual(['limits', 'ratio', 'temperature']);
    // A float's NaN as the wire writes it, so the file is JSON any reader takes.
    expect(records.find((record) => record.name === 'ratio')).toMatchObject({ type: 'float', value: 'NaN' });

    // Piped in, as from a file: the session did not exist and is opened.
    const copied = await tether(['var', 'import', '-', '-s', 'transfer-to'], JSON.stringify(records));
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stdout.trim()).toBe('imported 3 variables');
    const copy = await exported('transfer-to');
    const kept = ({ name, type, value, constraints, description, metadata }: Record<string, unknown>) => ({
      ...{ name, type, value, constraints, description, metadata },
    });
    expect(copy.map(kept)).toEqual(records.map(kept));
    expect(copy.map((record) => record.version)).toEqual([1, 1, 1]);

    // Again: every name exists, so nothing is imported.
    const text = JSON.stringify(
      records.map((record) => ({ ...record, value: record.name === 'temperature' ? 1.5 : record.value })),
    );
    const again = await inProcess(['var', 'import', text, '-s', 'transfer-to']);
    expect(again.code).toBe(1);
    expect(errorLines(again)).toHaveLength(1);
    expect(again.stderr).toMatch(/^tether: already_exists: /);
    expect((await exported('transfer-to')).map((record) => record.version)).toEqual([1, 1, 1]);

    const replaced = await inProcess([
      'var',
      'import',
      text,
      '--replace',
      '--updated-by',
      'alice',
      '-s',
      'transfer-to',
    ]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stdout.trim()).toBe('imported 3 variables');
    const after = await exported('transfer-to');
    expect(after.map(({ name, version, updatedBy }) => ({ name, version, updatedBy }))).toEqual([
      { name: 'limits', version: 2, updatedBy: 'alice' },
      { name: 'ratio', version: 2, updatedBy: 'alice' },
      { name: 'temperature', version: 2, updatedBy: 'alice' },
    ]);
    expect(after.find((record) => record.name === 'temperature')?.value).toBe(1.5);
  });

  it('refuses what it cannot import as one line, with the exit code a script can rely on, and opens nothing', async () => {
    const session = ['-s', 'transfer-refused'];
    const cases: [string[], number, RegExp][] = [
      [['var', 'import', '[not json', ...session], 2, /^tether: usage: <records> is not valid JSON: /],
      [['var', 'import', '{"name":"x"}', ...session], 2, /^tether: usage: <records> must be a JSON array/],
      [['var', 'import', 'chat-1.json', ...session], 2, /\(a file: var import - < file\)/],
      [['var', 'import', '-', ...session], 2, /^tether: usage: <records> '-' is read from stdin/],
      [['var', 'import', '[]', '--updated-by', '', ...session], 1, /^tether: validation_failed: .*updatedBy/],
      // The second record lacks its type: nothing of the batch is imported.
      [
        ['var', 'import', '[{"name":"a","type":"integer","value":1},{"name":"b","value":2}]', ...session],
        1,
        /^tether: validation_failed: imported variable 'b' \(records\[1\]\): missing field 'type'/,
      ],
      [['var', 'export', '-s', 'transfer-never-opened'], 1, /^tether: session_not_found: /],
    ];
    for (const [args, code, line] of cases) {
      const run = await inProcess(args);
      expect(run.code, args.join(' ')).toBe(code);
      expect(errorLines(run), args.join(' ')).toHaveLength(1);
      expect(run.stderr, args.join(' ')).toMatch(line);
    }
    // The refused import left no session behind.
    const get = await inProcess(['var', 'export', ...session]);
    expect(get.code).toBe(1);
    expect(get.stderr).toMatch(/^tether: session_not_found: /);
  });
});
