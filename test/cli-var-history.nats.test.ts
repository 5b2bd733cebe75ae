import { describe, expect, it } from 'vitest';
import { useCliNode } from './support/cli-node.js';

const { inProcess } = useCliNode();

describe('cli', () => {
  it('var history prints one line per version, oldest first, with who and why when recorded; --json the entries', async () => {
    const s = ['--session', 'cli-history'];
    expect((await inProcess(['var', 'define', 'h', 'float', '0.7', ...s])).code).toBe(0);
    expect(
      (await inProcess(['var', 'set', 'h', '0.9', '--updated-by', 'alice', '--reason', 'tuning', ...s])).code,
    ).toBe(0);
    // NaN is no JSON: a float takes it as the text, and the history prints it as `var get` does.
    expect((await inProcess(['var', 'set', 'h', 'NaN', '--updated-by', 'bob', ...s])).code).toBe(0);
    const [lines, json, got, missing] = await Promise.all([
      inProcess(['var', 'history', 'h', ...s]),
      inProcess(['var', 'history', 'h', '--json', ...s]),
      inProcess(['var', 'get', 'h', ...s]),
      inProcess(['var', 'history', 'nope', ...s]),
    ]);
    expect([json.code, json.stderr, json.stdout.split('\n').length]).toEqual([0, '', 2]);
    const entries = JSON.parse(json.stdout) as { version: number; updatedAt: string }[];
    expect(entries).toEqual([
      { version: 1, type: 'float', value: 0.7, updatedAt: expect.any(String), updatedBy: null, reason: null },
      { version: 2, type: 'float', value: 0.9, updatedAt: expect.any(String), updatedBy: 'alice', reason: 'tuning' },
      { version: 3, type: 'float', value: 'NaN', updatedAt: expect.any(String), updatedBy: 'bob', reason: null },
    ]);
    const [v1, v2, v3] = entries.map((entry) => entry.updatedAt);
    expect([lines.code, lines.stderr]).toEqual([0, '']);
    expect(lines.stdout).toBe(`v1  0.7  ${v1}\nv2  0.9  ${v2}  by alice  (tuning)\nv3  "NaN"  ${v3}  by bob\n`);
    expect(got.stdout).toBe('"NaN"\n');
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([
      1,
      '',
      "tether: variable_not_found: variable 'nope' not found in session 'cli-history'\n",
    ]);
  });
});
